package io.hsmkit.it.support;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs a real command-line tool as a child process: the JDK's own {@code keytool} and {@code
 * jarsigner} (from {@code java.home/bin}) or {@code pkcs11-tool}, {@code openssl}, {@code curl}
 * from PATH.
 *
 * <p>stdin is empty (closed) unless given, stdout and stderr are captured together, the run has a
 * timeout, and the environment is this JVM's plus what is added here (child processes must be given
 * {@code SOFTHSM2_CONF} explicitly: {@code TestToken} sets it only in this JVM's C environment).
 * {@code LC_ALL=C} is set so the JDK tools speak English.
 *
 * <p>A missing tool fails with the command that installs it; it never skips. Secrets (PINs) given
 * to {@link #secret} are replaced by {@code ****} in the captured output and in every message.
 *
 * <pre>
 * ToolRunner.Result r = ToolRunner.jdk("keytool").env("SOFTHSM2_CONF", conf).secret(pin)
 *     .run("-list", "-storepass", pin, ...);
 * r.assertOk();             // or r.exitCode(), r.output()
 * </pre>
 *
 * <p>Instances are immutable: every {@code env}/{@code secret}/{@code timeout}/{@code stdin}/
 * {@code dir} returns a new runner.
 */
public final class ToolRunner {
  /** What replaces a secret in output and messages. */
  public static final String MASK = "****";

  private static final Map<String, String> INSTALL_HINTS = Map.of(
      "pkcs11-tool", "apt-get install opensc",
      "openssl", "apt-get install openssl",
      "curl", "apt-get install curl",
      "softhsm2-util", "apt-get install softhsm2 (or: bash softhsm-config/install.sh)",
      "keytool", "install a full JDK 17, e.g. apt-get install openjdk-17-jdk-headless",
      "jarsigner", "install a full JDK 17, e.g. apt-get install openjdk-17-jdk-headless");

  private final String tool;
  private final Path executable;
  private final Map<String, String> env;
  private final Set<String> secrets;
  private final Duration timeout;
  private final byte[] stdin;
  private final Path dir;

  private ToolRunner(String tool, Path executable, Map<String, String> env, Set<String> secrets, Duration timeout, byte[] stdin, Path dir) {
    this.tool = tool;
    this.executable = executable;
    this.env = env;
    this.secrets = secrets;
    this.timeout = timeout;
    this.stdin = stdin;
    this.dir = dir;
  }

  private static ToolRunner of(String tool, Path executable) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("LC_ALL", "C");
    return new ToolRunner(tool, executable, env, Set.of(), Duration.ofSeconds(60), new byte[0], null);
  }

  /** A tool of the running JDK: {@code $java.home/bin/<tool>} ({@code keytool}, {@code jarsigner}). */
  public static ToolRunner jdk(String tool) {
    Path p = Path.of(System.getProperty("java.home"), "bin", tool);
    if (!Files.isExecutable(p)) {
      throw new AssertionError(tool + " is not in " + p.getParent() + " (java.home is a JRE?): "
          + INSTALL_HINTS.getOrDefault(tool, "install a full JDK"));
    }
    return of(tool, p);
  }

  /** A tool found on PATH ({@code pkcs11-tool}, {@code openssl}, {@code curl}, ...). */
  public static ToolRunner onPath(String tool) {
    Path p = findOnPath(tool);
    if (p == null) {
      throw new AssertionError(tool + " is not installed (not on PATH): "
          + INSTALL_HINTS.getOrDefault(tool, "install it with your package manager"));
    }
    return of(tool, p);
  }

  /** The tool's path on PATH, or null. */
  public static Path findOnPath(String tool) {
    String path = System.getenv("PATH");
    List<String> dirs = new ArrayList<>(path == null ? List.of() : Arrays.asList(path.split(File.pathSeparator)));
    dirs.addAll(List.of("/usr/local/bin", "/usr/bin", "/bin"));
    for (String d : dirs) {
      if (d.isEmpty()) {
        continue;
      }
      Path p = Path.of(d, tool);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  /** Adds (or replaces) an environment variable of the child. */
  public ToolRunner env(String name, String value) {
    Map<String, String> e = new LinkedHashMap<>(env);
    e.put(name, value);
    return new ToolRunner(tool, executable, e, secrets, timeout, stdin, dir);
  }

  /** Adds environment variables of the child. */
  public ToolRunner env(Map<String, String> vars) {
    Map<String, String> e = new LinkedHashMap<>(env);
    e.putAll(vars);
    return new ToolRunner(tool, executable, e, secrets, timeout, stdin, dir);
  }

  /** Values never shown: masked in the captured output, the command line and failure messages. */
  public ToolRunner secret(String... values) {
    Set<String> s = new LinkedHashSet<>(secrets);
    for (String v : values) {
      if (v != null && !v.isEmpty()) {
        s.add(v);
      }
    }
    return new ToolRunner(tool, executable, env, Set.copyOf(s), timeout, stdin, dir);
  }

  public ToolRunner timeout(Duration t) {
    return new ToolRunner(tool, executable, env, secrets, t, stdin, dir);
  }

  /** Text written to the child's stdin (then closed). Default: nothing, stdin closed at once. */
  public ToolRunner stdin(String text) {
    return new ToolRunner(tool, executable, env, secrets, timeout, text.getBytes(StandardCharsets.UTF_8), dir);
  }

  /** The child's working directory (default: this JVM's). */
  public ToolRunner dir(Path workingDir) {
    return new ToolRunner(tool, executable, env, secrets, timeout, stdin, workingDir);
  }

  public Path executable() {
    return executable;
  }

  public Result run(String... args) {
    return run(Arrays.asList(args));
  }

  public Result run(Collection<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(executable.toString());
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    Path out = null;
    long start = System.nanoTime();
    try {
      out = Files.createTempFile("hsmkit-" + tool + "-", ".out");
      pb.redirectOutput(out.toFile());
      Process p = pb.start();
      try (OutputStream in = p.getOutputStream()) {
        in.write(stdin);
      } catch (IOException ignored) {
        // the tool exited before reading its stdin
      }
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        String partial = mask(Files.readString(out, StandardCharsets.UTF_8));
        throw new AssertionError(tool + " did not finish within " + timeout.toMillis() + " ms: " + mask(String.join(" ", cmd))
            + "\n--- output so far ---\n" + partial);
      }
      String text = mask(new String(Files.readAllBytes(out), StandardCharsets.UTF_8));
      return new Result(maskAll(cmd), p.exitValue(), text, Duration.ofNanos(System.nanoTime() - start));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + tool + " (" + executable + "): "
          + INSTALL_HINTS.getOrDefault(tool, "is it installed?"), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while running " + tool, e);
    } finally {
      if (out != null) {
        try {
          Files.deleteIfExists(out);
        } catch (IOException ignored) {
          // a temp file left behind
        }
      }
    }
  }

  /** {@code text} with every secret of this runner replaced by {@link #MASK}. */
  public String mask(String text) {
    String t = text;
    for (String s : secrets) {
      t = t.replace(s, MASK);
    }
    return t;
  }

  private List<String> maskAll(List<String> l) {
    List<String> m = new ArrayList<>(l.size());
    for (String s : l) {
      m.add(mask(s));
    }
    return List.copyOf(m);
  }

  /**
   * What a run gave: the command (secrets masked), exit code, stdout and stderr interleaved (secrets
   * masked) and how long it took.
   */
  public record Result(List<String> command, int exitCode, String output, Duration took) {
    /** The command line as one string, secrets masked. */
    public String commandLine() {
      return String.join(" ", command);
    }

    /** Fails with the command and its output unless the exit code is 0; returns this. */
    public Result assertOk() {
      return assertExit(0);
    }

    /** Fails with the command and its output unless the exit code is {@code expected}; returns this. */
    public Result assertExit(int expected) {
      if (exitCode != expected) {
        throw new AssertionError("expected exit " + expected + " but was " + exitCode + ": " + this);
      }
      return this;
    }

    /** Fails unless the exit code is non-zero; returns this. */
    public Result assertFailed() {
      if (exitCode == 0) {
        throw new AssertionError("expected a non-zero exit: " + this);
      }
      return this;
    }

    @Override
    public String toString() {
      return "$ " + commandLine() + "\n(exit " + exitCode + ", " + took.toMillis() + " ms)\n" + output;
    }
  }
}
