package io.hsmkit.kms.cks;

/** DeleteCustomKeyStore's request. */
public record DeleteCustomKeyStoreRequest(String customKeyStoreId) {}
