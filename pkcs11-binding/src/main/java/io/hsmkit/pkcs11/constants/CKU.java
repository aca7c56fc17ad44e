package io.hsmkit.pkcs11.constants;

import java.util.Map;

/**
 * PKCS#11 user types ({@code CK_USER_TYPE}, prefix {@code CKU_}) as passed to {@code C_Login}.
 *
 * <p>Field names drop the {@code CKU_} prefix; {@link #name(long)} gives the full spec name back.
 */
public final class CKU {

    private CKU() {
    }

    /** Security Officer. */
    public static final long SO = 0L;
    /** Normal user. */
    public static final long USER = 1L;
    /** Re-authentication for one operation on a key with {@code CKA_ALWAYS_AUTHENTICATE}. */
    public static final long CONTEXT_SPECIFIC = 2L;

    private static final Map<Long, String> NAMES = ConstantNames.build(CKU.class, "CKU");

    /** Returns e.g. {@code "CKU_USER"}; unknown values come back as {@code "CKU_0x%08X"}. */
    public static String name(long value) {
        return ConstantNames.lookup(NAMES, "CKU", false, value);
    }
}
