package io.hsmkit.kms.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.kms.KmsService;
import io.hsmkit.kms.api.*;
import io.hsmkit.kms.audit.AuditTrail;
import io.hsmkit.kms.testing.TestDatabases;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Two service instances (two nodes) on one database, many threads at once: no error, one intact audit chain. */
class ConcurrentNodesTest {
  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void twoNodesManyThreads(TestDatabases.Kind kind) throws Exception {
    KmsFixture f = KmsFixture.create(kind);
    KmsService a = f.kms;
    KmsService b = f.another();
    String id = a.createKey(f.caller, Kms.symmetric()).keyMetadata().keyId();
    int threads = 16;
    int calls = 20;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Integer>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        KmsService node = t % 2 == 0 ? a : b;
        int n = t;
        done.add(pool.submit(() -> {
          for (int i = 0; i < calls; i++) {
            Map<String, String> ctx = Map.of("thread", String.valueOf(n));
            byte[] blob = node.encrypt(f.caller, new EncryptRequest(id, new byte[] {(byte) i}, ctx, null, null)).ciphertextBlob();
            // Decrypted by the other node.
            KmsService other = node == a ? b : a;
            assertThat(other.decrypt(f.caller, new DecryptRequest(blob, ctx, null, null, null)).plaintext()).containsExactly((byte) i);
          }
          return calls;
        }));
      }
      for (Future<Integer> d : done) {
        d.get();
      }
    } finally {
      pool.shutdownNow();
    }
    AuditTrail.Verification v = a.auditTrail().verify();
    assertThat(v.intact()).as(v.problem()).isTrue();
    assertThat(v.records()).isEqualTo(1 + 2L * threads * calls);
  }
}
