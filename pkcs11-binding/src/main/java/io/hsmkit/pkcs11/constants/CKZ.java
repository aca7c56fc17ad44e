package io.hsmkit.pkcs11.constants;

import java.util.Map;

/**
 * PKCS#11 {@code CKZ_} values: the OAEP encoding-parameter source
 * ({@code CK_RSA_PKCS_OAEP_SOURCE_TYPE}) and the PBKDF2 salt source
 * ({@code CK_PKCS5_PBKDF2_SALT_SOURCE_TYPE}).
 *
 * <p>Field names drop the {@code CKZ_} prefix. Both families use the value 1;
 * {@link #name(long)} reports {@code CKZ_DATA_SPECIFIED} for it.
 */
public final class CKZ {

    private CKZ() {
    }

    /** OAEP: the encoding parameter is given in {@code pSourceData}. */
    public static final long DATA_SPECIFIED = 0x00000001L;
    /** PBKDF2: the salt is given in {@code pSaltSourceData}. */
    public static final long SALT_SPECIFIED = 0x00000001L;

    private static final Map<Long, String> NAMES = ConstantNames.build(CKZ.class, "CKZ",
            "CKZ_DATA_SPECIFIED");

    /**
     * Returns {@code "CKZ_DATA_SPECIFIED"} for 1; unknown values come back as
     * {@code "CKZ_0x%08X"}.
     */
    public static String name(long value) {
        return ConstantNames.lookup(NAMES, "CKZ", false, value);
    }
}
