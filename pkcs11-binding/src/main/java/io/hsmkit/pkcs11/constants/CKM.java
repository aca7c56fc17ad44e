package io.hsmkit.pkcs11.constants;

import java.util.Map;

/**
 * PKCS#11 mechanism types ({@code CK_MECHANISM_TYPE}, prefix {@code CKM_}) of v2.40 and v3.0.
 *
 * <p>Field names drop the {@code CKM_} prefix; {@link #name(long)} gives the full spec name back.
 * Where the specification keeps an older spelling next to the current one (CAST5 and CAST128,
 * ECDSA_KEY_PAIR_GEN and EC_KEY_PAIR_GEN, the SHA-3 {@code _KEY_DERIVE} and
 * {@code _KEY_DERIVATION} names, ...) both are present with the same value and
 * {@link #name(long)} reports the current one.
 */
public final class CKM {

    private CKM() {
    }

    public static final long RSA_PKCS_KEY_PAIR_GEN = 0x00000000L;
    public static final long RSA_PKCS = 0x00000001L;
    public static final long RSA_9796 = 0x00000002L;
    public static final long RSA_X_509 = 0x00000003L;
    public static final long MD2_RSA_PKCS = 0x00000004L;
    public static final long MD5_RSA_PKCS = 0x00000005L;
    public static final long SHA1_RSA_PKCS = 0x00000006L;
    public static final long RIPEMD128_RSA_PKCS = 0x00000007L;
    public static final long RIPEMD160_RSA_PKCS = 0x00000008L;
    public static final long RSA_PKCS_OAEP = 0x00000009L;
    public static final long RSA_X9_31_KEY_PAIR_GEN = 0x0000000AL;
    public static final long RSA_X9_31 = 0x0000000BL;
    public static final long SHA1_RSA_X9_31 = 0x0000000CL;
    public static final long RSA_PKCS_PSS = 0x0000000DL;
    public static final long SHA1_RSA_PKCS_PSS = 0x0000000EL;
    public static final long DSA_KEY_PAIR_GEN = 0x00000010L;
    public static final long DSA = 0x00000011L;
    public static final long DSA_SHA1 = 0x00000012L;
    public static final long DSA_SHA224 = 0x00000013L;
    public static final long DSA_SHA256 = 0x00000014L;
    public static final long DSA_SHA384 = 0x00000015L;
    public static final long DSA_SHA512 = 0x00000016L;
    public static final long DSA_SHA3_224 = 0x00000018L;
    public static final long DSA_SHA3_256 = 0x00000019L;
    public static final long DSA_SHA3_384 = 0x0000001AL;
    public static final long DSA_SHA3_512 = 0x0000001BL;
    public static final long DH_PKCS_KEY_PAIR_GEN = 0x00000020L;
    public static final long DH_PKCS_DERIVE = 0x00000021L;
    public static final long X9_42_DH_KEY_PAIR_GEN = 0x00000030L;
    public static final long X9_42_DH_DERIVE = 0x00000031L;
    public static final long X9_42_DH_HYBRID_DERIVE = 0x00000032L;
    public static final long X9_42_MQV_DERIVE = 0x00000033L;
    public static final long SHA256_RSA_PKCS = 0x00000040L;
    public static final long SHA384_RSA_PKCS = 0x00000041L;
    public static final long SHA512_RSA_PKCS = 0x00000042L;
    public static final long SHA256_RSA_PKCS_PSS = 0x00000043L;
    public static final long SHA384_RSA_PKCS_PSS = 0x00000044L;
    public static final long SHA512_RSA_PKCS_PSS = 0x00000045L;
    public static final long SHA224_RSA_PKCS = 0x00000046L;
    public static final long SHA224_RSA_PKCS_PSS = 0x00000047L;
    public static final long SHA512_224 = 0x00000048L;
    public static final long SHA512_224_HMAC = 0x00000049L;
    public static final long SHA512_224_HMAC_GENERAL = 0x0000004AL;
    public static final long SHA512_224_KEY_DERIVATION = 0x0000004BL;
    public static final long SHA512_256 = 0x0000004CL;
    public static final long SHA512_256_HMAC = 0x0000004DL;
    public static final long SHA512_256_HMAC_GENERAL = 0x0000004EL;
    public static final long SHA512_256_KEY_DERIVATION = 0x0000004FL;
    public static final long SHA512_T = 0x00000050L;
    public static final long SHA512_T_HMAC = 0x00000051L;
    public static final long SHA512_T_HMAC_GENERAL = 0x00000052L;
    public static final long SHA512_T_KEY_DERIVATION = 0x00000053L;
    public static final long SHA3_256_RSA_PKCS = 0x00000060L;
    public static final long SHA3_384_RSA_PKCS = 0x00000061L;
    public static final long SHA3_512_RSA_PKCS = 0x00000062L;
    public static final long SHA3_256_RSA_PKCS_PSS = 0x00000063L;
    public static final long SHA3_384_RSA_PKCS_PSS = 0x00000064L;
    public static final long SHA3_512_RSA_PKCS_PSS = 0x00000065L;
    public static final long SHA3_224_RSA_PKCS = 0x00000066L;
    public static final long SHA3_224_RSA_PKCS_PSS = 0x00000067L;
    public static final long RC2_KEY_GEN = 0x00000100L;
    public static final long RC2_ECB = 0x00000101L;
    public static final long RC2_CBC = 0x00000102L;
    public static final long RC2_MAC = 0x00000103L;
    public static final long RC2_MAC_GENERAL = 0x00000104L;
    public static final long RC2_CBC_PAD = 0x00000105L;
    public static final long RC4_KEY_GEN = 0x00000110L;
    public static final long RC4 = 0x00000111L;
    public static final long DES_KEY_GEN = 0x00000120L;
    public static final long DES_ECB = 0x00000121L;
    public static final long DES_CBC = 0x00000122L;
    public static final long DES_MAC = 0x00000123L;
    public static final long DES_MAC_GENERAL = 0x00000124L;
    public static final long DES_CBC_PAD = 0x00000125L;
    public static final long DES2_KEY_GEN = 0x00000130L;
    public static final long DES3_KEY_GEN = 0x00000131L;
    public static final long DES3_ECB = 0x00000132L;
    public static final long DES3_CBC = 0x00000133L;
    public static final long DES3_MAC = 0x00000134L;
    public static final long DES3_MAC_GENERAL = 0x00000135L;
    public static final long DES3_CBC_PAD = 0x00000136L;
    public static final long DES3_CMAC_GENERAL = 0x00000137L;
    public static final long DES3_CMAC = 0x00000138L;
    public static final long CDMF_KEY_GEN = 0x00000140L;
    public static final long CDMF_ECB = 0x00000141L;
    public static final long CDMF_CBC = 0x00000142L;
    public static final long CDMF_MAC = 0x00000143L;
    public static final long CDMF_MAC_GENERAL = 0x00000144L;
    public static final long CDMF_CBC_PAD = 0x00000145L;
    public static final long DES_OFB64 = 0x00000150L;
    public static final long DES_OFB8 = 0x00000151L;
    public static final long DES_CFB64 = 0x00000152L;
    public static final long DES_CFB8 = 0x00000153L;
    public static final long MD2 = 0x00000200L;
    public static final long MD2_HMAC = 0x00000201L;
    public static final long MD2_HMAC_GENERAL = 0x00000202L;
    public static final long MD5 = 0x00000210L;
    public static final long MD5_HMAC = 0x00000211L;
    public static final long MD5_HMAC_GENERAL = 0x00000212L;
    public static final long SHA_1 = 0x00000220L;
    public static final long SHA_1_HMAC = 0x00000221L;
    public static final long SHA_1_HMAC_GENERAL = 0x00000222L;
    public static final long RIPEMD128 = 0x00000230L;
    public static final long RIPEMD128_HMAC = 0x00000231L;
    public static final long RIPEMD128_HMAC_GENERAL = 0x00000232L;
    public static final long RIPEMD160 = 0x00000240L;
    public static final long RIPEMD160_HMAC = 0x00000241L;
    public static final long RIPEMD160_HMAC_GENERAL = 0x00000242L;
    public static final long SHA256 = 0x00000250L;
    public static final long SHA256_HMAC = 0x00000251L;
    public static final long SHA256_HMAC_GENERAL = 0x00000252L;
    public static final long SHA224 = 0x00000255L;
    public static final long SHA224_HMAC = 0x00000256L;
    public static final long SHA224_HMAC_GENERAL = 0x00000257L;
    public static final long SHA384 = 0x00000260L;
    public static final long SHA384_HMAC = 0x00000261L;
    public static final long SHA384_HMAC_GENERAL = 0x00000262L;
    public static final long SHA512 = 0x00000270L;
    public static final long SHA512_HMAC = 0x00000271L;
    public static final long SHA512_HMAC_GENERAL = 0x00000272L;
    public static final long SECURID_KEY_GEN = 0x00000280L;
    public static final long SECURID = 0x00000282L;
    public static final long HOTP_KEY_GEN = 0x00000290L;
    public static final long HOTP = 0x00000291L;
    public static final long ACTI = 0x000002A0L;
    public static final long ACTI_KEY_GEN = 0x000002A1L;
    public static final long SHA3_256 = 0x000002B0L;
    public static final long SHA3_256_HMAC = 0x000002B1L;
    public static final long SHA3_256_HMAC_GENERAL = 0x000002B2L;
    public static final long SHA3_256_KEY_GEN = 0x000002B3L;
    public static final long SHA3_224 = 0x000002B5L;
    public static final long SHA3_224_HMAC = 0x000002B6L;
    public static final long SHA3_224_HMAC_GENERAL = 0x000002B7L;
    public static final long SHA3_224_KEY_GEN = 0x000002B8L;
    public static final long SHA3_384 = 0x000002C0L;
    public static final long SHA3_384_HMAC = 0x000002C1L;
    public static final long SHA3_384_HMAC_GENERAL = 0x000002C2L;
    public static final long SHA3_384_KEY_GEN = 0x000002C3L;
    public static final long SHA3_512 = 0x000002D0L;
    public static final long SHA3_512_HMAC = 0x000002D1L;
    public static final long SHA3_512_HMAC_GENERAL = 0x000002D2L;
    public static final long SHA3_512_KEY_GEN = 0x000002D3L;
    public static final long CAST_KEY_GEN = 0x00000300L;
    public static final long CAST_ECB = 0x00000301L;
    public static final long CAST_CBC = 0x00000302L;
    public static final long CAST_MAC = 0x00000303L;
    public static final long CAST_MAC_GENERAL = 0x00000304L;
    public static final long CAST_CBC_PAD = 0x00000305L;
    public static final long CAST3_KEY_GEN = 0x00000310L;
    public static final long CAST3_ECB = 0x00000311L;
    public static final long CAST3_CBC = 0x00000312L;
    public static final long CAST3_MAC = 0x00000313L;
    public static final long CAST3_MAC_GENERAL = 0x00000314L;
    public static final long CAST3_CBC_PAD = 0x00000315L;
    /** Older name of {@link #CAST128_KEY_GEN}. */
    public static final long CAST5_KEY_GEN = 0x00000320L;
    public static final long CAST128_KEY_GEN = 0x00000320L;
    /** Older name of {@link #CAST128_ECB}. */
    public static final long CAST5_ECB = 0x00000321L;
    public static final long CAST128_ECB = 0x00000321L;
    /** Deprecated name of {@link #CAST128_CBC}. */
    public static final long CAST5_CBC = 0x00000322L;
    public static final long CAST128_CBC = 0x00000322L;
    /** Deprecated name of {@link #CAST128_MAC}. */
    public static final long CAST5_MAC = 0x00000323L;
    public static final long CAST128_MAC = 0x00000323L;
    /** Deprecated name of {@link #CAST128_MAC_GENERAL}. */
    public static final long CAST5_MAC_GENERAL = 0x00000324L;
    public static final long CAST128_MAC_GENERAL = 0x00000324L;
    /** Deprecated name of {@link #CAST128_CBC_PAD}. */
    public static final long CAST5_CBC_PAD = 0x00000325L;
    public static final long CAST128_CBC_PAD = 0x00000325L;
    public static final long RC5_KEY_GEN = 0x00000330L;
    public static final long RC5_ECB = 0x00000331L;
    public static final long RC5_CBC = 0x00000332L;
    public static final long RC5_MAC = 0x00000333L;
    public static final long RC5_MAC_GENERAL = 0x00000334L;
    public static final long RC5_CBC_PAD = 0x00000335L;
    public static final long IDEA_KEY_GEN = 0x00000340L;
    public static final long IDEA_ECB = 0x00000341L;
    public static final long IDEA_CBC = 0x00000342L;
    public static final long IDEA_MAC = 0x00000343L;
    public static final long IDEA_MAC_GENERAL = 0x00000344L;
    public static final long IDEA_CBC_PAD = 0x00000345L;
    public static final long GENERIC_SECRET_KEY_GEN = 0x00000350L;
    public static final long CONCATENATE_BASE_AND_KEY = 0x00000360L;
    public static final long CONCATENATE_BASE_AND_DATA = 0x00000362L;
    public static final long CONCATENATE_DATA_AND_BASE = 0x00000363L;
    public static final long XOR_BASE_AND_DATA = 0x00000364L;
    public static final long EXTRACT_KEY_FROM_KEY = 0x00000365L;
    public static final long SSL3_PRE_MASTER_KEY_GEN = 0x00000370L;
    public static final long SSL3_MASTER_KEY_DERIVE = 0x00000371L;
    public static final long SSL3_KEY_AND_MAC_DERIVE = 0x00000372L;
    public static final long SSL3_MASTER_KEY_DERIVE_DH = 0x00000373L;
    public static final long TLS_PRE_MASTER_KEY_GEN = 0x00000374L;
    public static final long TLS_MASTER_KEY_DERIVE = 0x00000375L;
    public static final long TLS_KEY_AND_MAC_DERIVE = 0x00000376L;
    public static final long TLS_MASTER_KEY_DERIVE_DH = 0x00000377L;
    public static final long TLS_PRF = 0x00000378L;
    public static final long SSL3_MD5_MAC = 0x00000380L;
    public static final long SSL3_SHA1_MAC = 0x00000381L;
    public static final long MD5_KEY_DERIVATION = 0x00000390L;
    public static final long MD2_KEY_DERIVATION = 0x00000391L;
    public static final long SHA1_KEY_DERIVATION = 0x00000392L;
    public static final long SHA256_KEY_DERIVATION = 0x00000393L;
    public static final long SHA384_KEY_DERIVATION = 0x00000394L;
    public static final long SHA512_KEY_DERIVATION = 0x00000395L;
    public static final long SHA224_KEY_DERIVATION = 0x00000396L;
    public static final long SHA3_256_KEY_DERIVATION = 0x00000397L;
    /** Name used by the original v3.0 header for {@link #SHA3_256_KEY_DERIVATION}. */
    public static final long SHA3_256_KEY_DERIVE = 0x00000397L;
    public static final long SHA3_224_KEY_DERIVATION = 0x00000398L;
    /** Name used by the original v3.0 header for {@link #SHA3_224_KEY_DERIVATION}. */
    public static final long SHA3_224_KEY_DERIVE = 0x00000398L;
    public static final long SHA3_384_KEY_DERIVATION = 0x00000399L;
    /** Name used by the original v3.0 header for {@link #SHA3_384_KEY_DERIVATION}. */
    public static final long SHA3_384_KEY_DERIVE = 0x00000399L;
    public static final long SHA3_512_KEY_DERIVATION = 0x0000039AL;
    /** Name used by the original v3.0 header for {@link #SHA3_512_KEY_DERIVATION}. */
    public static final long SHA3_512_KEY_DERIVE = 0x0000039AL;
    public static final long SHAKE_128_KEY_DERIVATION = 0x0000039BL;
    /** Name used by the original v3.0 header for {@link #SHAKE_128_KEY_DERIVATION}. */
    public static final long SHAKE_128_KEY_DERIVE = 0x0000039BL;
    public static final long SHAKE_256_KEY_DERIVATION = 0x0000039CL;
    /** Name used by the original v3.0 header for {@link #SHAKE_256_KEY_DERIVATION}. */
    public static final long SHAKE_256_KEY_DERIVE = 0x0000039CL;
    public static final long PBE_MD2_DES_CBC = 0x000003A0L;
    public static final long PBE_MD5_DES_CBC = 0x000003A1L;
    public static final long PBE_MD5_CAST_CBC = 0x000003A2L;
    public static final long PBE_MD5_CAST3_CBC = 0x000003A3L;
    /** Deprecated name of {@link #PBE_MD5_CAST128_CBC}. */
    public static final long PBE_MD5_CAST5_CBC = 0x000003A4L;
    public static final long PBE_MD5_CAST128_CBC = 0x000003A4L;
    /** Deprecated name of {@link #PBE_SHA1_CAST128_CBC}. */
    public static final long PBE_SHA1_CAST5_CBC = 0x000003A5L;
    public static final long PBE_SHA1_CAST128_CBC = 0x000003A5L;
    public static final long PBE_SHA1_RC4_128 = 0x000003A6L;
    public static final long PBE_SHA1_RC4_40 = 0x000003A7L;
    public static final long PBE_SHA1_DES3_EDE_CBC = 0x000003A8L;
    public static final long PBE_SHA1_DES2_EDE_CBC = 0x000003A9L;
    public static final long PBE_SHA1_RC2_128_CBC = 0x000003AAL;
    public static final long PBE_SHA1_RC2_40_CBC = 0x000003ABL;
    public static final long SP800_108_COUNTER_KDF = 0x000003ACL;
    public static final long SP800_108_FEEDBACK_KDF = 0x000003ADL;
    public static final long SP800_108_DOUBLE_PIPELINE_KDF = 0x000003AEL;
    public static final long PKCS5_PBKD2 = 0x000003B0L;
    public static final long PBA_SHA1_WITH_SHA1_HMAC = 0x000003C0L;
    public static final long WTLS_PRE_MASTER_KEY_GEN = 0x000003D0L;
    public static final long WTLS_MASTER_KEY_DERIVE = 0x000003D1L;
    public static final long WTLS_MASTER_KEY_DERIVE_DH_ECC = 0x000003D2L;
    public static final long WTLS_PRF = 0x000003D3L;
    public static final long WTLS_SERVER_KEY_AND_MAC_DERIVE = 0x000003D4L;
    public static final long WTLS_CLIENT_KEY_AND_MAC_DERIVE = 0x000003D5L;
    public static final long TLS10_MAC_SERVER = 0x000003D6L;
    public static final long TLS10_MAC_CLIENT = 0x000003D7L;
    public static final long TLS12_MAC = 0x000003D8L;
    public static final long TLS12_KDF = 0x000003D9L;
    public static final long TLS12_MASTER_KEY_DERIVE = 0x000003E0L;
    public static final long TLS12_KEY_AND_MAC_DERIVE = 0x000003E1L;
    public static final long TLS12_MASTER_KEY_DERIVE_DH = 0x000003E2L;
    public static final long TLS12_KEY_SAFE_DERIVE = 0x000003E3L;
    public static final long TLS_MAC = 0x000003E4L;
    public static final long TLS_KDF = 0x000003E5L;
    public static final long KEY_WRAP_LYNKS = 0x00000400L;
    public static final long KEY_WRAP_SET_OAEP = 0x00000401L;
    public static final long CMS_SIG = 0x00000500L;
    public static final long KIP_DERIVE = 0x00000510L;
    public static final long KIP_WRAP = 0x00000511L;
    public static final long KIP_MAC = 0x00000512L;
    public static final long CAMELLIA_KEY_GEN = 0x00000550L;
    public static final long CAMELLIA_ECB = 0x00000551L;
    public static final long CAMELLIA_CBC = 0x00000552L;
    public static final long CAMELLIA_MAC = 0x00000553L;
    public static final long CAMELLIA_MAC_GENERAL = 0x00000554L;
    public static final long CAMELLIA_CBC_PAD = 0x00000555L;
    public static final long CAMELLIA_ECB_ENCRYPT_DATA = 0x00000556L;
    public static final long CAMELLIA_CBC_ENCRYPT_DATA = 0x00000557L;
    public static final long CAMELLIA_CTR = 0x00000558L;
    public static final long ARIA_KEY_GEN = 0x00000560L;
    public static final long ARIA_ECB = 0x00000561L;
    public static final long ARIA_CBC = 0x00000562L;
    public static final long ARIA_MAC = 0x00000563L;
    public static final long ARIA_MAC_GENERAL = 0x00000564L;
    public static final long ARIA_CBC_PAD = 0x00000565L;
    public static final long ARIA_ECB_ENCRYPT_DATA = 0x00000566L;
    public static final long ARIA_CBC_ENCRYPT_DATA = 0x00000567L;
    public static final long SEED_KEY_GEN = 0x00000650L;
    public static final long SEED_ECB = 0x00000651L;
    public static final long SEED_CBC = 0x00000652L;
    public static final long SEED_MAC = 0x00000653L;
    public static final long SEED_MAC_GENERAL = 0x00000654L;
    public static final long SEED_CBC_PAD = 0x00000655L;
    public static final long SEED_ECB_ENCRYPT_DATA = 0x00000656L;
    public static final long SEED_CBC_ENCRYPT_DATA = 0x00000657L;
    public static final long SKIPJACK_KEY_GEN = 0x00001000L;
    public static final long SKIPJACK_ECB64 = 0x00001001L;
    public static final long SKIPJACK_CBC64 = 0x00001002L;
    public static final long SKIPJACK_OFB64 = 0x00001003L;
    public static final long SKIPJACK_CFB64 = 0x00001004L;
    public static final long SKIPJACK_CFB32 = 0x00001005L;
    public static final long SKIPJACK_CFB16 = 0x00001006L;
    public static final long SKIPJACK_CFB8 = 0x00001007L;
    public static final long SKIPJACK_WRAP = 0x00001008L;
    public static final long SKIPJACK_PRIVATE_WRAP = 0x00001009L;
    public static final long SKIPJACK_RELAYX = 0x0000100AL;
    public static final long KEA_KEY_PAIR_GEN = 0x00001010L;
    public static final long KEA_KEY_DERIVE = 0x00001011L;
    public static final long KEA_DERIVE = 0x00001012L;
    public static final long FORTEZZA_TIMESTAMP = 0x00001020L;
    public static final long BATON_KEY_GEN = 0x00001030L;
    public static final long BATON_ECB128 = 0x00001031L;
    public static final long BATON_ECB96 = 0x00001032L;
    public static final long BATON_CBC128 = 0x00001033L;
    public static final long BATON_COUNTER = 0x00001034L;
    public static final long BATON_SHUFFLE = 0x00001035L;
    public static final long BATON_WRAP = 0x00001036L;
    /** Deprecated name of {@link #EC_KEY_PAIR_GEN}. */
    public static final long ECDSA_KEY_PAIR_GEN = 0x00001040L;
    public static final long EC_KEY_PAIR_GEN = 0x00001040L;
    public static final long ECDSA = 0x00001041L;
    public static final long ECDSA_SHA1 = 0x00001042L;
    public static final long ECDSA_SHA224 = 0x00001043L;
    public static final long ECDSA_SHA256 = 0x00001044L;
    public static final long ECDSA_SHA384 = 0x00001045L;
    public static final long ECDSA_SHA512 = 0x00001046L;
    public static final long ECDSA_SHA3_224 = 0x00001047L;
    public static final long ECDSA_SHA3_256 = 0x00001048L;
    public static final long ECDSA_SHA3_384 = 0x00001049L;
    public static final long ECDSA_SHA3_512 = 0x0000104AL;
    public static final long ECDH1_DERIVE = 0x00001050L;
    public static final long ECDH1_COFACTOR_DERIVE = 0x00001051L;
    public static final long ECMQV_DERIVE = 0x00001052L;
    public static final long ECDH_AES_KEY_WRAP = 0x00001053L;
    public static final long RSA_AES_KEY_WRAP = 0x00001054L;
    /** v3.0. */
    public static final long EC_EDWARDS_KEY_PAIR_GEN = 0x00001055L;
    /** v3.0. */
    public static final long EC_MONTGOMERY_KEY_PAIR_GEN = 0x00001056L;
    /** v3.0. */
    public static final long EDDSA = 0x00001057L;
    public static final long JUNIPER_KEY_GEN = 0x00001060L;
    public static final long JUNIPER_ECB128 = 0x00001061L;
    public static final long JUNIPER_CBC128 = 0x00001062L;
    public static final long JUNIPER_COUNTER = 0x00001063L;
    public static final long JUNIPER_SHUFFLE = 0x00001064L;
    public static final long JUNIPER_WRAP = 0x00001065L;
    public static final long FASTHASH = 0x00001070L;
    public static final long AES_XTS = 0x00001071L;
    public static final long AES_XTS_KEY_GEN = 0x00001072L;
    public static final long AES_KEY_GEN = 0x00001080L;
    public static final long AES_ECB = 0x00001081L;
    public static final long AES_CBC = 0x00001082L;
    public static final long AES_MAC = 0x00001083L;
    public static final long AES_MAC_GENERAL = 0x00001084L;
    public static final long AES_CBC_PAD = 0x00001085L;
    public static final long AES_CTR = 0x00001086L;
    public static final long AES_GCM = 0x00001087L;
    public static final long AES_CCM = 0x00001088L;
    public static final long AES_CTS = 0x00001089L;
    public static final long AES_CMAC = 0x0000108AL;
    public static final long AES_CMAC_GENERAL = 0x0000108BL;
    public static final long AES_XCBC_MAC = 0x0000108CL;
    public static final long AES_XCBC_MAC_96 = 0x0000108DL;
    public static final long AES_GMAC = 0x0000108EL;
    public static final long BLOWFISH_KEY_GEN = 0x00001090L;
    public static final long BLOWFISH_CBC = 0x00001091L;
    public static final long TWOFISH_KEY_GEN = 0x00001092L;
    public static final long TWOFISH_CBC = 0x00001093L;
    public static final long BLOWFISH_CBC_PAD = 0x00001094L;
    public static final long TWOFISH_CBC_PAD = 0x00001095L;
    public static final long DES_ECB_ENCRYPT_DATA = 0x00001100L;
    public static final long DES_CBC_ENCRYPT_DATA = 0x00001101L;
    public static final long DES3_ECB_ENCRYPT_DATA = 0x00001102L;
    public static final long DES3_CBC_ENCRYPT_DATA = 0x00001103L;
    public static final long AES_ECB_ENCRYPT_DATA = 0x00001104L;
    public static final long AES_CBC_ENCRYPT_DATA = 0x00001105L;
    public static final long GOSTR3410_KEY_PAIR_GEN = 0x00001200L;
    public static final long GOSTR3410 = 0x00001201L;
    public static final long GOSTR3410_WITH_GOSTR3411 = 0x00001202L;
    public static final long GOSTR3410_KEY_WRAP = 0x00001203L;
    public static final long GOSTR3410_DERIVE = 0x00001204L;
    public static final long GOSTR3411 = 0x00001210L;
    public static final long GOSTR3411_HMAC = 0x00001211L;
    public static final long GOST28147_KEY_GEN = 0x00001220L;
    public static final long GOST28147_ECB = 0x00001221L;
    public static final long GOST28147 = 0x00001222L;
    public static final long GOST28147_MAC = 0x00001223L;
    public static final long GOST28147_KEY_WRAP = 0x00001224L;
    public static final long CHACHA20_KEY_GEN = 0x00001225L;
    public static final long CHACHA20 = 0x00001226L;
    public static final long POLY1305_KEY_GEN = 0x00001227L;
    public static final long POLY1305 = 0x00001228L;
    public static final long EC_KEY_PAIR_GEN_W_EXTRA_BITS = 0x0000140BL;
    public static final long DSA_PARAMETER_GEN = 0x00002000L;
    public static final long DH_PKCS_PARAMETER_GEN = 0x00002001L;
    public static final long X9_42_DH_PARAMETER_GEN = 0x00002002L;
    public static final long DSA_PROBABILISTIC_PARAMETER_GEN = 0x00002003L;
    /** Misspelt name used by the v2.40 and v3.0 headers for {@link #DSA_PROBABILISTIC_PARAMETER_GEN}. */
    public static final long DSA_PROBABLISTIC_PARAMETER_GEN = 0x00002003L;
    public static final long DSA_SHAWE_TAYLOR_PARAMETER_GEN = 0x00002004L;
    public static final long DSA_FIPS_G_GEN = 0x00002005L;
    public static final long AES_OFB = 0x00002104L;
    public static final long AES_CFB64 = 0x00002105L;
    public static final long AES_CFB8 = 0x00002106L;
    public static final long AES_CFB128 = 0x00002107L;
    public static final long AES_CFB1 = 0x00002108L;
    /** RFC 3394 AES key wrap. */
    public static final long AES_KEY_WRAP = 0x00002109L;
    /**
     * AES key wrap with padding, 0x210A. In v3.0 this is RFC 3394 wrapping after PKCS#7 padding,
     * and RFC 5649 has its own number, {@link #AES_KEY_WRAP_KWP} (0x210B). Some pre-3.0 tokens
     * (SoftHSMv2 among them) implement RFC 5649 under this number, so check what the token does.
     */
    public static final long AES_KEY_WRAP_PAD = 0x0000210AL;
    /**
     * v3.0: RFC 5649 AES key wrap with padding, 0x210B. This is not an alias of
     * {@link #AES_KEY_WRAP_PAD}; the two numbers differ in the specification.
     */
    public static final long AES_KEY_WRAP_KWP = 0x0000210BL;
    public static final long RSA_PKCS_TPM_1_1 = 0x00004001L;
    public static final long RSA_PKCS_OAEP_TPM_1_1 = 0x00004002L;
    public static final long SHA_1_KEY_GEN = 0x00004003L;
    public static final long SHA224_KEY_GEN = 0x00004004L;
    public static final long SHA256_KEY_GEN = 0x00004005L;
    public static final long SHA384_KEY_GEN = 0x00004006L;
    public static final long SHA512_KEY_GEN = 0x00004007L;
    public static final long SHA512_224_KEY_GEN = 0x00004008L;
    public static final long SHA512_256_KEY_GEN = 0x00004009L;
    public static final long SHA512_T_KEY_GEN = 0x0000400AL;
    public static final long NULL = 0x0000400BL;
    public static final long BLAKE2B_160 = 0x0000400CL;
    public static final long BLAKE2B_160_HMAC = 0x0000400DL;
    public static final long BLAKE2B_160_HMAC_GENERAL = 0x0000400EL;
    public static final long BLAKE2B_160_KEY_DERIVE = 0x0000400FL;
    public static final long BLAKE2B_160_KEY_GEN = 0x00004010L;
    public static final long BLAKE2B_256 = 0x00004011L;
    public static final long BLAKE2B_256_HMAC = 0x00004012L;
    public static final long BLAKE2B_256_HMAC_GENERAL = 0x00004013L;
    public static final long BLAKE2B_256_KEY_DERIVE = 0x00004014L;
    public static final long BLAKE2B_256_KEY_GEN = 0x00004015L;
    public static final long BLAKE2B_384 = 0x00004016L;
    public static final long BLAKE2B_384_HMAC = 0x00004017L;
    public static final long BLAKE2B_384_HMAC_GENERAL = 0x00004018L;
    public static final long BLAKE2B_384_KEY_DERIVE = 0x00004019L;
    public static final long BLAKE2B_384_KEY_GEN = 0x0000401AL;
    public static final long BLAKE2B_512 = 0x0000401BL;
    public static final long BLAKE2B_512_HMAC = 0x0000401CL;
    public static final long BLAKE2B_512_HMAC_GENERAL = 0x0000401DL;
    public static final long BLAKE2B_512_KEY_DERIVE = 0x0000401EL;
    public static final long BLAKE2B_512_KEY_GEN = 0x0000401FL;
    public static final long SALSA20 = 0x00004020L;
    public static final long CHACHA20_POLY1305 = 0x00004021L;
    public static final long SALSA20_POLY1305 = 0x00004022L;
    public static final long X3DH_INITIALIZE = 0x00004023L;
    public static final long X3DH_RESPOND = 0x00004024L;
    public static final long X2RATCHET_INITIALIZE = 0x00004025L;
    public static final long X2RATCHET_RESPOND = 0x00004026L;
    public static final long X2RATCHET_ENCRYPT = 0x00004027L;
    public static final long X2RATCHET_DECRYPT = 0x00004028L;
    public static final long XEDDSA = 0x00004029L;
    public static final long HKDF_DERIVE = 0x0000402AL;
    public static final long HKDF_DATA = 0x0000402BL;
    public static final long HKDF_KEY_GEN = 0x0000402CL;
    public static final long SALSA20_KEY_GEN = 0x0000402DL;
    public static final long VENDOR_DEFINED = 0x80000000L;

