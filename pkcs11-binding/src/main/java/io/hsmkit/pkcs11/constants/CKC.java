package io.hsmkit.pkcs11.constants;

import java.util.Map;

/**
 * PKCS#11 certificate types ({@code CK_CERTIFICATE_TYPE}, prefix {@code CKC_}) of v2.40 and
 * v3.0.
 *
 * <p>Field names drop the {@code CKC_} prefix; {@link #name(long)} gives the full spec name back.
 */
public final class CKC {

    private CKC() {
    }

    public static final long X_509 = 0x00000000L;
    public static final long X_509_ATTR_CERT = 0x00000001L;
    public static final long WTLS = 0x00000002L;
    public static final long VENDOR_DEFINED = 0x80000000L;

    private static final Map<Long, String> NAMES = ConstantNames.build(CKC.class, "CKC");

    /**
     * Returns the spec name of a certificate type, e.g. {@code "CKC_X_509"}; unknown values come
     * back as {@code "CKC_0x%08X"}.
     */
    public static String name(long value) {
        return ConstantNames.lookup(NAMES, "CKC", false, value);
    }
}
