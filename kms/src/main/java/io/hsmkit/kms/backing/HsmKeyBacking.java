package io.hsmkit.kms.backing;

import io.hsmkit.pkcs11.raw.Mechanism;
import java.security.Key;
import java.util.Set;

/**
 * A {@link KeyBacking} that makes every key spec of the default store (asymmetric and HMAC keys,
 * BYOK import) and lists labels for reconciliation: one token
 * ({@link io.hsmkit.kms.backing.token.TokenKeyBacking}) or a cluster of tokens
 * ({@link io.hsmkit.kms.backing.cluster.ClusterKeyBacking}). Same error contract as KeyBacking.
 */
public interface HsmKeyBacking extends KeyBacking {
  /** A persistent HMAC key of {@code bytes} bytes (CKK_GENERIC_SECRET, sign and verify only). */
  Key createHmac(String label, int bytes);

  /** A persistent RSA key pair; {@code signing} chooses sign/verify, else encrypt/decrypt. Returns the private key. */
  Key createRsa(String label, int bits, boolean signing);

  /** A persistent EC signing key pair on the curve named by its DER-encoded OID; returns the private key. */
  Key createEc(String label, byte[] curveOidDer);

  /** Whether the token (every member) has a mechanism. */
  boolean has(long mechanism);

  /** The public half labelled {@code label}, or null. */
  Key findPublic(String label);

  /** Signs a digest in the token with {@code mechanism}; {@code key} is a private key of this backing. */
  byte[] signDigest(Key key, Mechanism mechanism, byte[] digest);

  /** Verifies a signature over a digest in the token; {@code key} is a public key of this backing. */
  boolean verifyDigest(Key key, Mechanism mechanism, byte[] digest, byte[] signature);

  /** An RSA key pair for unwrapping imported key material; returns the public key. */
  Key createUnwrappingRsa(String label, int bits);

  /**
   * Unwraps RSAES-OAEP-SHA-1 wrapped AES-256 key material into a persistent AES key labelled
   * {@code label}; null when the token refuses the wrapped bytes.
   */
  Key unwrapAes(String unwrappingLabel, byte[] wrapped, String label);

  /** Gives a key of this backing a new CKA_LABEL. */
  void relabel(Key key, String label);

  /** The labels of every key whose label starts with {@code prefix} (for reconciliation). */
  Set<String> labels(String prefix);
}
