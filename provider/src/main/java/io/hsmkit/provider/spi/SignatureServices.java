package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.provider.internal.ServiceTable;
import io.hsmkit.provider.keys.HsmEcPrivateKey;
import io.hsmkit.provider.keys.HsmEcPublicKey;
import io.hsmkit.provider.keys.HsmEdPrivateKey;
import io.hsmkit.provider.keys.HsmEdPublicKey;
import io.hsmkit.provider.keys.HsmRsaPrivateKey;
import io.hsmkit.provider.keys.HsmRsaPublicKey;

/**
 * Signature services. Each is registered when the token has a mechanism for it: the raw one that
 * signs a Java-computed digest (preferred, see {@link RsaPkcs1Signature} for why), or the token's
 * hash-then-sign one. SupportedKeyClasses names only HsmKit's key classes of the right family,
 * so JCA's delayed provider selection gives HsmKit its own keys and the JDK everything else.
 * Aliases are the OIDs the JDK registers for the same names.
 */
public final class SignatureServices {
  private SignatureServices() {}

  private static final Class<?>[] EC_KEYS = {HsmEcPrivateKey.class, HsmEcPublicKey.class};
  private static final Class<?>[] RSA_KEYS = {HsmRsaPrivateKey.class, HsmRsaPublicKey.class};
  private static final Class<?>[] ED_KEYS = {HsmEdPrivateKey.class, HsmEdPublicKey.class};

  static void register(ServiceTable t) {
    rsa(t, "SHA1withRSA", SignatureHash.SHA1, "1.2.840.113549.1.1.5", "1.3.14.3.2.29");
    rsa(t, "SHA224withRSA", SignatureHash.SHA224, "1.2.840.113549.1.1.14");
    rsa(t, "SHA256withRSA", SignatureHash.SHA256, "1.2.840.113549.1.1.11");
    rsa(t, "SHA384withRSA", SignatureHash.SHA384, "1.2.840.113549.1.1.12");
    rsa(t, "SHA512withRSA", SignatureHash.SHA512, "1.2.840.113549.1.1.13");
    t.add("Signature", "NONEwithRSA", RsaPkcs1Signature.class, tok -> new RsaPkcs1Signature(tok, "NONEwithRSA", null))
        .anyOf(CKM.RSA_PKCS).keyClasses(RSA_KEYS);

    t.add("Signature", "RSASSA-PSS", RsaPssSignature.class, tok -> new RsaPssSignature(tok, "RSASSA-PSS", null))
        .anyOf(CKM.RSA_PKCS_PSS, CKM.SHA1_RSA_PKCS_PSS, CKM.SHA224_RSA_PKCS_PSS, CKM.SHA256_RSA_PKCS_PSS, CKM.SHA384_RSA_PKCS_PSS,
            CKM.SHA512_RSA_PKCS_PSS)
        .keyClasses(RSA_KEYS).aliases(oid("1.2.840.113549.1.1.10")).aliases("PSS");
    pss(t, "SHA256withRSA/PSS", SignatureHash.SHA256);
    pss(t, "SHA384withRSA/PSS", SignatureHash.SHA384);
    pss(t, "SHA512withRSA/PSS", SignatureHash.SHA512);

    ecdsa(t, "SHA1withECDSA", SignatureHash.SHA1, false, "1.2.840.10045.4.1");
    ecdsa(t, "SHA224withECDSA", SignatureHash.SHA224, false, "1.2.840.10045.4.3.1");
    ecdsa(t, "SHA256withECDSA", SignatureHash.SHA256, false, "1.2.840.10045.4.3.2");
    ecdsa(t, "SHA384withECDSA", SignatureHash.SHA384, false, "1.2.840.10045.4.3.3");
    ecdsa(t, "SHA512withECDSA", SignatureHash.SHA512, false, "1.2.840.10045.4.3.4");
    ecdsa(t, "SHA256withECDSAinP1363Format", SignatureHash.SHA256, true);
    ecdsa(t, "SHA384withECDSAinP1363Format", SignatureHash.SHA384, true);
    ecdsa(t, "SHA512withECDSAinP1363Format", SignatureHash.SHA512, true);
    t.add("Signature", "NONEwithECDSA", EcdsaSignature.class, tok -> new EcdsaSignature(tok, "NONEwithECDSA", null, false))
        .anyOf(CKM.ECDSA).keyClasses(EC_KEYS);

    t.add("Signature", "Ed25519", EdDsaSignature.class, tok -> new EdDsaSignature(tok, "Ed25519"))
        .anyOf(CKM.EDDSA).keyClasses(ED_KEYS).aliases(oid("1.3.101.112"));
    t.add("Signature", "EdDSA", EdDsaSignature.class, tok -> new EdDsaSignature(tok, "EdDSA"))
        .anyOf(CKM.EDDSA).keyClasses(ED_KEYS);
  }

  /** The OID and its "OID." form, as the JDK registers aliases. */
  private static String[] oid(String... oids) {
    String[] out = new String[oids.length * 2];
    for (int i = 0; i < oids.length; i++) {
      out[2 * i] = oids[i];
      out[2 * i + 1] = "OID." + oids[i];
    }
    return out;
  }

  private static void rsa(ServiceTable t, String name, SignatureHash h, String... oids) {
    t.add("Signature", name, RsaPkcs1Signature.class, tok -> new RsaPkcs1Signature(tok, name, h))
        .anyOf(CKM.RSA_PKCS, h.rsaPkcs).keyClasses(RSA_KEYS).aliases(oid(oids));
  }

  private static void pss(ServiceTable t, String name, SignatureHash h) {
    t.add("Signature", name, RsaPssSignature.class, tok -> new RsaPssSignature(tok, name, h))
        .anyOf(CKM.RSA_PKCS_PSS, h.rsaPss).keyClasses(RSA_KEYS);
  }

  private static void ecdsa(ServiceTable t, String name, SignatureHash h, boolean p1363, String... oids) {
    t.add("Signature", name, EcdsaSignature.class, tok -> new EcdsaSignature(tok, name, h, p1363))
        .anyOf(CKM.ECDSA, h.ecdsa).keyClasses(EC_KEYS).aliases(oid(oids));
  }
}
