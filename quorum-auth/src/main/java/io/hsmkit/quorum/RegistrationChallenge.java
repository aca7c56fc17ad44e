package io.hsmkit.quorum;

import java.security.PublicKey;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Objects;

/**
 * What a new officer signs to prove they hold the private key of the public key being registered.
 * Immutable. The signed bytes ({@link #toBytes()}, length-prefixed as in {@link Action}) bind
 * {@code "hsmkit-quorum-register-v1"}, the officer id, the scheme, the X.509 public key, a 32-byte random
 * challenge and the issue time, so a proof cannot be replayed for another id, key or scheme.
 */
public final class RegistrationChallenge {
    static final String MAGIC = "hsmkit-quorum-register-v1";

    private final Officer officer;
    private final byte[] challenge;
    private final Instant issued;

    RegistrationChallenge(Officer officer, byte[] challenge, Instant issued) {
        this.officer = Objects.requireNonNull(officer, "officer");
        this.challenge = challenge.clone();
        this.issued = Objects.requireNonNull(issued, "issued");
    }

    static RegistrationChallenge issue(String id, PublicKey key, SignatureScheme scheme, Instant now, SecureRandom random) {
        byte[] c = new byte[32];
        random.nextBytes(c);
        return new RegistrationChallenge(new Officer(id, key, scheme), c, now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    }

    public Officer officer() {
        return officer;
    }

    public Instant issued() {
        return issued;
    }

    public String id() {
        return HexFormat.of().formatHex(challenge);
    }

    /** The 32 random bytes. */
    byte[] challenge() {
        return challenge.clone();
    }

    /** Strict inverse of {@link #toBytes()}: what step 2 of a registration reads back from the challenge file. */
    public static RegistrationChallenge fromBytes(byte[] data) {
        Canonical.Reader r = new Canonical.Reader(data);
        if (!MAGIC.equals(r.string())) {
            throw new IllegalArgumentException("not an hsmkit registration challenge");
        }
        String id = r.string();
        SignatureScheme scheme = SignatureScheme.fromJcaName(r.string());
        PublicKey key;
        try {
            key = scheme.decodePublicKey(r.bytes());
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalArgumentException("the challenge's public key does not decode: " + e.getMessage(), e);
        }
        byte[] c = r.bytes();
        Instant issued = Instant.ofEpochSecond(r.int8());
        r.end();
        if (c.length != 32) {
            throw new IllegalArgumentException("a registration challenge has 32 random bytes, not " + c.length);
        }
        return new RegistrationChallenge(new Officer(id, key, scheme), c, issued);
    }

    public byte[] toBytes() {
        return new Canonical.Writer().string(MAGIC).string(officer.id()).string(officer.scheme().jcaName())
                .bytes(officer.publicKey().getEncoded()).bytes(challenge).int8(issued.getEpochSecond()).toByteArray();
    }
}
