package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmEdPrivateKey;
import io.hsmkit.provider.keys.KeyImport;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidParameterException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.NamedParameterSpec;
import java.util.List;

/**
 * Ed25519 key pairs generated in the token (CKM_EC_EDWARDS_KEY_PAIR_GEN), also under the name
 * "EdDSA" (whose only curve here is Ed25519: Ed448 is refused). CKA_EC_PARAMS is written the way
 * this token takes it ({@link KeyImport#edParams}). The private half can sign, the public half verify.
 */
public final class Ed25519KeyPairGenerator extends HsmKeyPairGenerator {
  public Ed25519KeyPairGenerator(TokenContext token) {
    super(token);
  }

  @Override
  public void initialize(int keysize, SecureRandom random) {
    // 255 is what SunEC calls Ed25519's size; 256 is accepted as the byte-rounded size.
    if (keysize != 255 && keysize != 256) {
      throw new InvalidParameterException("Ed25519 keys are 255 bits, not " + keysize + " (Ed448 is not supported)");
    }
  }

  @Override
  public void initialize(AlgorithmParameterSpec params, SecureRandom random) throws InvalidAlgorithmParameterException {
    if (!(params instanceof NamedParameterSpec n) || !NamedParameterSpec.ED25519.getName().equalsIgnoreCase(n.getName())) {
      throw new InvalidAlgorithmParameterException("only NamedParameterSpec.ED25519 is supported, not "
          + (params instanceof NamedParameterSpec n2 ? n2.getName() : params == null ? "null" : params.getClass().getName()));
    }
  }

  @Override
  public KeyPair generateKeyPair() {
    List<Attribute> pub = List.of(Attribute.bytes(CKA.EC_PARAMS, KeyImport.edParams(token)), Attribute.bool(CKA.VERIFY, true));
    List<Attribute> priv = List.of(Attribute.bool(CKA.SIGN, true));
    return generate("Ed25519", CKM.EC_EDWARDS_KEY_PAIR_GEN, CKK.EC_EDWARDS, pub, priv, (info, pk) -> new HsmEdPrivateKey(info));
  }
}
