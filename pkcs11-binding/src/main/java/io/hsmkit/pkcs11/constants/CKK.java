package io.hsmkit.pkcs11.constants;

import java.util.Map;

/**
 * PKCS#11 key types ({@code CK_KEY_TYPE}, prefix {@code CKK_}) of v2.40 and v3.0.
 *
 * <p>Field names drop the {@code CKK_} prefix; {@link #name(long)} gives the full spec name back.
 */
public final class CKK {

    private CKK() {
    }

    public static final long RSA = 0x00000000L;
    public static final long DSA = 0x00000001L;
    public static final long DH = 0x00000002L;
    /** Deprecated name of {@link #EC}. */
    public static final long ECDSA = 0x00000003L;
    public static final long EC = 0x00000003L;
    public static final long X9_42_DH = 0x00000004L;
    public static final long KEA = 0x00000005L;
    public static final long GENERIC_SECRET = 0x00000010L;
    public static final long RC2 = 0x00000011L;
    public static final long RC4 = 0x00000012L;
    public static final long DES = 0x00000013L;
    public static final long DES2 = 0x00000014L;
    public static final long DES3 = 0x00000015L;
    public static final long CAST = 0x00000016L;
    public static final long CAST3 = 0x00000017L;
    /** Deprecated name of {@link #CAST128}. */
    public static final long CAST5 = 0x00000018L;
    public static final long CAST128 = 0x00000018L;
    public static final long RC5 = 0x00000019L;
    public static final long IDEA = 0x0000001AL;
    public static final long SKIPJACK = 0x0000001BL;
    public static final long BATON = 0x0000001CL;
    public static final long JUNIPER = 0x0000001DL;
    public static final long CDMF = 0x0000001EL;
    public static final long AES = 0x0000001FL;
    public static final long BLOWFISH = 0x00000020L;
    public static final long TWOFISH = 0x00000021L;
    public static final long SECURID = 0x00000022L;
    public static final long HOTP = 0x00000023L;
    public static final long ACTI = 0x00000024L;
    public static final long CAMELLIA = 0x00000025L;
    public static final long ARIA = 0x00000026L;
    public static final long MD5_HMAC = 0x00000027L;
    public static final long SHA_1_HMAC = 0x00000028L;
    public static final long RIPEMD128_HMAC = 0x00000029L;
    public static final long RIPEMD160_HMAC = 0x0000002AL;
    public static final long SHA256_HMAC = 0x0000002BL;
    public static final long SHA384_HMAC = 0x0000002CL;
    public static final long SHA512_HMAC = 0x0000002DL;
    public static final long SHA224_HMAC = 0x0000002EL;
    public static final long SEED = 0x0000002FL;
    public static final long GOSTR3410 = 0x00000030L;
    public static final long GOSTR3411 = 0x00000031L;
    public static final long GOST28147 = 0x00000032L;
    public static final long CHACHA20 = 0x00000033L;
    public static final long POLY1305 = 0x00000034L;
    public static final long AES_XTS = 0x00000035L;
    public static final long SHA3_224_HMAC = 0x00000036L;
    public static final long SHA3_256_HMAC = 0x00000037L;
    public static final long SHA3_384_HMAC = 0x00000038L;
    public static final long SHA3_512_HMAC = 0x00000039L;
    public static final long BLAKE2B_160_HMAC = 0x0000003AL;
    public static final long BLAKE2B_256_HMAC = 0x0000003BL;
    public static final long BLAKE2B_384_HMAC = 0x0000003CL;
    public static final long BLAKE2B_512_HMAC = 0x0000003DL;
    public static final long SALSA20 = 0x0000003EL;
    public static final long X2RATCHET = 0x0000003FL;
    /** v3.0 (Ed25519 / Ed448). */
    public static final long EC_EDWARDS = 0x00000040L;
    /** v3.0 (X25519 / X448). */
    public static final long EC_MONTGOMERY = 0x00000041L;
    public static final long HKDF = 0x00000042L;
    public static final long SHA512_224_HMAC = 0x00000043L;
    public static final long SHA512_256_HMAC = 0x00000044L;
    public static final long SHA512_T_HMAC = 0x00000045L;
    public static final long VENDOR_DEFINED = 0x80000000L;

    private static final Map<Long, String> NAMES = ConstantNames.build(CKK.class, "CKK",
            "CKK_EC",
            "CKK_CAST128");

    /**
     * Returns the spec name of a key type, e.g. {@code "CKK_AES"}. Unknown vendor values come back
     * as {@code "CKK_VENDOR_DEFINED+0x123"}, other unknown values as {@code "CKK_0x00000099"}.
     */
    public static String name(long value) {
        return ConstantNames.lookup(NAMES, "CKK", true, value);
    }
}
