package io.hsmkit.pkcs11.cluster;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A cluster: its members and its rules.
 *
 * @param members the tokens that make one logical HSM (names unique)
 * @param minReplicas members a new key must exist on before it is handed out (CloudHSM's rule is 2)
 * @param retryBudget how long an idempotent operation keeps trying other members
 * @param healthInterval how often DOWN members are probed
 * @param policy which healthy member takes an operation
 * @param sessionsPerMember each member's session pool cap
 * @param memberRecovery how long a member's pool tries to heal itself before the cluster moves on
 */
public record ClusterConfig(List<MemberConfig> members, int minReplicas, Duration retryBudget, Duration healthInterval,
    SelectionPolicy policy, int sessionsPerMember, Duration memberRecovery) {
  public ClusterConfig {
    members = List.copyOf(members);
    Objects.requireNonNull(policy, "policy");
    if (members.isEmpty()) {
      throw new IllegalArgumentException("a cluster needs at least one member");
    }
    Set<String> names = new HashSet<>();
    for (MemberConfig m : members) {
      if (!names.add(m.name())) {
        throw new IllegalArgumentException("member " + m.name() + " is listed twice");
      }
    }
    if (minReplicas < 1 || minReplicas > members.size()) {
      throw new IllegalArgumentException("minReplicas " + minReplicas + " must be between 1 and the " + members.size() + " members");
    }
    if (sessionsPerMember < 1) {
      throw new IllegalArgumentException("sessionsPerMember must be at least 1");
    }
  }

  /** minReplicas 2 (or 1 for one member), 10 s retry budget, 1 s health checks, least outstanding, 16 sessions, 500 ms recovery. */
  public static ClusterConfig of(List<MemberConfig> members) {
    return new ClusterConfig(members, Math.min(2, members.size()), Duration.ofSeconds(10), Duration.ofSeconds(1),
        SelectionPolicy.leastOutstanding(), 16, Duration.ofMillis(500));
  }

  public ClusterConfig withMinReplicas(int n) {
    return new ClusterConfig(members, n, retryBudget, healthInterval, policy, sessionsPerMember, memberRecovery);
  }

  public ClusterConfig withRetryBudget(Duration d) {
    return new ClusterConfig(members, minReplicas, d, healthInterval, policy, sessionsPerMember, memberRecovery);
  }

  public ClusterConfig withHealthInterval(Duration d) {
    return new ClusterConfig(members, minReplicas, retryBudget, d, policy, sessionsPerMember, memberRecovery);
  }

  public ClusterConfig withPolicy(SelectionPolicy p) {
    return new ClusterConfig(members, minReplicas, retryBudget, healthInterval, p, sessionsPerMember, memberRecovery);
  }

  public ClusterConfig withSessionsPerMember(int n) {
    return new ClusterConfig(members, minReplicas, retryBudget, healthInterval, policy, n, memberRecovery);
  }
}
