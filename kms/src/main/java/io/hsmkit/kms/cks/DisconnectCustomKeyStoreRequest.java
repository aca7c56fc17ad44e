package io.hsmkit.kms.cks;

/** DisconnectCustomKeyStore's request. */
public record DisconnectCustomKeyStoreRequest(String customKeyStoreId) {}
