package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.provider.internal.ServiceTable;
import io.hsmkit.provider.keys.HsmPrivateKey;
import io.hsmkit.provider.keys.HsmPublicKey;
import io.hsmkit.provider.keys.HsmSecretKey;

/**
 * Cipher services. Each is registered only when the token has a mechanism it needs, and declares
 * HsmKit's key classes, so JCA's delayed provider selection gives HsmKit keys to HsmKit and
 * software keys to the JDK. RSA lists HsmPublicKey too: encryption with a public key of the token
 * stays in the token, while a software public key, with no provider named, goes to the JDK.
 */
public final class CipherServices {
  private CipherServices() {}

  static void register(ServiceTable t) {
    t.add("Cipher", "AES/GCM/NoPadding", AesGcmCipher.class, AesGcmCipher::new)
        .anyOf(CKM.AES_GCM).keyClasses(HsmSecretKey.class);
    for (AesCipher.Mode m : AesCipher.Mode.values()) {
      t.add("Cipher", m.transformation(), AesCipher.class, tc -> new AesCipher(tc, m))
          .anyOf(m.mechanism).keyClasses(HsmSecretKey.class);
    }
    // SunJCE's names: AESWrap is AES/KW/NoPadding (RFC 3394), AESWrapPad is AES/KWP/NoPadding (RFC 5649).
    t.add("Cipher", "AESWrap", AesWrapCipher.class, tc -> new AesWrapCipher(tc, false))
        .anyOf(CKM.AES_KEY_WRAP).keyClasses(HsmSecretKey.class).aliases("AES/KW/NoPadding");
    t.add("Cipher", "AESWrapPad", AesWrapCipher.class, tc -> new AesWrapCipher(tc, true))
        .anyOf(CKM.AES_KEY_WRAP_KWP, CKM.AES_KEY_WRAP_PAD).keyClasses(HsmSecretKey.class).aliases("AES/KWP/NoPadding");

    t.add("Cipher", "RSA/ECB/PKCS1Padding", RsaCipher.class, tc -> new RsaCipher(tc, RsaCipher.Padding.PKCS1, null))
        .anyOf(CKM.RSA_PKCS).keyClasses(HsmPublicKey.class, HsmPrivateKey.class).aliases("RSA");
    t.add("Cipher", "RSA/ECB/NoPadding", RsaCipher.class, tc -> new RsaCipher(tc, RsaCipher.Padding.NONE, null))
        .anyOf(CKM.RSA_X_509).keyClasses(HsmPublicKey.class, HsmPrivateKey.class);
    // OAEP runs in the token (CKM_RSA_PKCS_OAEP) when the token takes the parameters, else as raw
    // RSA in the token (CKM_RSA_X_509) with the OAEP encoding in Java: either mechanism will do.
    t.add("Cipher", "RSA/ECB/OAEPPadding", RsaCipher.class, tc -> new RsaCipher(tc, RsaCipher.Padding.OAEP, "SHA-1"))
        .anyOf(CKM.RSA_PKCS_OAEP, CKM.RSA_X_509).keyClasses(HsmPublicKey.class, HsmPrivateKey.class);
    for (String digest : new String[] {"SHA-1", "SHA-224", "SHA-256", "SHA-384", "SHA-512"}) {
      t.add("Cipher", "RSA/ECB/OAEPWith" + digest + "AndMGF1Padding", RsaCipher.class, tc -> new RsaCipher(tc, RsaCipher.Padding.OAEP, digest))
          .anyOf(CKM.RSA_PKCS_OAEP, CKM.RSA_X_509).keyClasses(HsmPublicKey.class, HsmPrivateKey.class);
    }
  }
}
