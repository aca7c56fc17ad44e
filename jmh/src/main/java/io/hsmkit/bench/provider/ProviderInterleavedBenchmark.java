package io.hsmkit.bench.provider;

import io.hsmkit.bench.BenchToken;
import io.hsmkit.bench.Fixture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * One JCA operation through HsmKit, through SunPKCS11 and (where it does the same token work, at
 * one thread) in the binding-vs-C benchmark's C loop ({@code hsmbench_run} through {@link
 * Fixture}), alternating inside one fork, each side timed on its own. Load from other processes
 * then falls on all sides alike, which a comparison of separate forks ({@link ProviderBenchmark})
 * cannot promise on a shared machine.
 *
 * <p>One invocation (a round) is {@link JcaOp#batch} operations (twice that with two threads) per
 * thread on each side in turn, about a millisecond of work; the side that goes first rotates every
 * round. The measured rounds' times go to the file named by {@code hsmkit.bench.rounds}, from
 * which {@link ProviderRatios} takes the median over rounds of each side's ops/s and of the
 * ratios of paired rounds: on a machine whose CPUs other processes also want, a round that was
 * preempted is an outlier there instead of a share of the total. With {@code workers = 2} both threads work on the same
 * side at the same time, so a side's figure is its own two-thread throughput. The {@link Split} counters give each side's
 * {@code 1e9 * ops / nanos} over all rounds as well; the primary score means nothing. A side
 * the provider cannot do (OAEP in SunPKCS11) is left out, and so is C for the ops it does not
 * share and at two threads.
 *
 * <p>Setup: a fresh token, then the C side (its C_Initialize and login come first, as in
 * {@code BindingVsCBenchmark}), then both providers, each with its own keys.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Threads(1)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 2, time = 2, timeUnit = TimeUnit.SECONDS)
public class ProviderInterleavedBenchmark {
  @Param({"GCM_ENCRYPT_1K", "GCM_ENCRYPT_64K", "CBC_ENCRYPT_1K", "HMAC_1K", "ECDSA_SIGN", "ECDSA_VERIFY", "RSA_PKCS1_SIGN",
      "RSA_PKCS1_VERIFY", "RSA_PSS_SIGN", "RSA_PSS_VERIFY", "RSA_OAEP_DECRYPT", "ECDH_P256", "RANDOM32"})
  public String op;

  /**
   * Threads per side: 1 runs each batch on JMH's thread; 2 runs it on JMH's thread and one more
   * at the same time (each with its own JCA objects), and the side's time is the wall time until
   * both are done. The C loop runs only with 1.
   */
  @Param({"1", "2"})
  public int workers;

  /** Whether to run the C loop beside the providers for the ops it shares (workers = 1 only). */
  @Param({"true"})
  public boolean withC;

  private JcaOp jcaOp;
  private int batch;
  private Fixture fixture;
  private int cOp = -1;
  private JcaWorker[] hsmkit;
  private JcaWorker[] sun;
  private ExecutorService helper;
  private int turn;
  /** Where results go, so that no operation can be optimised away. */
  private volatile long sink;
  /** Per measured round: the nanoseconds of HsmKit, SunPKCS11 and C (0: the side did not run). */
  private long[] rounds = new long[3 * 4096];
  private int roundCount;
  private boolean measuring;

  @Setup(Level.Trial)
  public void setup() throws GeneralSecurityException {
    jcaOp = JcaOp.valueOf(op);
    batch = jcaOp.batch * workers;
    BenchToken token = BenchToken.create(Providers.tokenDir());
    if (withC && workers == 1 && jcaOp.cOp != null) {
      fixture = Fixture.open(token);
      cOp = jcaOp.cOp.index;
    }
    Providers providers = Providers.open(token);
    hsmkit = new JcaWorker[workers];
    for (int w = 0; w < workers; w++) {
      hsmkit[w] = new JcaWorker(providers.keys(Providers.HSMKIT), jcaOp, w);
    }
    sun = new JcaWorker[workers];
    try {
      for (int w = 0; w < workers; w++) {
        sun[w] = new JcaWorker(providers.keys(Providers.SUN), jcaOp, 16 + w);
      }
    } catch (UnsupportedOperationException e) {
      sun = null; // n/a: the provider cannot do this op (OAEP in SunPKCS11)
    }
    if (workers > 1) {
      helper = Executors.newFixedThreadPool(workers - 1, r -> {
        Thread t = new Thread(r, "interleaved-helper");
        t.setDaemon(true);
        return t;
      });
    }
    if (fixture != null) {
      fixture.c(cOp, 1);
    }
  }

