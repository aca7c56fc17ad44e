package io.hsmkit.pkcs11.raw;

/** The two object handles that C_GenerateKeyPair returns. */
public record KeyPairHandles(long publicKey, long privateKey) {}
