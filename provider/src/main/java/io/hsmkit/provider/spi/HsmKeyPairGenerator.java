package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.KeyPairHandles;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.provider.internal.Errors;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmKeys;
import io.hsmkit.provider.keys.HsmPrivateKey;
import io.hsmkit.provider.keys.HsmPublicKey;
import io.hsmkit.provider.keys.KeyTemplates;
import java.security.InvalidKeyException;
import java.security.KeyPair;
import java.security.KeyPairGeneratorSpi;
import java.security.ProviderException;
import java.util.List;

/**
 * What the token's key pair generators share: both halves made in one C_GenerateKeyPair with the
 * policy of {@link KeyTemplates#defaults} (the private half sensitive and not extractable unless
 * configured otherwise; both halves with the same fresh CKA_ID), the public half read back from the
 * token, the private half built from the policy and the public half's parameters. A pair that
 * cannot be read back is destroyed, so a failed call leaves no objects behind.
 */
abstract class HsmKeyPairGenerator extends KeyPairGeneratorSpi {
  protected final TokenContext token;

  HsmKeyPairGenerator(TokenContext token) {
    this.token = token;
  }

  /** Builds the private key object from its key info and the public half just read. */
  @FunctionalInterface
  interface PrivateHalf {
    HsmPrivateKey make(HsmKey.KeyInfo info, HsmPublicKey publicKey) throws InvalidKeyException;
  }

  /**
   * Generates a pair: {@code pub} and {@code priv} hold the key-specific attributes (usage,
   * parameters); the policy's attributes (CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, CKA_EXTRACTABLE,
   * CKA_ID, CKA_LABEL) and CKA_CLASS/CKA_KEY_TYPE are added here.
   */
  protected final KeyPair generate(String what, long mechanism, long keyType, List<Attribute> pub, List<Attribute> priv, PrivateHalf half) {
    KeyTemplates.Policy p = KeyTemplates.defaults(token);
    List<Attribute> pt = KeyTemplates.publicKey(p);
    pt.add(Attribute.ulong(CKA.CLASS, CKO.PUBLIC_KEY));
    pt.add(Attribute.ulong(CKA.KEY_TYPE, keyType));
    pt.addAll(pub);
    List<Attribute> vt = KeyTemplates.secretOrPrivate(p);
    vt.add(Attribute.ulong(CKA.CLASS, CKO.PRIVATE_KEY));
    vt.add(Attribute.ulong(CKA.KEY_TYPE, keyType));
    vt.addAll(priv);
    Attribute[] publicTemplate = pt.toArray(new Attribute[0]);
    Attribute[] privateTemplate = vt.toArray(new Attribute[0]);
    try {
      return token.executeForObjects(s -> {
        KeyPairHandles h = s.generateKeyPair(Mechanism.of(mechanism), publicTemplate, privateTemplate);
        try {
          HsmPublicKey publicKey = (HsmPublicKey) HsmKeys.load(token, s, h.publicKey());
          HsmPrivateKey privateKey = half.make(KeyTemplates.info(token, h.privateKey(), CKO.PRIVATE_KEY, keyType, p, true), publicKey);
          publicKey.destroyWhenUnreachable();
          privateKey.destroyWhenUnreachable();
          return new KeyPair(publicKey, privateKey);
        } catch (InvalidKeyException | RuntimeException e) {
          destroyQuietly(s, h.privateKey());
          destroyQuietly(s, h.publicKey());
          throw e;
        }
      });
    } catch (Pkcs11Exception e) {
      throw Errors.provider(what + " key pair generation (" + io.hsmkit.pkcs11.constants.CKM.name(mechanism) + ")", e);
    } catch (InvalidKeyException e) {
      throw new ProviderException(what + " key pair generation: cannot read the new key back: " + e.getMessage(), e);
    }
  }

  static void destroyQuietly(Session s, long handle) {
    try {
      s.destroyObject(handle);
    } catch (Pkcs11Exception ignored) {
      // the session that made it is gone, and the session object with it
    }
  }
}
