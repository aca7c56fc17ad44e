package io.hsmkit.pkcs11.cluster;

/**
 * A member does not hold a cluster key (it missed it while down and has not synced yet, or the key
 * was deleted). The cluster tries another member; when no member holds it, this reaches the caller.
 */
public class KeyMissingException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public KeyMissingException(String message) {
    super(message);
  }
}
