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
}
