package io.hsmkit.kms.cks;

/** CreateCustomKeyStore's response: the new store's id ({@code cks-} and 17 hex digits). */
public record CreateCustomKeyStoreResponse(String customKeyStoreId) {}
