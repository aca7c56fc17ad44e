package io.hsmkit.kms.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.List;

/** The AWS KMS KeyMetadata structure; component names are AWS's member names with the first letter in lower case. */
public record KeyMetadata(
    @JsonProperty("AWSAccountId") String awsAccountId,
    String keyId,
    String arn,
    Instant creationDate,
    boolean enabled,
    String description,
    String keyUsage,
    String keyState,
    Instant deletionDate,
    String origin,
    String customKeyStoreId,
    String keyManager,
    String keySpec,
    String customerMasterKeySpec,
    List<String> encryptionAlgorithms,
    List<String> signingAlgorithms,
    List<String> macAlgorithms,
    Boolean multiRegion,
    Integer pendingDeletionWindowInDays) {}
