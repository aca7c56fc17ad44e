package io.hsmkit.provider;

import java.security.ProviderException;
import java.util.List;

/**
 * An operation of a provider over a cluster that no member could do: every member tried failed,
 * or none was healthy within the cluster's retry budget, or (at open) no member answered. (Multi-part
 * input is kept and sent whole over a cluster, so an operation never loses a member half-way.)
 * A ProviderException, as JCA expects for a device fault; the message and
 * {@link #membersTried()} name each member tried and its error (function and CKR name, never data,
 * keys or PINs). The cluster's own report is the cause.
 */
public final class ClusterOperationException extends ProviderException {
  private static final long serialVersionUID = 1L;

  private final List<String> membersTried;

  public ClusterOperationException(String message, List<String> membersTried, Throwable cause) {
    super(message, cause);
    this.membersTried = List.copyOf(membersTried);
  }

  /** The names of the members tried, in order, without repeats. */
  public List<String> membersTried() {
    return membersTried;
  }
}
