/*
 * shimtest.c - stand-alone test driver for libp11shim.so against SoftHSM2
 * (not part of the Maven build).
 *
 *   gcc -shared -fPIC -O2 -Wall -Wextra -fvisibility=hidden -o libp11shim.so p11shim.c \
 *       -ldl -lpthread -I/usr/include/p11-kit-1
 *   gcc -std=c11 -O2 -Wall -Wextra -o shimtest shimtest.c -ldl -lpthread -I/usr/include/p11-kit-1
 *   ./shimtest ./libp11shim.so
 *
 * It makes a fresh SoftHSM2 token in a temporary directory (SOFTHSM2_CONF,
 * softhsm2-util --init-token --free --label shimtest), points HSMKIT_SHIM_CONTROL
 * at a file in that directory and sets HSMKIT_SHIM_RULES, then drives the real
 * library through the shim.  Exit status 0 = all checks passed.
 */
#define _GNU_SOURCE 1

#include <p11-kit/pkcs11.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CKM_SHA256
#define CKM_SHA256 0x250UL
#endif

static CK_FUNCTION_LIST_PTR f;
static long (*shim_open_sessions)(void);
static long (*shim_injected)(void);
static long (*shim_calls)(const char *);
static void (*shim_set_rules)(const char *);
static void (*shim_reset_counters)(void);

static int failures, checks;
static char g_dir[256], g_ctl[300];
static CK_SLOT_ID g_slot;
static CK_BYTE g_pin[] = "1234";

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        checks++;                                                          \
        if (cond) {                                                        \
            printf("  ok    ");                                            \
        } else {                                                           \
            failures++;                                                    \
            printf("  FAIL  (%s:%d) ", __FILE__, __LINE__);                \
        }                                                                  \
        printf(__VA_ARGS__);                                               \
        printf("\n");                                                      \
    } while (0)

#define EXPECT_RV(expr, want)                                              \
    do {                                                                   \
        CK_RV got_ = (expr);                                               \
        CHECK(got_ == (CK_RV)(want), "%-58s -> 0x%lx (want 0x%lx)", #expr, \
              (unsigned long)got_, (unsigned long)(want));                 \
    } while (0)

#define SESSIONS(n) CHECK(shim_open_sessions() == (n), "hsmkit_shim_open_sessions() == %ld (is %ld)", \
                          (long)(n), shim_open_sessions())

static void section(const char *s) { printf("\n== %s\n", s); }

static void write_control(const char *text)
{
    char tmp[320];
    snprintf(tmp, sizeof tmp, "%s.tmp", g_ctl);
    FILE *fp = fopen(tmp, "w");
    if (!fp) { perror(tmp); exit(2); }
    fputs(text, fp);
    fclose(fp);
    if (rename(tmp, g_ctl) != 0) { perror("rename"); exit(2); }
}

static void make_token(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/shimtest.XXXXXX");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); exit(2); }
    char path[400], cmd[800];
    snprintf(path, sizeof path, "%s/tokens", g_dir);
    if (mkdir(path, 0700) != 0) { perror(path); exit(2); }
    snprintf(path, sizeof path, "%s/softhsm2.conf", g_dir);
    FILE *fp = fopen(path, "w");
    if (!fp) { perror(path); exit(2); }
    fprintf(fp, "directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n", g_dir);
    fclose(fp);
    setenv("SOFTHSM2_CONF", path, 1);
    snprintf(cmd, sizeof cmd,
             "softhsm2-util --init-token --free --label shimtest --so-pin 12345678 --pin 1234 >/dev/null");
    if (system(cmd) != 0) { fprintf(stderr, "softhsm2-util failed\n"); exit(2); }
    snprintf(g_ctl, sizeof g_ctl, "%s/control", g_dir);
}

/* ------------------------------------------------------------------------- */

