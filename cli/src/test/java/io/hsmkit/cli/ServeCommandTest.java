package io.hsmkit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;

/**
 * {@code hsmkit serve} in a child JVM, as a person runs it: its stdout is nothing but export
 * lines, which bash evals before running a plain AWS SDK program (no endpoint, region or key in
 * its code) that calls GenerateRandom and CreateKey. Later starts on the same state print no secret
 * (or a new admin's with --new-principal), and wrong command lines fail with one error line.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ServeCommandTest {
  final Cli cli = new Cli("serve-command", "serve");
  final Path state = fresh(cli.dir.resolve("kms-state"));
  final List<Process> started = new ArrayList<>();

  /** The directory, emptied: a test class starts on a fresh database as on a fresh machine. */
  static Path fresh(Path dir) {
    try {
      if (Files.exists(dir)) {
        try (var walk = Files.walk(dir)) {
          for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
            Files.delete(p);
          }
        }
      }
      return dir;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  Served serve(String... extra) throws Exception {
    return Served.start(cli.config, state, cli.token.conf(), cli.dir, started, extra);
  }

  void stop(Served s) throws Exception {
    s.stop();
  }

  /** bash evals the exports, then runs the plain SDK program with the CA's trust store. */
  String evalAndCall(List<String> exports) throws Exception {
    return Served.evalAndCall(cli.dir, state, exports);
  }

  /** The value of {@code name}, without the shell's single quotes. */
  static String value(List<String> exports, String name) {
    return exports.stream().filter(l -> l.startsWith("export " + name + "=")).map(l -> l.substring(("export " + name + "=").length()))
        .map(v -> v.startsWith("'") && v.endsWith("'") ? v.substring(1, v.length() - 1) : v).findFirst().orElse(null);
  }

  @Test
  @Order(1)
  void firstStartPrintsTheEnvironmentAndAPlainSdkProgramCallsIt() throws Exception {
    Served s = serve();
    try {
      assertThat(s.exports()).allMatch(l -> l.startsWith("export AWS_"));
      assertThat(s.exports()).extracting(l -> l.substring(7, l.indexOf('='))).containsExactly("AWS_ENDPOINT_URL_KMS", "AWS_REGION",
          "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_CA_BUNDLE");
      assertThat(value(s.exports(), "AWS_ENDPOINT_URL_KMS")).startsWith("https://localhost:");
      assertThat(value(s.exports(), "AWS_REGION")).isEqualTo("us-east-1");
      assertThat(s.err()).contains("first start").doesNotContain(value(s.exports(), "AWS_SECRET_ACCESS_KEY"));
      String out = evalAndCall(s.exports());
      assertThat(out).contains("random bytes: 24").contains("key: ");
    } finally {
      stop(s);
    }
  }

  @Test
  @Order(2)
  void laterStartsPrintNoSecretAndNewPrincipalMakesAWorkingPair() throws Exception {
    Served again = serve();
    try {
      assertThat(value(again.exports(), "AWS_SECRET_ACCESS_KEY")).isNull();
      assertThat(value(again.exports(), "AWS_ACCESS_KEY_ID")).isNotBlank();
    } finally {
      stop(again);
    }
    String err = Files.readString(cli.dir.resolve("serve-" + (started.size() - 1) + ".err"));
    assertThat(err).contains("was printed at the first start");

    Served admin = serve("--new-principal", "ops");
    try {
      assertThat(value(admin.exports(), "AWS_SECRET_ACCESS_KEY")).isNotBlank();
      assertThat(evalAndCall(admin.exports())).contains("random bytes: 24");
    } finally {
      stop(admin);
    }
  }

  @Test
  @Order(3)
  void wrongCommandLinesFailWithOneLine() {
    Cli.run("serve", "--config", cli.config.toString(), "--http", "--bind", "0.0.0.0", "--state-dir", state.toString())
        .fails("plain HTTP is served on a loopback address only");
    Cli.run("serve", "--config", cli.config.toString(), "--region", "nowhere", "--state-dir", state.toString())
        .fails("a region looks like us-east-1");
    Cli.run("serve", "--config", cli.dir.resolve("missing.cfg").toString()).fails("cannot read the configuration");
  }

  /**
   * --verify-audit on the state the starts above wrote: OK with the count; then one record rewritten
   * with the whole chain's hashes recomputed (its MAC no longer matches), one record altered, and
   * the last one removed, each fail naming the record; a state without a database fails.
   */
  @Test
  @Order(4)
  void verifyAuditReportsIntactOrTheFirstBrokenRecord() throws Exception {
    String[] verify = {"serve", "--config", cli.config.toString(), "--state-dir", state.toString(), "--verify-audit"};
    Cli.Run ok = Cli.run(verify).ok();
    assertThat(ok.out()).matches("(?s)OK: audit trail intact, [1-9][0-9]* records, their MACs checked in the token\\s*");
    String url = "jdbc:h2:file:" + state.toAbsolutePath().resolve("kms");
    // A writer of the database rewrites record 2 and recomputes every hash after it and the head:
    // the SHA-256 chain holds, the MACs made in the token do not.
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(url, "sa", "")) {
      c.setAutoCommit(false);
      java.util.List<String[]> rows = new java.util.ArrayList<>();
      try (var rs = c.createStatement().executeQuery("SELECT seq_no, record_json, prev_hash FROM kms_audit WHERE seq_no >= 2 ORDER BY seq_no")) {
        while (rs.next()) {
          rows.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3)});
        }
      }
      String prev = rows.get(0)[2];
      for (String[] r : rows) {
        String json = r[0].equals("2") ? r[1].replace("\"", "\"x") : r[1];
        java.security.MessageDigest d = java.security.MessageDigest.getInstance("SHA-256");
        d.update((prev + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        String h = java.util.HexFormat.of().formatHex(d.digest(json.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        try (var st = c.prepareStatement("UPDATE kms_audit SET record_json = ?, prev_hash = ?, record_hash = ? WHERE seq_no = ?")) {
          st.setString(1, json);
          st.setString(2, prev);
          st.setString(3, h);
          st.setLong(4, Long.parseLong(r[0]));
          st.executeUpdate();
        }
        prev = h;
      }
      try (var st = c.prepareStatement("UPDATE kms_audit_head SET head_hash = ?")) {
        st.setString(1, prev);
        st.executeUpdate();
      }
      c.commit();
    }
    Cli.run(verify).fails("audit trail broken at record 2: record 2 was rewritten");
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(url, "sa", "")) {
      c.createStatement().executeUpdate("UPDATE kms_audit SET record_json = REPLACE(record_json, '\"', '\"x') WHERE seq_no = 2");
    }
    Cli.run(verify).fails("audit trail broken at record 2: record 2 was altered");
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(url, "sa", "")) {
      c.createStatement().executeUpdate("DELETE FROM kms_audit WHERE seq_no >= 2");
    }
    Cli.run(verify).fails("records were removed from the end");
    Cli.run("serve", "--config", cli.config.toString(), "--state-dir", cli.dir.resolve("no-state").toString(), "--verify-audit")
        .fails("no KMS database in");
  }

  @AfterAll
  void cleanup() throws IOException {
    for (Process p : started) {
      p.destroyForcibly();
    }
  }
}
