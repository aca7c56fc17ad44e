package io.hsmkit.provider.signature;

import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.keys.KeyImport;
import io.hsmkit.provider.keys.KeyTemplates;
import io.hsmkit.provider.testing.ProviderFixture;
import java.security.Signature;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import javax.crypto.Mac;
import org.junit.jupiter.api.Test;

/**
 * The micro-measurements behind two choices, kept so they can be rerun (not part of the test set:
 * the name does not end in Test). Run with
 * {@code mvn -q -B -o test -Dtest=SignatureStreamingBench -Dsurefire.failIfNoSpecifiedTests=false}.
 *
 * <ol>
 *   <li>RSA: Java hashing + CKM_RSA_PKCS against CKM_SHA256_RSA_PKCS (the token hashes), through
 *       the SPI, on two providers of one token (the second with CKM_RSA_PKCS disabled).
 *   <li>HMAC: data buffered and sent in one C_Sign against a held session fed with C_SignUpdate,
 *       through the binding, 16 updates per message.
 * </ol>
 *
 * Paired: the variants alternate within each round, five rounds, mean of the rounds printed.
 */
class SignatureStreamingBench {
  private static final int ROUNDS = 5;

  interface Op {
    void run() throws Exception;
  }

  /** ms per op of each variant, measured alternately. */
  static Map<String, Double> paired(int ops, Map<String, Op> variants) throws Exception {
    Map<String, Double> total = new LinkedHashMap<>();
    for (Op o : variants.values()) {
      for (int i = 0; i < Math.max(3, ops / 5); i++) {
        o.run(); // warm-up
      }
    }
    for (int r = 0; r < ROUNDS; r++) {
      for (Map.Entry<String, Op> e : variants.entrySet()) {
        long t0 = System.nanoTime();
        for (int i = 0; i < ops; i++) {
          e.getValue().run();
        }
        total.merge(e.getKey(), (System.nanoTime() - t0) / 1e6 / ops, Double::sum);
      }
    }
    total.replaceAll((k, v) -> v / ROUNDS);
    return total;
  }

  static void print(String title, Map<String, Double> m) {
    StringBuilder b = new StringBuilder("BENCH " + title + ":");
    m.forEach((k, v) -> b.append(String.format("  %s %.4f ms", k, v)));
    System.out.println(b);
  }

  @Test
  void rsaHashingAndHmacStreaming() throws Exception {
    ProviderFixture fx = ProviderFixture.create("SignatureStreamingBench");
    HsmKitProvider java = fx.provider();
    HsmKitProvider tokenHash = SignatureKeys.sibling(fx.configFile, "bench", "name = bench", "disabledMechanisms = { CKM_RSA_PKCS CKM_RSA_PKCS_PSS }");
    try {
      SignatureKeys.Pair a = SignatureKeys.rsa2048(java.tokenContext());
      SignatureKeys.Pair b = SignatureKeys.imported(tokenHash.tokenContext(), "RSA", a.jdk());
      for (int size : new int[] {1024, 64 * 1024}) {
        byte[] msg = new byte[size];
        new Random(size).nextBytes(msg);
        Signature sa = Signature.getInstance("SHA256withRSA", java);
        Signature sb = Signature.getInstance("SHA256withRSA", tokenHash);
        sa.initSign(a.priv());
        sa.update(msg);
        byte[] sig = sa.sign();
        Map<String, Op> sign = new LinkedHashMap<>();
        sign.put("java-hash+CKM_RSA_PKCS", () -> {
          sa.initSign(a.priv());
          sa.update(msg);
          sa.sign();
        });
        sign.put("CKM_SHA256_RSA_PKCS", () -> {
          sb.initSign(b.priv());
          sb.update(msg);
          sb.sign();
        });
        print("RSA-2048 sign " + size + " B", paired(100, sign));
        Map<String, Op> verify = new LinkedHashMap<>();
        verify.put("java-hash+CKM_RSA_PKCS", () -> {
          sa.initVerify(a.pub());
          sa.update(msg);
          sa.verify(sig);
        });
        verify.put("CKM_SHA256_RSA_PKCS", () -> {
          sb.initVerify(b.pub());
          sb.update(msg);
          sb.verify(sig);
        });
        print("RSA-2048 verify " + size + " B", paired(1000, verify));
      }

      TokenContext ctx = java.tokenContext();
      byte[] keyBytes = new byte[32];
      new Random(1).nextBytes(keyBytes);
      HsmSecretKey key = KeyImport.secret(ctx, keyBytes, CKK.GENERIC_SECRET, "HmacSHA256", KeyTemplates.defaults(ctx).withToken(false));
      Mechanism m = Mechanism.of(CKM.SHA256_HMAC);
      for (int size : new int[] {1024, 4096, 16 * 1024, 32 * 1024, 64 * 1024, 1024 * 1024}) {
        byte[] msg = new byte[size];
        new Random(size).nextBytes(msg);
        int chunk = size / 16;
        Mac mac = Mac.getInstance("HmacSHA256", java);
        mac.init(key);
        Map<String, Op> v = new LinkedHashMap<>();
        byte[] buf = new byte[size];
        v.put("buffered+C_Sign", () -> {
          for (int off = 0; off < size; off += chunk) {
            System.arraycopy(msg, off, buf, off, chunk);
          }
          ctx.execute(s -> s.sign(m, key.handle(), buf, 0, size, new byte[32], 0));
        });
        v.put("held+C_SignUpdate", () -> {
          try (Session s = ctx.borrow()) {
            s.signInit(m, key.handle());
            for (int off = 0; off < size; off += chunk) {
              s.signUpdate(msg, off, chunk);
            }
            s.signFinal(new byte[32], 0, 32);
          }
        });
        v.put("Mac SPI", () -> {
          for (int off = 0; off < size; off += chunk) {
            mac.update(msg, off, chunk);
          }
          mac.doFinal();
        });
        print("HMAC-SHA256 " + size + " B in 16 updates", paired(size > 100_000 ? 50 : 1000, v));
      }
    } finally {
      tokenHash.tokenContext().close();
      java.tokenContext().close();
    }
  }
}
