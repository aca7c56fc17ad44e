/*
 * hsmbench.c - the C side of hsmkit's binding-vs-C benchmark.
 *
 * Build (the Maven build of jmh/ does this, into target/native/libhsmbench.so):
 *
 *   gcc -shared -fPIC -O2 -Wall -Wextra -I/usr/include/p11-kit-1 \
 *       -o libhsmbench.so hsmbench.c -ldl
 *
 * What it does
 * ------------
 * dlopen()s the same PKCS#11 library that the Java binding uses (in one process the
 * dynamic loader hands back the already loaded copy, so both sides share one library
 * instance, one C_Initialize and one login), takes its function table from
 * C_GetFunctionList, calls C_Initialize (CKF_OS_LOCKING_OK; ALREADY_INITIALIZED is fine:
 * whichever side comes first initialises, and the benchmark lets this side go first, see
 * Fixture.java), opens its OWN session, logs in (USER_ALREADY_LOGGED_IN is fine),
 * creates its OWN session keys (AES-256, a 32-byte generic secret, EC P-256, RSA-2048),
 * and then runs loops of exactly the calls that io.hsmkit.pkcs11.Session makes for
 * one operation:
 *
 *   op 0  AES-256-GCM encrypt of 1 KiB: C_EncryptInit (12-byte IV, no AAD, 128-bit tag,
 *         CK_GCM_PARAMS with ulIvBits) + one C_Encrypt into a 1040-byte buffer
 *   op 1  HMAC-SHA256 of 1 KiB:         C_SignInit(CKM_SHA256_HMAC) + one C_Sign (32-byte buffer)
 *   op 2  ECDSA P-256 sign:             C_SignInit(CKM_ECDSA) + one C_Sign of a 32-byte digest (64-byte buffer)
 *   op 3  RSA-2048 sign:                C_SignInit(CKM_RSA_PKCS) + one C_Sign of a 51-byte
 *                                       SHA-256 DigestInfo (256-byte buffer)
 *   op 4  random:                       one C_GenerateRandom of 32 bytes
 *
 * The IV is reused on every GCM call. That is fine for a benchmark with a throwaway
 * session key whose ciphertexts are discarded, and never fine anywhere else.
 *
 * Exports (everything else is hidden):
 *   int  hsmbench_setup(const char *lib, unsigned long slot, const char *pin)
 *          0, or the CK_RV (or -1 for a dlopen/dlsym failure) of the step that failed;
 *          hsmbench_last_error() names the step.
 *   long long hsmbench_run(int op, long iterations)
 *          elapsed nanoseconds (CLOCK_MONOTONIC) of `iterations` operations, or -CK_RV
 *          of the first call that failed (-CKR_ARGUMENTS_BAD for an unknown op,
 *          -CKR_CRYPTOKI_NOT_INITIALIZED before setup).
 *   int  hsmbench_shared_init(void)   1 when C_Initialize said ALREADY_INITIALIZED, i.e.
 *                                     someone in this process (the binding) got there first
 *   const char *hsmbench_last_error(void)
 *   void hsmbench_teardown(void)      closes this side's session (its session keys go with
 *                                     it). Never C_Logout or C_Finalize: the login and the
 *                                     library belong to the whole process, the binding too.
 *
 * Not thread-safe: one caller at a time, as one PKCS#11 session requires.
 */
#include <p11-kit/pkcs11.h>

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

#define DATA_LEN 1024
#define GCM_TAG_BYTES 16
#define DIGEST_INFO_LEN 51 /* 19-byte SHA-256 DigestInfo prefix + 32-byte hash */
#define RANDOM_LEN 32

static void *lib_handle;
static CK_FUNCTION_LIST_PTR f;
static CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
static int shared_init;
static CK_OBJECT_HANDLE aes_key, hmac_key, ec_priv, ec_pub, rsa_priv, rsa_pub;
static char last_error[256];

/* Inputs and preallocated outputs, sized exactly as the Java side sizes them. */
static unsigned char data[DATA_LEN];
static unsigned char digest[32];
static unsigned char digest_info[DIGEST_INFO_LEN];
static unsigned char gcm_iv[12];
static unsigned char out_gcm[DATA_LEN + GCM_TAG_BYTES];
static unsigned char out_mac[32];
static unsigned char out_ec[64];
static unsigned char out_rsa[256];
static unsigned char out_random[RANDOM_LEN];

static CK_GCM_PARAMS gcm_params;
static CK_MECHANISM mech_gcm, mech_hmac, mech_ecdsa, mech_rsa;

