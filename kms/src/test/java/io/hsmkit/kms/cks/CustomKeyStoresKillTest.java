package io.hsmkit.kms.cks;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.kms.store.Database;
import io.hsmkit.kms.testing.TestDatabases;
import io.hsmkit.kms.testing.TestDatabases.Kind;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.testing.TestToken;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * kill -9 of a child JVM in the middle of the kmsuser PIN rotation of ConnectCustomKeyStore: right
 * after the new PIN is committed as pending (before C_SetPIN), and right after C_SetPIN (before the
 * new PIN is committed as current). In both cases the database holds a PIN that logs in (which
 * one is checked with direct logins), the store left CONNECTING can be disconnected and connected
 * again, and the key made before is still there. On H2 (served to the child by this JVM,
 * AUTO_SERVER) and on PostgreSQL.
 */
class CustomKeyStoresKillTest {
  private static final String[] POINTS = {"pendingWritten", "pinChanged"};
  private static CksFixture fx;
  private final List<CustomKeyStores> opened = new ArrayList<>();

  @BeforeAll
  static void tokens() {
    List<String> labels = new ArrayList<>();
    for (Kind k : Kind.values()) {
      for (String p : POINTS) {
        labels.add(label(k, p));
      }
    }
    fx = CksFixture.create("cks-kill", labels.toArray(String[]::new));
    fx.sealer(); // the sealing key exists before any child runs
  }

  @AfterEach
  void close() {
    opened.forEach(CustomKeyStores::close);
  }

  private CustomKeyStores stores(Database db) {
    CustomKeyStores s = new CustomKeyStores(db, fx.clusters(), Clock.systemUTC(), id -> 0, fx.sealer());
    opened.add(s);
    return s;
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void killDuringPinRotationLosesNothing(Kind kind) throws Exception {
    String url;
    Database db;
    if (kind == Kind.H2) {
      url = "jdbc:h2:file:" + TestToken.buildDir().resolve("h2-kill-" + UUID.randomUUID()) + ";AUTO_SERVER=TRUE;DB_CLOSE_DELAY=-1";
      db = Database.open(url, "sa", "");
    } else {
      db = TestDatabases.fresh(kind);
      url = ((org.postgresql.ds.PGSimpleDataSource) db.dataSource()).getURL();
    }
    String user = kind == Kind.H2 ? "sa" : "postgres";
    CustomKeyStores stores = stores(db);
    for (String point : POINTS) {
      String label = label(kind, point);
      String id = stores.create(new CreateCustomKeyStoreRequest("kill " + point, CksFixture.clusterId(label), CksFixture.trustAnchor(),
          CksFixture.initialPin(label), null)).customKeyStoreId();
      assertThat(child(url, user, "prepare", label, id, null)).contains("PREPARED");

      List<String> lines = child(url, user, "kill", label, id, point);
      assertThat(lines).contains("AT " + point).noneMatch(l -> l.startsWith("DONE"));

      assertThat(stores.state(id)).contains(ConnectionState.CONNECTING);
      char[][] pins = pins(db, id);
      assertThat(pins[1]).as("a pending PIN is recorded").isNotNull();
      long current = login(url, user, label, id, pins[0]);
      long pending = login(url, user, label, id, pins[1]);
      if (point.equals("pendingWritten")) {
        // C_SetPIN never ran: the current PIN is the token's, the pending one not.
        assertThat(current).isZero();
        assertThat(pending).isEqualTo(CKR.PIN_INCORRECT);
      } else {
        // C_SetPIN ran: only the pending PIN logs in now.
        assertThat(current).isEqualTo(CKR.PIN_INCORRECT);
        assertThat(pending).isZero();
      }
      // The restarted service recovers as AWS documents it: disconnect, then connect.
      assertThat(child(url, user, "recover", label, id, null)).contains("FOUND-STATE CONNECTING", "STATE CONNECTED", "KEY FOUND");
      char[][] now = pins(db, id);
      assertThat(now[1]).as("no pending PIN after a complete connect").isNull();
      assertThat(login(url, user, label, id, now[0])).isZero();
      assertThat(stores.state(id)).contains(ConnectionState.DISCONNECTED);
    }
  }

  private static String label(Kind kind, String point) {
    // Short: the kmsuser PIN derived from the label must stay within 32 characters.
    return "k-" + (kind == Kind.H2 ? "h2" : "pg") + "-" + (point.equals("pendingWritten") ? "pw" : "pc");
  }

  private static long login(String url, String user, String label, String id, char[] pin) throws Exception {
    List<String> out = child(url, user, "login", label, id, new String(pin));
    String line = out.stream().filter(l -> l.startsWith("LOGIN ")).findFirst().orElseThrow(() -> new AssertionError("no LOGIN line: " + out));
    return Long.parseLong(line.substring(6));
  }

  /** The store's current and pending kmsuser PIN, opened with the sealer. */
  private static char[][] pins(Database db, String id) {
    String[] sealed = db.inTransaction(c -> {
      try (var st = c.prepareStatement("SELECT pin_current, pin_pending FROM kms_custom_key_store WHERE cks_id = ?")) {
        st.setString(1, id);
        try (var rs = st.executeQuery()) {
          rs.next();
          return new String[] {rs.getString(1), rs.getString(2)};
        }
      }
    });
    char[][] out = new char[2][];
    for (int i = 0; i < 2; i++) {
      out[i] = sealed[i] == null ? null : fx.sealer().open(Base64.getDecoder().decode(sealed[i]), id);
    }
    return out;
  }

  /** Runs the child in {@code mode}; in mode kill, kills it (SIGKILL) once it says it reached the point. */
  private static List<String> child(String url, String user, String mode, String label, String id, String extra) throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> cmd = new ArrayList<>(List.of(java.toString(), "-cp", System.getProperty("java.class.path"), RotationKillChild.class.getName(),
        mode, url, user, fx.library, label, id));
    if (extra != null) {
      cmd.add(extra);
    }
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("SOFTHSM2_CONF", fx.token.conf());
    pb.environment().put("HSMKIT_USER_PIN", new String(fx.token.userPin()));
    Path err = TestToken.buildDir().resolve("tokens/cks-kill/child-" + mode + "-" + label + "-" + UUID.randomUUID() + ".err");
    pb.redirectError(err.toFile());
    Process p = pb.start();
    List<String> lines = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        lines.add(line);
        if (mode.equals("kill") && line.equals("AT " + extra)) {
          p.toHandle().destroyForcibly(); // SIGKILL: no finally blocks, no shutdown hooks
        }
      }
    } finally {
      assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
      p.destroyForcibly();
    }
    if (!mode.equals("kill")) {
      assertThat(p.exitValue()).as("child %s exit; output %s; stderr in %s", mode, lines, err).isZero();
    }
    return lines;
  }
}
