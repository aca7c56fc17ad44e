package io.hsmkit.pkcs11.raw;

/** CK_INFO: what C_GetInfo says about the library. Strings are trimmed of their blank padding. */
public record Info(Version cryptokiVersion, String manufacturerId, long flags, String libraryDescription, Version libraryVersion) {}
