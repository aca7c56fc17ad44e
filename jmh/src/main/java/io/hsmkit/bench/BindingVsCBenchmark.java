package io.hsmkit.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The same PKCS#11 operations through the binding and through a C loop, on one fresh SoftHSM2
 * token, in one JVM: ops/s of each, one thread.
 *
 * <ul>
 *   <li>{@link #binding()}: one invocation is one operation through {@link io.hsmkit.pkcs11.Session}
 *       (Init + one single-part call into preallocated buffers; or one C_GenerateRandom).
 *   <li>{@link #cLoop()}: one invocation is {@link #BATCH} operations in hsmbench.c's tight C loop,
 *       entered once through JNA; {@code @OperationsPerInvocation} makes JMH count them as {@code
 *       BATCH} operations, so both methods report ops/s of the same operation.
 *   <li>{@link #interleaved}: both in one fork, alternating every {@link #BATCH} operations, each
 *       side timed on its own ({@link Split}); load from other processes then falls on both sides
 *       alike. Its primary score counts both sides' operations and means little; the ratio is
 *       {@code cNanos / bindingNanos} (equal operation counts), which {@link Ratios} prints.
 * </ul>
 *
 * <p>The implementation is the method, not a parameter: JMH's {@code @OperationsPerInvocation} is
 * fixed per method. {@link Ratios} runs the two methods of each op back to back and prints
 * binding/C. Each fork makes its own token (ROOT/jmh/target/bench-token) and keys, so a fork never
 * sees another's objects.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Threads(1)
@Warmup(iterations = 2, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 3, time = 2, timeUnit = TimeUnit.SECONDS)
public class BindingVsCBenchmark {
  /** Operations per {@link #cLoop()} call: 100 RSA signatures take about 0.1 s, 100 randoms about 0.1 ms. */
  public static final int BATCH = 100;

  @Param({"AES_GCM_1K", "HMAC_SHA256_1K", "ECDSA_P256", "RSA2048", "RANDOM32"})
  public String op;

  private Fixture fixture;
  private int opIndex;

  @Setup(Level.Trial)
  public void setup() {
    opIndex = Op.valueOf(op).index;
    fixture = Fixture.open(BenchToken.create(BenchToken.defaultDir()));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (fixture != null) {
      fixture.close();
      fixture = null;
    }
  }

  /** Nanoseconds spent in each side by {@link #interleaved}, per iteration (JMH sums them). */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.EVENTS)
  public static class Split {
    public long bindingNanos;
    public long cNanos;
    public long bindingOps;
    public long cOps;

    @Setup(Level.Iteration)
    public void reset() {
      bindingNanos = 0;
      cNanos = 0;
      bindingOps = 0;
      cOps = 0;
    }
  }

  /** One operation through the binding. */
  @Benchmark
  public int binding() {
    return fixture.binding(opIndex);
  }

  /** {@link #BATCH} operations in the C loop. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public long cLoop() {
    return fixture.c(opIndex, BATCH);
  }

  /** {@link #BATCH} operations through the binding, then {@link #BATCH} in the C loop, each side timed. */
  @Benchmark
  @OperationsPerInvocation(2 * BATCH)
  public void interleaved(Split split, Blackhole bh) {
    Fixture f = fixture;
    int o = opIndex;
    long t0 = System.nanoTime();
    for (int i = 0; i < BATCH; i++) {
      bh.consume(f.binding(o));
    }
    long t1 = System.nanoTime();
    f.c(o, BATCH);
    long t2 = System.nanoTime();
    split.bindingNanos += t1 - t0;
    split.cNanos += t2 - t1;
    split.bindingOps += BATCH;
    split.cOps += BATCH;
  }
}
