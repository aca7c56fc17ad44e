package io.hsmkit.pkcs11.testing;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A fresh, isolated SoftHSM2 token made by {@code softhsm-config/make-token.sh} under the build
 * directory, with its own SOFTHSM2_CONF.
 *
 * <p>SoftHSM2 reads SOFTHSM2_CONF when C_Initialize runs, so {@link #create} sets it in this
 * process's environment (libc setenv) before anything loads the library. Surefire runs each test
 * class in its own JVM, so every class gets its own token and library state.
 *
 * <p>A missing SoftHSM2 fails the test run with the command that installs it; it never skips.
 */
public final class TestToken {
  /** Where the shim library and tokens go: the module's build directory. */
  public static Path buildDir() {
    return Path.of(System.getProperty("hsmkit.build.dir", "target")).toAbsolutePath();
  }

  /** The project root (for softhsm-config/). */
  public static Path rootDir() {
    String p = System.getProperty("hsmkit.root.dir");
    if (p != null) {
      return Path.of(p).toAbsolutePath();
    }
    Path here = Path.of("").toAbsolutePath();
    while (here != null && !Files.exists(here.resolve("softhsm-config/make-token.sh"))) {
      here = here.getParent();
    }
    if (here == null) {
      throw new IllegalStateException("cannot find softhsm-config/make-token.sh above " + Path.of("").toAbsolutePath());
    }
    return here;
  }

  private final Map<String, String> values;

  private TestToken(Map<String, String> values) {
    this.values = values;
  }

  /** Makes (or re-makes, with --force) a token named {@code label} in {@code target/tokens/<name>}. */
  public static TestToken create(String name, String label) {
    Path script = rootDir().resolve("softhsm-config/make-token.sh");
    Path dir = buildDir().resolve("tokens").resolve(name);
    String out = run(script.toString(), "--dir", dir.toString(), "--label", label, "--force");
    Map<String, String> v = parse(out);
    for (String k : new String[] {"HSMKIT_PKCS11_LIBRARY", "SOFTHSM2_CONF", "HSMKIT_TOKEN_LABEL", "HSMKIT_SLOT_ID", "HSMKIT_SO_PIN", "HSMKIT_USER_PIN"}) {
      if (!v.containsKey(k)) {
        throw new IllegalStateException("make-token.sh printed no " + k + ": " + out.lines().map(l -> l.replaceAll("PIN=.*", "PIN=***")).toList());
      }
    }
    setenv("SOFTHSM2_CONF", v.get("SOFTHSM2_CONF"));
    return new TestToken(v);
  }

  static String run(String... cmd) {
    if (!Files.isExecutable(Path.of("/usr/bin/softhsm2-util")) && !onPath("softhsm2-util")) {
      throw new IllegalStateException("SoftHSM2 is not installed: run `bash softhsm-config/install.sh` (or `apt-get install softhsm2 opensc libp11-kit-dev gcc`)");
    }
    try {
      Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", cmd[0]) + " failed (exit " + p.exitValue() + "); run `bash softhsm-config/install.sh` if SoftHSM2 is missing");
      }
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + cmd[0], e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static boolean onPath(String tool) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String d : path.split(":")) {
      if (Files.isExecutable(Path.of(d, tool))) {
        return true;
      }
    }
    return false;
  }

  /** Parses make-token.sh's KEY=VALUE lines (values may be single-quoted for the shell). */
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
  public static void setenv(String name, String value) {
    LibC c = Native.load("c", LibC.class);
    if (c.setenv(name, value, 1) != 0) {
      throw new IllegalStateException("setenv " + name + " failed");
    }
  }

  public String library() {
    return values.get("HSMKIT_PKCS11_LIBRARY");
  }

  public String label() {
    return values.get("HSMKIT_TOKEN_LABEL");
  }

  public long slotId() {
    return Long.parseLong(values.get("HSMKIT_SLOT_ID"));
  }

  public char[] userPin() {
    return values.get("HSMKIT_USER_PIN").toCharArray();
  }

  public char[] soPin() {
    return values.get("HSMKIT_SO_PIN").toCharArray();
  }

  public String conf() {
    return values.get("SOFTHSM2_CONF");
  }
}
