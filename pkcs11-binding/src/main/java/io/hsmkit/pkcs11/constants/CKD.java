package io.hsmkit.pkcs11.constants;

import java.util.Map;

/**
 * PKCS#11 key derivation functions ({@code CK_EC_KDF_TYPE} / {@code CK_X9_42_DH_KDF_TYPE},
 * prefix {@code CKD_}) used by the ECDH and X9.42 DH derive parameters, v2.40 and v3.0.
 *
 * <p>Field names drop the {@code CKD_} prefix; {@link #name(long)} gives the full spec name back.
 */
public final class CKD {

    private CKD() {
    }

    public static final long NULL = 0x00000001L;
    public static final long SHA1_KDF = 0x00000002L;
    public static final long SHA1_KDF_ASN1 = 0x00000003L;
    public static final long SHA1_KDF_CONCATENATE = 0x00000004L;
    public static final long SHA224_KDF = 0x00000005L;
    public static final long SHA256_KDF = 0x00000006L;
    public static final long SHA384_KDF = 0x00000007L;
    public static final long SHA512_KDF = 0x00000008L;
    public static final long CPDIVERSIFY_KDF = 0x00000009L;
    public static final long SHA3_224_KDF = 0x0000000AL;
    public static final long SHA3_256_KDF = 0x0000000BL;
    public static final long SHA3_384_KDF = 0x0000000CL;
    public static final long SHA3_512_KDF = 0x0000000DL;
    public static final long SHA1_KDF_SP800 = 0x0000000EL;
    public static final long SHA224_KDF_SP800 = 0x0000000FL;
    public static final long SHA256_KDF_SP800 = 0x00000010L;
    public static final long SHA384_KDF_SP800 = 0x00000011L;
    public static final long SHA512_KDF_SP800 = 0x00000012L;
    public static final long SHA3_224_KDF_SP800 = 0x00000013L;
    public static final long SHA3_256_KDF_SP800 = 0x00000014L;
    public static final long SHA3_384_KDF_SP800 = 0x00000015L;
    public static final long SHA3_512_KDF_SP800 = 0x00000016L;
    public static final long BLAKE2B_160_KDF = 0x00000017L;
    public static final long BLAKE2B_256_KDF = 0x00000018L;
    public static final long BLAKE2B_384_KDF = 0x00000019L;
    public static final long BLAKE2B_512_KDF = 0x0000001AL;

    private static final Map<Long, String> NAMES = ConstantNames.build(CKD.class, "CKD");

    /** Returns e.g. {@code "CKD_SHA256_KDF"}; unknown values come back as {@code "CKD_0x%08X"}. */
    public static String name(long value) {
        return ConstantNames.lookup(NAMES, "CKD", false, value);
    }
}
