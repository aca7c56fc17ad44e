package io.hsmkit.kms.cks;

/**
 * CreateCustomKeyStore's request, with AWS's members. {@code customKeyStoreType} null means
 * {@code AWS_CLOUDHSM}, the only type offered ({@code EXTERNAL_KEY_STORE} is refused as
 * UnsupportedOperationException). {@code keyStorePassword} is the kmsuser PIN of the cluster's
 * token (7 to 32 characters, as AWS); {@link #toString()} never shows it.
 */
public record CreateCustomKeyStoreRequest(String customKeyStoreName, String cloudHsmClusterId, String trustAnchorCertificate,
    String keyStorePassword, String customKeyStoreType) {
  @Override
  public String toString() {
    return "CreateCustomKeyStoreRequest[customKeyStoreName=" + customKeyStoreName + ", cloudHsmClusterId=" + cloudHsmClusterId
        + ", keyStorePassword=***, customKeyStoreType=" + customKeyStoreType + "]";
  }
}
