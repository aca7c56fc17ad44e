package io.hsmkit.kms.cks;

/** DisconnectCustomKeyStore's response: empty, as AWS's. */
public record DisconnectCustomKeyStoreResponse() {}
