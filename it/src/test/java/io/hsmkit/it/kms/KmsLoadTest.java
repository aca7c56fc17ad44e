package io.hsmkit.it.kms;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsService;
import io.hsmkit.kms.api.DecryptRequest;
import io.hsmkit.kms.api.EncryptRequest;
import io.hsmkit.kms.api.GenerateDataKeyRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * Load: {@value #CLIENTS} concurrent AWS SDK clients (each its own KmsClient and connection
 * pool), each doing {@value #ROUNDS} rounds of Encrypt (1 KiB, with an encryption context),
 * Decrypt and GenerateDataKey against the HTTPS endpoint: no call may fail. Then the same calls by
 * as many threads through the KmsService in process. Requests per second of both and their ratio
 * (the cost of TLS, HTTP, JSON and SigV4) are printed, never asserted: they depend on the machine.
 */
class KmsLoadTest {
  static final int CLIENTS = 32;
  static final int ROUNDS = 15;

  @Test
  void concurrentSdkClientsAgainstTheServiceInProcess() throws Exception {
    try (KmsServerFixture fx = KmsServerFixture.start("kms-it-load", null); KmsClient admin = fx.root()) {
      String keyId = admin.createKey(b -> b.description("load")).keyMetadata().keyId();
      byte[] plaintext = new byte[1024];
      new java.security.SecureRandom().nextBytes(plaintext);
      Map<String, String> context = Map.of("purpose", "load");

      List<KmsClient> clients = new ArrayList<>();
      for (int i = 0; i < CLIENTS; i++) {
        clients.add(fx.root());
      }
      AtomicInteger failures = new AtomicInteger();
      try {
        // One warm-up call per client: TLS handshakes and SDK class loading are not what is measured.
        run(clients.stream().<Callable<Integer>>map(c -> () -> {
          c.generateRandom(b -> b.numberOfBytes(8));
          return 1;
        }).toList());
        long t0 = System.nanoTime();
        int wire = run(clients.stream().<Callable<Integer>>map(c -> () -> {
          int n = 0;
          for (int r = 0; r < ROUNDS; r++) {
            try {
              SdkBytes ct = c.encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromByteArray(plaintext)).encryptionContext(context)).ciphertextBlob();
              byte[] back = c.decrypt(b -> b.ciphertextBlob(ct).encryptionContext(context)).plaintext().asByteArray();
              if (!java.util.Arrays.equals(back, plaintext)) {
                failures.incrementAndGet();
              }
              c.generateDataKey(b -> b.keyId(keyId).numberOfBytes(32).encryptionContext(context));
              n += 3;
            } catch (RuntimeException e) {
              failures.incrementAndGet();
              System.err.println("load: " + e);
            }
          }
          return n;
        }).toList());
        double wireSeconds = (System.nanoTime() - t0) / 1e9;
        assertThat(failures.get()).as("failed calls").isZero();
        assertThat(wire).isEqualTo(CLIENTS * ROUNDS * 3);

        KmsService service = fx.server.service();
        Caller caller = new Caller("arn:aws:iam::" + fx.server.accountId() + ":root", fx.server.accountId(), null, fx.rootAccessKeyId,
            "127.0.0.1", "in-process");
        List<Callable<Integer>> local = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
          local.add(() -> {
            int n = 0;
            for (int r = 0; r < ROUNDS; r++) {
              byte[] ct = service.encrypt(caller, new EncryptRequest(keyId, plaintext, context, List.of(), null)).ciphertextBlob();
              byte[] back = service.decrypt(caller, new DecryptRequest(ct, context, List.of(), keyId, null)).plaintext();
              if (!java.util.Arrays.equals(back, plaintext)) {
                failures.incrementAndGet();
              }
              service.generateDataKey(caller, new GenerateDataKeyRequest(keyId, context, 32, null, List.of()));
              n += 3;
            }
            return n;
          });
        }
        long t1 = System.nanoTime();
        int inProcess = run(local);
        double localSeconds = (System.nanoTime() - t1) / 1e9;
        assertThat(failures.get()).isZero();
        double wireRate = wire / wireSeconds;
        double localRate = inProcess / localSeconds;
        System.out.printf("KMS load: %d SDK clients over HTTPS: %d calls in %.2f s = %.0f calls/s; in process (%d threads): %d calls in %.2f s = %.0f calls/s;"
            + " in-process / wire = %.2f%n", CLIENTS, wire, wireSeconds, wireRate, CLIENTS, inProcess, localSeconds, localRate, localRate / wireRate);
      } finally {
        clients.forEach(KmsClient::close);
      }
    }
  }

  private static int run(List<Callable<Integer>> work) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(work.size());
    try {
      int total = 0;
      for (Future<Integer> f : pool.invokeAll(work, 10, TimeUnit.MINUTES)) {
        total += f.get();
      }
      return total;
    } finally {
      pool.shutdownNow();
    }
  }
}
