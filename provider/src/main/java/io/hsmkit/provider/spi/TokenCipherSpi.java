package io.hsmkit.provider.spi;

import java.security.AlgorithmParameters;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.SecureRandom;
import java.security.spec.AlgorithmParameterSpec;
import javax.crypto.CipherSpi;

/**
 * The init overloads every HsmKit cipher forwards the same way: without parameters to the
 * parameter-spec form with null (a parameter problem then is an InvalidKeyException, as JCA's
 * contract for that overload says), and AlgorithmParameters through {@link #specOf}.
 */
abstract class TokenCipherSpi extends CipherSpi {

  /** The parameter spec this cipher reads from {@code params} (null for null). */
  protected abstract AlgorithmParameterSpec specOf(AlgorithmParameters params) throws InvalidAlgorithmParameterException;

  @Override
  protected final void engineInit(int opmode, Key key, SecureRandom random) throws InvalidKeyException {
    try {
      engineInit(opmode, key, (AlgorithmParameterSpec) null, random);
    } catch (InvalidAlgorithmParameterException e) {
      throw CipherSupport.asInvalidKey(e);
    }
  }

  @Override
  protected final void engineInit(int opmode, Key key, AlgorithmParameters params, SecureRandom random)
      throws InvalidKeyException, InvalidAlgorithmParameterException {
    engineInit(opmode, key, specOf(params), random);
  }
}
