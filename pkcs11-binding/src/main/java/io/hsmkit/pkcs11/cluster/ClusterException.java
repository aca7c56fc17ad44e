package io.hsmkit.pkcs11.cluster;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The cluster could not do an operation: no healthy member, every member tried failed, the retry
 * budget ran out, or a key could not reach its minimum number of replicas. Lists each member tried
 * and what it answered (function and CKR name; never data, keys or PINs).
 */
public class ClusterException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** One member's failed try. */
  public record Attempt(String member, String error) {
    @Override
    public String toString() {
      return member + ": " + error;
    }
  }

  /** Tries named in the message; {@link #attempts()} has them all. */
  static final int MAX_LISTED = 8;

  private final transient List<Attempt> attempts;

  public ClusterException(String what, List<Attempt> attempts, Throwable last) {
    super(what + (attempts.isEmpty() ? " (no member tried)"
        : " (tried " + attempts.stream().limit(MAX_LISTED).map(Attempt::toString).collect(Collectors.joining("; "))
            + (attempts.size() > MAX_LISTED ? "; and " + (attempts.size() - MAX_LISTED) + " more tries" : "") + ")"), last);
    this.attempts = List.copyOf(attempts);
  }

  /** Every try, in order. */
  public List<Attempt> attempts() {
    return attempts;
  }

  /** The names of the members tried, in order, without repeats. */
  public List<String> membersTried() {
    return attempts.stream().map(Attempt::member).distinct().toList();
  }
}
