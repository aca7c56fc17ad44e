package io.hsmkit.kms.testing;

import io.hsmkit.kms.store.Database;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The two databases every KMS test runs on: embedded H2 (a file under target/) and a real
 * PostgreSQL server that this class starts once per test JVM with the Debian binaries
 * ({@code initdb}, {@code pg_ctl}) in a private data directory under target/ on a free loopback
 * port, stopped at JVM exit. A missing PostgreSQL fails with an install hint; it is never skipped.
 */
public final class TestDatabases {
  private TestDatabases() {}

  public enum Kind { H2, POSTGRES }

  private static int pgPort = -1;

  /** A fresh, empty, migrated database of the given kind. */
  public static synchronized Database fresh(Kind kind) {
    return switch (kind) {
      case H2 -> Database.open("jdbc:h2:file:" + buildDir().resolve("h2-" + UUID.randomUUID()).toAbsolutePath() + ";DB_CLOSE_DELAY=-1", "sa", "");
      case POSTGRES -> Database.open(freshPostgresUrl(), "postgres", null);
    };
  }

  /** A fresh, empty PostgreSQL database: its JDBC URL (user postgres, no password), for code that opens it itself. */
  public static synchronized String freshPostgresUrl() {
    int port = postgresPort();
    String db = "kms_" + UUID.randomUUID().toString().replace("-", "");
    run(List.of(bin("psql"), "-h", "127.0.0.1", "-p", String.valueOf(port), "-U", "postgres", "-d", "postgres", "-c", "CREATE DATABASE " + db));
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + db;
  }

  /** The JDBC URL base of the running test PostgreSQL ({@code jdbc:postgresql://127.0.0.1:PORT/}). */
  public static synchronized String postgresUrlBase() {
    return "jdbc:postgresql://127.0.0.1:" + postgresPort() + "/";
  }

  private static Path buildDir() {
    return Path.of(System.getProperty("hsmkit.build.dir", "target"));
  }

  private static synchronized int postgresPort() {
    if (pgPort > 0) {
      return pgPort;
    }
    // PostgreSQL refuses to run as root: as root, the server runs as the Debian package's
    // "postgres" user, in a directory that user owns (under /tmp, which it can reach).
    boolean root = "root".equals(System.getProperty("user.name"));
    Path dir = root
        ? Path.of("/tmp", "hsmkit-pg-" + ProcessHandle.current().pid())
        : buildDir().resolve("pg-" + ProcessHandle.current().pid()).toAbsolutePath();
    try {
      if (!Files.exists(dir)) {
        Files.createDirectories(dir);
        if (root) {
          run(List.of("chown", "postgres:postgres", dir.toString()));
        }
        run(asServer(root, List.of(bin("initdb"), "-D", dir.resolve("data").toString(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")));
      }
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      Path data = dir.resolve("data");
      run(asServer(root, List.of(bin("pg_ctl"), "-D", data.toString(), "-l", dir.resolve("log").toString(), "-w", "-o",
          "-p " + port + " -k " + data + " -c listen_addresses=127.0.0.1 -c fsync=off", "start")));
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          new ProcessBuilder(asServer(root, List.of(bin("pg_ctl"), "-D", data.toString(), "-m", "immediate", "stop"))).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
        } catch (IOException | InterruptedException ignored) {
          // the JVM is exiting; nothing more to do
        }
      }));
      pgPort = port;
      return port;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> asServer(boolean root, List<String> cmd) {
    if (!root) {
      return cmd;
    }
    List<String> l = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
    l.addAll(cmd);
    return l;
  }

  /** A PostgreSQL server binary from Debian's package (its bin directory is not on PATH). */
  static String bin(String name) {
    Path lib = Path.of("/usr/lib/postgresql");
    List<Path> found = new ArrayList<>();
    try (var versions = Files.list(lib)) {
      versions.map(v -> v.resolve("bin").resolve(name)).filter(Files::isExecutable).forEach(found::add);
    } catch (IOException e) {
      // fall through to the message below
    }
    if (found.isEmpty()) {
      throw new IllegalStateException("PostgreSQL's " + name + " is not installed (looked in /usr/lib/postgresql/*/bin): run `bash softhsm-config/install.sh` or `sudo apt-get install -y postgresql`");
    }
    found.sort(null);
    return found.get(found.size() - 1).toString();
  }

  private static void run(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
