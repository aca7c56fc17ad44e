package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.provider.internal.Errors;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.keys.KeyTemplates;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidParameterException;
import java.security.SecureRandom;
import java.security.spec.AlgorithmParameterSpec;
import java.util.List;
import javax.crypto.KeyGeneratorSpi;
import javax.crypto.SecretKey;

/**
 * AES keys generated in the token (CKM_AES_KEY_GEN): 256 bits unless asked otherwise, sensitive
 * and not extractable by default, sizes limited to what the token's mechanism info allows, and
 * 192 bits only where a trial shows the token both makes and uses such keys (SOFTHSM-NOTES.md says
 * SoftHSM2 has no AES-192; measured here, 2.6.1 does both).
 */
public final class AesKeyGenerator extends KeyGeneratorSpi {
  private final TokenContext token;
  private int bytes = 32;

  public AesKeyGenerator(TokenContext token) {
    this.token = token;
  }

  @Override
  protected void engineInit(SecureRandom random) {
    bytes = 32;
  }

  @Override
  protected void engineInit(AlgorithmParameterSpec params, SecureRandom random) throws InvalidAlgorithmParameterException {
    throw new InvalidAlgorithmParameterException("AES key generation takes a key size, not parameters");
  }

  @Override
  protected void engineInit(int keysize, SecureRandom random) {
    if (keysize != 128 && keysize != 192 && keysize != 256) {
      throw new InvalidParameterException("AES keys are 128, 192 or 256 bits, not " + keysize);
    }
    int b = keysize / 8;
    if (!supports(token, b)) {
      throw new InvalidParameterException("the token does not generate " + keysize + "-bit AES keys");
    }
    bytes = b;
  }

  /** Whether the token makes AES keys of {@code bytes}: its mechanism info (a range: SoftHSM2 says 16..32), and for 24 bytes a trial. */
  static boolean supports(TokenContext token, int bytes) {
    var info = token.mechanisms().get(CKM.AES_KEY_GEN);
    if (info == null || bytes < info.minKeySize() || bytes > info.maxKeySize()) {
      return false;
    }
    if (bytes != 24) {
      return true;
    }
    return token.probe("AES-192", t -> t.execute(s -> {
      try {
        // A token may make a 24-byte key it cannot encrypt with: try both.
        long h = s.generateKey(Mechanism.of(CKM.AES_KEY_GEN), Attribute.bool(CKA.TOKEN, false), Attribute.ulong(CKA.VALUE_LEN, 24),
            Attribute.bool(CKA.ENCRYPT, true));
        try {
          s.encrypt(Mechanism.of(CKM.AES_ECB), h, new byte[16]);
          return true;
        } finally {
          s.destroyObject(h);
        }
      } catch (Pkcs11Exception e) {
        return false;
      }
    }));
  }

  @Override
  protected SecretKey engineGenerateKey() {
    if (token.isCluster()) {
      return ClusterKeyGen.aes(token, bytes);
    }
    KeyTemplates.Policy p = KeyTemplates.defaults(token);
    List<Attribute> t = KeyTemplates.secretOrPrivate(p);
    t.add(Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY));
    t.add(Attribute.ulong(CKA.KEY_TYPE, CKK.AES));
    t.add(Attribute.ulong(CKA.VALUE_LEN, bytes));
    t.add(Attribute.bool(CKA.ENCRYPT, true));
    t.add(Attribute.bool(CKA.DECRYPT, true));
    t.add(Attribute.bool(CKA.WRAP, true));
    t.add(Attribute.bool(CKA.UNWRAP, true));
    t.add(Attribute.bool(CKA.SIGN, true)); // AES-CMAC
    t.add(Attribute.bool(CKA.VERIFY, true));
    Attribute[] template = t.toArray(new Attribute[0]);
    try {
      long h = token.executeForObjects(s -> s.generateKey(Mechanism.of(CKM.AES_KEY_GEN), template));
      return new HsmSecretKey(KeyTemplates.info(token, h, CKO.SECRET_KEY, CKK.AES, p, true), "AES", bytes * 8);
    } catch (Pkcs11Exception e) {
      throw Errors.provider("AES key generation", e);
    }
  }
}
