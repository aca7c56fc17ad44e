package io.hsmkit.pkcs11.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;
import io.hsmkit.pkcs11.session.PoolStats;
import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three real SoftHSM2 tokens, 8 threads signing, encrypting and decrypting through the cluster for
 * a fixed count while member c (behind the fault shim) fails three ways in turn: every call a
 * device error, the token removed, every call a library error. The caller must see no failure.
 */
class ClusterFailoverTest {
  static final int THREADS = 8;
  static final int OPS_PER_THREAD = 4000;

  static ClusterFixture fx;

  @BeforeAll
  static void setUp() {
    fx = new ClusterFixture("clfail");
  }

  @AfterAll
  static void tearDown() {
    fx.close();
  }

  record Signed(byte[] message, byte[] signature) {}

  /** A fault, and how long it lasts. */
  record Phase(String name, String rules, long millis, double atProgress) {}

  static final List<Phase> PHASES = List.of(
      new Phase("device error", "*:rv=CKR_DEVICE_ERROR", 300, 0.10),
      new Phase("token removed", "absent", 500, 0.30),
      new Phase("library errors", "*:rv=CKR_GENERAL_ERROR", 300, 0.50));

  @Test
  void aMemberFailingMidRunCostsTheCallerNothingAndComesBack() throws Exception {
    try (Cluster c = Cluster.open(fx.config())) {
      ClusterKey ec = c.generateEcKeyPair("load-ec", ClusterFixture.P256);
      ClusterKey aes = c.generateSecretKey("load-aes", 32);
      Member a = c.member("a");
      byte[] point = a.pool.execute(s -> s.getAttribute(a.handle(s, CKO.PUBLIC_KEY, ec.id()), CKA.EC_POINT).value());
      PublicKey pub = p256(point);

      AtomicInteger done = new AtomicInteger();
      AtomicInteger failed = new AtomicInteger();
      AtomicInteger signs = new AtomicInteger();
      // The load runs at least OPS_PER_THREAD per thread and on until every fault is over and c
      // has worked again: on a loaded machine the faults' clock and the load's count drift apart.
      AtomicBoolean faultsOver = new AtomicBoolean();
      ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
      List<Signed> signed = Collections.synchronizedList(new ArrayList<>());
      CountDownLatch start = new CountDownLatch(1);
      List<Thread> workers = new ArrayList<>();
      long t0 = System.nanoTime();
      for (int t = 0; t < THREADS; t++) {
        int seed = t;
        Thread w = new Thread(() -> {
          SecureRandom rnd = new SecureRandom();
          try {
            start.await();
          } catch (InterruptedException e) {
            return;
          }
          for (int i = 0; i < OPS_PER_THREAD || !faultsOver.get(); i++) {
            try {
              if ((i + seed) % 2 == 0) {
                byte[] msg = new byte[64];
                rnd.nextBytes(msg);
                byte[] digest = MessageDigest.getInstance("SHA-256").digest(msg);
                byte[] sig = c.execute((s, keys) -> s.sign(Mechanism.of(CKM.ECDSA), keys.handle(CKO.PRIVATE_KEY, ec.id()), digest));
                signed.add(new Signed(msg, sig));
                signs.incrementAndGet();
              } else {
                byte[] pt = new byte[1024];
                rnd.nextBytes(pt);
                byte[] iv = new byte[12];
                rnd.nextBytes(iv);
                Mechanism gcm = Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(iv, null, 128));
                byte[] ct = c.execute((s, keys) -> s.encrypt(gcm, keys.handle(CKO.SECRET_KEY, aes.id()), pt));
                byte[] back = c.execute((s, keys) -> s.decrypt(gcm, keys.handle(CKO.SECRET_KEY, aes.id()), ct));
                if (!Arrays.equals(back, pt)) {
                  throw new AssertionError("decryption gave other bytes");
                }
              }
            } catch (Throwable e) {
              failed.incrementAndGet();
              if (errors.size() < 5) {
                errors.add(e);
              }
            }
            done.incrementAndGet();
          }
        }, "load-" + t);
        w.start();
        workers.add(w);
      }
      start.countDown();

      Member mc = c.member("c");
      int total = THREADS * OPS_PER_THREAD;
      List<String> log = new ArrayList<>();
      long cOpsWhenLastBack = 0;
      for (Phase p : PHASES) {
        ClusterFixture.await("progress " + p.atProgress(), Duration.ofSeconds(120), () -> done.get() >= total * p.atProgress());
        long before = mc.failures();
        fx.shim.rules(p.rules());
        log.add(String.format("%6d ms ", (System.nanoTime() - t0) / 1_000_000) + p.name() + " from op " + done.get());
        ClusterFixture.await("c taken out (" + p.name() + ")", Duration.ofSeconds(10), () -> mc.health() == MemberHealth.DOWN);
        Thread.sleep(p.millis());
        fx.shim.clear();
        ClusterFixture.await("c back after " + p.name(), Duration.ofSeconds(10), () -> mc.health() == MemberHealth.HEALTHY);
        cOpsWhenLastBack = mc.operations();
        log.add(String.format("%6d ms ", (System.nanoTime() - t0) / 1_000_000) + p.name() + ": c taken out after " + (mc.failures() - before) + " failed calls, back at op " + done.get() + " of " + total
            + " (" + mc.lastError() + ")");
      }
      long lastBack = cOpsWhenLastBack;
      ClusterFixture.await("c used again after its last return", Duration.ofSeconds(60), () -> mc.operations() > lastBack + 50);
      faultsOver.set(true);
      log.forEach(System.out::println);
      for (Thread w : workers) {
        w.join(120_000);
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      for (Member m : c.members()) {
        System.out.printf("member %s: %d operations, %d device failures, %d returns, pool %s%n", m.name(), m.operations(), m.failures(),
            m.returns(), m.poolStats());
      }
      System.out.printf("%d caller tasks (a sign, or an encrypt and its decrypt) in %.1f s, %d failed; shim injected %d faults%n", done.get(), secs, failed.get(), fx.shim.injected());

      assertThat(failed.get()).as("operations that failed for the caller: " + errors).isZero();
      assertThat(mc.returns()).as("c came back after each fault").isEqualTo(PHASES.size());
      assertThat(mc.operations()).as("c is used again after it came back").isGreaterThan(cOpsWhenLastBack);
      assertThat(c.members()).allMatch(m -> m.operations() > 0 && m.health() == MemberHealth.HEALTHY);

      // every signature verifies under the one public key: all of them in the token (a's public
      // key object, CKM_ECDSA), and a sample in the JDK as well, which knows nothing of the token
      assertThat(signed).hasSize(signs.get());
      List<Signed> all = new ArrayList<>(signed);
      for (int i = 0; i < all.size(); i += 200) {
        List<Signed> chunk = all.subList(i, Math.min(all.size(), i + 200));
        int bad = a.pool.execute(s -> {
          long h = a.handle(s, CKO.PUBLIC_KEY, ec.id());
          int n = 0;
          for (Signed sg : chunk) {
            byte[] digest = sha256(sg.message());
            if (!s.verify(Mechanism.of(CKM.ECDSA), h, digest, sg.signature())) {
              n++;
            }
          }
          return n;
        });
        assertThat(bad).as("signatures that do not verify in the token").isZero();
      }
      Signature v = Signature.getInstance("SHA256withECDSAinP1363Format");
      for (int i = 0; i < all.size(); i += all.size() / 100) {
        v.initVerify(pub);
        v.update(all.get(i).message());
        assertThat(v.verify(all.get(i).signature())).as("signature " + i + " in the JDK").isTrue();
      }

      // no session leaks: nothing borrowed, nothing leaked, and the shim sees exactly c's pool's sessions
      for (Member m : c.members()) {
        PoolStats st = m.poolStats();
        assertThat(st.borrowed()).as(m.name() + " borrowed").isZero();
        assertThat(st.leaked()).as(m.name() + " leaked").isZero();
        assertThat(st.open()).as(m.name() + " open = idle + anchor").isEqualTo(st.idle() + 1);
        assertThat(st.open()).as(m.name() + " within its cap").isLessThanOrEqualTo(st.cap() + 1);
      }
      assertThat(fx.shim.openSessions()).as("sessions open through the shim").isEqualTo(mc.poolStats().open());
    }
    assertThat(fx.shim.openSessions()).as("sessions left through the shim after close").isZero();
  }

  static byte[] sha256(byte[] m) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(m);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An uncompressed P-256 point (CKA_EC_POINT: DER OCTET STRING around 04 || x || y) as a JCA key. */
  static PublicKey p256(byte[] ecPoint) throws Exception {
    int off = ecPoint[0] == 0x04 && ecPoint.length == 65 ? 0 : 2;
    byte[] x = Arrays.copyOfRange(ecPoint, off + 1, off + 33);
    byte[] y = Arrays.copyOfRange(ecPoint, off + 33, off + 65);
    AlgorithmParameters params = AlgorithmParameters.getInstance("EC");
    params.init(new ECGenParameterSpec("secp256r1"));
    ECParameterSpec spec = params.getParameterSpec(ECParameterSpec.class);
    return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(new ECPoint(new BigInteger(1, x), new BigInteger(1, y)), spec));
  }
}
