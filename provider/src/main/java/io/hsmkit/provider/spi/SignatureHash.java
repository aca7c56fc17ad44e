package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.constants.CKG;
import io.hsmkit.pkcs11.constants.CKM;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.NoSuchProviderException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The hash functions HsmKit signs with, and what each is called on both sides: the JCA name, the
 * PKCS#1 DigestInfo prefix (RFC 8017 9.2 note 1), the PKCS#11 digest and MGF1 constants (for
 * CK_RSA_PKCS_PSS_PARAMS), and the token's hash-then-sign mechanisms (used only when the token has
 * no raw mechanism to sign a Java-computed digest with).
 */
enum SignatureHash {
  SHA1("SHA-1", 20, CKM.SHA_1, CKG.MGF1_SHA1, CKM.SHA1_RSA_PKCS, CKM.SHA1_RSA_PKCS_PSS, CKM.ECDSA_SHA1,
      "3021300906052b0e03021a05000414"),
  SHA224("SHA-224", 28, CKM.SHA224, CKG.MGF1_SHA224, CKM.SHA224_RSA_PKCS, CKM.SHA224_RSA_PKCS_PSS, CKM.ECDSA_SHA224,
      "302d300d06096086480165030402040500041c"),
  SHA256("SHA-256", 32, CKM.SHA256, CKG.MGF1_SHA256, CKM.SHA256_RSA_PKCS, CKM.SHA256_RSA_PKCS_PSS, CKM.ECDSA_SHA256,
      "3031300d060960864801650304020105000420"),
  SHA384("SHA-384", 48, CKM.SHA384, CKG.MGF1_SHA384, CKM.SHA384_RSA_PKCS, CKM.SHA384_RSA_PKCS_PSS, CKM.ECDSA_SHA384,
      "3041300d060960864801650304020205000430"),
  SHA512("SHA-512", 64, CKM.SHA512, CKG.MGF1_SHA512, CKM.SHA512_RSA_PKCS, CKM.SHA512_RSA_PKCS_PSS, CKM.ECDSA_SHA512,
      "3051300d060960864801650304020305000440");

  final String jcaName;
  final int length;
  /** CKM_SHA* (the hashAlg of CK_RSA_PKCS_PSS_PARAMS). */
  final long ckm;
  /** CKG_MGF1_SHA*. */
  final long mgf1;
  /** CKM_SHA*_RSA_PKCS. */
  final long rsaPkcs;
  /** CKM_SHA*_RSA_PKCS_PSS. */
  final long rsaPss;
  /** CKM_ECDSA_SHA*. */
  final long ecdsa;
  private final byte[] digestInfoPrefix;

  SignatureHash(String jcaName, int length, long ckm, long mgf1, long rsaPkcs, long rsaPss, long ecdsa, String prefix) {
    this.jcaName = jcaName;
    this.length = length;
    this.ckm = ckm;
    this.mgf1 = mgf1;
    this.rsaPkcs = rsaPkcs;
    this.rsaPss = rsaPss;
    this.ecdsa = ecdsa;
    this.digestInfoPrefix = HexFormat.of().parseHex(prefix);
  }

  /** The hash named {@code name} ("SHA-256", "SHA256", "SHA-1", "SHA1", "SHA"), or null. */
  static SignatureHash byName(String name) {
    if (name == null) {
      return null;
    }
    String n = name.toUpperCase(Locale.ROOT).replace("-", "");
    return switch (n) {
      case "SHA", "SHA1" -> SHA1;
      case "SHA224" -> SHA224;
      case "SHA256" -> SHA256;
      case "SHA384" -> SHA384;
      case "SHA512" -> SHA512;
      default -> null;
    };
  }

  /** DER DigestInfo { algorithm, digest } around {@code digest}, the input of CKM_RSA_PKCS. */
  byte[] digestInfo(byte[] digest) {
    byte[] out = new byte[digestInfoPrefix.length + digest.length];
    System.arraycopy(digestInfoPrefix, 0, out, 0, digestInfoPrefix.length);
    System.arraycopy(digest, 0, out, digestInfoPrefix.length, digest.length);
    return out;
  }

  /**
   * A MessageDigest from the JDK's SUN provider (the fastest here, with SHA intrinsics), or from
   * whichever provider has it when SUN is absent.
   */
  MessageDigest newDigest() {
    try {
      try {
        return MessageDigest.getInstance(jcaName, "SUN");
      } catch (NoSuchProviderException | NoSuchAlgorithmException e) {
        return MessageDigest.getInstance(jcaName);
      }
    } catch (NoSuchAlgorithmException e) {
      throw new java.security.ProviderException("no " + jcaName + " MessageDigest in this JVM", e);
    }
  }
}