    private static final Map<Long, String> NAMES = ConstantNames.build(CKM.class, "CKM",
            "CKM_EC_KEY_PAIR_GEN",
            "CKM_CAST128_KEY_GEN",
            "CKM_CAST128_ECB",
            "CKM_CAST128_CBC",
            "CKM_CAST128_MAC",
            "CKM_CAST128_MAC_GENERAL",
            "CKM_CAST128_CBC_PAD",
            "CKM_PBE_MD5_CAST128_CBC",
            "CKM_PBE_SHA1_CAST128_CBC",
            "CKM_DSA_PROBABILISTIC_PARAMETER_GEN",
            "CKM_SHA3_224_KEY_DERIVATION",
            "CKM_SHA3_256_KEY_DERIVATION",
            "CKM_SHA3_384_KEY_DERIVATION",
            "CKM_SHA3_512_KEY_DERIVATION",
            "CKM_SHAKE_128_KEY_DERIVATION",
            "CKM_SHAKE_256_KEY_DERIVATION",
            "CKM_AES_KEY_WRAP_KWP");

    /**
     * Returns the spec name of a mechanism, e.g. {@code "CKM_AES_GCM"}. Unknown vendor values
     * come back as {@code "CKM_VENDOR_DEFINED+0x123"}, other unknown values as
     * {@code "CKM_0x00009999"}.
     */
    public static String name(long value) {
        return ConstantNames.lookup(NAMES, "CKM", true, value);
    }
}
