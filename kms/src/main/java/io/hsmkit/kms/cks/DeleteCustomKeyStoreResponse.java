package io.hsmkit.kms.cks;

/** DeleteCustomKeyStore's response: empty, as AWS's. */
public record DeleteCustomKeyStoreResponse() {}
