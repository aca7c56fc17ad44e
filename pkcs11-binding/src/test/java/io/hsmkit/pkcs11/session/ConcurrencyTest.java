package io.hsmkit.pkcs11.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * 8 threads x 2,000 mixed operations on shared token keys through a pool capped at 4 sessions:
 * every result is checked, nothing fails, and no session is leaked (counted by the shim).
 */
class ConcurrencyTest {
  static final int THREADS = 8;
  static final int OPS = 2_000;

  @Test
  void eightThreadsShareFourSessions() throws Exception {
    try (ShimFixture fx = new ShimFixture("ConcurrencyTest")) {
      SessionPool pool = fx.pool(4);
      fx.createKeys(pool);
      long aes = pool.execute(s -> ShimFixture.secret(s, "aes"));
      long hmac = pool.execute(s -> ShimFixture.secret(s, "hmac"));
      long ecPriv = pool.execute(s -> ShimFixture.privateKey(s, "ec"));
      long ecPub = pool.execute(s -> ShimFixture.publicKey(s, "ec"));
      byte[] macOfZeros = pool.execute(s -> s.sign(Mechanism.of(CKM.SHA256_HMAC), hmac, new byte[1024]));

      Queue<String> errors = new ConcurrentLinkedQueue<>();
      AtomicInteger done = new AtomicInteger();
      AtomicInteger maxBorrowed = new AtomicInteger();
      CountDownLatch start = new CountDownLatch(1);
      ExecutorService ex = Executors.newFixedThreadPool(THREADS);
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        final int thread = t;
        fs.add(ex.submit(() -> {
          start.await();
          byte[] data = new byte[1024];
          for (int i = 0; i < OPS; i++) {
            ByteBuffer.wrap(data).putInt(0, thread).putInt(4, i);
            int kind = (i + thread) % 6;
            try {
              pool.execute(s -> {
                maxBorrowed.accumulateAndGet(pool.stats().borrowed(), Math::max);
                check(s, kind, data, aes, hmac, ecPriv, ecPub, macOfZeros);
                return null;
              });
              done.incrementAndGet();
            } catch (Throwable e) {
              errors.add("thread " + thread + " op " + i + " kind " + kind + ": " + e);
            }
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : fs) {
        f.get(5, TimeUnit.MINUTES);
      }
      ex.shutdown();
      assertThat(errors).as("errors (first few)").isEmpty();
      assertThat(done.get()).isEqualTo(THREADS * OPS);
      PoolStats st = pool.stats();
      assertThat(maxBorrowed.get()).isLessThanOrEqualTo(4);
      assertThat(st.open()).as("4 lendable sessions and the anchor").isLessThanOrEqualTo(5);
      assertThat(st.borrowed()).isZero();
      assertThat(st.leaked()).isZero();
      assertThat(fx.shim.openSessions()).isEqualTo(st.open());
      pool.close();
      assertThat(fx.shim.openSessions()).isZero();
    }
  }

  private static void check(Session s, int kind, byte[] data, long aes, long hmac, long ecPriv, long ecPub, byte[] macOfZeros) throws Exception {
    switch (kind) {
      case 0 -> { // AES-GCM round trip with a per-operation IV
        byte[] iv = Arrays.copyOf(data, 12);
        Mechanism gcm = Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(iv, iv, 128));
        byte[] ct = s.encrypt(gcm, aes, data);
        byte[] pt = s.decrypt(gcm, aes, ct);
        if (!Arrays.equals(pt, data)) {
          throw new AssertionError("GCM round trip differs");
        }
      }
      case 1 -> { // HMAC of zeros is a known value; of our data it verifies
        byte[] mac = s.sign(Mechanism.of(CKM.SHA256_HMAC), hmac, new byte[1024]);
        if (!Arrays.equals(mac, macOfZeros)) {
          throw new AssertionError("HMAC differs");
        }
        byte[] mac2 = s.sign(Mechanism.of(CKM.SHA256_HMAC), hmac, data);
        if (!s.verify(Mechanism.of(CKM.SHA256_HMAC), hmac, data, mac2)) {
          throw new AssertionError("HMAC does not verify");
        }
      }
      case 2 -> { // ECDSA sign and verify
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(data);
        byte[] sig = s.sign(Mechanism.of(CKM.ECDSA), ecPriv, digest);
        if (sig.length != 64 || !s.verify(Mechanism.of(CKM.ECDSA), ecPub, digest, sig)) {
          throw new AssertionError("ECDSA does not verify");
        }
      }
      case 3 -> { // digest agrees with the JDK
        byte[] d = s.digest(Mechanism.of(CKM.SHA256), data);
        if (!Arrays.equals(d, MessageDigest.getInstance("SHA-256").digest(data))) {
          throw new AssertionError("SHA-256 differs");
        }
      }
      case 4 -> { // random
        byte[] r = s.generateRandom(32);
        if (r.length != 32) {
          throw new AssertionError("random length");
        }
      }
      default -> { // a targeted look-up, and a multi-part MAC left unfinished half the time
        if (ShimFixture.secret(s, "aes") != aes) {
          throw new AssertionError("find returned another handle");
        }
        s.signInit(Mechanism.of(CKM.SHA256_HMAC), hmac);
        s.signUpdate(data, 0, 512);
        if ((data[7] & 1) == 0) {
          s.signUpdate(data, 512, 512);
          byte[] mac = new byte[32];
          if (s.signFinal(mac, 0, 32) != 32) {
            throw new AssertionError("signFinal length");
          }
        } // else: returned with the operation active; the pool must clean it up
      }
    }
  }
}
