package io.hsmkit.pkcs11.cluster;

/** Where a member stands: only HEALTHY members take operations. */
public enum MemberHealth {
  /** Takes operations. */
  HEALTHY,
  /** Taken out after an error meaning the device is gone; the health check probes it. */
  DOWN,
  /** Answered the health check; receiving the keys and deletions it missed before it takes work. */
  SYNCING
}
