package io.hsmkit.kms;

/**
 * One row of {@code kms_key}: the service's view of a KMS key. Package-private and immutable; the
 * API shows it as {@link io.hsmkit.kms.api.KeyMetadata}.
 */
record KeyRow(
    String keyId,
    String arn,
    String accountId,
    String description,
    String keyUsage,
    KeySpec keySpec,
    String origin,
    String customKeyStoreId,
    String state,
    long creationMs,
    Long deletionMs,
    Integer pendingWindowDays,
    int currentVersion,
    String policyJson,
    boolean rotationEnabled,
    Integer rotationPeriodDays,
    Long nextRotationMs) {

  static final String CREATING = "Creating";
  static final String DELETING = "Deleting";
  static final String ENABLED = "Enabled";
  static final String DISABLED = "Disabled";
  static final String PENDING_DELETION = "PendingDeletion";
  static final String PENDING_IMPORT = "PendingImport";
  static final String UNAVAILABLE = "Unavailable";

  /** Whether callers can see the key at all (the two internal states are invisible). */
  boolean visible() {
    return !CREATING.equals(state) && !DELETING.equals(state);
  }

  /** The token label of backing-key version {@code v}: the key ARN, with a suffix after rotation. */
  String label(int v) {
    return v == 1 ? arn : arn + "/v" + v;
  }
}
