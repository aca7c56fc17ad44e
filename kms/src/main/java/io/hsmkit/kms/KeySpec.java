package io.hsmkit.kms;

import java.util.List;
import java.util.Set;

/**
 * AWS's key specs with the key usages each allows and the algorithms of each usage, as AWS KMS
 * documents them ("Key spec reference"). The default store offers every spec; custom key stores
 * and imported keys only {@code SYMMETRIC_DEFAULT}.
 */
public enum KeySpec {
  SYMMETRIC_DEFAULT(Set.of("ENCRYPT_DECRYPT"), List.of("SYMMETRIC_DEFAULT"), List.of(), List.of()),
  RSA_2048(Set.of("ENCRYPT_DECRYPT", "SIGN_VERIFY"), RsaAlgs.ENC, RsaAlgs.SIGN, List.of()),
  RSA_3072(Set.of("ENCRYPT_DECRYPT", "SIGN_VERIFY"), RsaAlgs.ENC, RsaAlgs.SIGN, List.of()),
  RSA_4096(Set.of("ENCRYPT_DECRYPT", "SIGN_VERIFY"), RsaAlgs.ENC, RsaAlgs.SIGN, List.of()),
  ECC_NIST_P256(Set.of("SIGN_VERIFY"), List.of(), List.of("ECDSA_SHA_256"), List.of()),
  ECC_NIST_P384(Set.of("SIGN_VERIFY"), List.of(), List.of("ECDSA_SHA_384"), List.of()),
  ECC_NIST_P521(Set.of("SIGN_VERIFY"), List.of(), List.of("ECDSA_SHA_512"), List.of()),
  ECC_SECG_P256K1(Set.of("SIGN_VERIFY"), List.of(), List.of("ECDSA_SHA_256"), List.of()),
  HMAC_224(Set.of("GENERATE_VERIFY_MAC"), List.of(), List.of(), List.of("HMAC_SHA_224")),
  HMAC_256(Set.of("GENERATE_VERIFY_MAC"), List.of(), List.of(), List.of("HMAC_SHA_256")),
  HMAC_384(Set.of("GENERATE_VERIFY_MAC"), List.of(), List.of(), List.of("HMAC_SHA_384")),
  HMAC_512(Set.of("GENERATE_VERIFY_MAC"), List.of(), List.of(), List.of("HMAC_SHA_512"));

  private static final class RsaAlgs {
    static final List<String> ENC = List.of("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256");
    static final List<String> SIGN = List.of("RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
        "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512");
  }

  private final Set<String> usages;
  private final List<String> encryptionAlgorithms;
  private final List<String> signingAlgorithms;
  private final List<String> macAlgorithms;

  KeySpec(Set<String> usages, List<String> enc, List<String> sign, List<String> mac) {
    this.usages = usages;
    this.encryptionAlgorithms = enc;
    this.signingAlgorithms = sign;
    this.macAlgorithms = mac;
  }

  public Set<String> usages() {
    return usages;
  }

  /** The usage a key of this spec gets when CreateKey names none (AWS: ENCRYPT_DECRYPT, else the only one). */
  public String defaultUsage() {
    return usages.size() == 1 ? usages.iterator().next() : "ENCRYPT_DECRYPT";
  }

  public List<String> encryptionAlgorithms(String usage) {
    return "ENCRYPT_DECRYPT".equals(usage) ? encryptionAlgorithms : List.of();
  }

  public List<String> signingAlgorithms(String usage) {
    return "SIGN_VERIFY".equals(usage) ? signingAlgorithms : List.of();
  }

  public List<String> macAlgorithms(String usage) {
    return "GENERATE_VERIFY_MAC".equals(usage) ? macAlgorithms : List.of();
  }

  public boolean isRsa() {
    return name().startsWith("RSA_");
  }

  public boolean isEc() {
    return name().startsWith("ECC_");
  }

  public boolean isHmac() {
    return name().startsWith("HMAC_");
  }

  public boolean isSymmetric() {
    return this == SYMMETRIC_DEFAULT;
  }

  /** The spec named {@code name}, or a {@code VALIDATION} error listing AWS's values. */
  public static KeySpec parse(String name) {
    try {
      return valueOf(name);
    } catch (IllegalArgumentException e) {
      throw new KmsException(KmsError.VALIDATION, "1 validation error detected: Value '" + name + "' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: " + List.of(values()));
    }
  }
}
