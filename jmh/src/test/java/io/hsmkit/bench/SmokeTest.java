package io.hsmkit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Not a benchmark: each op once through the binding and a few times through the C loop, on a
 * token of its own, so that a broken benchmark shows in the build. Takes about a second.
 */
class SmokeTest {
  private static Fixture fixture;

  @BeforeAll
  static void open() {
    Path build = Path.of(System.getProperty("hsmkit.build.dir", "target")).toAbsolutePath();
    fixture = Fixture.open(BenchToken.create(build.resolve("tokens/smoke")));
  }

  @AfterAll
  static void close() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void everyOpRunsOnBothSides() {
    int[] expected = {Fixture.DATA_LEN + Fixture.GCM_TAG_BYTES, 32, 64, 256, 32};
    for (Op op : Op.values()) {
      assertEquals(expected[op.index], fixture.binding(op.index), op + " through the binding");
      assertEquals(expected[op.index], fixture.binding(op.index), op + " through the binding, twice (IV and buffers reused)");
      long ns = fixture.c(op.index, 3);
      assertTrue(ns >= 0, op + " in C: " + ns);
    }
  }

  @Test
  void theCSideRefusesWhatItDoesNotKnow() {
    assertEquals(-0x07L, HsmBenchNative.hsmbench_run(5, 1), "an unknown op is CKR_ARGUMENTS_BAD");
    assertTrue(HsmBenchNative.hsmbench_run(4, 0) >= 0, "zero iterations is a valid, empty run");
  }
}
