package io.hsmkit.kms.cks;

/** ConnectCustomKeyStore's request. */
public record ConnectCustomKeyStoreRequest(String customKeyStoreId) {}
