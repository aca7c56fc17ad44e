package io.hsmkit.bench.cluster;

import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.cluster.Cluster;
import io.hsmkit.pkcs11.cluster.ClusterConfig;
import io.hsmkit.pkcs11.cluster.ClusterKey;
import io.hsmkit.pkcs11.cluster.MemberConfig;
import io.hsmkit.pkcs11.cluster.PinSource;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;
import io.hsmkit.pkcs11.session.Pin;
import io.hsmkit.pkcs11.session.PoolConfig;
import io.hsmkit.pkcs11.session.SessionPool;
import io.hsmkit.pkcs11.session.TokenSelector;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Paired rounds on a shared machine: one SessionPool, and clusters of 1, 2 and 3 members, each run
 * for a short round with the same threads, in turn, many times, in one JVM. Load from other
 * processes then hits all four alike, and the median of the per-round ratios is what is reported.
 * {@code java -cp jmh/target/benchmarks.jar -Dhsmkit.root.dir=$PWD io.hsmkit.bench.cluster.ClusterPaired [threads] [rounds] [roundMillis]}
 */
public final class ClusterPaired {
  public static void main(String[] args) throws Exception {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 4;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 15;
    long roundMillis = args.length > 2 ? Long.parseLong(args[2]) : 300;
    ClusterBenchmark tokens = new ClusterBenchmark();
    tokens.members = 3;
    tokens.op = "ECDSA_P256";
    tokens.policy = "least-outstanding";
    tokens.setUp(); // three tokens, the cluster key on each, a 3-member cluster with the keys
    ClusterKey ec = tokens.ec;
    ClusterKey aes = tokens.aes;
    List<Cluster> clusters = new ArrayList<>();
    for (int n = 1; n <= 3; n++) {
      List<MemberConfig> ms = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String label = "bench-" + (char) ('a' + i);
        ms.add(new MemberConfig(label, tokens.library, TokenSelector.label(label), PinSource.of(tokens.userPin.toCharArray())));
      }
      clusters.add(Cluster.open(ClusterConfig.of(ms).withMinReplicas(1)));
    }
    SessionPool pool = tokens.direct;
    byte[] digest = new byte[32];
    byte[] data = new byte[1024];
    Mechanism gcm = Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(new byte[12], null, 128));
    long poolEc = pool.execute(s -> s.findObjects(2, Attribute.ulong(CKA.CLASS, CKO.PRIVATE_KEY), Attribute.bytes(CKA.ID, ec.id()))[0]);
    long poolAes = pool.execute(s -> s.findObjects(2, Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.bytes(CKA.ID, aes.id()))[0]);

    for (String op : new String[] {"ECDSA_P256", "AES_GCM_1K"}) {
      boolean sign = op.equals("ECDSA_P256");
      List<Supplier<byte[]>> subjects = new ArrayList<>();
      subjects.add(sign ? () -> pool.execute(s -> s.sign(Mechanism.of(CKM.ECDSA), poolEc, digest))
          : () -> pool.execute(s -> s.encrypt(gcm, poolAes, data)));
      for (Cluster c : clusters) {
        subjects.add(sign ? () -> c.execute((s, keys) -> s.sign(Mechanism.of(CKM.ECDSA), keys.handle(CKO.PRIVATE_KEY, ec.id()), digest))
            : () -> c.execute((s, keys) -> s.encrypt(gcm, keys.handle(CKO.SECRET_KEY, aes.id()), data)));
      }
      String[] names = {"pool", "cluster-1", "cluster-2", "cluster-3"};
      double[][] rates = new double[subjects.size()][rounds];
      for (int warm = 0; warm < 2; warm++) {
        for (Supplier<byte[]> s : subjects) {
          round(s, threads, roundMillis);
        }
      }
      for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < subjects.size(); k++) {
          int idx = (k + r) % subjects.size(); // rotate the order so that no subject always goes first
          rates[idx][r] = round(subjects.get(idx), threads, roundMillis);
        }
      }
      System.out.printf("%s, %d threads, %d rounds of %d ms%n", op, threads, rounds, roundMillis);
      for (int k = 0; k < subjects.size(); k++) {
        double[] ratio = new double[rounds];
        for (int r = 0; r < rounds; r++) {
          ratio[r] = rates[k][r] / rates[0][r];
        }
        System.out.printf("  %-10s median %8.0f ops/s  (min %6.0f, max %6.0f)  / pool: median %.2f%n", names[k], median(rates[k]),
            Arrays.stream(rates[k]).min().orElse(0), Arrays.stream(rates[k]).max().orElse(0), median(ratio));
      }
    }
    for (Cluster c : clusters) {
      c.close();
    }
    tokens.tearDown();
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  /** Operations per second of {@code op} on {@code threads} threads for about {@code millis}. */
  static double round(Supplier<byte[]> op, int threads, long millis) throws InterruptedException {
    AtomicLong count = new AtomicLong();
    CountDownLatch go = new CountDownLatch(1);
    long[] end = new long[1];
    List<Thread> ts = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread th = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        long n = 0;
        while (System.nanoTime() < end[0]) {
          op.get();
          n++;
        }
        count.addAndGet(n);
      });
      th.start();
      ts.add(th);
    }
    long start = System.nanoTime();
    end[0] = start + millis * 1_000_000L;
    go.countDown();
    for (Thread th : ts) {
      th.join();
    }
    return count.get() / ((System.nanoTime() - start) / 1e9);
  }
}
