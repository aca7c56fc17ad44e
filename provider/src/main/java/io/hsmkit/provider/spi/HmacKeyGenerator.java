package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismInfo;
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
 * HMAC and generic secret keys generated in the token (CKM_GENERIC_SECRET_KEY_GEN, CKK_GENERIC_SECRET,
 * which every PKCS#11 HMAC mechanism takes). An HMAC key is as long as its hash unless asked
 * otherwise, and never shorter than the HMAC mechanism's minimum (SoftHSM2 refuses to sign with a
 * shorter key, so a shorter one would be useless); a generic secret is 256 bits unless asked, any
 * whole number of bytes. Sensitive and not extractable by default.
 */
public final class HmacKeyGenerator extends KeyGeneratorSpi {
  /** The kinds of key made here: JCA name, the HMAC mechanism (0 for none), the default length in bytes. */
  public enum Kind {
    SHA1("HmacSHA1", CKM.SHA_1_HMAC, 20),
    SHA224("HmacSHA224", CKM.SHA224_HMAC, 28),
    SHA256("HmacSHA256", CKM.SHA256_HMAC, 32),
    SHA384("HmacSHA384", CKM.SHA384_HMAC, 48),
    SHA512("HmacSHA512", CKM.SHA512_HMAC, 64),
    GENERIC("GenericSecret", 0, 32);

    final String algorithm;
    final long hmac;
    final int defaultBytes;

    Kind(String algorithm, long hmac, int defaultBytes) {
      this.algorithm = algorithm;
      this.hmac = hmac;
      this.defaultBytes = defaultBytes;
    }

    public String algorithm() {
      return algorithm;
    }

    /** The HMAC mechanism, or 0 for a generic secret. */
    public long hmacMechanism() {
      return hmac;
    }

    /** The smallest key in bytes: the HMAC mechanism info's minimum (in bytes, as SoftHSM2 reports it), else the hash length; 1 for a generic secret. */
    public int minBytes(TokenContext token) {
      if (hmac == 0) {
        return 1;
      }
      MechanismInfo info = token.mechanisms().get(hmac);
      return info != null && info.minKeySize() > 0 ? (int) Math.min(info.minKeySize(), Integer.MAX_VALUE) : defaultBytes;
    }

    /** The largest key in bytes: the HMAC mechanism info's maximum, and what CKM_GENERIC_SECRET_KEY_GEN makes (in bits). */
    public long maxBytes(TokenContext token) {
      long max = Integer.MAX_VALUE / 8;
      MechanismInfo gen = token.mechanisms().get(CKM.GENERIC_SECRET_KEY_GEN);
      if (gen != null && gen.maxKeySize() > 0) {
        max = Math.min(max, gen.maxKeySize() / 8);
      }
      MechanismInfo info = hmac == 0 ? null : token.mechanisms().get(hmac);
      if (info != null && info.maxKeySize() > 0) {
        max = Math.min(max, info.maxKeySize());
      }
      return max;
    }

    /** Why {@code bytes} is not a size for this kind on {@code token}, or null when it is. */
    String refusal(TokenContext token, int bytes) {
      int min = minBytes(token);
      long max = maxBytes(token);
      if (bytes < min || bytes > max) {
        return algorithm + " keys on this token are " + min * 8 + " to " + max * 8 + " bits, not " + bytes * 8
            + (hmac != 0 && bytes < min ? " (the token's HMAC refuses keys shorter than its minimum)" : "");
      }
      return null;
    }
  }

  private final TokenContext token;
  private final Kind kind;
  private int bytes;

  public HmacKeyGenerator(TokenContext token, Kind kind) {
    this.token = token;
    this.kind = kind;
    this.bytes = kind.defaultBytes;
  }

  @Override
  protected void engineInit(SecureRandom random) {
    bytes = kind.defaultBytes;
  }

  @Override
  protected void engineInit(AlgorithmParameterSpec params, SecureRandom random) throws InvalidAlgorithmParameterException {
    throw new InvalidAlgorithmParameterException(kind.algorithm + " key generation takes a key size, not parameters");
  }

  @Override
  protected void engineInit(int keysize, SecureRandom random) {
    if (keysize <= 0 || keysize % 8 != 0) {
      throw new InvalidParameterException(kind.algorithm + " key sizes are a positive whole number of bytes (a multiple of 8 bits), not " + keysize);
    }
    String why = kind.refusal(token, keysize / 8);
    if (why != null) {
      throw new InvalidParameterException(why);
    }
    bytes = keysize / 8;
  }

  @Override
  protected SecretKey engineGenerateKey() {
    if (token.isCluster()) {
      return ClusterKeyGen.hmac(token, bytes, kind == Kind.GENERIC, kind.algorithm);
    }
    KeyTemplates.Policy p = KeyTemplates.defaults(token);
    List<Attribute> t = KeyTemplates.secretOrPrivate(p);
    t.add(Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY));
    t.add(Attribute.ulong(CKA.KEY_TYPE, CKK.GENERIC_SECRET));
    t.add(Attribute.ulong(CKA.VALUE_LEN, bytes));
    t.add(Attribute.bool(CKA.SIGN, true));
    t.add(Attribute.bool(CKA.VERIFY, true));
    t.add(Attribute.bool(CKA.DERIVE, kind == Kind.GENERIC));
    Attribute[] template = t.toArray(new Attribute[0]);
    try {
      long h = token.executeForObjects(s -> s.generateKey(Mechanism.of(CKM.GENERIC_SECRET_KEY_GEN), template));
      return new HsmSecretKey(KeyTemplates.info(token, h, CKO.SECRET_KEY, CKK.GENERIC_SECRET, p, true), kind.algorithm, bytes * 8);
    } catch (Pkcs11Exception e) {
      throw Errors.provider(kind.algorithm + " key generation", e);
    }
  }
}
