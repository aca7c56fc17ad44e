package io.hsmkit.kms.cks;

import java.time.Instant;

/**
 * One custom key store as DescribeCustomKeyStores shows it (AWS's CustomKeyStoresListEntry).
 * {@code connectionErrorCode} is set only when {@code connectionState} is FAILED. No PIN, sealed
 * or not, is part of it.
 */
public record CustomKeyStoresListEntry(String customKeyStoreId, String customKeyStoreName, String cloudHsmClusterId,
    String trustAnchorCertificate, ConnectionState connectionState, ConnectionErrorCode connectionErrorCode, Instant creationDate,
    String customKeyStoreType) {}
