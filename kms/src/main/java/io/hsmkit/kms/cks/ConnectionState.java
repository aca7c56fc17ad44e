package io.hsmkit.kms.cks;

/**
 * The connection state of a custom key store, with AWS's names (DescribeCustomKeyStores
 * {@code ConnectionState}). Only a CONNECTED store's keys are usable; the others make its keys
 * Unavailable.
 */
public enum ConnectionState {
  CONNECTED,
  CONNECTING,
  FAILED,
  DISCONNECTED,
  DISCONNECTING
}
