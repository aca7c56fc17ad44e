package io.hsmkit.quorum;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A single-use request for approval of one exact action. Immutable.
 *
 * <h2>What officers sign</h2>
 * Officers sign {@link #toBytes()}: each field a 4-byte big-endian length and its bytes, in this order:
 * {@code "hsmkit-quorum-token-v1"}, the 32-byte action digest (SHA-256 of {@link Action#canonicalBytes()}),
 * the service wire name, the operation, the requester, the 16-byte nonce; then creation and expiry as
 * 8-byte big-endian epoch seconds. Instants are whole seconds.
 *
 * <h2>File form</h2>
 * {@link #toText()} writes a PEM-like file: {@code -----BEGIN HSMKIT QUORUM TOKEN-----}, informational
 * {@code Name: value} header lines, a blank line, the base64 of {@link #toBytes()} in 64-character lines,
 * and {@code -----END HSMKIT QUORUM TOKEN-----}. {@link #parseText(String)} decodes the base64 and refuses
 * a file whose headers disagree with the signed bytes, so what an officer reads is what they sign.
 *
 * <h2>Signing with openssl</h2>
 * Extract the signed bytes, then sign them with the scheme the officer registered:
 * <pre>{@code
 * sed -e '/^-----/d' -e '/:/d' -e '/^$/d' token.pem | openssl base64 -d -out token.bin
 * # EC P-256, SHA256withECDSA (DER signature)
 * openssl dgst -sha256 -sign officer.key -out sig.bin token.bin
 * # RSA, SHA256withRSA (PKCS#1 v1.5)
 * openssl dgst -sha256 -sign officer.key -out sig.bin token.bin
 * # RSA, RSASSA-PSS (SHA-256, MGF1-SHA-256, 32-byte salt)
 * openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256 \
 *     -sign officer.key -out sig.bin token.bin
 * # Ed25519 (signs the raw message, no pre-hash)
 * openssl pkeyutl -sign -rawin -inkey officer.key -in token.bin -out sig.bin
 * }</pre>
 * {@code OpensslInteropTest} runs exactly these commands.
 */
public final class ApprovalToken {
    static final String MAGIC = "hsmkit-quorum-token-v1";
    public static final int NONCE_BYTES = 16;
    public static final int DIGEST_BYTES = 32;
    static final String BEGIN = "-----BEGIN HSMKIT QUORUM TOKEN-----";
    static final String END = "-----END HSMKIT QUORUM TOKEN-----";

    private final byte[] actionDigest;
    private final Service service;
    private final String operation;
    private final String requester;
    private final byte[] nonce;
    private final Instant created;
    private final Instant expires;

    public ApprovalToken(byte[] actionDigest, Service service, String operation, String requester, byte[] nonce,
            Instant created, Instant expires) {
        this.actionDigest = Objects.requireNonNull(actionDigest, "actionDigest").clone();
        this.service = Objects.requireNonNull(service, "service");
        this.operation = Objects.requireNonNull(operation, "operation");
        this.requester = Objects.requireNonNull(requester, "requester");
        this.nonce = Objects.requireNonNull(nonce, "nonce").clone();
        this.created = Objects.requireNonNull(created, "created");
        this.expires = Objects.requireNonNull(expires, "expires");
        if (this.actionDigest.length != DIGEST_BYTES) {
            throw new IllegalArgumentException("action digest must be " + DIGEST_BYTES + " bytes, got " + this.actionDigest.length);
        }
        if (this.nonce.length != NONCE_BYTES) {
            throw new IllegalArgumentException("nonce must be " + NONCE_BYTES + " bytes, got " + this.nonce.length);
        }
        if (created.getNano() != 0 || expires.getNano() != 0) {
            throw new IllegalArgumentException("token times are whole seconds");
        }
        if (!expires.isAfter(created)) {
            throw new IllegalArgumentException("token expires (" + expires + ") not after its creation (" + created + ")");
        }
    }

    /** A fresh token for {@code action}: random nonce, created now (whole seconds), expiring after {@code collectWindow}. */
    public static ApprovalToken create(Action action, String requester, Instant now, Duration collectWindow, SecureRandom random) {
        byte[] nonce = new byte[NONCE_BYTES];
        random.nextBytes(nonce);
        Instant created = now.truncatedTo(ChronoUnit.SECONDS);
        return new ApprovalToken(action.digest(), action.service(), action.operation(), requester, nonce, created,
                created.plus(collectWindow));
    }

    public byte[] actionDigest() {
        return actionDigest.clone();
    }

    public Service service() {
        return service;
    }

    /** The operation, for display; the binding to the action is the digest. */
    public String operation() {
        return operation;
    }

    public String requester() {
        return requester;
    }

    public byte[] nonce() {
        return nonce.clone();
    }

    /** The nonce in lower-case hex: the token's identity in stores and the audit log. */
    public String id() {
        return HexFormat.of().formatHex(nonce);
    }

    public Instant created() {
        return created;
    }

    public Instant expires() {
        return expires;
    }

    /** The exact bytes officers sign. */
    public byte[] toBytes() {
        return new Canonical.Writer().string(MAGIC).bytes(actionDigest).string(service.wireName()).string(operation)
                .string(requester).bytes(nonce).int8(created.getEpochSecond()).int8(expires.getEpochSecond()).toByteArray();
    }

    /** Strict inverse of {@link #toBytes()}: refuses any other magic, length or trailing bytes. */
    public static ApprovalToken fromBytes(byte[] data) {
        Canonical.Reader r = new Canonical.Reader(data);
        String magic = r.string();
        if (!MAGIC.equals(magic)) {
            throw new IllegalArgumentException("not an hsmkit quorum token (magic '" + magic + "')");
        }
        byte[] digest = r.bytes();
        Service service = Service.fromWireName(r.string());
        String operation = r.string();
        String requester = r.string();
        byte[] nonce = r.bytes();
        Instant created = Instant.ofEpochSecond(r.int8());
        Instant expires = Instant.ofEpochSecond(r.int8());
        r.end();
        return new ApprovalToken(digest, service, operation, requester, nonce, created, expires);
    }

    private Map<String, String> headers() {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Service", service.wireName());
        h.put("Operation", operation);
        h.put("Requester", requester);
        h.put("Action-SHA256", Canonical.hex(actionDigest));
        h.put("Nonce", id());
        h.put("Created", created.toString());
        h.put("Expires", expires.toString());
        return h;
    }

    /** The PEM-like file form described in the class comment. */
    public String toText() {
        StringBuilder sb = new StringBuilder(BEGIN).append('\n');
        headers().forEach((k, v) -> sb.append(k).append(": ").append(v.replace('\n', ' ')).append('\n'));
        sb.append('\n');
        String b64 = Base64.getEncoder().encodeToString(toBytes());
        for (int i = 0; i < b64.length(); i += 64) {
            sb.append(b64, i, Math.min(b64.length(), i + 64)).append('\n');
        }
        return sb.append(END).append('\n').toString();
    }

    /**
     * Parses {@link #toText()}. The base64 body is authoritative; headers, when present, must agree with
     * it (a header that could mislead the officer who signs is refused).
     */
    public static ApprovalToken parseText(String text) {
        List<String> lines = text.lines().map(String::strip).toList();
        int begin = lines.indexOf(BEGIN);
        int end = lines.indexOf(END);
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("no " + BEGIN + " ... " + END + " block");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        List<String> body = new ArrayList<>();
        for (String line : lines.subList(begin + 1, end)) {
            if (line.isEmpty()) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon >= 0) {
                if (!body.isEmpty()) {
                    throw new IllegalArgumentException("header line after the base64 body: " + line);
                }
                headers.put(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
            } else {
                body.add(line);
            }
        }
        ApprovalToken token = fromBytes(Base64.getDecoder().decode(String.join("", body)));
        Map<String, String> actual = token.headers();
        for (Map.Entry<String, String> h : headers.entrySet()) {
            String expected = actual.get(h.getKey());
            if (expected == null) {
                throw new IllegalArgumentException("unknown token header '" + h.getKey() + "'");
            }
            if (!expected.replace('\n', ' ').strip().equals(h.getValue())) {
                throw new IllegalArgumentException("token header " + h.getKey() + " says '" + h.getValue()
                        + "' but the signed bytes say '" + expected + "'");
            }
        }
        return token;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ApprovalToken t && Arrays.equals(toBytes(), t.toBytes());
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(toBytes());
    }

    @Override
    public String toString() {
        return "ApprovalToken[" + service.wireName() + "/" + operation + " by " + requester + ", nonce " + id() + ", expires " + expires + "]";
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
