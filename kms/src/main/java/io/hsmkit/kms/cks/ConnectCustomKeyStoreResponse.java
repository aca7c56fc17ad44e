package io.hsmkit.kms.cks;

/** ConnectCustomKeyStore's response: empty, as AWS's. */
public record ConnectCustomKeyStoreResponse() {}
