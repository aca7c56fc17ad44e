package io.hsmkit.it.tomcat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a real client (curl, openssl, keytool) as a process, with a time limit, its output in files
 * (so a chatty process never blocks on a full pipe) and stdin at end of file.
 */
final class Proc {
  private Proc() {}

  /** What a finished process left behind. */
  record Result(List<String> command, int exit, String out, String err) {
    /** The command line and both streams, for assertion messages. */
    String describe() {
      return String.join(" ", command) + "\n  exit " + exit + "\n  --- stdout\n" + out + "\n  --- stderr\n" + err;
    }
  }

  static Result run(Duration timeout, Map<String, String> env, List<String> command) {
    return run(timeout, env, command, null);
  }

  /** Runs {@code command} with {@code stdin} (or nothing) as its input. */
  static Result run(Duration timeout, Map<String, String> env, List<String> command, String stdin) {
    try {
      Path out = Files.createTempFile("proc", ".out");
      Path err = Files.createTempFile("proc", ".err");
      Path in = stdin == null ? null : Files.writeString(Files.createTempFile("proc", ".in"), stdin, StandardCharsets.UTF_8);
      try {
        ProcessBuilder pb = new ProcessBuilder(command)
            .redirectInput(ProcessBuilder.Redirect.from(in == null ? new File("/dev/null") : in.toFile()))
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          p.destroyForcibly();
          p.waitFor(5, TimeUnit.SECONDS);
          throw new AssertionError("timed out after " + timeout + ": " + String.join(" ", command)
              + "\n  --- stdout\n" + Files.readString(out) + "\n  --- stderr\n" + Files.readString(err));
        }
        return new Result(command, p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
        if (in != null) {
          Files.deleteIfExists(in);
        }
      }
    } catch (IOException e) {
      throw new AssertionError("cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Fails (never skips) when {@code tool} is not on the PATH, saying which Debian package has it. */
  static String require(String tool, String debianPackage) {
    String path = System.getenv("PATH");
    if (path != null) {
      for (String d : path.split(File.pathSeparator)) {
        Path p = Path.of(d, tool);
        if (Files.isExecutable(p)) {
          return p.toString();
        }
      }
    }
    throw new AssertionError(tool + " is not installed: run `apt-get install " + debianPackage + "` (Debian package " + debianPackage + ")");
  }

  /** The JDK tool {@code name} of the running JVM (keytool, java). */
  static String jdkTool(String name) {
    return Path.of(System.getProperty("java.home"), "bin", name).toString();
  }
}
