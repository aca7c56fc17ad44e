package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.provider.internal.ServiceTable;
import io.hsmkit.provider.keys.HsmSecretKey;

/**
 * Mac services: HMAC with SHA-1 and SHA-2 (CKM_SHA*_HMAC) and AES-CMAC (CKM_AES_CMAC), each when
 * the token has its mechanism, for HsmKit's secret keys only (SupportedKeyClasses), so software
 * keys go to SunJCE. Aliases are the JDK's OIDs.
 */
public final class MacServices {
  private MacServices() {}

  static void register(ServiceTable t) {
    hmac(t, "HmacSHA1", CKM.SHA_1_HMAC, 20, CKK.SHA_1_HMAC, "1.2.840.113549.2.7");
    hmac(t, "HmacSHA224", CKM.SHA224_HMAC, 28, CKK.SHA224_HMAC, "1.2.840.113549.2.8");
    hmac(t, "HmacSHA256", CKM.SHA256_HMAC, 32, CKK.SHA256_HMAC, "1.2.840.113549.2.9");
    hmac(t, "HmacSHA384", CKM.SHA384_HMAC, 48, CKK.SHA384_HMAC, "1.2.840.113549.2.10");
    hmac(t, "HmacSHA512", CKM.SHA512_HMAC, 64, CKK.SHA512_HMAC, "1.2.840.113549.2.11");
    t.add("Mac", "AESCMAC", TokenMac.class, tok -> new TokenMac(tok, "AESCMAC", CKM.AES_CMAC, 16, CKK.AES))
        .anyOf(CKM.AES_CMAC).keyClasses(HsmSecretKey.class).aliases("AES-CMAC");
  }

  private static void hmac(ServiceTable t, String name, long ckm, int length, long hmacKeyType, String oid) {
    t.add("Mac", name, TokenMac.class, tok -> new TokenMac(tok, name, ckm, length, CKK.GENERIC_SECRET, hmacKeyType))
        .anyOf(ckm).keyClasses(HsmSecretKey.class).aliases(oid, "OID." + oid);
  }
}
