package io.hsmkit.kms.api;

import java.util.List;

/** AWS KMS ListKeyPolicies response; component names are AWS's member names with the first letter in lower case. */
public record ListKeyPoliciesResponse(
    List<String> policyNames,
    String nextMarker,
    boolean truncated) {}
