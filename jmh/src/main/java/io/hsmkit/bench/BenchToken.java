package io.hsmkit.bench;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A fresh, isolated SoftHSM2 token made by {@code softhsm-config/make-token.sh --force}, with its
 * own SOFTHSM2_CONF set in this process's C environment (SoftHSM2 reads it at C_Initialize, so
 * this must run before anything loads the library).
 *
 * <p>The few lines it needs are copied from the binding's test support (TestToken), so the
 * benchmarks do not depend on test classes.
 */
public final class BenchToken {
  /** The token label of every benchmark token. */
  public static final String LABEL = "hsmkit-bench";

  private final Map<String, String> values;

  private BenchToken(Map<String, String> values) {
    this.values = values;
  }

  /**
   * The project root (the directory holding softhsm-config/make-token.sh): the system property
   * {@code hsmkit.root.dir}, else found above this class's jar or classes directory (which is
   * ROOT/jmh/target/...), else above the working directory.
   */
  public static Path rootDir() {
    String p = System.getProperty("hsmkit.root.dir");
    if (p != null && !p.isBlank()) {
      return Path.of(p).toAbsolutePath();
    }
    Path found = null;
    try {
      var src = BenchToken.class.getProtectionDomain().getCodeSource();
      if (src != null) {
        found = above(Path.of(src.getLocation().toURI()));
      }
    } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
      // fall through to the working directory
    }
    if (found == null) {
      found = above(Path.of("").toAbsolutePath());
    }
    if (found == null) {
      throw new IllegalStateException("cannot find softhsm-config/make-token.sh above " + Path.of("").toAbsolutePath()
          + " or this jar; pass -Dhsmkit.root.dir=/path/to/hsmkit");
    }
    return found;
  }

  private static Path above(Path start) {
    for (Path here = start.toAbsolutePath(); here != null; here = here.getParent()) {
      if (Files.exists(here.resolve("softhsm-config/make-token.sh"))) {
        return here;
      }
    }
    return null;
  }

  /** Where the benchmark's token lives: {@code hsmkit.bench.tokenDir}, else ROOT/jmh/target/bench-token. */
  public static Path defaultDir() {
    String p = System.getProperty("hsmkit.bench.tokenDir");
    if (p != null && !p.isBlank()) {
      return Path.of(p).toAbsolutePath();
    }
    return rootDir().resolve("jmh/target/bench-token");
  }

  /** Makes a new token in {@code dir} (deleting what was there) and points SOFTHSM2_CONF at it. */
  public static BenchToken create(Path dir) {
    Path script = rootDir().resolve("softhsm-config/make-token.sh");
    String out = run(script.toString(), "--dir", dir.toString(), "--label", LABEL, "--force");
    Map<String, String> v = parse(out);
    for (String k : new String[] {"HSMKIT_PKCS11_LIBRARY", "SOFTHSM2_CONF", "HSMKIT_SLOT_ID", "HSMKIT_USER_PIN"}) {
      if (!v.containsKey(k)) {
        throw new IllegalStateException("make-token.sh printed no " + k);
      }
    }
    setenv("SOFTHSM2_CONF", v.get("SOFTHSM2_CONF"));
    return new BenchToken(v);
  }

  private static String run(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).start();
      CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
      byte[] out = p.getInputStream().readAllBytes();
      boolean done = p.waitFor(120, TimeUnit.SECONDS);
      String stderr = new String(err.join(), StandardCharsets.UTF_8);
      if (!done || p.exitValue() != 0) {
        p.destroy();
        throw new IllegalStateException(cmd[0] + " failed (" + (done ? "exit " + p.exitValue() : "timed out")
            + "); run `bash softhsm-config/install.sh` if SoftHSM2 is missing:\n" + stderr.strip());
      }
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + cmd[0], e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static byte[] readAll(InputStream in) {
    try {
      return in.readAllBytes();
    } catch (IOException e) {
      return new byte[0];
    }
  }

  /** make-token.sh's KEY=VALUE lines (values may be single-quoted for the shell). */
  static Map<String, String> parse(String text) {
    Map<String, String> v = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      int eq = line.indexOf('=');
      if (eq <= 0) {
        continue;
      }
      String val = line.substring(eq + 1);
      if (val.startsWith("'") && val.endsWith("'") && val.length() >= 2) {
        val = val.substring(1, val.length() - 1).replace("'\\''", "'");
      }
      v.put(line.substring(0, eq), val);
    }
    return v;
  }

  private interface LibC extends Library {
    int setenv(String name, String value, int overwrite);
  }

  /** Sets a variable in this process's C environment, where native libraries read it. */
  static void setenv(String name, String value) {
    LibC c = Native.load("c", LibC.class);
    if (c.setenv(name, value, 1) != 0) {
      throw new IllegalStateException("setenv " + name + " failed");
    }
  }

  public String library() {
    return values.get("HSMKIT_PKCS11_LIBRARY");
  }

  public long slotId() {
    return Long.parseLong(values.get("HSMKIT_SLOT_ID"));
  }

  public String userPin() {
    return values.get("HSMKIT_USER_PIN");
  }
}
