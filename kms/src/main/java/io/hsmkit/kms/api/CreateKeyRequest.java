package io.hsmkit.kms.api;

import java.util.List;

/** AWS KMS CreateKey request; component names are AWS's member names with the first letter in lower case. */
public record CreateKeyRequest(
    String policy,
    String description,
    String keyUsage,
    String customerMasterKeySpec,
    String keySpec,
    String origin,
    String customKeyStoreId,
    Boolean bypassPolicyLockoutSafetyCheck,
    List<Tag> tags,
    Boolean multiRegion) {}