static const unsigned char P256_OID[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const unsigned char RSA_E[] = {0x01, 0x00, 0x01};
static const unsigned char SHA256_DIGEST_INFO_PREFIX[19] = {
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};

static int fail(const char *step, CK_RV rv) {
    snprintf(last_error, sizeof last_error, "%s failed: CKR 0x%08lx", step, (unsigned long)rv);
    return (int)rv;
}

EXPORT const char *hsmbench_last_error(void) {
    return last_error;
}

EXPORT int hsmbench_shared_init(void) {
    return shared_init;
}

static void fill_inputs(void) {
    for (int i = 0; i < DATA_LEN; i++) {
        data[i] = (unsigned char)(i * 31 + 7);
    }
    for (int i = 0; i < 32; i++) {
        digest[i] = (unsigned char)(i * 13 + 1);
    }
    for (int i = 0; i < 12; i++) {
        gcm_iv[i] = (unsigned char)(i + 1);
    }
    memcpy(digest_info, SHA256_DIGEST_INFO_PREFIX, sizeof SHA256_DIGEST_INFO_PREFIX);
    memcpy(digest_info + sizeof SHA256_DIGEST_INFO_PREFIX, digest, 32);

    gcm_params.pIv = gcm_iv;
    gcm_params.ulIvLen = sizeof gcm_iv;
    gcm_params.ulIvBits = sizeof gcm_iv * 8;
    gcm_params.pAAD = NULL; /* no AAD, as on the Java side */
    gcm_params.ulAADLen = 0;
    gcm_params.ulTagBits = GCM_TAG_BYTES * 8;
    mech_gcm.mechanism = CKM_AES_GCM;
    mech_gcm.pParameter = &gcm_params;
    mech_gcm.ulParameterLen = sizeof gcm_params;
    mech_hmac.mechanism = CKM_SHA256_HMAC;
    mech_ecdsa.mechanism = CKM_ECDSA;
    mech_rsa.mechanism = CKM_RSA_PKCS;
}

static CK_RV make_keys(void) {
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_OBJECT_CLASS secret = CKO_SECRET_KEY;
    CK_KEY_TYPE aes = CKK_AES, generic = CKK_GENERIC_SECRET;
    CK_ULONG len32 = 32, bits = 2048;
    CK_RV rv;

    CK_MECHANISM gen_aes = {CKM_AES_KEY_GEN, NULL, 0};
    CK_ATTRIBUTE aes_t[] = {
        {CKA_CLASS, &secret, sizeof secret},   {CKA_KEY_TYPE, &aes, sizeof aes},
        {CKA_TOKEN, &no, sizeof no},           {CKA_VALUE_LEN, &len32, sizeof len32},
        {CKA_ENCRYPT, &yes, sizeof yes},       {CKA_SENSITIVE, &yes, sizeof yes},
        {CKA_EXTRACTABLE, &no, sizeof no},
    };
    if ((rv = f->C_GenerateKey(session, &gen_aes, aes_t, sizeof aes_t / sizeof aes_t[0], &aes_key)) != CKR_OK) {
        return fail("C_GenerateKey(AES-256)", rv);
    }

    CK_MECHANISM gen_generic = {CKM_GENERIC_SECRET_KEY_GEN, NULL, 0};
    CK_ATTRIBUTE hmac_t[] = {
        {CKA_CLASS, &secret, sizeof secret},   {CKA_KEY_TYPE, &generic, sizeof generic},
        {CKA_TOKEN, &no, sizeof no},           {CKA_VALUE_LEN, &len32, sizeof len32},
        {CKA_SIGN, &yes, sizeof yes},          {CKA_SENSITIVE, &yes, sizeof yes},
        {CKA_EXTRACTABLE, &no, sizeof no},
    };
    if ((rv = f->C_GenerateKey(session, &gen_generic, hmac_t, sizeof hmac_t / sizeof hmac_t[0], &hmac_key)) != CKR_OK) {
        return fail("C_GenerateKey(generic secret)", rv);
    }

    CK_MECHANISM gen_ec = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE ec_pub_t[] = {
        {CKA_TOKEN, &no, sizeof no},
        {CKA_EC_PARAMS, (void *)P256_OID, sizeof P256_OID},
        {CKA_VERIFY, &yes, sizeof yes},
    };
    CK_ATTRIBUTE ec_priv_t[] = {
        {CKA_TOKEN, &no, sizeof no},     {CKA_PRIVATE, &yes, sizeof yes},
        {CKA_SIGN, &yes, sizeof yes},    {CKA_SENSITIVE, &yes, sizeof yes},
    };
    if ((rv = f->C_GenerateKeyPair(session, &gen_ec, ec_pub_t, 3, ec_priv_t, 4, &ec_pub, &ec_priv)) != CKR_OK) {
        return fail("C_GenerateKeyPair(EC P-256)", rv);
    }

    CK_MECHANISM gen_rsa = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE rsa_pub_t[] = {
        {CKA_TOKEN, &no, sizeof no},
        {CKA_MODULUS_BITS, &bits, sizeof bits},
        {CKA_PUBLIC_EXPONENT, (void *)RSA_E, sizeof RSA_E},
        {CKA_VERIFY, &yes, sizeof yes},
    };
    CK_ATTRIBUTE rsa_priv_t[] = {
        {CKA_TOKEN, &no, sizeof no},     {CKA_PRIVATE, &yes, sizeof yes},
        {CKA_SIGN, &yes, sizeof yes},    {CKA_SENSITIVE, &yes, sizeof yes},
    };
    if ((rv = f->C_GenerateKeyPair(session, &gen_rsa, rsa_pub_t, 4, rsa_priv_t, 4, &rsa_pub, &rsa_priv)) != CKR_OK) {
        return fail("C_GenerateKeyPair(RSA-2048)", rv);
    }
    return CKR_OK;
}

EXPORT void hsmbench_teardown(void) {
    if (f != NULL && session != CK_INVALID_HANDLE) {
        f->C_CloseSession(session); /* destroys this side's session keys */
    }
    session = CK_INVALID_HANDLE;
    f = NULL;
    if (lib_handle != NULL) {
        dlclose(lib_handle); /* only drops our reference: the binding keeps the library loaded */
        lib_handle = NULL;
    }
}

EXPORT int hsmbench_setup(const char *lib, unsigned long slot, const char *pin) {
    CK_RV rv;
    hsmbench_teardown();
    last_error[0] = 0;
    fill_inputs();

    lib_handle = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (lib_handle == NULL) {
        snprintf(last_error, sizeof last_error, "dlopen(%s): %s", lib, dlerror());
        return -1;
    }
    CK_C_GetFunctionList get_list = (CK_C_GetFunctionList)dlsym(lib_handle, "C_GetFunctionList");
    if (get_list == NULL) {
        snprintf(last_error, sizeof last_error, "%s exports no C_GetFunctionList", lib);
        dlclose(lib_handle);
        lib_handle = NULL;
        return -1;
    }
    if ((rv = get_list(&f)) != CKR_OK || f == NULL) {
        int r = fail("C_GetFunctionList", rv == CKR_OK ? CKR_GENERAL_ERROR : rv);
        hsmbench_teardown();
        return r;
    }

    CK_C_INITIALIZE_ARGS init_args;
    memset(&init_args, 0, sizeof init_args);
    init_args.flags = CKF_OS_LOCKING_OK;
    rv = f->C_Initialize(&init_args);
    if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        shared_init = 1;
    } else if (rv == CKR_OK) {
        shared_init = 0;
    } else {
        int r = fail("C_Initialize", rv);
        hsmbench_teardown();
        return r;
    }

    if ((rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session)) != CKR_OK) {
        int r = fail("C_OpenSession", rv);
        session = CK_INVALID_HANDLE;
        hsmbench_teardown();
        return r;
    }
    rv = f->C_Login(session, CKU_USER, (unsigned char *)pin, strlen(pin));
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
        int r = fail("C_Login", rv);
        hsmbench_teardown();
        return r;
    }
    if ((rv = make_keys()) != CKR_OK) {
        hsmbench_teardown();
        return (int)rv;
    }
    return 0;
}

