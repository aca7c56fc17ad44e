package io.hsmkit.bench.provider;

import io.hsmkit.bench.BenchToken;
import java.security.GeneralSecurityException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * JCA operations through HsmKit and through SunPKCS11 on the same fresh SoftHSM2 token, the
 * provider being a parameter: ops/s, throughput mode. {@link ProviderRatios} runs it at 1 and 2
 * threads ({@code -t}) and prints HsmKit/SunPKCS11 per operation.
 *
 * <p>Per trial (that is, per fork): a new token ({@link BenchToken}), both providers configured on
 * it ({@link Providers}), and the keys the measured operation needs, generated in the token by the
 * measured provider. Per thread: its own Cipher, Mac, Signature, KeyAgreement or SecureRandom,
 * initialised once ({@link JcaWorker}). One invocation is one JCA operation. The methods and
 * what one operation is are listed in {@link JcaOp}.
 *
 * <p>{@code rsaOaepDecrypt} with SunPKCS11 fails in setup (JDK 17's SunPKCS11 has no RSA-OAEP):
 * JMH reports the error and no score, which {@link ProviderRatios} prints as n/a. Run with
 * {@code -foe false} (JMH's default) so the other benchmarks go on.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Threads(1)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 2, time = 1, timeUnit = TimeUnit.SECONDS)
public class ProviderBenchmark {

  /** The token, both providers, and the measured provider's keys. */
  @State(Scope.Benchmark)
  public static class Shared {
    @Param({Providers.HSMKIT, Providers.SUN})
    public String provider;

    JcaOp op;
    Providers providers;
    Providers.Keys keys;

    @Setup(Level.Trial)
    public void setup(BenchmarkParams params) throws GeneralSecurityException {
      op = JcaOp.ofMethod(params.getBenchmark());
      providers = Providers.open(BenchToken.create(Providers.tokenDir()));
      keys = providers.keys(provider);
      keys.prepare(op);
    }
  }

  /** One thread's JCA objects. */
  @State(Scope.Thread)
  public static class Worker {
    JcaWorker w;

    @Setup(Level.Trial)
    public void setup(Shared shared, ThreadParams thread) throws GeneralSecurityException {
      w = new JcaWorker(shared.keys, shared.op, thread.getThreadIndex());
    }
  }

  @Benchmark
  public byte[] gcmEncrypt1k(Worker w) throws GeneralSecurityException {
    return w.w.gcmEncrypt1k();
  }

  @Benchmark
  public byte[] gcmEncrypt64k(Worker w) throws GeneralSecurityException {
    return w.w.gcmEncrypt64k();
  }

  @Benchmark
  public byte[] cbcEncrypt1k(Worker w) throws GeneralSecurityException {
    return w.w.cbcEncrypt1k();
  }

  @Benchmark
  public byte[] hmac1k(Worker w) {
    return w.w.hmac1k();
  }

  @Benchmark
  public byte[] ecdsaSign(Worker w) throws GeneralSecurityException {
    return w.w.sign();
  }

  @Benchmark
  public boolean ecdsaVerify(Worker w) throws GeneralSecurityException {
    return w.w.verify();
  }

  @Benchmark
  public byte[] rsaPkcs1Sign(Worker w) throws GeneralSecurityException {
    return w.w.sign();
  }

  @Benchmark
  public boolean rsaPkcs1Verify(Worker w) throws GeneralSecurityException {
    return w.w.verify();
  }

  @Benchmark
  public byte[] rsaPssSign(Worker w) throws GeneralSecurityException {
    return w.w.sign();
  }

  @Benchmark
  public boolean rsaPssVerify(Worker w) throws GeneralSecurityException {
    return w.w.verify();
  }

  @Benchmark
  public byte[] rsaOaepDecrypt(Worker w) throws GeneralSecurityException {
    return w.w.oaepDecrypt();
  }

  @Benchmark
  public byte[] ecdhP256(Worker w) throws GeneralSecurityException {
    return w.w.ecdh();
  }

  @Benchmark
  public byte[] random32(Worker w) {
    return w.w.random32();
  }
}
