package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.provider.internal.ServiceTable;

/** KeyGenerator and KeyPairGenerator services. */
public final class GeneratorServices {
  private GeneratorServices() {}

  static void register(ServiceTable t) {
    t.add("KeyGenerator", "AES", AesKeyGenerator.class, AesKeyGenerator::new).anyOf(CKM.AES_KEY_GEN);

    // HMAC keys are CKK_GENERIC_SECRET keys (what every PKCS#11 HMAC mechanism takes), so the
    // generator needs CKM_GENERIC_SECRET_KEY_GEN; the HMAC mechanism only sets the minimum size.
    // (ServiceTable has no "all of": a token with the generator but not the HMAC still gets the
    // KeyGenerator, with the hash length as minimum.)
    for (HmacKeyGenerator.Kind k : HmacKeyGenerator.Kind.values()) {
      t.add("KeyGenerator", k.algorithm(), HmacKeyGenerator.class, token -> new HmacKeyGenerator(token, k))
          .anyOf(CKM.GENERIC_SECRET_KEY_GEN);
    }

    t.add("KeyPairGenerator", "RSA", RsaKeyPairGenerator.class, RsaKeyPairGenerator::new)
        .aliases("1.2.840.113549.1.1.1", "OID.1.2.840.113549.1.1.1")
        .anyOf(CKM.RSA_PKCS_KEY_PAIR_GEN);
    // Curves are parameters, not services: EcKeyPairGenerator tries each one the caller names once per token.
    t.add("KeyPairGenerator", "EC", EcKeyPairGenerator.class, EcKeyPairGenerator::new)
        .aliases("EllipticCurve", "1.2.840.10045.2.1", "OID.1.2.840.10045.2.1")
        .anyOf(CKM.EC_KEY_PAIR_GEN);
    // "EdDSA" is SunEC's name for the family; here its only curve is Ed25519.
    t.add("KeyPairGenerator", "Ed25519", Ed25519KeyPairGenerator.class, Ed25519KeyPairGenerator::new)
        .aliases("EdDSA", "1.3.101.112", "OID.1.3.101.112")
        .anyOf(CKM.EC_EDWARDS_KEY_PAIR_GEN);
  }
}