static long long elapsed_ns(const struct timespec *a, const struct timespec *b) {
    return (long long)(b->tv_sec - a->tv_sec) * 1000000000LL + (b->tv_nsec - a->tv_nsec);
}

EXPORT long long hsmbench_run(int op, long iterations) {
    if (f == NULL || session == CK_INVALID_HANDLE) {
        return -(long long)CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    if (op < 0 || op > 4 || iterations < 0) {
        return -(long long)CKR_ARGUMENTS_BAD;
    }
    /* The function pointers are read once, as a compiler would hoist them anyway. */
    CK_FUNCTION_LIST_PTR fl = f;
    CK_SESSION_HANDLE s = session;
    CK_ULONG out_len;
    CK_RV rv;
    struct timespec t0, t1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    switch (op) {
    case 0:
        for (long i = 0; i < iterations; i++) {
            if ((rv = fl->C_EncryptInit(s, &mech_gcm, aes_key)) != CKR_OK) return -(long long)rv;
            out_len = sizeof out_gcm;
            if ((rv = fl->C_Encrypt(s, data, DATA_LEN, out_gcm, &out_len)) != CKR_OK) return -(long long)rv;
        }
        break;
    case 1:
        for (long i = 0; i < iterations; i++) {
            if ((rv = fl->C_SignInit(s, &mech_hmac, hmac_key)) != CKR_OK) return -(long long)rv;
            out_len = sizeof out_mac;
            if ((rv = fl->C_Sign(s, data, DATA_LEN, out_mac, &out_len)) != CKR_OK) return -(long long)rv;
        }
        break;
    case 2:
        for (long i = 0; i < iterations; i++) {
            if ((rv = fl->C_SignInit(s, &mech_ecdsa, ec_priv)) != CKR_OK) return -(long long)rv;
            out_len = sizeof out_ec;
            if ((rv = fl->C_Sign(s, digest, sizeof digest, out_ec, &out_len)) != CKR_OK) return -(long long)rv;
        }
        break;
    case 3:
        for (long i = 0; i < iterations; i++) {
            if ((rv = fl->C_SignInit(s, &mech_rsa, rsa_priv)) != CKR_OK) return -(long long)rv;
            out_len = sizeof out_rsa;
            if ((rv = fl->C_Sign(s, digest_info, DIGEST_INFO_LEN, out_rsa, &out_len)) != CKR_OK) return -(long long)rv;
        }
        break;
    case 4:
        for (long i = 0; i < iterations; i++) {
            if ((rv = fl->C_GenerateRandom(s, out_random, RANDOM_LEN)) != CKR_OK) return -(long long)rv;
        }
        break;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return elapsed_ns(&t0, &t1);
}
