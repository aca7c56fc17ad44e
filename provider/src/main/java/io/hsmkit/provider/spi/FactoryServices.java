package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.provider.internal.ServiceTable;

/**
 * KeyFactory and SecretKeyFactory services: software keys and specifications into token objects.
 * A factory needs no mechanism of its own (C_CreateObject), so each is registered when the token
 * can use keys of its kind at all.
 */
public final class FactoryServices {
  private FactoryServices() {}

  static void register(ServiceTable t) {
    t.add("KeyFactory", "RSA", HsmKeyFactory.class, token -> new HsmKeyFactory(token, HsmKeyFactory.Family.RSA))
        .aliases("1.2.840.113549.1.1.1", "OID.1.2.840.113549.1.1.1")
        .anyOf(CKM.RSA_PKCS, CKM.RSA_X_509, CKM.RSA_PKCS_PSS, CKM.RSA_PKCS_OAEP, CKM.SHA256_RSA_PKCS, CKM.RSA_PKCS_KEY_PAIR_GEN);
    t.add("KeyFactory", "EC", HsmKeyFactory.class, token -> new HsmKeyFactory(token, HsmKeyFactory.Family.EC))
        .aliases("EllipticCurve", "1.2.840.10045.2.1", "OID.1.2.840.10045.2.1")
        .anyOf(CKM.ECDSA, CKM.ECDH1_DERIVE, CKM.EC_KEY_PAIR_GEN);
    t.add("KeyFactory", "Ed25519", HsmKeyFactory.class, token -> new HsmKeyFactory(token, HsmKeyFactory.Family.ED25519))
        .aliases("EdDSA", "1.3.101.112", "OID.1.3.101.112")
        .anyOf(CKM.EDDSA, CKM.EC_EDWARDS_KEY_PAIR_GEN);

    t.add("SecretKeyFactory", "AES", HsmSecretKeyFactory.class, HsmSecretKeyFactory::aes)
        .anyOf(CKM.AES_ECB, CKM.AES_CBC, CKM.AES_CBC_PAD, CKM.AES_CTR, CKM.AES_GCM, CKM.AES_KEY_WRAP, CKM.AES_CMAC, CKM.AES_KEY_GEN);
    for (HmacKeyGenerator.Kind k : HmacKeyGenerator.Kind.values()) {
      ServiceTable.Row r = t.add("SecretKeyFactory", k.algorithm(), HsmSecretKeyFactory.class, token -> HsmSecretKeyFactory.generic(token, k));
      if (k.hmacMechanism() != 0) {
        r.anyOf(k.hmacMechanism());
      } else {
        r.anyOf(CKM.GENERIC_SECRET_KEY_GEN, CKM.SHA_1_HMAC, CKM.SHA256_HMAC, CKM.SHA384_HMAC, CKM.SHA512_HMAC);
      }
    }
  }
}
