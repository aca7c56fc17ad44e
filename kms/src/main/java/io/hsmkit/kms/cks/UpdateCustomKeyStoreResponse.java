package io.hsmkit.kms.cks;

/** UpdateCustomKeyStore's response: empty, as AWS's. */
public record UpdateCustomKeyStoreResponse() {}
