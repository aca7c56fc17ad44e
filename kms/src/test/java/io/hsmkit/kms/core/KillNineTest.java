package io.hsmkit.kms.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsService;
import io.hsmkit.kms.access.AccessControl;
import io.hsmkit.kms.api.*;
import io.hsmkit.kms.backing.token.DefaultKeyBackings;
import io.hsmkit.kms.backing.token.TokenKeyBacking;
import io.hsmkit.kms.store.Database;
import io.hsmkit.kms.testing.TestDatabases;
import io.hsmkit.pkcs11.testing.TestToken;
import io.hsmkit.provider.HsmKitProvider;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * kill -9 of a child JVM in the middle of CreateKey, of the deletion purge and of rotation, on a
 * shared token and database: after the "restart" (a new service here, reconcile() first) the
 * metadata and the token agree: no orphan left unreported, no acknowledged key lost.
 */
class KillNineTest {
  static TestToken token;
  static Path config;
  static HsmKitProvider provider;

  @BeforeAll
  static void token() {
    String name = "kms-kill-" + ProcessHandle.current().pid();
    token = TestToken.create(name, name);
    config = KmsFixture.writeConfig(token, name);
  }

  /** A fresh database that is not open in this JVM (H2 embedded allows one process at a time). */
  static String[] freshUrl(TestDatabases.Kind kind) throws Exception {
    if (kind == TestDatabases.Kind.H2) {
      Path p = TestToken.buildDir().resolve("h2-kill-" + UUID.randomUUID());
      return new String[] {"jdbc:h2:file:" + p + ";DB_CLOSE_DELAY=0", "sa"};
    }
    String base = TestDatabases.postgresUrlBase();
    String db = "kill_" + UUID.randomUUID().toString().replace("-", "");
    try (var c = DriverManager.getConnection(base + "postgres", "postgres", null); var st = c.createStatement()) {
      st.execute("CREATE DATABASE " + db);
    }
    return new String[] {base + db, "postgres"};
  }

  /** Runs a child to its end (exit code 0). */
  static List<String> runChild(String mode, String[] db, String account) throws Exception {
    Process p = child(mode, db, account);
    List<String> out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).lines().toList();
    assertThat(p.waitFor(240, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join("\n", out)).isZero();
    return out;
  }

