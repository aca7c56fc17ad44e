package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.provider.internal.Errors;
import io.hsmkit.provider.internal.TokenContext;
import java.security.SecureRandomParameters;
import java.security.SecureRandomSpi;

/**
 * SecureRandom whose bytes come from the token's C_GenerateRandom, one pooled session per call
 * (thread-safe: concurrent callers use different sessions). Seeds given with {@code setSeed} are
 * mixed in with C_SeedRandom where the token allows it, and otherwise ignored, as the token's
 * generator does not need them.
 */
public final class HsmSecureRandom extends SecureRandomSpi {
  private static final long serialVersionUID = 1L;
  private final transient TokenContext token;

  public HsmSecureRandom(TokenContext token) {
    super((SecureRandomParameters) null);
    this.token = token;
  }

  @Override
  protected void engineSetSeed(byte[] seed) {
    try {
      token.execute(s -> {
        s.raw().C_SeedRandom(s.handle(), seed, 0, seed.length);
        return null;
      });
    } catch (Pkcs11Exception e) {
      // CKR_RANDOM_SEED_NOT_SUPPORTED and the like: the token's generator seeds itself.
    }
  }

  @Override
  protected void engineNextBytes(byte[] bytes) {
    if (bytes.length == 0) {
      return;
    }
    try {
      token.execute(s -> {
        s.generateRandom(bytes);
        return null;
      });
    } catch (Pkcs11Exception e) {
      throw Errors.provider("C_GenerateRandom", e);
    }
  }

  @Override
  protected byte[] engineGenerateSeed(int numBytes) {
    byte[] b = new byte[numBytes];
    engineNextBytes(b);
    return b;
  }
}
