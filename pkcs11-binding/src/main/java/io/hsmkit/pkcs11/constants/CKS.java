package io.hsmkit.pkcs11.constants;

import java.util.Map;

/**
 * PKCS#11 session states ({@code CK_STATE}, prefix {@code CKS_}) as reported in
 * {@code CK_SESSION_INFO.state}.
 *
 * <p>Field names drop the {@code CKS_} prefix; {@link #name(long)} gives the full spec name back.
 */
public final class CKS {

    private CKS() {
    }

    public static final long RO_PUBLIC_SESSION = 0L;
    public static final long RO_USER_FUNCTIONS = 1L;
    public static final long RW_PUBLIC_SESSION = 2L;
    public static final long RW_USER_FUNCTIONS = 3L;
    public static final long RW_SO_FUNCTIONS = 4L;

    private static final Map<Long, String> NAMES = ConstantNames.build(CKS.class, "CKS");

    /**
     * Returns e.g. {@code "CKS_RW_USER_FUNCTIONS"}; unknown values come back as
     * {@code "CKS_0x%08X"}.
     */
    public static String name(long value) {
        return ConstantNames.lookup(NAMES, "CKS", false, value);
    }
}
