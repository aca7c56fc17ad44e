package io.hsmkit.pkcs11.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Replication over three real SoftHSM2 tokens (c behind the fault shim): see {@link ClusterFixture}. */
class ClusterReplicationTest {
  static ClusterFixture fx;
  static final Mechanism GCM = Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(new byte[12], null, 128));

  @BeforeAll
  static void setUp() {
    fx = new ClusterFixture("clrep");
  }

  @AfterAll
  static void tearDown() {
    fx.close();
  }

  @AfterEach
  void clearFaults() {
    fx.shim.clear();
  }

  static long labelled(Member m, String label) {
    return m.pool.execute(s -> (long) s.findObjects(8, Attribute.string(CKA.LABEL, label)).length);
  }

  @Test
  void aReplicatedKeyIsOnEveryMemberWithTheSameIdLabelAndAttributes() throws Exception {
    try (Cluster c = Cluster.open(fx.config())) {
      ClusterKey aes = c.generateSecretKey("rep-aes", 32);
      byte[] pt = "replicated".getBytes(StandardCharsets.UTF_8);
      byte[] ct = c.member("a").pool.execute(s -> s.encrypt(GCM, c.member("a").handle(s, CKO.SECRET_KEY, aes.id()), pt));
      for (Member m : c.members()) {
        Attribute[] a = m.pool.execute(s -> s.getAttributes(m.handle(s, CKO.SECRET_KEY, aes.id()),
            CKA.LABEL, CKA.EXTRACTABLE, CKA.WRAP_WITH_TRUSTED, CKA.SENSITIVE, CKA.PRIVATE, CKA.WRAP, CKA.SIGN));
        assertThat(a[0].asString()).as(m.name()).isEqualTo("rep-aes");
        assertThat(a[1].asBool()).as(m.name() + " extractable").isTrue();
        assertThat(a[2].asBool()).as(m.name() + " wrap with trusted").isTrue();
        assertThat(a[3].asBool()).as(m.name() + " sensitive").isTrue();
        assertThat(a[4].asBool()).as(m.name() + " private").isTrue();
        assertThat(a[5].asBool()).as(m.name() + " wrap").isFalse();
        assertThat(a[6].asBool()).as(m.name() + " sign").isFalse();
        byte[] back = m.pool.execute(s -> s.decrypt(GCM, m.handle(s, CKO.SECRET_KEY, aes.id()), ct));
        assertThat(back).as(m.name() + " decrypts what a encrypted").isEqualTo(pt);
      }
      ClusterKey ec = c.generateEcKeyPair("rep-ec", ClusterFixture.P256);
      byte[] point = null;
      for (Member m : c.members()) {
        byte[] p = m.pool.execute(s -> s.getAttribute(m.handle(s, CKO.PUBLIC_KEY, ec.id()), CKA.EC_POINT).value());
        if (point == null) {
          point = p;
        }
        assertThat(p).as(m.name() + " has the same public key").isEqualTo(point);
        byte[] digest = new byte[32];
        byte[] sig = m.pool.execute(s -> s.sign(Mechanism.of(CKM.ECDSA), m.handle(s, CKO.PRIVATE_KEY, ec.id()), digest));
        // every member's signature verifies under a's public key: one key pair
        Member a = c.member("a");
        boolean ok = a.pool.execute(s -> s.verify(Mechanism.of(CKM.ECDSA), a.handle(s, CKO.PUBLIC_KEY, ec.id()), digest, sig));
        assertThat(ok).as(m.name() + "'s signature").isTrue();
      }
    }
  }

  /** What pkcs11-tool (OpenSC) shows of a replicated key on member b, which received it by unwrapping. */
  @Test
  void pkcs11ToolShowsTheReplicatedKeyAsSensitiveAndExtractable() throws Exception {
    try (Cluster c = Cluster.open(fx.config())) {
      c.generateSecretKey("rep-tool", 32);
    }
    String out = fx.pkcs11Tool(1, "--login", "--pin", "env:CLUSTER_TEST_PIN", "--list-objects", "--type", "secrkey");
    System.out.println("pkcs11-tool --list-objects on member b:\n" + out);
    String block = out.substring(out.indexOf("label:      rep-tool"));
    // up to the end of its Access line (the key may be the last object listed)
    int access = block.indexOf("Access:");
    int eol = block.indexOf('\n', access);
    block = block.substring(0, eol < 0 ? block.length() : eol + 1);
    assertThat(block).contains("Usage:      encrypt, decrypt\n").contains("Access:     sensitive, extractable");
    assertThat(out).contains("label:      hsmkit-cluster-wrap");
  }

  /** Cases: what each try answers on member a; the token's own CKR code, not ours. */
  @ParameterizedTest
  @ValueSource(strings = {"secret-under-user-key", "private-under-user-key", "cluster-key-under-user-key", "user-sets-trusted",
      "secret-under-cluster-key"})
  void aReplicatedKeyLeavesATokenOnlyUnderTheTrustedClusterKey(String kase) throws Exception {
    try (Cluster c = Cluster.open(fx.config())) {
      ClusterKey aes = c.generateSecretKey("wrap-" + kase, 32);
      ClusterKey ec = c.generateEcKeyPair("wrap-ec-" + kase, ClusterFixture.P256);
      Member a = c.member("a");
      a.pool.execute(s -> {
        long user = s.generateKey(Mechanism.of(CKM.AES_KEY_GEN), Attribute.ulong(CKA.VALUE_LEN, 32), Attribute.bool(CKA.WRAP, true),
            Attribute.bool(CKA.TOKEN, false));
        try {
          switch (kase) {
            case "secret-under-user-key" -> expectCkr(CKR.KEY_NOT_WRAPPABLE,
                () -> s.wrapKey(Cluster.REPLICATION_WRAP, user, a.handle(s, CKO.SECRET_KEY, aes.id())));
            case "private-under-user-key" -> expectCkr(CKR.KEY_NOT_WRAPPABLE,
                () -> s.wrapKey(Cluster.REPLICATION_WRAP, user, a.handle(s, CKO.PRIVATE_KEY, ec.id())));
            case "cluster-key-under-user-key" -> expectCkr(CKR.KEY_NOT_WRAPPABLE,
                () -> s.wrapKey(Mechanism.of(CKM.AES_KEY_WRAP), user, ClusterAdmin.wrapKey(s)));
            case "user-sets-trusted" -> expectCkr(CKR.ATTRIBUTE_READ_ONLY,
                () -> s.generateKey(Mechanism.of(CKM.AES_KEY_GEN), Attribute.ulong(CKA.VALUE_LEN, 32), Attribute.bool(CKA.WRAP, true),
                    Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.TRUSTED, true)));
            case "secret-under-cluster-key" -> assertThat(
                s.wrapKey(Cluster.REPLICATION_WRAP, ClusterAdmin.wrapKey(s), a.handle(s, CKO.SECRET_KEY, aes.id()))).hasSize(40);
            default -> throw new AssertionError(kase);
          }
        } finally {
          s.destroyObject(user);
        }
        return null;
      });
    }
  }

  static void expectCkr(long ckr, Runnable r) {
    assertThatThrownBy(r::run).isInstanceOfSatisfying(Pkcs11Exception.class, e -> assertThat(e.ckrName()).isEqualTo(
        io.hsmkit.pkcs11.constants.CKR.name(ckr)));
  }

  @Test
  void keysCreatedAndDeletedWhileAMemberIsDownReachItWhenItReturns() throws Exception {
    try (Cluster c = Cluster.open(fx.config())) {
      Member mc = c.member("c");
      ClusterKey old = c.generateSecretKey("down-old", 32);
      assertThat(ClusterFixture.has(mc, old.id())).isTrue();
      fx.shim.rules("absent");
      ClusterKey made = c.generateSecretKey("down-new", 32); // c is found gone while copying
      ClusterKey pair = c.generateEcKeyPair("down-pair", ClusterFixture.P256);
      c.delete(old);
      assertThat(mc.health()).isEqualTo(MemberHealth.DOWN);
      assertThat(c.lag(mc)).as("two keys made and one deleted while c was down").isEqualTo(3);
      assertThat(c.keyCount(mc)).isEqualTo(-1);
      assertThat(ClusterFixture.has(c.member("a"), old.id())).isFalse();
      assertThat(ClusterFixture.has(c.member("b"), made.id())).isTrue();
      fx.shim.clear();
      ClusterFixture.await("c back", Duration.ofSeconds(10), () -> mc.health() == MemberHealth.HEALTHY);
      assertThat(ClusterFixture.has(mc, made.id())).as("the key made while c was down").isTrue();
      assertThat(ClusterFixture.has(mc, pair.id())).as("the key pair made while c was down").isTrue();
      assertThat(ClusterFixture.has(mc, old.id())).as("the key deleted while c was down").isFalse();
      assertThat(c.lag(mc)).isZero();
      assertThat(c.keyCount(mc)).isEqualTo(c.keyCount(c.member("a")));
      assertThat(mc.returns()).isEqualTo(1);
      byte[] pt = {1, 2, 3};
      byte[] ct = c.member("a").pool.execute(s -> s.encrypt(GCM, c.member("a").handle(s, CKO.SECRET_KEY, made.id()), pt));
      byte[] back = mc.pool.execute(s -> s.decrypt(GCM, mc.handle(s, CKO.SECRET_KEY, made.id()), ct));
      assertThat(back).isEqualTo(pt);
      long type = mc.pool.execute(s -> s.getAttribute(mc.handle(s, CKO.PUBLIC_KEY, pair.id()), CKA.KEY_TYPE).asUlong());
      assertThat(type).isEqualTo(CKK.EC);
      // a deleted key is gone for the caller too
      assertThatThrownBy(() -> c.execute((s, keys) -> keys.handle(CKO.SECRET_KEY, old.id()))).isInstanceOf(KeyMissingException.class);
    }
  }

  @Test
  void aKeyThatCannotReachMinReplicasIsDestroyedAndNeverHandedOut() throws Exception {
    try (Cluster c = Cluster.open(fx.config().withMinReplicas(3))) {
      fx.shim.rules("absent");
      assertThatThrownBy(() -> c.generateSecretKey("too-few", 32)).isInstanceOfSatisfying(ClusterException.class, e -> {
        assertThat(e.getMessage()).contains("reached 2 of the 3");
        assertThat(e.membersTried()).containsExactly("c");
      });
      assertThat(labelled(c.member("a"), "too-few")).isZero();
      assertThat(labelled(c.member("b"), "too-few")).isZero();
      fx.shim.clear();
      ClusterFixture.await("c back", Duration.ofSeconds(10), () -> c.member("c").health() == MemberHealth.HEALTHY);
      assertThat(labelled(c.member("c"), "too-few")).isZero();
    }
  }

  @Test
  void whenNoMemberIsLeftTheCallerGetsAClusterExceptionNamingTheMembersTried() throws Exception {
    ClusterConfig one = new ClusterConfig(List.of(fx.member(2)), 1, Duration.ofMillis(400), Duration.ofMillis(100),
        SelectionPolicy.roundRobin(), 2, Duration.ofMillis(100));
    try (Cluster c = Cluster.open(one)) {
      fx.shim.rules("absent");
      assertThatThrownBy(() -> c.execute((s, keys) -> s.generateRandom(8))).isInstanceOfSatisfying(ClusterException.class, e -> {
        assertThat(e.membersTried()).containsExactly("c");
        assertThat(e.attempts().get(0).error()).containsAnyOf("CKR_DEVICE_REMOVED", "CKR_TOKEN_NOT_PRESENT");
        assertThat(e.getMessage()).contains("c: C_");
      });
      fx.shim.clear();
      ClusterFixture.await("c back", Duration.ofSeconds(10), () -> c.member("c").health() == MemberHealth.HEALTHY);
      byte[] r = c.execute((s, keys) -> s.generateRandom(8));
      assertThat(r).hasSize(8);
    }
  }

  /** Cases: idempotent work waits for the member to come back and succeeds; other work fails at once, typed. */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void onlyIdempotentWorkIsRepeatedAfterADeviceError(boolean idempotent) throws Exception {
    ClusterConfig one = new ClusterConfig(List.of(fx.member(2)), 1, Duration.ofSeconds(5), Duration.ofMillis(50),
        SelectionPolicy.roundRobin(), 2, Duration.ofMillis(100));
    try (Cluster c = Cluster.open(one)) {
      fx.shim.rules("C_GenerateRandom:rv=CKR_DEVICE_ERROR:once");
      if (idempotent) {
        byte[] r = c.execute((s, keys) -> s.generateRandom(8), true);
        assertThat(r).hasSize(8);
        assertThat(c.member("c").returns()).isEqualTo(1);
      } else {
        assertThatThrownBy(() -> c.execute((s, keys) -> s.generateRandom(8), false)).isInstanceOfSatisfying(ClusterException.class, e -> {
          assertThat(e.getMessage()).contains("not safe to repeat").contains("c: C_GenerateRandom CKR_DEVICE_ERROR");
          assertThat(e.membersTried()).containsExactly("c");
        });
      }
    }
  }

  @Test
  void theTokensAnswerToTheWorkReachesTheCallerAndTakesNoMemberOut() throws Exception {
    try (Cluster c = Cluster.open(fx.config())) {
      ClusterKey aes = c.generateSecretKey("bad-tag", 32);
      byte[] ct = c.execute((s, keys) -> s.encrypt(GCM, keys.handle(CKO.SECRET_KEY, aes.id()), new byte[16]));
      ct[0] ^= 1;
      assertThatThrownBy(() -> c.execute((s, keys) -> s.decrypt(GCM, keys.handle(CKO.SECRET_KEY, aes.id()), ct)))
          .isInstanceOf(Pkcs11Exception.class).isNotInstanceOf(ClusterException.class);
      assertThat(c.members()).allMatch(m -> m.health() == MemberHealth.HEALTHY);
    }
  }

  @Test
  void aClusterWithNoReachableMemberDoesNotOpen() {
    ClusterConfig none = ClusterConfig.of(List.of(
        new MemberConfig("x", fx.token.library(), io.hsmkit.pkcs11.session.TokenSelector.label("no-such-token"), PinSource.of(fx.token.userPin())),
        new MemberConfig("y", fx.token.library(), io.hsmkit.pkcs11.session.TokenSelector.label("nor-this"), PinSource.of(fx.token.userPin()))));
    assertThatThrownBy(() -> Cluster.open(none)).isInstanceOfSatisfying(ClusterException.class,
        e -> assertThat(e.membersTried()).containsExactly("x", "y"));
  }

  @Test
  void aWrongPinFailsAtOpenWithoutShowingIt() {
    char[] wrong = "wrong-pin-1234".toCharArray();
    ClusterConfig bad = ClusterConfig.of(List.of(new MemberConfig("a", fx.token.library(),
        io.hsmkit.pkcs11.session.TokenSelector.label(fx.labels[0]), PinSource.of(wrong))));
    assertThatThrownBy(() -> Cluster.open(bad)).isInstanceOfSatisfying(ClusterException.class, e -> {
      assertThat(e.getMessage()).contains("CKR_PIN_INCORRECT").doesNotContain("wrong-pin-1234");
      assertThat(e.getMessage()).doesNotContain(new String(fx.token.userPin()));
    });
  }

}
