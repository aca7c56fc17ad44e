package io.hsmkit.quorum;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.security.spec.X509EncodedKeySpec;

/**
 * The signature scheme an officer is registered with. It is fixed at registration: an approval is
 * verified only in the registered scheme, never in whatever scheme would make it pass.
 */
public enum SignatureScheme {
    /** ECDSA over P-256 with SHA-256, DER-encoded signature (what {@code openssl dgst -sha256 -sign} writes). */
    SHA256_WITH_ECDSA("SHA256withECDSA", "EC"),
    /** RSA PKCS#1 v1.5 with SHA-256, modulus at least 2048 bits. */
    SHA256_WITH_RSA("SHA256withRSA", "RSA"),
    /** RSASSA-PSS, SHA-256, MGF1 with SHA-256, 32-byte salt, trailer 1; modulus at least 2048 bits. */
    RSASSA_PSS("RSASSA-PSS", "RSA"),
    /** Ed25519 (pure, over the raw message). */
    ED25519("Ed25519", "Ed25519");

    /** The order n of the NIST P-256 base point: identifies the curve without trusting a name. */
    private static final BigInteger P256_ORDER =
            new BigInteger("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16);
    public static final int MIN_RSA_BITS = 2048;

    private final String jcaName;
    private final String keyAlgorithm;

    SignatureScheme(String jcaName, String keyAlgorithm) {
        this.jcaName = jcaName;
        this.keyAlgorithm = keyAlgorithm;
    }

    public String jcaName() {
        return jcaName;
    }

    public static SignatureScheme fromJcaName(String name) {
        for (SignatureScheme s : values()) {
            if (s.jcaName.equalsIgnoreCase(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unsupported signature scheme '" + name
                + "' (SHA256withECDSA, SHA256withRSA, RSASSA-PSS, Ed25519)");
    }

    /**
     * Refuses a key this scheme may not use.
     * // = issue 5#what-to-build
     * // # public key ... (EC P-256, RSA 2048 and up, Ed25519)
     */
    public void checkKey(PublicKey key) {
        switch (this) {
            case SHA256_WITH_ECDSA -> {
                if (!(key instanceof ECPublicKey ec) || !ec.getParams().getOrder().equals(P256_ORDER)) {
                    throw new IllegalArgumentException(jcaName + " needs an EC P-256 public key, got " + describe(key));
                }
            }
            case SHA256_WITH_RSA, RSASSA_PSS -> {
                if (!(key instanceof RSAPublicKey rsa) || rsa.getModulus().bitLength() < MIN_RSA_BITS) {
                    throw new IllegalArgumentException(jcaName + " needs an RSA public key of at least " + MIN_RSA_BITS
                            + " bits, got " + describe(key));
                }
            }
            case ED25519 -> {
                if (!(key instanceof EdECPublicKey ed) || !"Ed25519".equalsIgnoreCase(ed.getParams().getName())) {
                    throw new IllegalArgumentException("Ed25519 needs an Ed25519 public key, got " + describe(key));
                }
            }
        }
    }

    private static String describe(PublicKey key) {
        if (key instanceof RSAPublicKey rsa) {
            return "RSA-" + rsa.getModulus().bitLength();
        }
        if (key instanceof EdECPublicKey ed) {
            return ed.getParams().getName();
        }
        return key == null ? "null" : key.getAlgorithm();
    }

    /** True only if {@code signature} is a valid signature of {@code data} under {@code key} in this scheme. */
    public boolean verify(PublicKey key, byte[] data, byte[] signature) {
        try {
            Signature s = Signature.getInstance(jcaName);
            if (this == RSASSA_PSS) {
                s.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
            }
            s.initVerify(key);
            s.update(data);
            return s.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            // A malformed signature or a key of the wrong type is simply not a valid approval.
            return false;
        }
    }

    /** Signs in this scheme (tests and the future {@code hsmkit quorum sign}). */
    public byte[] sign(java.security.PrivateKey key, byte[] data) throws GeneralSecurityException {
        Signature s = Signature.getInstance(jcaName);
        if (this == RSASSA_PSS) {
            s.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
        }
        s.initSign(key);
        s.update(data);
        return s.sign();
    }

    /** Decodes an X.509 SubjectPublicKeyInfo for this scheme's key type. */
    public PublicKey decodePublicKey(byte[] x509) throws GeneralSecurityException {
        return KeyFactory.getInstance(keyAlgorithm).generatePublic(new X509EncodedKeySpec(x509));
    }
}
