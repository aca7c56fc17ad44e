package io.hsmkit.bench.kms;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Not a benchmark: KmsBenchmark's set-up (its own token and H2 database) and each benchmark method
 * once, so that a broken benchmark shows in the build.
 */
class KmsBenchmarkSmokeTest {
  @Test
  void everyBenchmarkMethodRunsOnce() throws Exception {
    KmsBenchmark b = new KmsBenchmark();
    b.setUp();
    try {
      // Blob: version, key id, key version, IV, ciphertext, tag.
      assertEquals(1 + 16 + 4 + 12 + 1024 + 16, b.serviceEncrypt1KiB().length);
      assertEquals(1 + 16 + 4 + 12 + 32 + 16, b.serviceGenerateDataKey().length);
      assertEquals(1024 + 16, b.providerAesGcm1KiB().length);
    } finally {
      b.tearDown();
    }
  }
}