  @Setup(Level.Iteration)
  public void iteration(IterationParams params) {
    measuring = params.getType() == IterationType.MEASUREMENT;
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    writeRounds();
    if (helper != null) {
      helper.shutdownNow();
      helper = null;
    }
    if (fixture != null) {
      fixture.close();
      fixture = null;
    }
  }

  /** Nanoseconds and operations of each side, per iteration (JMH sums them). */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.EVENTS)
  public static class Split {
    public long hsmkitNanos;
    public long hsmkitOps;
    public long sunNanos;
    public long sunOps;
    public long cNanos;
    public long cOps;

    @Setup(Level.Iteration)
    public void reset() {
      hsmkitNanos = 0;
      hsmkitOps = 0;
      sunNanos = 0;
      sunOps = 0;
      cNanos = 0;
      cOps = 0;
    }
  }

  /** {@link JcaOp#batch} operations per thread through each side, in rotating order. */
  @Benchmark
  public void interleaved(Split split) throws Exception {
    int first = turn++ % 3;
    long h = 0;
    long x = 0;
    long c = 0;
    for (int k = 0; k < 3; k++) {
      switch ((first + k) % 3) {
        case 0 -> {
          h = side(hsmkit);
          split.hsmkitNanos += h;
          split.hsmkitOps += (long) batch * workers;
        }
        case 1 -> {
          if (sun != null) {
            x = side(sun);
            split.sunNanos += x;
            split.sunOps += (long) batch * workers;
          }
        }
        default -> {
          if (fixture != null) {
            long t0 = System.nanoTime();
            fixture.c(cOp, batch);
            c = System.nanoTime() - t0;
            split.cNanos += c;
            split.cOps += batch;
          }
        }
      }
    }
    if (measuring) {
      if (3 * roundCount + 3 > rounds.length) {
        rounds = Arrays.copyOf(rounds, rounds.length * 2);
      }
      rounds[3 * roundCount] = h;
      rounds[3 * roundCount + 1] = x;
      rounds[3 * roundCount + 2] = c;
      roundCount++;
    }
  }

  /**
   * Writes the measured rounds to the file named by {@code hsmkit.bench.rounds} (when set), for
   * {@link ProviderRatios}: a header line {@code # op workers opsPerSideAndRound cOpsPerRound},
   * then one line per round with the nanoseconds of HsmKit, SunPKCS11 and C (0 when not run).
   */
  private void writeRounds() throws IOException {
    String file = System.getProperty("hsmkit.bench.rounds");
    if (file == null || file.isBlank()) {
      return;
    }
    StringBuilder sb = new StringBuilder();
    sb.append("# ").append(op).append(' ').append(workers).append(' ').append((long) batch * workers).append(' ').append(batch).append('\n');
    for (int i = 0; i < roundCount; i++) {
      sb.append(rounds[3 * i]).append(' ').append(rounds[3 * i + 1]).append(' ').append(rounds[3 * i + 2]).append('\n');
    }
    Files.writeString(Path.of(file), sb.toString(), StandardCharsets.UTF_8);
  }

  /** One batch on each of the side's workers at once; the wall time until all are done. */
  private long side(JcaWorker[] ws) throws Exception {
    long t0 = System.nanoTime();
    Future<?>[] others = new Future<?>[ws.length - 1];
    for (int w = 1; w < ws.length; w++) {
      JcaWorker x = ws[w];
      others[w - 1] = helper.submit(() -> {
        batch(x);
        return null;
      });
    }
    batch(ws[0]);
    for (Future<?> f : others) {
      f.get();
    }
    return System.nanoTime() - t0;
  }

  private void batch(JcaWorker w) throws GeneralSecurityException {
    long s = 0;
    for (int i = 0; i < batch; i++) {
      Object r = w.run();
      s += r instanceof byte[] b ? b.length : 1;
    }
    sink += s;
  }
}
