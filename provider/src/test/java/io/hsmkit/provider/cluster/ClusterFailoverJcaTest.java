package io.hsmkit.provider.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.cluster.Cluster;
import io.hsmkit.pkcs11.cluster.Member;
import io.hsmkit.pkcs11.cluster.MemberHealth;
import io.hsmkit.pkcs11.session.PoolStats;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.testing.ClusterProviderFixture;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The provider over a cluster of three SoftHSM2 tokens, through plain JCA only
 * ({@code Signature.getInstance("SHA256withECDSA", provider)}, {@code Cipher.getInstance("AES/GCM/NoPadding", provider)}):
 * 8 threads sign, verify, encrypt and decrypt while member c (behind the fault shim) fails three
 * ways in turn. No caller sees a failed operation; c comes back each time and takes work again;
 * every signature verifies under the one public key in the JDK; no session is leaked.
 */
class ClusterFailoverJcaTest {
  static final int THREADS = 8;
  /** The least tasks per thread; the load goes on until the faults are over. */
  static final int OPS_PER_THREAD = 2500;

  /** A fault, how long it lasts, and when (as a share of the tasks done) it starts. */
  record Phase(String name, String rules, long millis, double atProgress) {}

  static final List<Phase> PHASES = List.of(
      new Phase("device error", "*:rv=CKR_DEVICE_ERROR", 300, 0.05),
      new Phase("token removed", "absent", 500, 0.25),
      new Phase("library errors", "*:rv=CKR_GENERAL_ERROR", 300, 0.45));

  record Signed(byte[] message, byte[] signature) {}

  static ClusterProviderFixture fx;

  @BeforeAll
  static void cluster() {
    fx = ClusterProviderFixture.create("cluster-jca-failover");
  }

  @AfterAll
  static void close() {
    fx.close();
  }

