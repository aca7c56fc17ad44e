package io.hsmkit.kms;

import io.hsmkit.kms.backing.KeyBacking;
import io.hsmkit.kms.backing.HsmKeyBacking;
import io.hsmkit.pkcs11.constants.CKG;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;

/**
 * The asymmetric and HMAC operations on the token's keys, by AWS algorithm name. Package-private:
 * {@link KmsService} checks access and state first.
 *
 * <p>Signing hashes in Java (RAW messages) or takes the caller's digest (DIGEST), then signs the
 * digest in the token: PKCS#1 v1.5 through the provider's NONEwithRSA over DigestInfo||digest,
 * ECDSA through NONEwithECDSA (DER signatures, as AWS returns), RSASSA-PSS with CKM_RSA_PKCS_PSS
 * directly (JCA has no name for PSS over a digest). Verification uses the public key: the JDK for
 * PKCS#1 and ECDSA, the token for PSS. RSA decryption happens in the token (the provider's OAEP);
 * RSA encryption and verification need only the public key.
 */
final class AsymmetricOps {
  private AsymmetricOps() {}

  record Hash(String jca, int length, long ckm, long mgf1, String digestInfoPrefix) {}

  static final Hash SHA1 = new Hash("SHA-1", 20, CKM.SHA_1, CKG.MGF1_SHA1, "3021300906052b0e03021a05000414");
  static final Hash SHA256 = new Hash("SHA-256", 32, CKM.SHA256, CKG.MGF1_SHA256, "3031300d060960864801650304020105000420");
  static final Hash SHA384 = new Hash("SHA-384", 48, CKM.SHA384, CKG.MGF1_SHA384, "3041300d060960864801650304020205000430");
  static final Hash SHA512 = new Hash("SHA-512", 64, CKM.SHA512, CKG.MGF1_SHA512, "3051300d060960864801650304020305000440");

  static Hash signingHash(String alg) {
    return switch (alg) {
      case "RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256", "ECDSA_SHA_256" -> SHA256;
      case "RSASSA_PSS_SHA_384", "RSASSA_PKCS1_V1_5_SHA_384", "ECDSA_SHA_384" -> SHA384;
      case "RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_512", "ECDSA_SHA_512" -> SHA512;
      default -> throw new KmsException(KmsError.VALIDATION, "SigningAlgorithm " + alg + " is not an AWS signing algorithm");
    };
  }

  /** The digest to sign: the message hashed (RAW) or the message itself (DIGEST, of the hash's length). */
  static byte[] digest(String messageType, byte[] message, Hash h) {
    String type = messageType == null ? "RAW" : messageType;
    if (message == null || message.length < 1 || message.length > 4096) {
      throw new KmsException(KmsError.VALIDATION, "Message must be 1 to 4096 bytes");
    }
    switch (type) {
      case "RAW":
        try {
          return MessageDigest.getInstance(h.jca()).digest(message);
        } catch (GeneralSecurityException e) {
          throw new IllegalStateException(h.jca() + " is in every JDK", e);
        }
      case "DIGEST":
        if (message.length != h.length()) {
          throw new KmsException(KmsError.VALIDATION, "a DIGEST message for this algorithm is " + h.length() + " bytes, not " + message.length);
        }
        return message.clone();
      default:
        throw new KmsException(KmsError.VALIDATION, "MessageType must be RAW or DIGEST, not " + type);
    }
  }

  static byte[] sign(HsmKeyBacking b, Key privateKey, String alg, byte[] digest) throws GeneralSecurityException {
    Hash h = signingHash(alg);
    if (alg.startsWith("RSASSA_PSS")) {
      return b.signDigest(privateKey, pss(h), digest);
    }
    Signature s = Signature.getInstance(alg.startsWith("ECDSA") ? "NONEwithECDSA" : "NONEwithRSA", b.provider());
    s.initSign((java.security.PrivateKey) privateKey);
    s.update(alg.startsWith("ECDSA") ? digest : digestInfo(h, digest));
    return s.sign();
  }

