package io.hsmkit.bench.cluster;

import com.sun.jna.Library;
import com.sun.jna.Native;
import io.hsmkit.bench.BenchToken;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.cluster.Cluster;
import io.hsmkit.pkcs11.cluster.ClusterAdmin;
import io.hsmkit.pkcs11.cluster.ClusterConfig;
import io.hsmkit.pkcs11.cluster.ClusterKey;
import io.hsmkit.pkcs11.cluster.MemberConfig;
import io.hsmkit.pkcs11.cluster.PinSource;
import io.hsmkit.pkcs11.cluster.SelectionPolicy;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;
import io.hsmkit.pkcs11.session.Pin;
import io.hsmkit.pkcs11.session.PoolConfig;
import io.hsmkit.pkcs11.session.SessionPool;
import io.hsmkit.pkcs11.session.TokenSelector;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Throughput of the cluster layer ({@code io.hsmkit.pkcs11.cluster}) with 1, 2 and 3 SoftHSM2
 * tokens, against one token's {@link SessionPool} directly ({@code pool}, same token as member a):
 * ECDSA P-256 sign of a 32-byte digest and AES-256-GCM of 1 KiB. All tokens live in one SoftHSM2
 * instance in this process, so the scaling is what the machine's cores allow, not what separate
 * HSMs would give. Run with {@code -t} threads, e.g.
 * {@code java -jar jmh/target/benchmarks.jar ClusterBenchmark -t 4}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class ClusterBenchmark {
  static final byte[] P256 = {0x06, 0x08, 0x2A, (byte) 0x86, 0x48, (byte) 0xCE, 0x3D, 0x03, 0x01, 0x07};

  @Param({"1", "2", "3"})
  public int members;

  @Param({"ECDSA_P256", "AES_GCM_1K"})
  public String op;

  @Param({"least-outstanding"})
  public String policy;

  Cluster cluster;
  SessionPool direct;
  Pkcs11Module module;
  ClusterKey ec;
  ClusterKey aes;
  long directEc;
  long directAes;
  String library;
  String userPin;
  final byte[] digest = new byte[32];
  final byte[] data = new byte[1024];
  final Mechanism gcm = Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(new byte[12], null, 128));

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    SecureRandom r = new SecureRandom();
    byte[] raw = new byte[12];
    r.nextBytes(raw);
    String soPin = HexFormat.of().formatHex(raw);
    r.nextBytes(raw);
    userPin = HexFormat.of().formatHex(raw);
    Path dir = BenchToken.rootDir().resolve("jmh/target/cluster-tokens");
    String out = run(null, BenchToken.rootDir().resolve("softhsm-config/make-token.sh").toString(), "--dir", dir.toString(),
        "--label", "bench-a", "--so-pin", soPin, "--user-pin", userPin, "--force");
    String conf = null;
    for (String line : out.split("\n")) {
      if (line.startsWith("SOFTHSM2_CONF=")) {
        conf = line.substring(14).replace("'", "");
      } else if (line.startsWith("HSMKIT_PKCS11_LIBRARY=")) {
        library = line.substring(22).replace("'", "");
      }
    }
    Native.load("c", LibC.class).setenv("SOFTHSM2_CONF", conf, 1);
    for (String l : new String[] {"bench-b", "bench-c"}) {
      run(conf, "softhsm2-util", "--init-token", "--free", "--label", l, "--so-pin", soPin, "--pin", userPin);
    }
    module = Pkcs11Module.open(library);
    String[] labels = {"bench-a", "bench-b", "bench-c"};
    try (ClusterAdmin.SoToken a = so(labels[0], soPin)) {
      ClusterAdmin.initialize(a);
      for (int i = 1; i < 3; i++) {
        try (ClusterAdmin.SoToken t = so(labels[i], soPin)) {
          ClusterAdmin.join(a, t);
        }
      }
    }
    List<MemberConfig> ms = new ArrayList<>();
    for (int i = 0; i < members; i++) {
      ms.add(new MemberConfig(labels[i], library, TokenSelector.label(labels[i]), PinSource.of(userPin.toCharArray())));
    }
    ClusterConfig cc = ClusterConfig.of(ms).withMinReplicas(1)
        .withPolicy(policy.equals("round-robin") ? SelectionPolicy.roundRobin() : SelectionPolicy.leastOutstanding());
    cluster = Cluster.open(cc);
    ec = cluster.generateEcKeyPair("bench-ec", P256);
    aes = cluster.generateSecretKey("bench-aes", 32);
    direct = SessionPool.open(module, TokenSelector.label(labels[0]), PoolConfig.defaults(), Pin.of(userPin.toCharArray()));
    directEc = direct.execute(s -> s.findObjects(2, Attribute.ulong(CKA.CLASS, CKO.PRIVATE_KEY), Attribute.bytes(CKA.ID, ec.id()))[0]);
    directAes = direct.execute(s -> s.findObjects(2, Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.bytes(CKA.ID, aes.id()))[0]);
    r.nextBytes(digest);
    r.nextBytes(data);
  }

  private ClusterAdmin.SoToken so(String label, String soPin) {
    return new ClusterAdmin.SoToken(module, TokenSelector.label(label), Pin.of(soPin.toCharArray()));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    direct.close();
    cluster.close();
    module.close();
  }

  /** The operation through {@link Cluster#execute}: member chosen by the policy, key handle from the member's cache. */
  @Benchmark
  public byte[] cluster() {
    if (op.equals("ECDSA_P256")) {
      return cluster.execute((s, keys) -> s.sign(Mechanism.of(CKM.ECDSA), keys.handle(CKO.PRIVATE_KEY, ec.id()), digest));
    }
    return cluster.execute((s, keys) -> s.encrypt(gcm, keys.handle(CKO.SECRET_KEY, aes.id()), data));
  }

  /** The same operation on member a's token through one SessionPool: the baseline for the cluster's overhead. */
  @Benchmark
  public byte[] pool() {
    if (op.equals("ECDSA_P256")) {
      return direct.execute(s -> s.sign(Mechanism.of(CKM.ECDSA), directEc, digest));
    }
    return direct.execute(s -> s.encrypt(gcm, directAes, data));
  }

  private interface LibC extends Library {
    int setenv(String name, String value, int overwrite);
  }

  private static String run(String conf, String... cmd) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    if (conf != null) {
      pb.environment().put("SOFTHSM2_CONF", conf);
    }
    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(cmd[0] + " failed; run `bash softhsm-config/install.sh` if SoftHSM2 is missing");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    return out;
  }
}