  @Test
  void aMemberFailingMidRunCostsNoJcaCallerAnOperation() throws Exception {
    HsmKitProvider p = fx.provider();
    try {
      Cluster cluster = p.tokenContext().cluster();
      KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC", p);
      kpg.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair ec = kpg.generateKeyPair();
      KeyGenerator kg = KeyGenerator.getInstance("AES", p);
      kg.init(256);
      SecretKey aes = kg.generateKey();
      for (int i = 0; i < 3; i++) {
        // the pair (private and public object) and the secret key are on every member
        assertThat(fx.objectsWithId(i, ((HsmKey) ec.getPrivate()).id())).as("EC objects on member " + i).isEqualTo(2);
        assertThat(fx.objectsWithId(i, ((HsmKey) aes).id())).as("AES key on member " + i).isEqualTo(1);
      }
      PublicKey jdkPub = KeyFactory.getInstance("EC", "SunEC").generatePublic(new X509EncodedKeySpec(ec.getPublic().getEncoded()));

      AtomicInteger done = new AtomicInteger();
      java.util.concurrent.atomic.AtomicLong stopAt = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
      AtomicInteger signTasks = new AtomicInteger();
      AtomicInteger failed = new AtomicInteger();
      AtomicInteger verifiedInToken = new AtomicInteger();
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
            Signature signer = Signature.getInstance("SHA256withECDSA", p);
            Signature verifier = Signature.getInstance("SHA256withECDSA", p);
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding", p);
            // until the faults are over and some more: the load must outlast them however fast it runs
            for (int i = 0; done.get() < stopAt.get(); i++) {
              try {
                if ((i + seed) % 2 == 0) {
                  byte[] msg = new byte[64];
                  rnd.nextBytes(msg);
                  signer.initSign(ec.getPrivate());
                  signer.update(msg);
                  byte[] sig = signer.sign();
                  signed.add(new Signed(msg, sig));
                  signTasks.incrementAndGet();
                  if (i % 8 == seed % 8) {
                    verifier.initVerify(ec.getPublic());
                    verifier.update(msg);
                    if (!verifier.verify(sig)) {
                      throw new AssertionError("the token did not verify its own signature");
                    }
                    verifiedInToken.incrementAndGet();
                  }
                } else {
                  byte[] pt = new byte[1024];
                  rnd.nextBytes(pt);
                  byte[] iv = new byte[12];
                  rnd.nextBytes(iv);
                  gcm.init(Cipher.ENCRYPT_MODE, aes, new GCMParameterSpec(128, iv));
                  gcm.updateAAD(iv);
                  byte[] ct = gcm.doFinal(pt);
                  gcm.init(Cipher.DECRYPT_MODE, aes, new GCMParameterSpec(128, iv));
                  gcm.updateAAD(iv);
                  byte[] back = gcm.doFinal(ct);
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
          } catch (Exception e) {
            errors.add(e);
            failed.incrementAndGet();
          }
        }, "jca-load-" + t);
        w.start();
        workers.add(w);
      }
      start.countDown();

      Member mc = cluster.member("c");
      int total = THREADS * OPS_PER_THREAD;
      long cOpsWhenLastBack = 0;
      for (Phase ph : PHASES) {
        ClusterProviderFixture.await("progress " + ph.atProgress(), Duration.ofSeconds(180), () -> done.get() >= total * ph.atProgress());
        long before = mc.failures();
        fx.shim.rules(ph.rules());
        ClusterProviderFixture.await("c taken out (" + ph.name() + ")", Duration.ofSeconds(10), () -> mc.health() == MemberHealth.DOWN);
        Thread.sleep(ph.millis());
        fx.shim.clear();
        // the health check runs every second (the default): c returns within about that
        ClusterProviderFixture.await("c back after " + ph.name(), Duration.ofSeconds(15), () -> mc.health() == MemberHealth.HEALTHY);
        cOpsWhenLastBack = mc.operations();
        System.out.printf("%6d ms %s: c taken out after %d failed calls, back at task %d of %d (%s)%n",
            (System.nanoTime() - t0) / 1_000_000, ph.name(), mc.failures() - before, done.get(), total, mc.lastError());
      }
      stopAt.set(Math.max(total, done.get() + 4000L)); // c must take work again after its last return
      for (Thread w : workers) {
        w.join(300_000);
      }
      System.out.printf("%d JCA tasks (a sign, or an encrypt and its decrypt) in %.1f s, %d failed; shim injected %d faults%n", done.get(),
          (System.nanoTime() - t0) / 1e9, failed.get(), fx.shim.injected());
      for (Member m : cluster.members()) {
        System.out.printf("member %s: %d operations, %d device failures, %d returns, pool %s%n", m.name(), m.operations(), m.failures(),
            m.returns(), m.poolStats());
      }

      assertThat(failed.get()).as("operations that failed for the caller: " + errors).isZero();
      assertThat(mc.returns()).as("c came back after each fault").isEqualTo(PHASES.size());
      assertThat(mc.operations()).as("c is used again after it came back").isGreaterThan(cOpsWhenLastBack);
      assertThat(cluster.members()).allMatch(m -> m.operations() > 0 && m.health() == MemberHealth.HEALTHY);
      assertThat(verifiedInToken.get()).isPositive();

      // every signature verifies under the one public key, in the JDK (which knows nothing of the tokens)
      assertThat(signed).hasSize(signTasks.get()).hasSizeGreaterThan(done.get() / 3);
      Signature v = Signature.getInstance("SHA256withECDSA", "SunEC");
      int bad = 0;
      for (Signed s : new ArrayList<>(signed)) {
        v.initVerify(jdkPub);
        v.update(s.message());
        if (!v.verify(s.signature())) {
          bad++;
        }
      }
      assertThat(bad).as("signatures that do not verify in the JDK").isZero();

      // no session leaks: nothing borrowed or leaked on any member, and the shim sees only c's pool's sessions
      for (Member m : cluster.members()) {
        PoolStats st = m.poolStats();
        assertThat(st.borrowed()).as(m.name() + " borrowed").isZero();
        assertThat(st.leaked()).as(m.name() + " leaked").isZero();
        assertThat(st.open()).as(m.name() + " open = idle + anchor").isEqualTo(st.idle() + 1);
      }
      assertThat(fx.shim.openSessions()).as("sessions open through the shim").isEqualTo(mc.poolStats().open());
    } finally {
      p.tokenContext().close();
    }
    assertThat(fx.shim.openSessions()).as("sessions left through the shim after close").isZero();
  }
}
