package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.keys.KeyImport;
import io.hsmkit.provider.keys.KeyTemplates;
import java.security.InvalidKeyException;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.KeySpec;
import java.util.Arrays;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactorySpi;
import javax.crypto.spec.SecretKeySpec;

/**
 * SecretKeyFactory for AES, generic secrets and HMAC keys: imports a {@link SecretKeySpec} (or a
 * software key with RAW encoding) into the token as a session key, sensitive and not extractable
 * unless configured otherwise; the caller asked for the import by calling the factory. Lengths are
 * checked against what the token can use (AES: 128/256, and 192 where the token does it; HMAC: at
 * least the HMAC mechanism's minimum). {@code getKeySpec} refuses sensitive and non-extractable keys.
 *
 * <p><b>Over a cluster</b> the key is imported as a replicated token key, on {@code minReplicas}
 * members before it is returned (sensitive, extractable only under the trusted cluster key; the
 * configuration's key policy does not apply): {@code KeyImport.secret} over {@code ReplicatedKeys}.
 */
public final class HsmSecretKeyFactory extends SecretKeyFactorySpi {
  private final TokenContext token;
  private final String algorithm;
  private final HmacKeyGenerator.Kind hmac;

  /** An AES factory. */
  public static HsmSecretKeyFactory aes(TokenContext token) {
    return new HsmSecretKeyFactory(token, "AES", null);
  }

  /** A generic secret or HMAC factory. */
  public static HsmSecretKeyFactory generic(TokenContext token, HmacKeyGenerator.Kind kind) {
    return new HsmSecretKeyFactory(token, kind.algorithm(), kind);
  }

  private HsmSecretKeyFactory(TokenContext token, String algorithm, HmacKeyGenerator.Kind hmac) {
    this.token = token;
    this.algorithm = algorithm;
    this.hmac = hmac;
  }

  private boolean isAes() {
    return hmac == null;
  }

  @Override
  protected SecretKey engineGenerateSecret(KeySpec keySpec) throws InvalidKeySpecException {
    if (!(keySpec instanceof SecretKeySpec spec)) {
      throw new InvalidKeySpecException(algorithm + " keys are imported from a SecretKeySpec, not "
          + (keySpec == null ? "null" : keySpec.getClass().getName()));
    }
    try {
      return importKey(spec);
    } catch (InvalidKeyException e) {
      throw new InvalidKeySpecException(e.getMessage(), e);
    }
  }

  private HsmSecretKey importKey(SecretKey key) throws InvalidKeyException {
    if (isAes() && !"AES".equalsIgnoreCase(key.getAlgorithm())) {
      throw new InvalidKeyException("an AES SecretKeyFactory cannot take a " + key.getAlgorithm() + " key");
    }
    if (!"RAW".equalsIgnoreCase(key.getFormat())) {
      throw new InvalidKeyException("only keys in RAW encoding can be imported, not " + key.getFormat());
    }
    byte[] value = key.getEncoded();
    if (value == null) {
      throw new InvalidKeyException("the key gives no value to import");
    }
    try {
      if (isAes()) {
        if (value.length != 16 && value.length != 24 && value.length != 32) {
          throw new InvalidKeyException("AES keys are 16, 24 or 32 bytes, not " + value.length);
        }
        if (!AesKeyGenerator.supports(token, value.length)) {
          throw new InvalidKeyException("the token does not take " + value.length * 8 + "-bit AES keys");
        }
        return KeyImport.secret(token, value, CKK.AES, "AES", KeyTemplates.defaults(token).withToken(false));
      }
      String why = hmac.refusal(token, value.length);
      if (why != null) {
        throw new InvalidKeyException(why);
      }
      return KeyImport.secret(token, value, CKK.GENERIC_SECRET, algorithm, KeyTemplates.defaults(token).withToken(false));
    } finally {
      Arrays.fill(value, (byte) 0);
    }
  }

  @Override
  protected KeySpec engineGetKeySpec(SecretKey key, Class<?> keySpec) throws InvalidKeySpecException {
    if (key == null || keySpec == null) {
      throw new InvalidKeySpecException("no key or no specification class");
    }
    if (!keySpec.isAssignableFrom(SecretKeySpec.class)) {
      throw new InvalidKeySpecException("secret keys are given as SecretKeySpec, not " + keySpec.getName());
    }
    if (key instanceof HsmSecretKey hk) {
      if (!hk.belongsTo(token)) {
        throw new InvalidKeySpecException("the key belongs to another token");
      }
      if (hk.isSensitive() || !hk.isExtractable()) {
        throw new InvalidKeySpecException("the key is " + (hk.isSensitive() ? "sensitive" : "not extractable") + ": its value stays in the token");
      }
      byte[] v;
      try {
        Attribute a = token.execute(s -> s.getAttribute(hk.handle(), CKA.VALUE));
        v = a.value();
      } catch (Pkcs11Exception e) {
        throw new InvalidKeySpecException("cannot read the key's value: " + e.getMessage(), e);
      }
      if (v == null) {
        throw new InvalidKeySpecException("the token did not give the key's value");
      }
      try {
        return new SecretKeySpec(v, hk.getAlgorithm());
      } finally {
        Arrays.fill(v, (byte) 0);
      }
    }
    byte[] v = key.getEncoded();
    if (v == null) {
      throw new InvalidKeySpecException("the key gives no value");
    }
    try {
      return new SecretKeySpec(v, key.getAlgorithm());
    } finally {
      Arrays.fill(v, (byte) 0);
    }
  }

  @Override
  protected SecretKey engineTranslateKey(SecretKey key) throws InvalidKeyException {
    if (key == null) {
      throw new InvalidKeyException("no key");
    }
    if (key instanceof HsmSecretKey hk) {
      if (!hk.belongsTo(token)) {
        throw new InvalidKeyException("a secret key cannot move from another token (" + hk.token() + ")");
      }
      if (isAes() != (hk.keyType() == CKK.AES)) {
        throw new InvalidKeyException("a " + algorithm + " SecretKeyFactory cannot take a " + hk.getAlgorithm() + " key");
      }
      return hk;
    }
    return importKey(key);
  }
}
