package io.hsmkit.pkcs11.constants;

import java.util.Map;

/**
 * PKCS#11 object classes ({@code CK_OBJECT_CLASS}, prefix {@code CKO_}) of v2.40 and v3.0.
 *
 * <p>Field names drop the {@code CKO_} prefix; {@link #name(long)} gives the full spec name back.
 */
public final class CKO {

    private CKO() {
    }

    public static final long DATA = 0x00000000L;
    public static final long CERTIFICATE = 0x00000001L;
    public static final long PUBLIC_KEY = 0x00000002L;
    public static final long PRIVATE_KEY = 0x00000003L;
    public static final long SECRET_KEY = 0x00000004L;
    public static final long HW_FEATURE = 0x00000005L;
    public static final long DOMAIN_PARAMETERS = 0x00000006L;
    public static final long MECHANISM = 0x00000007L;
    public static final long OTP_KEY = 0x00000008L;
    /** v3.0. */
    public static final long PROFILE = 0x00000009L;
    public static final long VENDOR_DEFINED = 0x80000000L;

    private static final Map<Long, String> NAMES = ConstantNames.build(CKO.class, "CKO");

    /**
     * Returns the spec name of an object class, e.g. {@code "CKO_SECRET_KEY"}. Unknown vendor
     * values come back as {@code "CKO_VENDOR_DEFINED+0x123"}, other unknown values as
     * {@code "CKO_0x00000099"}.
     */
    public static String name(long value) {
        return ConstantNames.lookup(NAMES, "CKO", true, value);
    }
}
