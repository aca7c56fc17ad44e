package io.hsmkit.quorum;

import java.security.PublicKey;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A registered crypto officer: an id, the public key they hold outside the HSM, and the signature
 * scheme fixed at registration. Immutable. Construct through {@link QuorumAuthorizer#register} (proof
 * of possession); the constructor only checks the key fits the scheme.
 */
public record Officer(String id, PublicKey publicKey, SignatureScheme scheme) {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,63}");

    public Officer {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(publicKey, "publicKey");
        Objects.requireNonNull(scheme, "scheme");
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("officer id '" + id + "' must match " + ID.pattern());
        }
        scheme.checkKey(publicKey);
    }

    /** SHA-256 of the X.509 encoding of the public key, hex: names the key in audit records. */
    public String keyFingerprint() {
        return Canonical.hex(Canonical.sha256(publicKey.getEncoded()));
    }
}
