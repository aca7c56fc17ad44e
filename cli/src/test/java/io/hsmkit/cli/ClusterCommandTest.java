package io.hsmkit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.hsmkit.pkcs11.cluster.Cluster;
import io.hsmkit.pkcs11.cluster.ClusterConfig;
import io.hsmkit.pkcs11.cluster.ClusterKey;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.cluster.ClusterConfigFile;
import io.hsmkit.pkcs11.testing.TestToken;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** hsmkit cluster init|status|sync|remove|add over three SoftHSM2 tokens in one token directory. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterCommandTest {
  static TestToken token;
  static Path dir;
  static Path config;
  static Path noSo;
  static Path ab;
  static Path quorumState;
  /** The cluster file as it was before init pinned anything: a file older than identities. */
  static Path old;

  @BeforeAll
  static void tokens() throws Exception {
    ClusterTokenDir tokens = ClusterTokenDir.create("ClusterCommandTest", "cli-cl-");
    token = tokens.token();
    dir = tokens.dir();
    StringBuilder all = new StringBuilder("cluster.members = a, b, c\n");
    StringBuilder two = new StringBuilder("cluster.members = a, b\n");
    StringBuilder bare = new StringBuilder("cluster.members = a, b, c\n");
    for (String m : new String[] {"a", "b", "c"}) {
      String lines = tokens.memberLines(m);
      bare.append(lines);
      all.append(lines).append(tokens.soPinLine(m));
      if (!m.equals("c")) {
        two.append(lines);
      }
    }
    config = Files.writeString(dir.resolve("cluster.cfg"), all);
    noSo = Files.writeString(dir.resolve("no-so.cfg"), bare);
    ab = Files.writeString(dir.resolve("ab.cfg"), two);
    old = Files.writeString(dir.resolve("old.cfg"), all);
    quorumState = dir.resolve("quorum");
    if (Files.exists(quorumState)) { // make-token.sh --force leaves other files of the directory alone
      try (var files = Files.walk(quorumState)) {
        for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(f);
        }
      }
    }
  }

  static Cli.Run cluster(String... args) {
    String[] a = new String[args.length + 1];
    a[0] = "cluster";
    System.arraycopy(args, 0, a, 1, args.length);
    return Cli.run(a);
  }

  @Test
  @Order(1)
  void beforeInitNoMemberIsACluster() {
    cluster("status", "--config", config.toString()).fails("no member of the cluster answered");
    cluster("init", "--config", noSo.toString(), "--state", quorumState.toString()).fails("the cluster file gives no member.a.soPin");
  }

  @Test
  @Order(2)
  void initGivesEveryMemberTheClusterKey() throws Exception {
    Cli.Run r = cluster("init", "--config", config.toString(), "--state", quorumState.toString()).ok();
    assertThat(r.out()).contains("member a: cluster wrapping key made").contains("member c: joined")
        .containsPattern("member a: identity sha256:[0-9a-f]{64} pinned in ");
    ClusterConfigFile pinned = ClusterConfigFile.read(config);
    assertThat(pinned.identities()).containsOnlyKeys("a", "b", "c");
    assertThat(pinned.clusterId()).matches("[0-9a-f]{32}");
    assertThat(r.out()).contains("member b: identity " + pinned.identity("b").orElseThrow());
    String text = Files.readString(config);
    cluster("init", "--config", config.toString(), "--state", quorumState.toString()).fails("already holds a cluster wrapping key");
    assertThat(Files.readString(config)).as("nothing pinned twice").isEqualTo(text);
    JsonNode st = cluster("status", "--config", config.toString(), "--json").ok().json();
    assertThat(st.get("members")).hasSize(3);
    for (JsonNode m : st.get("members")) {
      assertThat(m.get("health").asText()).isEqualTo("HEALTHY");
      assertThat(m.get("keys").asInt()).isZero();
    }
  }

  @Test
  @Order(3)
  void aMemberThatMissedKeysShowsLagUntilSync() throws Exception {
    try (Cluster two = Cluster.open(ClusterConfigFile.read(ab).config())) {
      two.generateSecretKey("made-without-c", 32);
      two.generateSecretKey("also-without-c", 32);
    }
    JsonNode st = cluster("status", "--config", config.toString(), "--json").ok().json();
    assertThat(st.at("/members/2/member").asText()).isEqualTo("c");
    assertThat(st.at("/members/2/keys").asInt()).isZero();
    assertThat(st.at("/members/2/lag").asInt()).isEqualTo(2);
    String table = cluster("status", "--config", config.toString()).ok().out();
    assertThat(table.lines().findFirst().orElse("")).contains("MEMBER").contains("HEALTH").contains("KEYS").contains("LAG")
        .contains("TOMBSTONES");

    assertThat(cluster("sync", "--config", config.toString()).ok().out()).contains("member c: 2 keys copied or deleted");
    st = cluster("status", "--config", config.toString(), "--json").ok().json();
    for (JsonNode m : st.get("members")) {
      assertThat(m.get("keys").asInt()).as(m.toString()).isEqualTo(2);
      assertThat(m.get("lag").asInt()).isZero();
    }
  }

  /**
   * c removed, a key deleted meanwhile by a process that then ends: status shows c's pending
   * tombstone; a wrongly pinned identity refuses the add; the add from an old file (no pins) pins
   * and joins; the next cluster opened deletes the key from c and the tombstone goes.
   */
  @Test
  @Order(4)
  void aRemovedMemberIsOutUntilAddedAgainAndThenLosesTheKeysDeletedMeanwhile() throws Exception {
    cluster("remove", "--config", config.toString(), "--member", "c", "--state", quorumState.toString()).ok();
    JsonNode st = cluster("status", "--config", config.toString(), "--json").ok().json();
    assertThat(st.at("/members/2/health").asText()).isEqualTo("DOWN");
    assertThat(st.at("/members/2/error").asText()).contains("0 cluster wrapping keys");
    assertThat(st.at("/members/2/tombstones").asInt()).isZero();
    // a key c holds (copied by the sync of Order 3), deleted while c is out, by a process that ends
    try (Cluster cl = Cluster.open(ClusterConfigFile.read(config).config())) {
      byte[] id = cl.execute((s, keys) -> s.getAttribute(s.findObjects(2, Attribute.string(CKA.LABEL, "made-without-c"))[0], CKA.ID).value());
      cl.delete(new ClusterKey("made-without-c", id, false));
    }
    st = cluster("status", "--config", config.toString(), "--json").ok().json();
    assertThat(st.at("/members/0/tombstones").asInt()).isZero();
    assertThat(st.at("/members/2/tombstones").asInt()).as(st.toString()).isEqualTo(1);
    assertThat(cluster("status", "--config", config.toString()).ok().out().lines().filter(l -> l.startsWith("c "))
        .findFirst().orElseThrow()).contains(" 1 ");

    // c's identity pinned as a's: refused, naming c, and c gets no cluster key
    String text = Files.readString(config);
    ClusterConfigFile pinned = ClusterConfigFile.read(config);
    Path wrong = Files.writeString(dir.resolve("wrong-identity.cfg"),
        text.replace("member.c.identity = " + pinned.identity("c").orElseThrow(), "member.c.identity = " + pinned.identity("a").orElseThrow()));
    cluster("add", "--config", wrong.toString(), "--member", "c", "--from", "b", "--state", quorumState.toString())
        .fails("join refused: member c: its identity key is " + pinned.identity("c").orElseThrow() + ", not the pinned");
    st = cluster("status", "--config", config.toString(), "--json").ok().json();
    assertThat(st.at("/members/2/health").asText()).isEqualTo("DOWN");

    cluster("add", "--config", config.toString(), "--member", "nobody", "--state", quorumState.toString()).fails("no member nobody");
    // the file from before identities: pinned on this first use, with the same fingerprints
    Cli.Run add = cluster("add", "--config", old.toString(), "--member", "c", "--from", "b", "--state", quorumState.toString()).ok();
    assertThat(add.out()).contains("member c: joined").contains("member c: identity " + pinned.identity("c").orElseThrow() + " pinned in");
    assertThat(ClusterConfigFile.read(old).identities()).containsOnlyKeys("b", "c").containsEntry("c", pinned.identity("c").orElseThrow());
    assertThat(cluster("sync", "--config", config.toString()).ok().out()).contains("member c: ");
    st = cluster("status", "--config", config.toString(), "--json").ok().json();
    for (JsonNode m : st.get("members")) {
      assertThat(m.get("health").asText()).as(m.toString()).isEqualTo("HEALTHY");
      assertThat(m.get("tombstones").asInt()).as(m.toString()).isZero();
      assertThat(m.get("keys").asInt()).as(m.toString()).isEqualTo(1); // also-without-c
    }
    ClusterConfig onlyC = ClusterConfig.of(List.of(ClusterConfigFile.read(config).config().members().get(2)));
    try (Cluster cl = Cluster.open(onlyC)) {
      int left = cl.execute((s, keys) -> s.findObjects(2, Attribute.string(CKA.LABEL, "made-without-c")).length);
      assertThat(left).as("the key deleted while c was out, on c").isZero();
    }
  }

  static Cli.Run quorum(String... args) {
    String[] a = new String[args.length + 3];
    a[0] = "quorum";
    System.arraycopy(args, 0, a, 1, args.length);
    a[args.length + 1] = "--state";
    a[args.length + 2] = quorumState.toString();
    return Cli.run(a);
  }

  static String p(String name) {
    return dir.resolve(name).toString();
  }

  static void officerKey(String name) throws Exception {
    java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
    g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
    java.security.KeyPair kp = g.generateKeyPair();
    java.util.Base64.Encoder b64 = java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
    Files.writeString(dir.resolve(name + ".key"), "-----BEGIN PRIVATE KEY-----\n" + b64.encodeToString(kp.getPrivate().getEncoded())
        + "\n-----END PRIVATE KEY-----\n");
    Files.writeString(dir.resolve(name + ".pub"), "-----BEGIN PUBLIC KEY-----\n" + b64.encodeToString(kp.getPublic().getEncoded())
        + "\n-----END PUBLIC KEY-----\n");
  }

  /** With a token quorum of 2, removing a member needs a token approved by two officers, once. */
  @Test
  @Order(5)
  void withATokenQuorumOfTwoTheSoVerbsNeedAnApproval() throws Exception {
    for (String o : new String[] {"alice", "bob"}) {
      officerKey(o);
      quorum("officers", "register", "--id", o, "--scheme", "ecdsa", "--public-key", p(o + ".pub"), "--key", p(o + ".key")).ok();
    }
    quorum("values", "set", "--service", "token", "--value", "2").ok();
    cluster("remove", "--config", config.toString(), "--member", "c", "--state", quorumState.toString())
        .fails("APPROVAL_REQUIRED: cluster cluster-remove is a token action and the token quorum is 2");
    quorum("token", "create", "--service", "token", "--operation", "cluster-remove", "--arg", "member=c", "--requester", "admin",
        "--out", p("remove-c.token")).ok();
    for (String o : new String[] {"alice", "bob"}) {
      Cli.run("quorum", "sign", "--token", p("remove-c.token"), "--key", p(o + ".key"), "--scheme", "ecdsa", "--out", p("remove-c." + o + ".sig"))
          .ok();
      quorum("approve", "--token", p("remove-c.token"), "--officer", o, "--signature", p("remove-c." + o + ".sig")).ok();
    }
    // the approval is for removing c, not b
    cluster("remove", "--config", config.toString(), "--member", "b", "--state", quorumState.toString(), "--approval", p("remove-c.token"))
        .fails("ACTION_MISMATCH");
    cluster("remove", "--config", config.toString(), "--member", "c", "--state", quorumState.toString(), "--approval", p("remove-c.token"))
        .ok();
    cluster("remove", "--config", config.toString(), "--member", "c", "--state", quorumState.toString(), "--approval", p("remove-c.token"))
        .fails("ALREADY_USED");
    JsonNode st = cluster("status", "--config", config.toString(), "--json").ok().json();
    assertThat(st.at("/members/2/health").asText()).isEqualTo("DOWN");
  }

  @Test
  void badUsage() {
    assertThat(cluster("status").exit()).isEqualTo(2);
    assertThat(cluster("add", "--config", "x.cfg").exit()).isEqualTo(2);
    assertThat(cluster().exit()).isEqualTo(2);
  }
}
