package io.hsmkit.kms;

/**
 * The errors of the KMS service, named exactly as AWS KMS names them in {@code __type}, with the
 * HTTP status AWS returns for each. The endpoint maps a {@link KmsException} to the wire by these
 * two fields alone, so a new error is one new constant here.
 */
public enum KmsError {
  ACCESS_DENIED("AccessDeniedException", 400),
  ALREADY_EXISTS("AlreadyExistsException", 400),
  CLOUDHSM_CLUSTER_IN_USE("CloudHsmClusterInUseException", 400),
  CLOUDHSM_CLUSTER_INVALID_CONFIGURATION("CloudHsmClusterInvalidConfigurationException", 400),
  CLOUDHSM_CLUSTER_NOT_ACTIVE("CloudHsmClusterNotActiveException", 400),
  CLOUDHSM_CLUSTER_NOT_FOUND("CloudHsmClusterNotFoundException", 400),
  CUSTOM_KEY_STORE_HAS_CMKS("CustomKeyStoreHasCMKsException", 400),
  CUSTOM_KEY_STORE_INVALID_STATE("CustomKeyStoreInvalidStateException", 400),
  CUSTOM_KEY_STORE_NAME_IN_USE("CustomKeyStoreNameInUseException", 400),
  CUSTOM_KEY_STORE_NOT_FOUND("CustomKeyStoreNotFoundException", 400),
  DEPENDENCY_TIMEOUT("DependencyTimeoutException", 503),
  DISABLED("DisabledException", 400),
  DRY_RUN_OPERATION("DryRunOperationException", 412),
  EXPIRED_IMPORT_TOKEN("ExpiredImportTokenException", 400),
  INCORRECT_KEY("IncorrectKeyException", 400),
  INCORRECT_KEY_MATERIAL("IncorrectKeyMaterialException", 400),
  INCORRECT_TRUST_ANCHOR("IncorrectTrustAnchorException", 400),
  INVALID_ALIAS_NAME("InvalidAliasNameException", 400),
  INVALID_ARN("InvalidArnException", 400),
  INVALID_CIPHERTEXT("InvalidCiphertextException", 400),
  INVALID_GRANT_ID("InvalidGrantIdException", 400),
  INVALID_GRANT_TOKEN("InvalidGrantTokenException", 400),
  INVALID_IMPORT_TOKEN("InvalidImportTokenException", 400),
  INVALID_KEY_USAGE("InvalidKeyUsageException", 400),
  INVALID_MARKER("InvalidMarkerException", 400),
  KEY_UNAVAILABLE("KeyUnavailableException", 500),
  KMS_INTERNAL("KMSInternalException", 500),
  KMS_INVALID_MAC("KMSInvalidMacException", 400),
  KMS_INVALID_SIGNATURE("KMSInvalidSignatureException", 400),
  KMS_INVALID_STATE("KMSInvalidStateException", 400),
  LIMIT_EXCEEDED("LimitExceededException", 400),
  MALFORMED_POLICY_DOCUMENT("MalformedPolicyDocumentException", 400),
  NOT_AUTHORIZED("NotAuthorizedException", 400),
  NOT_FOUND("NotFoundException", 400),
  TAG("TagException", 400),
  UNSUPPORTED_OPERATION("UnsupportedOperationException", 400),
  VALIDATION("ValidationException", 400),
  // Errors of the wire and of SigV4 (common to all AWS JSON services).
  INVALID_SIGNATURE("InvalidSignatureException", 400),
  INCOMPLETE_SIGNATURE("IncompleteSignatureException", 400),
  UNRECOGNIZED_CLIENT("UnrecognizedClientException", 400),
  MISSING_AUTHENTICATION_TOKEN("MissingAuthenticationTokenException", 400),
  SERIALIZATION("SerializationException", 400),
  UNKNOWN_OPERATION("UnknownOperationException", 400),
  REQUEST_ENTITY_TOO_LARGE("RequestEntityTooLargeException", 413),
  THROTTLING("ThrottlingException", 400);

  private final String awsName;
  private final int httpStatus;

  KmsError(String awsName, int httpStatus) {
    this.awsName = awsName;
    this.httpStatus = httpStatus;
  }

  /** The name AWS puts in {@code __type}. */
  public String awsName() {
    return awsName;
  }

  public int httpStatus() {
    return httpStatus;
  }

  /** Whether AWS SDKs retry this error (5xx of the service). */
  public boolean retryable() {
    return httpStatus >= 500;
  }
}
