package io.hsmkit.pkcs11.cluster;

import java.util.List;

/**
 * A join was refused before any key was derived or sent: a member's identity key does not match
 * the fingerprint pinned for it, or the signature over its ephemeral ECDH point does not verify
 * (the point was swapped, or signed by another key). Names the member; never carries key bytes.
 */
public final class JoinRefusedException extends ClusterException {
  private static final long serialVersionUID = 1L;

  private final String member;

  public JoinRefusedException(String member, String reason) {
    super("join refused: member " + member + ": " + reason, List.of(new Attempt(member, reason)), null);
    this.member = member;
  }

  /** The member whose identity or signature failed. */
  public String member() {
    return member;
  }
}
