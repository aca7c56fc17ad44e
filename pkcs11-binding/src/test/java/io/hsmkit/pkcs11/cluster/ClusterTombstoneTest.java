package io.hsmkit.pkcs11.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.constants.CKO;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Tombstones in the tokens (CKO_DATA objects): a key deleted while member c was down is gone from
 * c when it returns, even to a Cluster opened after the deleting one was closed.
 */
class ClusterTombstoneTest {
  static ClusterFixture fx;

  @BeforeAll
  static void setUp() {
    fx = new ClusterFixture("cltomb");
  }

  @AfterAll
  static void tearDown() {
    fx.close();
  }

  @AfterEach
  void clearFaults() {
    fx.shim.clear();
  }

  static Map<String, Tombstones.Stone> stones(Member m) {
    return m.pool.execute(Tombstones::read);
  }

  static void awaitHealthy(Cluster c, String name) throws InterruptedException {
    ClusterFixture.await(name + " back", Duration.ofSeconds(15), () -> c.member(name).health() == MemberHealth.HEALTHY);
  }

  @Test
  void aDeletionWhileCIsDownReachesCThroughANewClusterInstance() throws Exception {
    ClusterKey doomed;
    ClusterKey later;
    long before = System.currentTimeMillis();
    try (Cluster first = Cluster.open(fx.config())) {
      doomed = first.generateSecretKey("tomb-doomed", 32);
      ClusterKey pair = first.generateEcKeyPair("tomb-kept", ClusterFixture.P256);
      assertThat(ClusterFixture.has(first.member("c"), doomed.id())).isTrue();
      fx.shim.rules("absent");
      first.delete(doomed); // c is found gone while its tombstone is written
      assertThat(first.member("c").health()).isEqualTo(MemberHealth.DOWN);
      assertThat(first.pendingDeletions("c")).isEqualTo(1);
      for (String n : new String[] {"a", "b"}) {
        Member m = first.member(n);
        assertThat(ClusterFixture.has(m, doomed.id())).as(n).isFalse();
        Map<String, Tombstones.Stone> st = stones(m);
        assertThat(st).as(n + "'s tombstones").containsOnlyKeys(doomed.idHex());
        assertThat(st.get(doomed.idHex()).deletedAtMillis()).isBetween(before, System.currentTimeMillis());
        assertThat(ClusterFixture.has(m, pair.id())).isTrue();
      }
      // a key made after the deletion has another CKA_ID (16 random bytes): no tombstone touches it
      later = first.generateSecretKey("tomb-later", 32);
    }
    // a new process, in effect: nothing of the first Cluster's memory is left
    try (Cluster second = Cluster.open(fx.config())) {
      Member mc = second.member("c");
      assertThat(mc.health()).isEqualTo(MemberHealth.DOWN);
      assertThat(second.pendingDeletions("c")).as("read from a and b at open").isEqualTo(1);
      assertThat(second.pendingDeletions("a")).isZero();
      assertThat(second.lag(mc)).isEqualTo(1);
      fx.shim.clear();
      awaitHealthy(second, "c");
      assertThat(ClusterFixture.has(mc, doomed.id())).as("the key deleted while c was down").isFalse();
      assertThat(ClusterFixture.has(mc, later.id())).as("the key made after the deletion").isTrue();
      for (Member m : second.members()) {
        assertThat(stones(m)).as(m.name() + ": every member agrees, the tombstone is gone").isEmpty();
        assertThat(second.pendingDeletions(m.name())).isZero();
      }
      assertThatThrownBy(() -> second.execute((s, keys) -> keys.handle(CKO.SECRET_KEY, doomed.id())))
          .isInstanceOf(KeyMissingException.class);
    }
  }

  /** c reachable again when the next Cluster opens: the deletion is applied at open, before any work. */
  @Test
  void aClusterOpenedAfterCReturnsAppliesTheTombstoneAtOnce() throws Exception {
    ClusterKey doomed;
    try (Cluster first = Cluster.open(fx.config())) {
      doomed = first.generateSecretKey("tomb-open", 32);
      fx.shim.rules("absent");
      first.delete(doomed);
      assertThat(first.pendingDeletions("c")).isEqualTo(1);
    }
    fx.shim.clear();
    try (Cluster second = Cluster.open(fx.config())) {
      for (Member m : second.members()) {
        assertThat(m.health()).isEqualTo(MemberHealth.HEALTHY);
        assertThat(ClusterFixture.has(m, doomed.id())).as(m.name()).isFalse();
        assertThat(stones(m)).as(m.name()).isEmpty();
      }
    }
  }

  /** The in-process path: every member healthy, no tombstone outlives the deletion. */
  @Test
  void aDeletionWithEveryMemberHealthyLeavesNoTombstone() throws Exception {
    try (Cluster c = Cluster.open(fx.config())) {
      ClusterKey k = c.generateEcKeyPair("tomb-all", ClusterFixture.P256);
      c.delete(k);
      for (Member m : c.members()) {
        assertThat(ClusterFixture.has(m, k.id())).as(m.name()).isFalse();
        assertThat(stones(m)).as(m.name()).isEmpty();
      }
    }
  }

  /** A tombstone that names the cluster wrapping key or the identity key is ignored, never applied. */
  @ParameterizedTest
  @CsvSource({"hsmkit-cluster-wrap", "hsmkit-cluster-identity"})
  void aTombstoneNamingTheClustersOwnKeysIsIgnored(String reservedId) throws Exception {
    String hex = HexFormat.of().formatHex(reservedId.getBytes(StandardCharsets.US_ASCII));
    try (Cluster c = Cluster.open(fx.config())) {
      c.member("a").pool.execute(s -> {
        Tombstones.write(s, new Tombstones.Stone(hex, 1L));
        return null;
      });
    }
    try (Cluster c = Cluster.open(fx.config())) {
      assertThat(c.members()).allMatch(m -> m.health() == MemberHealth.HEALTHY);
      assertThat(c.pendingDeletions("a")).isZero();
      Member a = c.member("a");
      assertThat(a.pool.execute(ClusterAdmin::hasWrapKey)).isTrue();
      a.pool.execute(s -> Tombstones.erase(s, hex));
    }
  }

  /** Cases: what parses as a tombstone's CKA_VALUE, and what is skipped (never applied). */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "hsmkit-cluster-tombstone/1 id=00ff10 deleted=1700000000000|00ff10|1700000000000",
      "hsmkit-cluster-tombstone/1 id=0ff10 deleted=1|-|-",
      "hsmkit-cluster-tombstone/2 id=00ff10 deleted=1|-|-",
      "hsmkit-cluster-tombstone/1 id=00FF10 deleted=1|-|-",
      "hsmkit-cluster-tombstone/1 id=00ff10|-|-",
      "hsmkit-cluster-tombstone/1 id=00ff10 deleted=99999999999999999999|-|-",
      "garbage|-|-"})
  void tombstoneValuesParseStrictly(String value, String id, String at) {
    Tombstones.Stone s = Tombstones.parse(value.getBytes(StandardCharsets.US_ASCII));
    if (id.equals("-")) {
      assertThat(s).isNull();
    } else {
      assertThat(s).isEqualTo(new Tombstones.Stone(id, Long.parseLong(at)));
    }
  }
}
