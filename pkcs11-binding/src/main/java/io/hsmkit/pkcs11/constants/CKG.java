package io.hsmkit.pkcs11.constants;

import java.util.Map;

/**
 * PKCS#11 {@code CKG_} values: mask generation functions ({@code CK_RSA_PKCS_MGF_TYPE}, used in
 * the OAEP and PSS parameters) and, from v3.0, the IV/nonce generator functions
 * ({@code CK_GENERATOR_FUNCTION}) of the message-based AEAD parameters.
 *
 * <p>Field names drop the {@code CKG_} prefix. The two families reuse the numbers 1..3;
 * {@link #name(long)} reports the MGF name for those.
 */
public final class CKG {

    private CKG() {
    }

    // Mask generation functions.
    public static final long MGF1_SHA1 = 0x00000001L;
    public static final long MGF1_SHA256 = 0x00000002L;
    public static final long MGF1_SHA384 = 0x00000003L;
    public static final long MGF1_SHA512 = 0x00000004L;
    public static final long MGF1_SHA224 = 0x00000005L;
    public static final long MGF1_SHA3_224 = 0x00000006L;
    public static final long MGF1_SHA3_256 = 0x00000007L;
    public static final long MGF1_SHA3_384 = 0x00000008L;
    public static final long MGF1_SHA3_512 = 0x00000009L;

    // Generator functions (v3.0, CK_GENERATOR_FUNCTION).
    public static final long NO_GENERATE = 0x00000000L;
    public static final long GENERATE = 0x00000001L;
    public static final long GENERATE_COUNTER = 0x00000002L;
    public static final long GENERATE_RANDOM = 0x00000003L;

    private static final Map<Long, String> NAMES = ConstantNames.build(CKG.class, "CKG",
            "CKG_MGF1_SHA1",
            "CKG_MGF1_SHA256",
            "CKG_MGF1_SHA384");

    /**
     * Returns e.g. {@code "CKG_MGF1_SHA256"}; values shared with the generator functions resolve
     * to the MGF name, unknown values come back as {@code "CKG_0x%08X"}.
     */
    public static String name(long value) {
        return ConstantNames.lookup(NAMES, "CKG", false, value);
    }
}