static CK_BBOOL T = CK_TRUE, F = CK_FALSE;
static CK_BYTE P256[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
static CK_BYTE HASH[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                           17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static CK_RV open_session(CK_SESSION_HANDLE *s)
{
    return f->C_OpenSession(g_slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, s);
}

static CK_RV gen_ec(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM m = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pt[] = {
        {CKA_EC_PARAMS, P256, sizeof P256},
        {CKA_VERIFY, &T, sizeof T},
        {CKA_TOKEN, &F, sizeof F},
    };
    CK_ATTRIBUTE kt[] = {
        {CKA_SIGN, &T, sizeof T},
        {CKA_TOKEN, &F, sizeof F},
        {CKA_PRIVATE, &T, sizeof T},
        {CKA_SENSITIVE, &T, sizeof T},
    };
    return f->C_GenerateKeyPair(s, &m, pt, 3, kt, 4, pub, priv);
}

/* SignInit + Sign; returns the C_Sign result (C_SignInit must succeed). */
static CK_RV sign(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv, CK_BYTE *sig, CK_ULONG *len)
{
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    CK_RV rv = f->C_SignInit(s, &m, priv);
    if (rv != CKR_OK)
        return 0x80000000UL | rv;     /* marks an init failure */
    return f->C_Sign(s, HASH, sizeof HASH, sig, len);
}

static CK_RV verify(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub, CK_BYTE *sig, CK_ULONG len)
{
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    CK_RV rv = f->C_VerifyInit(s, &m, pub);
    if (rv != CKR_OK)
        return rv;
    return f->C_Verify(s, HASH, sizeof HASH, sig, len);
}

static int all_zero(const CK_BYTE *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

/* ------------------------------------------------------------------------- */
/* threads                                                                    */

#define NTHREADS 8
#define NSIGN 200

struct worker {
    pthread_t t;
    CK_OBJECT_HANDLE priv;
    CK_SESSION_HANDLE s;
    int injected, ok, other;
    int mode;                   /* 0 = NSIGN signatures, 1 = loop until not initialized */
    CK_RV last;
};

static pthread_barrier_t g_bar;

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->last = open_session(&w->s);
    pthread_barrier_wait(&g_bar);       /* everyone has a session */
    pthread_barrier_wait(&g_bar);       /* main has checked the count */
    if (w->last != CKR_OK)
        return NULL;
    for (int i = 0; w->mode == 1 || i < NSIGN; i++) {
        CK_BYTE sig[64];
        CK_ULONG len = sizeof sig;
        CK_RV rv = sign(w->s, w->priv, sig, &len);
        if (rv == CKR_OK)
            w->ok++;
        else if (rv == CKR_DEVICE_ERROR)
            w->injected++;
        else {
            w->other++;
            w->last = rv;
            if (w->mode == 1 && (rv == CKR_CRYPTOKI_NOT_INITIALIZED ||
                                 rv == (0x80000000UL | CKR_CRYPTOKI_NOT_INITIALIZED)))
                break;
        }
        if (w->mode == 1 && i > 100000)
            break;
    }
    if (w->mode == 0)
        w->last = f->C_CloseSession(w->s);
    return NULL;
}

static void run_workers(struct worker *w, int mode, CK_OBJECT_HANDLE priv, long base_sessions, const char *rules_mid)
{
    pthread_barrier_init(&g_bar, NULL, NTHREADS + 1);
    for (int i = 0; i < NTHREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].priv = priv;
        w[i].mode = mode;
        pthread_create(&w[i].t, NULL, worker_main, &w[i]);
    }
    pthread_barrier_wait(&g_bar);
    SESSIONS(base_sessions + NTHREADS);
    pthread_barrier_wait(&g_bar);
    if (rules_mid) {
        usleep(50 * 1000);
        shim_set_rules(rules_mid);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(w[i].t, NULL);
    pthread_barrier_destroy(&g_bar);
}

/* ------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    const char *shim = argc > 1 ? argv[1] : "./libp11shim.so";
    setvbuf(stdout, NULL, _IOLBF, 0);

    make_token();
    printf("token dir: %s\n", g_dir);
    setenv("HSMKIT_SHIM_CONTROL", g_ctl, 1);      /* does not exist yet */
    setenv("HSMKIT_SHIM_RULES",
           "# initial rules from the environment\n"
           "C_GetInfo:rv=CKR_GENERAL_ERROR:once; C_Bogus:rv=1; C_GetInfo:rv=0x5:every=0\n"
           "C_Login:rv=CKR_NOPE", 1);

    section("loading (stderr should show 3 malformed-rule lines)");
    void *h = dlopen(shim, RTLD_NOW | RTLD_LOCAL);
    if (!h) { fprintf(stderr, "dlopen %s: %s\n", shim, dlerror()); return 2; }
    CHECK(dlsym(h, "C_Initialize") == NULL, "C_Initialize is not exported");
    CHECK(dlsym(h, "C_Sign") == NULL, "C_Sign is not exported");
    CK_C_GetFunctionList gfl;
    void *sym = dlsym(h, "C_GetFunctionList");
    memcpy(&gfl, &sym, sizeof gfl);
    CHECK(gfl != NULL, "C_GetFunctionList is exported");
    *(void **)&shim_open_sessions = dlsym(h, "hsmkit_shim_open_sessions");
    *(void **)&shim_injected = dlsym(h, "hsmkit_shim_injected");
    *(void **)&shim_calls = dlsym(h, "hsmkit_shim_calls");
    *(void **)&shim_set_rules = dlsym(h, "hsmkit_shim_set_rules");
    *(void **)&shim_reset_counters = dlsym(h, "hsmkit_shim_reset_counters");
    if (!gfl || !shim_open_sessions || !shim_injected || !shim_calls || !shim_set_rules || !shim_reset_counters) {
        fprintf(stderr, "missing exports\n");
        return 2;
    }
    EXPECT_RV(gfl(&f), CKR_OK);
    CHECK(f->version.major == 2 && f->version.minor == 40, "function list version %d.%d",
          f->version.major, f->version.minor);
    {
        int nulls = 0;
        const unsigned char *base = (const unsigned char *)&f->C_Initialize;
        for (int i = 0; i < 68; i++) {
            void *p;
            memcpy(&p, base + i * sizeof p, sizeof p);
            if (p == NULL)
                nulls++;
        }
        CHECK(nulls == 0 && sizeof *f == sizeof(CK_VERSION) + 6 /*pad*/ + 68 * sizeof(void *),
              "all 68 entries set (NULL entries: %d)", nulls);
        CK_FUNCTION_LIST_PTR f2 = NULL;
        EXPECT_RV(f->C_GetFunctionList(&f2), CKR_OK);
        CHECK(f2 == f, "table C_GetFunctionList returns the same table");
    }

    section("initialize / env rules");
    CK_C_INITIALIZE_ARGS ia = {NULL, NULL, NULL, NULL, CKF_OS_LOCKING_OK, NULL};
    EXPECT_RV(f->C_Initialize(&ia), CKR_OK);
    CK_INFO info;
    EXPECT_RV(f->C_GetInfo(&info), CKR_GENERAL_ERROR);    /* env rule, once */
    EXPECT_RV(f->C_GetInfo(&info), CKR_OK);
    CHECK(shim_injected() == 1, "injected == 1 (is %ld)", shim_injected());
    CHECK(shim_calls("C_GetInfo") == 2, "calls(C_GetInfo) == 2 (is %ld)", shim_calls("C_GetInfo"));
    CHECK(shim_calls("C_NoSuchFunction") == -1, "calls(unknown) == -1");
    EXPECT_RV(f->C_GetInfo(NULL), CKR_ARGUMENTS_BAD);      /* NULL args: just forwarded */

    CK_SLOT_ID slots[16];
    CK_ULONG n = 16;
    EXPECT_RV(f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
    CHECK(n >= 1, "%lu slot(s) with a token", (unsigned long)n);
    g_slot = slots[0];
    EXPECT_RV(f->C_GetSlotList(CK_TRUE, NULL, NULL), CKR_ARGUMENTS_BAD);

    section("open session, login, counts");
    CK_SESSION_HANDLE s1, s2;
    SESSIONS(0);
    EXPECT_RV(open_session(&s1), CKR_OK);
    SESSIONS(1);
    EXPECT_RV(f->C_Login(s1, CKU_USER, g_pin, 4), CKR_OK);
    CK_OBJECT_HANDLE pub, priv;
    EXPECT_RV(gen_ec(s1, &pub, &priv), CKR_OK);

    section("C_Sign:rv=CKR_DEVICE_ERROR:every=3 (control file)");
    write_control("C_Sign:rv=CKR_DEVICE_ERROR:every=3\n");
    shim_reset_counters();
    {
        int pattern_ok = 1, zero_ok = 1, verify_ok = 1;
        char pat[32] = {0};
        for (int i = 1; i <= 9; i++) {
            CK_BYTE sig[64];
            memset(sig, 0xAA, sizeof sig);
            CK_ULONG len = sizeof sig;
            CK_RV rv = sign(s1, priv, sig, &len);
            pat[i - 1] = rv == CKR_OK ? '.' : rv == CKR_DEVICE_ERROR ? 'X' : '?';
            if ((i % 3 == 0) != (rv == CKR_DEVICE_ERROR) || (i % 3 != 0 && rv != CKR_OK))
                pattern_ok = 0;
            if (rv == CKR_DEVICE_ERROR && !(all_zero(sig, sizeof sig) && len == sizeof sig))
                zero_ok = 0;
            if (rv == CKR_OK && verify(s1, pub, sig, len) != CKR_OK)
                verify_ok = 0;
        }
        CHECK(pattern_ok, "9 sign calls give %s (every 3rd fails; each next C_SignInit succeeds)", pat);
        CHECK(zero_ok, "failed calls leave a zeroed output buffer and *len unchanged");
        CHECK(verify_ok, "the successful signatures verify");
        CHECK(shim_injected() == 3, "injected == 3 (is %ld)", shim_injected());
        CHECK(shim_calls("C_Sign") == 9, "calls(C_Sign) == 9 (is %ld)", shim_calls("C_Sign"));
    }

    section("injected C_Sign length query / short buffer still ends the real operation");
    {
        CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
        CK_ULONG len = 0;
        write_control("");      /* no rules: show the plain SoftHSM behaviour first */
        EXPECT_RV(f->C_SignInit(s1, &m, priv), CKR_OK);
        EXPECT_RV(f->C_Sign(s1, HASH, 32, NULL, &len), CKR_OK);
        EXPECT_RV(f->C_SignInit(s1, &m, priv), CKR_OPERATION_ACTIVE);   /* real op still active */
        CK_BYTE sig[64];
        len = sizeof sig;
        EXPECT_RV(f->C_Sign(s1, HASH, 32, sig, &len), CKR_OK);

        write_control("C_Sign:rv=CKR_DEVICE_ERROR:count=2");
        EXPECT_RV(f->C_SignInit(s1, &m, priv), CKR_OK);
        len = 0;
        EXPECT_RV(f->C_Sign(s1, HASH, 32, NULL, &len), CKR_DEVICE_ERROR);
        EXPECT_RV(f->C_SignInit(s1, &m, priv), CKR_OK);               /* ended by the shim */
        len = 8;
        EXPECT_RV(f->C_Sign(s1, HASH, 32, sig, &len), CKR_DEVICE_ERROR);  /* too small */
        EXPECT_RV(f->C_SignInit(s1, &m, priv), CKR_OK);
        len = sizeof sig;
        EXPECT_RV(f->C_Sign(s1, HASH, 32, sig, &len), CKR_OK);         /* count=2 used up */
    }

    section("multi-part: injected update / final end the real operation");
    {
        CK_MECHANISM gm = {CKM_GENERIC_SECRET_KEY_GEN, NULL, 0};
        CK_MECHANISM m = {CKM_SHA256_HMAC, NULL, 0};
        CK_MECHANISM dm = {CKM_SHA256, NULL, 0};
        CK_ULONG klen = 32;
        CK_ATTRIBUTE kt[] = {
            {CKA_VALUE_LEN, &klen, sizeof klen},
            {CKA_SIGN, &T, sizeof T},
            {CKA_VERIFY, &T, sizeof T},
            {CKA_TOKEN, &F, sizeof F},
        };
        CK_OBJECT_HANDLE mk;
        CK_BYTE mac[32], dg[32];
        CK_ULONG len;
        EXPECT_RV(f->C_GenerateKey(s1, &gm, kt, 4, &mk), CKR_OK);
        /* plain SoftHSM: a second C_*Init while an operation is active fails */
        EXPECT_RV(f->C_VerifyInit(s1, &m, mk), CKR_OK);
        EXPECT_RV(f->C_VerifyInit(s1, &m, mk), CKR_OPERATION_ACTIVE);
        EXPECT_RV(f->C_VerifyUpdate(s1, HASH, 32), CKR_OK);
        EXPECT_RV(f->C_VerifyFinal(s1, HASH, 32), CKR_SIGNATURE_INVALID);
        write_control("C_SignUpdate:rv=CKR_DEVICE_MEMORY:once\nC_VerifyUpdate:rv=CKR_DEVICE_ERROR:once\n"
                      "C_DigestUpdate:rv=0x30:once\nC_DigestFinal:rv=48:once # same code three ways");
        EXPECT_RV(f->C_SignInit(s1, &m, mk), CKR_OK);
        EXPECT_RV(f->C_SignUpdate(s1, HASH, 32), CKR_DEVICE_MEMORY);
        EXPECT_RV(f->C_SignInit(s1, &m, mk), CKR_OK);                 /* not CKR_OPERATION_ACTIVE */
        EXPECT_RV(f->C_SignUpdate(s1, HASH, 32), CKR_OK);
        len = sizeof mac;
        EXPECT_RV(f->C_SignFinal(s1, mac, &len), CKR_OK);
        EXPECT_RV(f->C_VerifyInit(s1, &m, mk), CKR_OK);
        EXPECT_RV(f->C_VerifyUpdate(s1, HASH, 32), CKR_DEVICE_ERROR);
        EXPECT_RV(f->C_VerifyInit(s1, &m, mk), CKR_OK);
        EXPECT_RV(f->C_VerifyUpdate(s1, HASH, 32), CKR_OK);
        EXPECT_RV(f->C_VerifyFinal(s1, mac, len), CKR_OK);
        EXPECT_RV(f->C_DigestInit(s1, &dm), CKR_OK);
        EXPECT_RV(f->C_DigestUpdate(s1, HASH, 32), CKR_DEVICE_ERROR);
        EXPECT_RV(f->C_DigestInit(s1, &dm), CKR_OK);
        EXPECT_RV(f->C_DigestUpdate(s1, HASH, 32), CKR_OK);
        len = 0;
        EXPECT_RV(f->C_DigestFinal(s1, NULL, &len), CKR_DEVICE_ERROR);  /* comment-terminated rule */
        EXPECT_RV(f->C_DigestInit(s1, &dm), CKR_OK);
        len = sizeof dg;
        EXPECT_RV(f->C_Digest(s1, HASH, 32, dg, &len), CKR_OK);
        EXPECT_RV(f->C_DestroyObject(s1, mk), CKR_OK);
    }

    section("after / every / count and '*' (hsmkit_shim_set_rules)");
    {
        char pat[16] = {0};
        CK_BYTE rnd[8];
        shim_set_rules("C_GenerateRandom:rv=CKR_FUNCTION_FAILED:after=2:every=2:count=2");
        for (int i = 1; i <= 8; i++)
            pat[i - 1] = f->C_GenerateRandom(s1, rnd, sizeof rnd) == CKR_OK ? '.' : 'X';
        CHECK(strcmp(pat, "...X.X..") == 0, "after=2:every=2:count=2 over 8 calls: %s (want ...X.X..)", pat);
        shim_set_rules("*:rv=CKR_GENERAL_ERROR:after=3:once");
        CK_SESSION_INFO si;
        memset(pat, 0, sizeof pat);
        pat[0] = f->C_GetSessionInfo(s1, &si) == CKR_OK ? '.' : 'X';
        pat[1] = f->C_GetInfo(&info) == CKR_OK ? '.' : 'X';
        pat[2] = f->C_GenerateRandom(s1, rnd, sizeof rnd) == CKR_OK ? '.' : 'X';
        pat[3] = f->C_GetSessionInfo(s1, &si) == CKR_OK ? '.' : 'X';
        pat[4] = f->C_GetSessionInfo(s1, &si) == CKR_OK ? '.' : 'X';
        CHECK(strcmp(pat, "...X.") == 0, "'*' counts all functions: %s (want ...X.)", pat);
        shim_set_rules(NULL);
        EXPECT_RV(f->C_GetSessionInfo(s1, &si), CKR_OK);
    }

    section("C_OpenSession:rv=CKR_SESSION_COUNT:once");
    write_control("C_OpenSession:rv=CKR_SESSION_COUNT:once");
    EXPECT_RV(open_session(&s2), CKR_SESSION_COUNT);
    SESSIONS(1);
    EXPECT_RV(open_session(&s2), CKR_OK);
    SESSIONS(2);
    EXPECT_RV(f->C_CloseSession(s2), CKR_OK);
    SESSIONS(1);
    EXPECT_RV(f->C_CloseSession(s2), CKR_SESSION_HANDLE_INVALID);
    SESSIONS(1);
    EXPECT_RV(open_session(&s2), CKR_OK);
    SESSIONS(2);

    section("absent (control file), then removed");
    write_control("absent");
    {
        CK_ULONG cnt = 16;
        EXPECT_RV(f->C_GetSlotList(CK_TRUE, slots, &cnt), CKR_OK);
        CHECK(cnt == 0, "C_GetSlotList(tokenPresent) lists %lu slots (want 0)", (unsigned long)cnt);
        SESSIONS(0);
        cnt = 16;
        EXPECT_RV(f->C_GetSlotList(CK_FALSE, slots, &cnt), CKR_OK);
        CHECK(cnt >= 1, "C_GetSlotList(all) still lists %lu slots", (unsigned long)cnt);
        CK_SLOT_INFO sli;
        EXPECT_RV(f->C_GetSlotInfo(g_slot, &sli), CKR_OK);
        CHECK(!(sli.flags & CKF_TOKEN_PRESENT), "slot info without CKF_TOKEN_PRESENT");
        CK_TOKEN_INFO ti;
        EXPECT_RV(f->C_GetTokenInfo(g_slot, &ti), CKR_TOKEN_NOT_PRESENT);
        EXPECT_RV(open_session(&s2), CKR_TOKEN_NOT_PRESENT);
        cnt = 0;
        EXPECT_RV(f->C_GetMechanismList(g_slot, NULL, &cnt), CKR_TOKEN_NOT_PRESENT);
        CK_SESSION_INFO si;
        EXPECT_RV(f->C_GetSessionInfo(s1, &si), CKR_DEVICE_REMOVED);
        CK_BYTE sig[64];
        CK_ULONG len = sizeof sig;
        EXPECT_RV(f->C_Sign(s1, HASH, 32, sig, &len), CKR_DEVICE_REMOVED);
        EXPECT_RV(f->C_CloseSession(s1), CKR_DEVICE_REMOVED);
        SESSIONS(0);
    }
    unlink(g_ctl);
    {
        CK_ULONG cnt = 16;
        EXPECT_RV(f->C_GetSlotList(CK_TRUE, slots, &cnt), CKR_OK);
        CHECK(cnt >= 1 && slots[0] == g_slot, "token is back (%lu slots)", (unsigned long)cnt);
        CK_SESSION_INFO si;
        EXPECT_RV(f->C_GetSessionInfo(s1, &si), CKR_SESSION_HANDLE_INVALID);   /* real library */
        EXPECT_RV(f->C_GetSessionInfo(s2, &si), CKR_SESSION_HANDLE_INVALID);
        EXPECT_RV(open_session(&s1), CKR_OK);
        SESSIONS(1);
        EXPECT_RV(f->C_Login(s1, CKU_USER, g_pin, 4), CKR_OK);     /* real sessions closed => logged out */
        EXPECT_RV(gen_ec(s1, &pub, &priv), CKR_OK);                /* session keys were dropped too */
    }

    section("absent via hsmkit_shim_set_rules (takes effect immediately)");
    EXPECT_RV(open_session(&s2), CKR_OK);
    SESSIONS(2);
    shim_set_rules("absent");
    SESSIONS(0);
    {
        CK_SESSION_INFO si;
        EXPECT_RV(f->C_GetSessionInfo(s1, &si), CKR_DEVICE_REMOVED);
        shim_set_rules("");
        EXPECT_RV(f->C_GetSessionInfo(s1, &si), CKR_SESSION_HANDLE_INVALID);
        EXPECT_RV(open_session(&s1), CKR_OK);
        EXPECT_RV(f->C_Login(s1, CKU_USER, g_pin, 4), CKR_OK);
        EXPECT_RV(gen_ec(s1, &pub, &priv), CKR_OK);
        SESSIONS(1);
    }

    section("finalize (control file), then re-C_Initialize");
    {
        CK_SESSION_INFO si;
        long inj = shim_injected();
        write_control("finalize");
        EXPECT_RV(f->C_GetSessionInfo(s1, &si), CKR_CRYPTOKI_NOT_INITIALIZED);
        SESSIONS(0);
        CHECK(shim_injected() == inj + 1, "a fired finalize counts as one injected fault");
        EXPECT_RV(f->C_GetSessionInfo(s1, &si), CKR_CRYPTOKI_NOT_INITIALIZED);
        EXPECT_RV(f->C_Initialize(&ia), CKR_OK);                /* fires only once per load */
        EXPECT_RV(f->C_GetSessionInfo(s1, &si), CKR_SESSION_HANDLE_INVALID);
        EXPECT_RV(open_session(&s1), CKR_OK);
        SESSIONS(1);
        /* rewrite the file in place (same inode): re-read => armed again */
        FILE *fp = fopen(g_ctl, "w");
        fputs("finalize   # again\n", fp);
        fclose(fp);
        EXPECT_RV(f->C_Initialize(&ia), CKR_OK);   /* finalize fires first, so this succeeds */
        SESSIONS(0);
        EXPECT_RV(f->C_GetSessionInfo(s1, &si), CKR_SESSION_HANDLE_INVALID);
        EXPECT_RV(open_session(&s1), CKR_OK);
        EXPECT_RV(f->C_Login(s1, CKU_USER, g_pin, 4), CKR_OK);
        EXPECT_RV(gen_ec(s1, &pub, &priv), CKR_OK);
        SESSIONS(1);
        unlink(g_ctl);   /* deleted, and set_rules follows before any call: set_rules must win */
    }

    section("8 threads x 200 signatures with C_Sign:rv=CKR_DEVICE_ERROR:every=5");
    {
        struct worker w[NTHREADS];
        shim_set_rules("C_Sign:rv=CKR_DEVICE_ERROR:every=5");
        shim_reset_counters();
        run_workers(w, 0, priv, 1, NULL);
        int inj = 0, ok = 0, other = 0, close_ok = 1;
        for (int i = 0; i < NTHREADS; i++) {
            inj += w[i].injected;
            ok += w[i].ok;
            other += w[i].other;
            if (w[i].last != CKR_OK)
                close_ok = 0;
        }
        CHECK(inj == NTHREADS * NSIGN / 5 && ok == NTHREADS * NSIGN * 4 / 5 && other == 0,
              "%d ok, %d injected, %d other (want %d/%d/0)", ok, inj, other,
              NTHREADS * NSIGN * 4 / 5, NTHREADS * NSIGN / 5);
        CHECK(shim_injected() == NTHREADS * NSIGN / 5, "injected == %d (is %ld)", NTHREADS * NSIGN / 5,
              shim_injected());
        CHECK(shim_calls("C_Sign") == NTHREADS * NSIGN, "calls(C_Sign) == %d (is %ld)", NTHREADS * NSIGN,
              shim_calls("C_Sign"));
        CHECK(close_ok, "all worker sessions closed");
        SESSIONS(1);
        shim_set_rules(NULL);
    }

    section("8 threads signing while 'finalize' is set");
    {
        struct worker w[NTHREADS];
        run_workers(w, 1, priv, 1, "finalize");
        int stopped = 0, total = 0;
        for (int i = 0; i < NTHREADS; i++) {
            total += w[i].ok;
            if (w[i].last == CKR_CRYPTOKI_NOT_INITIALIZED || w[i].last == (0x80000000UL | CKR_CRYPTOKI_NOT_INITIALIZED))
                stopped++;
        }
        CHECK(stopped == NTHREADS, "all %d threads ended with CKR_CRYPTOKI_NOT_INITIALIZED after %d signatures",
              stopped, total);
        SESSIONS(0);
        shim_set_rules(NULL);
        EXPECT_RV(f->C_Initialize(&ia), CKR_OK);
        EXPECT_RV(open_session(&s1), CKR_OK);
        SESSIONS(1);
    }

    section("C_CloseAllSessions and C_Finalize");
    EXPECT_RV(open_session(&s2), CKR_OK);
    SESSIONS(2);
    EXPECT_RV(f->C_CloseAllSessions(g_slot), CKR_OK);
    SESSIONS(0);
    EXPECT_RV(open_session(&s1), CKR_OK);
    SESSIONS(1);
    EXPECT_RV(f->C_Finalize(NULL), CKR_OK);
    SESSIONS(0);
    printf("\ncalls(all) = %ld, calls(C_Sign) = %ld, injected = %ld\n", shim_calls(NULL),
           shim_calls("C_Sign"), shim_injected());

    printf("\n%d checks, %d failed\n", checks, failures);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) {}
    return failures ? 1 : 0;
}
