package io.hsmkit.pkcs11.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.session.TokenSelector;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** Configuration rules and selection policies: no token needed. */
class ClusterConfigTest {
  static MemberConfig m(String name) {
    return new MemberConfig(name, "/lib.so", TokenSelector.label(name), PinSource.of("1234".toCharArray()));
  }

  static Stream<Arguments> badConfigs() {
    return Stream.of(
        Arguments.of(List.of(), 1, "at least one member"),
        Arguments.of(List.of(m("a"), m("a")), 1, "listed twice"),
        Arguments.of(List.of(m("a"), m("b")), 0, "minReplicas 0"),
        Arguments.of(List.of(m("a"), m("b")), 3, "minReplicas 3"));
  }

  @ParameterizedTest
  @MethodSource("badConfigs")
  void badConfigurationsAreRefused(List<MemberConfig> members, int minReplicas, String message) {
    assertThatThrownBy(() -> new ClusterConfig(members, minReplicas, java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(1),
        SelectionPolicy.roundRobin(), 4, java.time.Duration.ofMillis(100)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
  }

  @Test
  void defaultsFollowCloudHsmsTwoReplicaRule() {
    assertThat(ClusterConfig.of(List.of(m("a"), m("b"), m("c"))).minReplicas()).isEqualTo(2);
    assertThat(ClusterConfig.of(List.of(m("a"))).minReplicas()).isEqualTo(1);
    assertThatThrownBy(() -> m(" ")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void roundRobinTakesEachInTurn() {
    List<Member> ms = List.of(new Member(m("a")), new Member(m("b")), new Member(m("c")));
    SelectionPolicy p = SelectionPolicy.roundRobin();
    List<String> seen = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      seen.add(p.choose(ms).name());
    }
    assertThat(seen).containsExactly("a", "b", "c", "a", "b", "c");
  }

  @Test
  void leastOutstandingTakesTheLeastBusyAndSpreadsTies() {
    Member a = new Member(m("a"));
    Member b = new Member(m("b"));
    Member c = new Member(m("c"));
    List<Member> ms = List.of(a, b, c);
    a.begin();
    a.begin();
    c.begin();
    SelectionPolicy p = SelectionPolicy.leastOutstanding();
    for (int i = 0; i < 5; i++) {
      assertThat(p.choose(ms)).isSameAs(b);
    }
    b.begin();
    b.begin();
    assertThat(p.choose(ms)).isSameAs(c);
    c.begin();
    // all at 2: ties spread over the three
    List<String> seen = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      seen.add(p.choose(ms).name());
    }
    assertThat(seen).containsExactlyInAnyOrder("a", "b", "c");
  }

  @Test
  void aClusterExceptionListsEveryTry() {
    ClusterException e = new ClusterException("failed", List.of(new ClusterException.Attempt("a", "C_Sign CKR_DEVICE_ERROR"),
        new ClusterException.Attempt("b", "C_Sign CKR_DEVICE_REMOVED"), new ClusterException.Attempt("a", "C_Sign CKR_DEVICE_ERROR")), null);
    assertThat(e.membersTried()).containsExactly("a", "b");
    assertThat(e.getMessage()).isEqualTo("failed (tried a: C_Sign CKR_DEVICE_ERROR; b: C_Sign CKR_DEVICE_REMOVED; a: C_Sign CKR_DEVICE_ERROR)");
  }

  static final String GOOD = """
      # three tokens
      cluster.members = a, b , c
      cluster.minReplicas = 3
      cluster.policy = round-robin
      member.a.library = /usr/lib/softhsm/libsofthsm2.so
      member.a.tokenLabel = "hsm a"
      member.a.pin = env:A_PIN
      member.a.soPin = file:/tmp/a.so
      member.b.library = /usr/lib/softhsm/libsofthsm2.so
      member.b.slot = 17
      member.b.pin = file:/tmp/b.pin
      member.c.library = /other.so
      member.c.tokenLabel = c
      member.c.pin = env:C_PIN
      """;

  @Test
  void aClusterFileGivesMembersRulesAndSoPins() {
    ClusterConfigFile f = ClusterConfigFile.parse(GOOD, "cluster.cfg");
    assertThat(f.config().members()).extracting(MemberConfig::name).containsExactly("a", "b", "c");
    assertThat(f.config().members().get(0).token()).isEqualTo(TokenSelector.label("hsm a"));
    assertThat(f.config().members().get(1).token()).isEqualTo(TokenSelector.slotId(17));
    assertThat(f.config().minReplicas()).isEqualTo(3);
    assertThat(f.config().policy()).hasToString("round-robin");
    assertThat(f.soPin("a")).isPresent();
    assertThat(f.soPin("b")).isEmpty();
    assertThat(f.identities()).isEmpty();
    assertThat(f.clusterId()).isNull();
  }

  static final String FP = "sha256:" + "0123456789abcdef".repeat(4);

  @Test
  void identitiesAndTheClusterIdArePinnedInTheFile() {
    ClusterConfigFile f = ClusterConfigFile.parse(GOOD + "member.a.identity = " + FP.toUpperCase().replace("SHA256", "sha256")
        + "\nmember.c.identity = " + FP + "\ncluster.id = 7f3e-prod_1\n", "cluster.cfg");
    assertThat(f.identity("a")).contains(FP); // normalised to lower case
    assertThat(f.identity("c")).contains(FP);
    assertThat(f.identity("b")).isEmpty(); // an older member: pinned at the next init / add
    assertThat(f.clusterId()).isEqualTo("7f3e-prod_1");
  }

  static Stream<Arguments> badFiles() {
    return Stream.of(
        Arguments.of(GOOD.replace("cluster.members = a, b , c", "cluster.members ="), "cluster.members is missing"),
        Arguments.of(GOOD.replace("env:A_PIN", "123456"), "cluster.cfg:7: member.a.pin must be file:PATH or env:VARIABLE"),
        Arguments.of(GOOD + "member.a.pin = env:X\n", "member.a.pin is set twice (first on line 7)"),
        Arguments.of(GOOD + "member.d.pin = env:X\n", "d is not in cluster.members"),
        Arguments.of(GOOD + "member.a.colour = blue\n", "unknown key member.a.colour"),
        Arguments.of(GOOD + "cluster.size = 3\n", "unknown key cluster.size"),
        Arguments.of(GOOD.replace("member.b.slot = 17", "member.b.slot = x"), "member.b.slot is not a number"),
        Arguments.of(GOOD.replace("member.b.slot = 17", "member.b.tokenLabel = b\nmember.b.slot = 17"), "exactly one of member.b.tokenLabel"),
        Arguments.of(GOOD.replace("member.c.library = /other.so\n", ""), "member.c.library is missing"),
        Arguments.of(GOOD.replace("cluster.minReplicas = 3", "cluster.minReplicas = 4"), "cluster.cfg:3: minReplicas 4"),
        Arguments.of(GOOD.replace("round-robin", "random"), "cluster.policy must be"),
        Arguments.of(GOOD + "just words\n", "expected key = value"),
        Arguments.of(GOOD + "member.a.identity = " + FP.substring(0, 70) + "\n", "cluster.cfg:15: member.a.identity must be sha256:"),
        Arguments.of(GOOD + "member.a.identity = md5:" + FP.substring(7) + "\n", "cluster.cfg:15: member.a.identity must be sha256:"),
        Arguments.of(GOOD + "member.a.identity = " + FP.replace('0', 'g') + "\n", "cluster.cfg:15: member.a.identity must be sha256:"),
        Arguments.of(GOOD + "member.d.identity = " + FP + "\n", "d is not in cluster.members"),
        Arguments.of(GOOD + "cluster.id = has space\n", "cluster.cfg:15: cluster.id must be"),
        Arguments.of(GOOD + "cluster.id = \n", "cluster.cfg:15: cluster.id must be"));
  }

  @ParameterizedTest
  @MethodSource("badFiles")
  void badClusterFilesAreRefusedWithTheLine(String text, String message) {
    assertThatThrownBy(() -> ClusterConfigFile.parse(text, "cluster.cfg")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message).hasMessageNotContaining("123456");
  }
}
