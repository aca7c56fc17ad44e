package io.hsmkit.provider.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.session.PoolStats;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.testing.ProviderFixture;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import org.junit.jupiter.api.Test;

/**
 * 16 threads share HsmKit keys through plain JCA with the session pool capped at 4: every
 * operation succeeds (callers wait for a session, none fails) and no session leaks.
 */
class LoadTest {
  @Test
  void sixteenThreadsOnFourSessions() throws Exception {
    ProviderFixture fx = ProviderFixture.create("LoadTest", "maxSessions = 4", "sessionWaitMillis = 60000");
    HsmKitProvider p = fx.provider();
    try {
      KeyGenerator kg = KeyGenerator.getInstance("AES", p);
      kg.init(256);
      SecretKey aes = kg.generateKey();
      KeyGenerator hg = KeyGenerator.getInstance("HmacSHA256", p);
      SecretKey hmac = hg.generateKey();
      KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC", p);
      kpg.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair ec = kpg.generateKeyPair();

      Queue<String> errors = new ConcurrentLinkedQueue<>();
      ExecutorService ex = Executors.newFixedThreadPool(16);
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < 16; t++) {
        final int thread = t;
        fs.add(ex.submit(() -> {
          byte[] data = new byte[1024];
          Arrays.fill(data, (byte) thread);
          for (int i = 0; i < 150; i++) {
            try {
              switch (i % 4) {
                case 0 -> {
                  Cipher c = Cipher.getInstance("AES/GCM/NoPadding", p);
                  byte[] iv = new byte[12];
                  iv[0] = (byte) thread;
                  iv[1] = (byte) i;
                  c.init(Cipher.ENCRYPT_MODE, aes, new GCMParameterSpec(128, iv));
                  byte[] ct = c.doFinal(data);
                  c.init(Cipher.DECRYPT_MODE, aes, new GCMParameterSpec(128, iv));
                  if (!Arrays.equals(c.doFinal(ct), data)) {
                    throw new AssertionError("GCM round trip");
                  }
                }
                case 1 -> {
                  Mac m = Mac.getInstance("HmacSHA256", p);
                  m.init(hmac);
                  if (m.doFinal(data).length != 32) {
                    throw new AssertionError("HMAC length");
                  }
                }
                case 2 -> {
                  Signature s = Signature.getInstance("SHA256withECDSA", p);
                  s.initSign(ec.getPrivate());
                  s.update(data);
                  byte[] sig = s.sign();
                  Signature v = Signature.getInstance("SHA256withECDSA", p);
                  v.initVerify(ec.getPublic());
                  v.update(data);
                  if (!v.verify(sig)) {
                    throw new AssertionError("ECDSA verify");
                  }
                }
                default -> {
                  byte[] r = new byte[32];
                  SecureRandom.getInstance("PKCS11", p).nextBytes(r);
                }
              }
            } catch (Throwable e) {
              errors.add("thread " + thread + " op " + i + ": " + e);
            }
          }
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get(5, TimeUnit.MINUTES);
      }
      ex.shutdown();
      assertThat(errors).isEmpty();
      PoolStats st = p.tokenContext().pool().stats();
      assertThat(st.open()).as("4 lendable sessions and the anchor").isLessThanOrEqualTo(5);
      assertThat(st.borrowed()).isZero();
      assertThat(st.leaked()).isZero();
    } finally {
      p.tokenContext().close();
    }
  }
}