  static Process child(String mode, String[] db, String account) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), KillChild.class.getName(), mode, db[0], db[1], config.toString(), account);
    pb.environment().put("SOFTHSM2_CONF", token.conf());
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    return pb.start();
  }

  /** Starts a child, waits for READY plus {@code minLines} more lines and a random pause, then kills it with SIGKILL. */
  static List<String> killChild(String mode, String[] db, String account, int minLines, int maxPauseMs) throws Exception {
    Process p = child(mode, db, account);
    List<String> lines = new CopyOnWriteArrayList<>();
    BlockingQueue<String> q = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).lines().forEach(l -> {
      lines.add(l);
      q.add(l);
    }));
    reader.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    boolean ready = false;
    int after = 0;
    while (System.nanoTime() < deadline && (!ready || after < minLines)) {
      String l = q.poll(1, TimeUnit.SECONDS);
      if (l == null) {
        continue;
      }
      if (l.equals("READY")) {
        ready = true;
      } else if (ready) {
        after++;
      }
    }
    assertThat(ready).as("the child became ready: " + lines).isTrue();
    Thread.sleep(ThreadLocalRandom.current().nextInt(maxPauseMs + 1));
    p.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no finally blocks
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    reader.join(10_000);
    return new ArrayList<>(lines);
  }

  static synchronized HsmKitProvider provider() {
    // Opened only after a child ran, in this JVM; SoftHSM2 re-reads the token's files as they change.
    if (provider == null) {
      provider = new HsmKitProvider(config.toString());
    }
    return provider;
  }

  /** After the crash: reconcile, then check that metadata and token agree. */
  static KmsService restartAndCheck(String[] url, String account) throws Exception {
    Database db = Database.open(url[0], url[1], null);
    TokenKeyBacking backing = new TokenKeyBacking(provider());
    KmsService kms = new KmsService(db, new DefaultKeyBackings(backing), AccessControl.ALLOW_ALL, Clock.systemUTC(), "eu-west-1", account);
    KmsService.ReconcileReport report = kms.reconcile();
    System.out.println("kill -9 reconcile: " + report);
    assertThat(report.missingBackingKeys()).as("keys lost").isEmpty();
    Set<String> rows = new HashSet<>();
    db.inTransaction(c -> {
      try (PreparedStatement st = c.prepareStatement("SELECT key_state FROM kms_key WHERE key_state IN ('Creating', 'Deleting')"); ResultSet rs = st.executeQuery()) {
        assertThat(rs.next()).as("no half-made or half-deleted key is left").isFalse();
      }
      try (PreparedStatement st = c.prepareStatement("SELECT token_label, version_status FROM kms_key_version"); ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          assertThat(rs.getString(2)).isEqualTo("Active");
          rows.add(rs.getString(1));
        }
      }
      return null;
    });
    // Token and metadata name the same objects, both ways.
    assertThat(backing.labels(kms.keyArnPrefix())).containsExactlyInAnyOrderElementsOf(rows);
    for (String label : rows) {
      assertThat(backing.find(label)).as(label).isNotNull();
    }
    // Every key listed works.
    Caller caller = Caller.of("arn:aws:iam::" + account + ":root", account, null);
    for (KeyListEntry e : kms.listKeys(caller, new ListKeysRequest(1000, null)).keys()) {
      KeyMetadata m = kms.describeKey(caller, new DescribeKeyRequest(e.keyId(), null)).keyMetadata();
      if (m.keyState().equals("Enabled")) {
        byte[] blob = kms.encrypt(caller, new EncryptRequest(e.keyId(), new byte[] {42}, null, null, null)).ciphertextBlob();
        assertThat(kms.decrypt(caller, new DecryptRequest(blob, null, null, null, null)).plaintext()).containsExactly(42);
      }
    }
    return kms;
  }

  static String account() {
    return String.valueOf(100000000000L + ThreadLocalRandom.current().nextLong(899999999999L));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void killedDuringCreateKey(TestDatabases.Kind kind) throws Exception {
    String[] url = freshUrl(kind);
    String account = account();
    Set<String> acknowledged = new HashSet<>();
    for (int round = 0; round < 3; round++) {
      for (String l : killChild("create", url, account, 2, 40)) {
        if (l.startsWith("CREATED ")) {
          acknowledged.add(l.substring(8));
        }
      }
    }
    KmsService kms = restartAndCheck(url, account);
    Caller caller = Caller.of("arn:aws:iam::" + account + ":root", account, null);
    Set<String> listed = new HashSet<>();
    kms.listKeys(caller, new ListKeysRequest(1000, null)).keys().forEach(e -> listed.add(e.keyId()));
    // Every key whose CreateKey answered exists; at most one per kill was undone (never answered).
    assertThat(listed).containsAll(acknowledged);
    assertThat(listed.size() - acknowledged.size()).isBetween(0, 3);
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void killedDuringThePurge(TestDatabases.Kind kind) throws Exception {
    String[] url = freshUrl(kind);
    String account = account();
    List<String> prepared = runChild("prepare", url, account);
    List<String> keep = prepared.stream().filter(l -> l.startsWith("KEEP ")).map(l -> l.substring(5)).toList();
    killChild("purge", url, account, 0, 60);
    KmsService kms = restartAndCheck(url, account);
    Caller caller = Caller.of("arn:aws:iam::" + account + ":root", account, null);
    // The keys not scheduled are all there; the scheduled ones are there (PendingDeletion) or gone.
    for (KeyListEntry e : kms.listKeys(caller, new ListKeysRequest(1000, null)).keys()) {
      String state = kms.describeKey(caller, new DescribeKeyRequest(e.keyId(), null)).keyMetadata().keyState();
      assertThat(state).isEqualTo(keep.contains(e.keyId()) ? "Enabled" : "PendingDeletion");
    }
    for (String id : keep) {
      assertThat(kms.describeKey(caller, new DescribeKeyRequest(id, null)).keyMetadata().keyState()).isEqualTo("Enabled");
    }
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void killedDuringRotation(TestDatabases.Kind kind) throws Exception {
    String[] url = freshUrl(kind);
    String account = account();
    List<String> lines = killChild("rotate", url, account, 3, 40);
    KmsService kms = restartAndCheck(url, account);
    Caller caller = Caller.of("arn:aws:iam::" + account + ":root", account, null);
    // Every acknowledged rotation is there: a key rotated n times has at least n rotations listed.
    for (KeyListEntry e : kms.listKeys(caller, new ListKeysRequest(1000, null)).keys()) {
      long acked = lines.stream().filter(l -> l.equals("ROTATED " + e.keyId())).count();
      int listed = kms.listKeyRotations(caller, new ListKeyRotationsRequest(e.keyId(), 1000, null)).rotations().size();
      assertThat(listed).isBetween((int) acked, (int) acked + 1);
    }
  }
}