  static boolean verify(HsmKeyBacking b, Key tokenPublicKey, String alg, byte[] digest, byte[] signature) throws GeneralSecurityException {
    Hash h = signingHash(alg);
    if (alg.startsWith("RSASSA_PSS")) {
      return b.verifyDigest(tokenPublicKey, pss(h), digest, signature);
    }
    PublicKey pub = jdkPublic(tokenPublicKey);
    // The JDK's own providers (SunEC; SunJCE has NONEwithRSA), never a token's, for public-key checks.
    Signature s = Signature.getInstance(alg.startsWith("ECDSA") ? "NONEwithECDSA" : "NONEwithRSA",
        alg.startsWith("ECDSA") ? "SunEC" : "SunJCE");
    s.initVerify(pub);
    s.update(alg.startsWith("ECDSA") ? digest : digestInfo(h, digest));
    try {
      return s.verify(signature);
    } catch (java.security.SignatureException e) {
      return false; // a malformed signature is an invalid one
    }
  }

  private static Mechanism pss(Hash h) {
    return Mechanism.of(CKM.RSA_PKCS_PSS, new MechanismParams.Pss(h.ckm(), h.mgf1(), h.length()));
  }

  private static byte[] digestInfo(Hash h, byte[] digest) {
    byte[] prefix = HexFormat.of().parseHex(h.digestInfoPrefix());
    byte[] out = new byte[prefix.length + digest.length];
    System.arraycopy(prefix, 0, out, 0, prefix.length);
    System.arraycopy(digest, 0, out, prefix.length, digest.length);
    return out;
  }

  /** The JDK's copy of a token public key (from its X.509 encoding: public keys are not secret). */
  static PublicKey jdkPublic(Key tokenPublicKey) throws GeneralSecurityException {
    String alg = tokenPublicKey.getAlgorithm();
    return KeyFactory.getInstance("EC".equals(alg) ? "EC" : "RSA").generatePublic(new X509EncodedKeySpec(tokenPublicKey.getEncoded()));
  }

  static OAEPParameterSpec oaep(String alg) {
    return switch (alg) {
      case "RSAES_OAEP_SHA_1" -> new OAEPParameterSpec("SHA-1", "MGF1", MGF1ParameterSpec.SHA1, PSource.PSpecified.DEFAULT);
      case "RSAES_OAEP_SHA_256" -> new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT);
      default -> throw new KmsException(KmsError.INVALID_KEY_USAGE, "EncryptionAlgorithm " + alg + " is not valid for an RSA key (RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256)");
    };
  }

  /** The largest plaintext AWS accepts for an RSA key of {@code bits} with OAEP {@code alg}. */
  static int maxRsaPlaintext(int bits, String alg) {
    int hlen = "RSAES_OAEP_SHA_1".equals(alg) ? 20 : 32;
    return bits / 8 - 2 * hlen - 2;
  }

  static byte[] rsaEncrypt(Key tokenPublicKey, String alg, byte[] plaintext) throws GeneralSecurityException {
    Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding", "SunJCE");
    c.init(Cipher.ENCRYPT_MODE, jdkPublic(tokenPublicKey), oaep(alg));
    return c.doFinal(plaintext);
  }

  static byte[] rsaDecrypt(KeyBacking b, Key privateKey, String alg, byte[] ciphertext) throws GeneralSecurityException {
    String t = "RSAES_OAEP_SHA_1".equals(alg) ? "RSA/ECB/OAEPPadding" : "RSA/ECB/OAEPWithSHA-256AndMGF1Padding";
    Cipher c = Cipher.getInstance(t, b.provider());
    c.init(Cipher.DECRYPT_MODE, privateKey, oaep(alg));
    return c.doFinal(ciphertext);
  }

  static String hmacName(String macAlgorithm) {
    return switch (macAlgorithm) {
      case "HMAC_SHA_224" -> "HmacSHA224";
      case "HMAC_SHA_256" -> "HmacSHA256";
      case "HMAC_SHA_384" -> "HmacSHA384";
      case "HMAC_SHA_512" -> "HmacSHA512";
      default -> throw new KmsException(KmsError.VALIDATION, "MacAlgorithm " + macAlgorithm + " is not an AWS MAC algorithm");
    };
  }

  static byte[] mac(KeyBacking b, Key key, String macAlgorithm, byte[] message) throws GeneralSecurityException {
    Mac m = Mac.getInstance(hmacName(macAlgorithm), b.provider());
    m.init(key);
    return m.doFinal(message);
  }
}
