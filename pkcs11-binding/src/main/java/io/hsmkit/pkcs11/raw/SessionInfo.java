package io.hsmkit.pkcs11.raw;

/** CK_SESSION_INFO. */
public record SessionInfo(long slotId, long state, long flags, long deviceError) {}
