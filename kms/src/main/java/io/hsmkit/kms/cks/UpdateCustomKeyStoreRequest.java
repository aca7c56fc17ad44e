package io.hsmkit.kms.cks;

/**
 * UpdateCustomKeyStore's request: a store that is DISCONNECTED gets a new name, a new kmsuser
 * password (what the adapter tries at the next connect, as AWS: it tells KMS the password already
 * set on the cluster) and/or another cluster. At least one of the three. {@link #toString()}
 * never shows the password.
 */
public record UpdateCustomKeyStoreRequest(String customKeyStoreId, String newCustomKeyStoreName, String keyStorePassword,
    String cloudHsmClusterId) {
  @Override
  public String toString() {
    return "UpdateCustomKeyStoreRequest[customKeyStoreId=" + customKeyStoreId + ", newCustomKeyStoreName=" + newCustomKeyStoreName
        + ", keyStorePassword=" + (keyStorePassword == null ? "null" : "***") + ", cloudHsmClusterId=" + cloudHsmClusterId + "]";
  }
}
