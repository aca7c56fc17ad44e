/*
 * p11shim.c - PKCS#11 fault-injection shim for hsmkit tests.
 *
 * Build (from this directory):
 *
 *   gcc -shared -fPIC -O2 -Wall -Wextra -fvisibility=hidden -o libp11shim.so p11shim.c \
 *       -ldl -lpthread -I/usr/include/p11-kit-1
 *
 *   (-fvisibility=hidden is optional: the file also wraps its definitions in
 *   "#pragma GCC visibility push(hidden)", so the same command without it exports
 *   exactly the same symbols.)
 *
 *   Test driver (not part of the Maven build):
 *   gcc -std=c11 -O2 -Wall -Wextra -o shimtest shimtest.c -ldl -lpthread -I/usr/include/p11-kit-1
 *   ./shimtest ./libp11shim.so
 *
 * Check the exports:  nm -D --defined-only libp11shim.so | grep -E ' (C_|hsmkit_)'
 *   -> C_GetFunctionList and the hsmkit_shim_* helpers only.
 *
 * What it is
 * ----------
 * A PKCS#11 library that dlopen()s the REAL library (env HSMKIT_SHIM_REAL, default
 * /usr/lib/softhsm/libsofthsm2.so, RTLD_NOW|RTLD_LOCAL, lazily, once, on the first
 * C_GetFunctionList call) and forwards every call to it, except where a rule says to
 * inject a fault.  The only exported C_* symbol is C_GetFunctionList: a client that
 * dlsym()s e.g. "C_Initialize" directly fails, so the shim also checks that clients
 * take the function table from C_GetFunctionList.  The table has version 2.40 and
 * all 68 v2.40 entries; each entry is a forwarder that first consults the rules.
 *
 * Rules
 * -----
 * Sources:
 *   - env HSMKIT_SHIM_RULES: the initial rule set (parsed on first load).
 *   - env HSMKIT_SHIM_CONTROL: path of a control file.  Before each call the shim
 *     stat()s it (once per call) and re-reads it whenever its existence, mtime
 *     (st_mtim, nanoseconds), size or inode changes.  When the file is (or becomes)
 *     present its rules REPLACE the current rule set; when a file that was present
 *     disappears the rule set becomes empty ("missing file = no rules").  If the
 *     file does not exist when the shim is loaded, the env rules stay in force
 *     until the file first appears.
 *   - hsmkit_shim_set_rules(text): replaces the rule set like a new control file;
 *     the control file's state at that moment counts as already seen, so only a
 *     later change of the file replaces these rules again.  The most recent change
 *     wins.
 *   Every (re)load resets all per-rule counters and re-arms `finalize`.
 *
 * Syntax (at most 64 KiB of text and 256 rules per load; a rule is at most 511 chars):
 *   text     := rule { (';' | '\n') rule }       empty rules are ignored
 *   '#' starts a comment that runs to the end of the line (also across ';').
 *   Blanks (space, tab, CR) around tokens are ignored.
 *   rule     := "absent" | "finalize" | FUNCTION ':' option { ':' option }
 *   FUNCTION := a v2.40 function name such as C_Sign (case-insensitive), or "*"
 *               ("*" = every function except C_GetFunctionList, which is never faulted)
 *   option   := "rv=" CODE        required, CODE != 0
 *             | "every=" N       N >= 1, default 1
 *             | "after=" N       default 0
 *             | "count=" N       default unlimited
 *             | "once"           same as count=1
 *   CODE     := 0xHEX | DECIMAL | a CKR_ name (case-insensitive, table below)
 *   N        := 0xHEX | DECIMAL
 *   Option keywords are case-insensitive; a repeated option overrides the earlier one.
 *   A malformed rule is ignored with one line on stderr; the other rules still load.
 *
 * Semantics of FUNCTION rules: each rule counts the calls of its FUNCTION (index
 * 1, 2, ... since the rule set was loaded).  Call number i fails with CODE when
 * i > after and (i - after) % every == 0, at most `count` times.  All matching rules
 * count every call; the first rule (in text order) that fires decides the code and
 * only that rule's fire count is consumed.  A failing call is NOT forwarded (no real
 * side effect; a failing C_*Init starts no operation), with these exceptions which
 * keep the real library in the state a real failing device would leave it in
 * (PKCS#11: any error other than CKR_BUFFER_TOO_SMALL ends the active operation):
 *   - single-part calls C_Encrypt, C_Decrypt, C_Sign, C_Verify, C_Digest,
 *     C_SignRecover, C_VerifyRecover and the C_*Final calls (C_EncryptFinal,
 *     C_DecryptFinal, C_DigestFinal, C_SignFinal, C_VerifyFinal, C_FindObjectsFinal):
 *     a trick like forwarding with a NULL output buffer would NOT end the real
 *     operation (it is a length query), so the shim forwards the call normally,
 *     discards the real result, zeroes the caller's output buffer (*len bytes as
 *     passed in), restores *len to the value passed in and returns the injected
 *     code.  If the real call only answered a length query (NULL buffer) or said
 *     CKR_BUFFER_TOO_SMALL, the operation is still active in the real library, so
 *     the shim repeats it once more into a private scratch buffer (then discarded)
 *     to end it.
 *   - multi-part updates C_EncryptUpdate, C_DecryptUpdate, C_DigestUpdate,
 *     C_DigestKey, C_SignUpdate, C_VerifyUpdate: not forwarded; the real operation
 *     is ended by calling the matching real C_*Final into a scratch buffer (for
 *     C_VerifyUpdate: C_VerifyFinal with a dummy 1-byte signature) and discarding
 *     the result.  (The dual-function updates C_DigestEncryptUpdate etc. are simply
 *     not forwarded.)
 *
 * Special rules (no rv=, no options):
 *   absent    The token disappears.  On the transition to absent the shim calls the
 *             real C_CloseAllSessions for every slot seen in C_OpenSession (the real
 *             library really drops the sessions, as for a removed device) and sets
 *             its open-session count to 0.  While absent:
 *               C_GetSlotList(tokenPresent=TRUE) -> CKR_OK with 0 slots
 *               C_GetSlotList(FALSE)/C_GetSlotInfo are forwarded (C_GetSlotInfo has
 *                 CKF_TOKEN_PRESENT cleared)
 *               C_GetTokenInfo, C_OpenSession, C_GetMechanismList,
 *                 C_GetMechanismInfo, C_InitToken -> CKR_TOKEN_NOT_PRESENT
 *               every call taking a session handle -> CKR_DEVICE_REMOVED
 *               C_Initialize, C_Finalize, C_GetInfo, C_CloseAllSessions,
 *                 C_WaitForSlotEvent are forwarded.
 *             FUNCTION rules still apply to the forwarded calls.  When `absent` is no
 *             longer in the rule set the token is back; its real sessions stay closed,
 *             so old handles get CKR_SESSION_HANDLE_INVALID from the real library.
 *   finalize  One shot per load: on the next call of any function (other than
 *             C_GetFunctionList) the shim calls the real C_Finalize (as if the
 *             library process had restarted; it waits for calls in flight in other
 *             threads to leave the real library first), resets its open-session count
 *             to 0 and then handles the call normally, i.e. forwards it (the real
 *             library answers CKR_CRYPTOKI_NOT_INITIALIZED).  A later C_Initialize
 *             from the client goes to the real library as usual.
 *
 * Accounting
 *   - open sessions: +1 on successful C_OpenSession, -1 on successful C_CloseSession,
 *     minus that slot's sessions on successful C_CloseAllSessions (handle->slot table,
 *     up to 65536 entries), 0 after a successful C_Finalize, a fired `finalize` and
 *     the transition to `absent`.
 *   - calls per function (every call of a table entry, including injected ones).
 *   - injected faults: calls whose return code the shim replaced (FUNCTION rules
 *     and `absent` errors; not the empty C_GetSlotList) plus 1 per fired `finalize`.
 *
 * Exported helpers (for tests over JNA):
 *   long hsmkit_shim_open_sessions(void);
 *   long hsmkit_shim_injected(void);
 *   long hsmkit_shim_calls(const char *function_name); NULL or "*" = all; unknown = -1
 *   void hsmkit_shim_set_rules(const char *rules);     NULL or "" clears
 *   void hsmkit_shim_reset_counters(void);              calls + injected (not sessions)
 *
 * Threads: rule state is protected by a mutex; counters are atomics.  With no rules
 * loaded a call costs one relaxed atomic increment, one atomic flag read, a stat()
 * only if HSMKIT_SHIM_CONTROL is set, and an uncontended read lock (the read/write
 * lock only exists so that a fired `finalize` or the client's C_Finalize never runs
 * while another thread is inside the real library; C_WaitForSlotEvent does not take
 * it because it may block).
 */
#define _GNU_SOURCE 1

#include <p11-kit/pkcs11.h>

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Everything defined below is hidden unless marked SHIM_EXPORT (headers above keep
 * their default visibility). */
#pragma GCC visibility push(hidden)

#define SHIM_EXPORT __attribute__((visibility("default")))

#define DEFAULT_REAL "/usr/lib/softhsm/libsofthsm2.so"
#define MAX_RULES 256
#define MAX_RULE_TEXT 65536
#define MAX_RULE_LEN 511
#define MAX_SESSIONS 65536
#define MAX_SLOTS 64
#define MAX_SCRATCH (64UL * 1024 * 1024)

/* ------------------------------------------------------------------------- */
/* Function ids, in CK_FUNCTION_LIST order                                    */
/* ------------------------------------------------------------------------- */

#define SHIM_FUNCS(X)                                                                  \
    X(C_Initialize) X(C_Finalize) X(C_GetInfo) X(C_GetFunctionList) X(C_GetSlotList)   \
    X(C_GetSlotInfo) X(C_GetTokenInfo) X(C_GetMechanismList) X(C_GetMechanismInfo)     \
    X(C_InitToken) X(C_InitPIN) X(C_SetPIN) X(C_OpenSession) X(C_CloseSession)         \
    X(C_CloseAllSessions) X(C_GetSessionInfo) X(C_GetOperationState)                   \
    X(C_SetOperationState) X(C_Login) X(C_Logout) X(C_CreateObject) X(C_CopyObject)    \
    X(C_DestroyObject) X(C_GetObjectSize) X(C_GetAttributeValue)                       \
    X(C_SetAttributeValue) X(C_FindObjectsInit) X(C_FindObjects)                       \
    X(C_FindObjectsFinal) X(C_EncryptInit) X(C_Encrypt) X(C_EncryptUpdate)             \
    X(C_EncryptFinal) X(C_DecryptInit) X(C_Decrypt) X(C_DecryptUpdate)                 \
    X(C_DecryptFinal) X(C_DigestInit) X(C_Digest) X(C_DigestUpdate) X(C_DigestKey)     \
    X(C_DigestFinal) X(C_SignInit) X(C_Sign) X(C_SignUpdate) X(C_SignFinal)            \
    X(C_SignRecoverInit) X(C_SignRecover) X(C_VerifyInit) X(C_Verify)                  \
    X(C_VerifyUpdate) X(C_VerifyFinal) X(C_VerifyRecoverInit) X(C_VerifyRecover)       \
    X(C_DigestEncryptUpdate) X(C_DecryptDigestUpdate) X(C_SignEncryptUpdate)           \
    X(C_DecryptVerifyUpdate) X(C_GenerateKey) X(C_GenerateKeyPair) X(C_WrapKey)        \
    X(C_UnwrapKey) X(C_DeriveKey) X(C_SeedRandom) X(C_GenerateRandom)                  \
    X(C_GetFunctionStatus) X(C_CancelFunction) X(C_WaitForSlotEvent)

enum {
#define X_ENUM(n) F_##n,
    SHIM_FUNCS(X_ENUM)
#undef X_ENUM
    F_COUNT
};

_Static_assert(F_COUNT == 68, "PKCS#11 v2.40 has 68 functions");

static const char *const g_fnames[F_COUNT] = {
#define X_NAME(n) #n,
    SHIM_FUNCS(X_NAME)
#undef X_NAME
};

/* ------------------------------------------------------------------------- */
/* CKR name table                                                             */
/* ------------------------------------------------------------------------- */

struct ckr_name {
    const char *name;
    CK_RV rv;
};

static const struct ckr_name g_ckr_names[] = {
    {"CKR_CANCEL", CKR_CANCEL},
    {"CKR_HOST_MEMORY", CKR_HOST_MEMORY},
    {"CKR_SLOT_ID_INVALID", CKR_SLOT_ID_INVALID},
    {"CKR_GENERAL_ERROR", CKR_GENERAL_ERROR},
    {"CKR_FUNCTION_FAILED", CKR_FUNCTION_FAILED},
    {"CKR_ARGUMENTS_BAD", CKR_ARGUMENTS_BAD},
    {"CKR_CANT_LOCK", CKR_CANT_LOCK},
    {"CKR_DATA_INVALID", CKR_DATA_INVALID},
    {"CKR_DATA_LEN_RANGE", CKR_DATA_LEN_RANGE},
    {"CKR_DEVICE_ERROR", CKR_DEVICE_ERROR},
    {"CKR_DEVICE_MEMORY", CKR_DEVICE_MEMORY},
    {"CKR_DEVICE_REMOVED", CKR_DEVICE_REMOVED},
    {"CKR_FUNCTION_CANCELED", CKR_FUNCTION_CANCELED},
    {"CKR_FUNCTION_NOT_SUPPORTED", CKR_FUNCTION_NOT_SUPPORTED},
    {"CKR_KEY_HANDLE_INVALID", CKR_KEY_HANDLE_INVALID},
    {"CKR_MECHANISM_INVALID", CKR_MECHANISM_INVALID},
    {"CKR_OBJECT_HANDLE_INVALID", CKR_OBJECT_HANDLE_INVALID},
    {"CKR_OPERATION_ACTIVE", CKR_OPERATION_ACTIVE},
    {"CKR_OPERATION_NOT_INITIALIZED", CKR_OPERATION_NOT_INITIALIZED},
    {"CKR_PIN_INCORRECT", CKR_PIN_INCORRECT},
    {"CKR_PIN_LOCKED", CKR_PIN_LOCKED},
    {"CKR_SESSION_CLOSED", CKR_SESSION_CLOSED},
    {"CKR_SESSION_COUNT", CKR_SESSION_COUNT},
    {"CKR_SESSION_HANDLE_INVALID", CKR_SESSION_HANDLE_INVALID},
    {"CKR_SESSION_READ_ONLY", CKR_SESSION_READ_ONLY},
    {"CKR_SIGNATURE_INVALID", CKR_SIGNATURE_INVALID},
    {"CKR_TOKEN_NOT_PRESENT", CKR_TOKEN_NOT_PRESENT},
    {"CKR_TOKEN_NOT_RECOGNIZED", CKR_TOKEN_NOT_RECOGNIZED},
    {"CKR_USER_ALREADY_LOGGED_IN", CKR_USER_ALREADY_LOGGED_IN},
    {"CKR_USER_NOT_LOGGED_IN", CKR_USER_NOT_LOGGED_IN},
    {"CKR_BUFFER_TOO_SMALL", CKR_BUFFER_TOO_SMALL},
    {"CKR_CRYPTOKI_NOT_INITIALIZED", CKR_CRYPTOKI_NOT_INITIALIZED},
    {"CKR_CRYPTOKI_ALREADY_INITIALIZED", CKR_CRYPTOKI_ALREADY_INITIALIZED},
    {"CKR_FUNCTION_REJECTED", CKR_FUNCTION_REJECTED},
};

/* ------------------------------------------------------------------------- */
/* Global state                                                               */
/* ------------------------------------------------------------------------- */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CK_RV g_init_rv = CKR_GENERAL_ERROR;
static void *g_real_handle;
static CK_FUNCTION_LIST_PTR g_real;          /* the real library's function list */
static CK_FUNCTION_LIST g_list;               /* ours, filled in at the end */

/* Read/write lock around calls into the real library: readers = ordinary calls,
 * writer = real C_Finalize (fired `finalize` rule or the client's C_Finalize). */
static pthread_rwlock_t g_real_rw;

/* counters */
static atomic_long g_calls[F_COUNT];
static atomic_long g_injected;

/* rules */
enum { RK_RV, RK_ABSENT, RK_FINALIZE };

struct rule {
    int kind;
    int fid;                    /* -1 = all functions */
    CK_RV rv;
    unsigned long long every;
    unsigned long long after;
    unsigned long long limit;   /* max fires; valid if has_limit */
    int has_limit;
    unsigned long long seen;    /* calls counted since load */
    unsigned long long fired;   /* faults injected by this rule since load */
};

static pthread_mutex_t g_rules_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rule *g_rules;    /* guarded by g_rules_mu */
static size_t g_nrules;         /* guarded by g_rules_mu */
static int g_absent;            /* guarded by g_rules_mu */
static int g_fin_pending;       /* guarded by g_rules_mu */
static atomic_int g_active;     /* 1 when g_nrules > 0: the "no rules" fast-path flag */

/* control file */
static const char *g_ctl_path;  /* NULL when HSMKIT_SHIM_CONTROL is unset/empty */
static pthread_mutex_t g_ctl_mu = PTHREAD_MUTEX_INITIALIZER;
enum { SIG_EXISTS, SIG_SEC, SIG_NSEC, SIG_SIZE, SIG_INO, SIG_N };
static _Atomic long long g_ctl_sig[SIG_N];

/* sessions */
struct sess {
    CK_SESSION_HANDLE h;
    CK_SLOT_ID slot;
};

static pthread_mutex_t g_sess_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sess *g_sess;     /* guarded by g_sess_mu */
static size_t g_nsess, g_capsess;
static CK_SLOT_ID g_slots[MAX_SLOTS];
static size_t g_nslots;
static atomic_long g_open;      /* written under g_sess_mu */

/* ------------------------------------------------------------------------- */
/* Helpers                                                                    */
/* ------------------------------------------------------------------------- */

static void shim_log(const char *fmt, const char *a, const char *b)
{
    /* single fprintf => one line, not interleaved within the line */
    fprintf(stderr, fmt, a ? a : "", b ? b : "");
}

static void real_enter(void) { pthread_rwlock_rdlock(&g_real_rw); }
static void real_leave(void) { pthread_rwlock_unlock(&g_real_rw); }

static int lookup_function(const char *name)
{
    for (int i = 0; i < F_COUNT; i++)
        if (strcasecmp(g_fnames[i], name) == 0)
            return i;
    return -1;
}

/* ------------------------------------------------------------------------- */
/* Session accounting                                                         */
/* ------------------------------------------------------------------------- */

static void sess_add(CK_SESSION_HANDLE h, CK_SLOT_ID slot)
{
    pthread_mutex_lock(&g_sess_mu);
    size_t i;
    for (i = 0; i < g_nslots; i++)
        if (g_slots[i] == slot)
            break;
    if (i == g_nslots && g_nslots < MAX_SLOTS)
        g_slots[g_nslots++] = slot;

    if (g_nsess == g_capsess && g_capsess < MAX_SESSIONS) {
        size_t ncap = g_capsess ? g_capsess * 2 : 64;
        if (ncap > MAX_SESSIONS)
            ncap = MAX_SESSIONS;
        struct sess *n = realloc(g_sess, ncap * sizeof *n);
        if (n) {
            g_sess = n;
            g_capsess = ncap;
        }
    }
    if (g_nsess < g_capsess) {
        g_sess[g_nsess].h = h;
        g_sess[g_nsess].slot = slot;
        g_nsess++;
    }
    atomic_fetch_add(&g_open, 1);
    pthread_mutex_unlock(&g_sess_mu);
}

static void sess_remove(CK_SESSION_HANDLE h)
{
    pthread_mutex_lock(&g_sess_mu);
    for (size_t i = g_nsess; i-- > 0;) {
        if (g_sess[i].h == h) {
            g_sess[i] = g_sess[--g_nsess];
            break;
        }
    }
    if (atomic_load(&g_open) > 0)
        atomic_fetch_sub(&g_open, 1);
    pthread_mutex_unlock(&g_sess_mu);
}

static void sess_remove_slot(CK_SLOT_ID slot)
{
    pthread_mutex_lock(&g_sess_mu);
    long removed = 0;
    for (size_t i = 0; i < g_nsess;) {
        if (g_sess[i].slot == slot) {
            g_sess[i] = g_sess[--g_nsess];
            removed++;
        } else {
            i++;
        }
    }
    long cur = atomic_load(&g_open);
    atomic_store(&g_open, cur > removed ? cur - removed : 0);
    pthread_mutex_unlock(&g_sess_mu);
}

static void sess_reset(void)
{
    pthread_mutex_lock(&g_sess_mu);
    g_nsess = 0;
    atomic_store(&g_open, 0);
    pthread_mutex_unlock(&g_sess_mu);
}

/* The token was removed: make the real library drop its sessions. */
static void token_removed(void)
{
    CK_SLOT_ID slots[MAX_SLOTS];
    size_t n;
    pthread_mutex_lock(&g_sess_mu);
    n = g_nslots;
    memcpy(slots, g_slots, n * sizeof slots[0]);
    pthread_mutex_unlock(&g_sess_mu);

    if (g_real && g_real->C_CloseAllSessions) {
        /* Exclusive, like fire_finalize: SoftHSM2 2.6.1 frees a session's operation state in
         * C_CloseAllSessions while another thread may be inside C_Sign on that session, and
         * crashes (SIGSEGV in BN_div, seen under 8 signing threads). A removed device makes
         * those calls fail; it does not pull memory from under them. */
        pthread_rwlock_wrlock(&g_real_rw);
        for (size_t i = 0; i < n; i++)
            (void)g_real->C_CloseAllSessions(slots[i]);
        pthread_rwlock_unlock(&g_real_rw);
    }
    sess_reset();
}

/* ------------------------------------------------------------------------- */
/* Rule parsing                                                               */
/* ------------------------------------------------------------------------- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* 0xHEX or DECIMAL, whole string, no sign. */
static int parse_num(const char *s, unsigned long long *out)
{
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (*s == '\0')
        return -1;
    for (const char *p = s; *p; p++)
        if (base == 16 ? !isxdigit((unsigned char)*p) : !isdigit((unsigned char)*p))
            return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, base);
    if (errno != 0 || end == NULL || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int parse_code(const char *s, CK_RV *out)
{
    if (strncasecmp(s, "CKR_", 4) == 0) {
        for (size_t i = 0; i < sizeof g_ckr_names / sizeof g_ckr_names[0]; i++) {
            if (strcasecmp(s, g_ckr_names[i].name) == 0) {
                *out = g_ckr_names[i].rv;
                return 0;
            }
        }
        return -1;
    }
    unsigned long long v;
    if (parse_num(s, &v) != 0 || v > (unsigned long long)(CK_RV)-1)
        return -1;
    *out = (CK_RV)v;
    return 0;
}

/* Parses one rule (already trimmed, non-empty; modified in place).
 * Returns NULL on success, else a reason. */
static const char *parse_one(char *s, struct rule *r)
{
    memset(r, 0, sizeof *r);
    r->every = 1;

    if (strcasecmp(s, "absent") == 0) {
        r->kind = RK_ABSENT;
        return NULL;
    }
    if (strcasecmp(s, "finalize") == 0) {
        r->kind = RK_FINALIZE;
        return NULL;
    }

    char *save = NULL;
    char *fn = strtok_r(s, ":", &save);
    if (fn == NULL)
        return "empty function name";
    fn = trim(fn);
    if (strcmp(fn, "*") == 0) {
        r->fid = -1;
    } else {
        r->fid = lookup_function(fn);
        if (r->fid < 0)
            return "unknown function (want a C_* name, '*', 'absent' or 'finalize')";
        if (r->fid == F_C_GetFunctionList)
            return "C_GetFunctionList cannot be faulted";
    }

    int have_rv = 0;
    char *opt;
    while ((opt = strtok_r(NULL, ":", &save)) != NULL) {
        opt = trim(opt);
        if (*opt == '\0')
            return "empty option";
        if (strcasecmp(opt, "once") == 0) {
            r->limit = 1;
            r->has_limit = 1;
            continue;
        }
        char *eq = strchr(opt, '=');
        if (eq == NULL)
            return "option is not key=value or 'once'";
        *eq = '\0';
        char *key = trim(opt);
        char *val = trim(eq + 1);
        unsigned long long v;
        if (strcasecmp(key, "rv") == 0) {
            if (parse_code(val, &r->rv) != 0)
                return "bad rv (want 0xHEX, decimal or a known CKR_ name)";
            if (r->rv == CKR_OK)
                return "rv must not be CKR_OK";
            have_rv = 1;
        } else if (strcasecmp(key, "every") == 0) {
            if (parse_num(val, &v) != 0 || v == 0)
                return "bad every (want a number >= 1)";
            r->every = v;
        } else if (strcasecmp(key, "after") == 0) {
            if (parse_num(val, &v) != 0)
                return "bad after (want a number)";
            r->after = v;
        } else if (strcasecmp(key, "count") == 0) {
            if (parse_num(val, &v) != 0)
                return "bad count (want a number)";
            r->limit = v;
            r->has_limit = 1;
        } else {
            return "unknown option (want rv=, every=, after=, count= or once)";
        }
    }
    if (!have_rv)
        return "missing rv=";
    r->kind = RK_RV;
    return NULL;
}

/* Parses a whole rule text. Never fails: malformed rules are reported and skipped.
 * *out is malloc'ed (NULL when there are no rules). */
static void parse_rules(const char *text, const char *origin, struct rule **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (text == NULL || *text == '\0')
        return;

    size_t len = strnlen(text, MAX_RULE_TEXT + 1);
    if (len > MAX_RULE_TEXT) {
        shim_log("p11shim: %s: rule text longer than 64 KiB, the rest is ignored%s\n", origin, NULL);
        len = MAX_RULE_TEXT;
    }

    struct rule *rules = calloc(MAX_RULES, sizeof *rules);
    if (rules == NULL) {
        shim_log("p11shim: %s: out of memory, rules ignored%s\n", origin, NULL);
        return;
    }
    size_t n = 0;
    char buf[MAX_RULE_LEN + 1];
    size_t bl = 0;
    int overflow = 0, in_comment = 0, full_reported = 0;

    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? text[i] : '\0';
        if (c == '\n')
            in_comment = 0;
        else if (in_comment && c != '\0')   /* the end of the text also ends a comment */
            continue;
        if (c == '#') {
            in_comment = 1;
            continue;
        }
        if (c != ';' && c != '\n' && c != '\0') {
            if (bl < MAX_RULE_LEN)
                buf[bl++] = c;
            else
                overflow = 1;
            continue;
        }
        /* end of one rule */
        buf[bl] = '\0';
        char *s = trim(buf);
        if (overflow) {
            char shown[41];
            snprintf(shown, sizeof shown, "%s", s);
            fprintf(stderr, "p11shim: %s: ignoring malformed rule \"%s...\": longer than %d characters\n",
                    origin, shown, MAX_RULE_LEN);
        } else if (*s != '\0') {
            if (n == MAX_RULES) {
                if (!full_reported)
                    fprintf(stderr, "p11shim: %s: more than %d rules, ignoring \"%s\" and the rest\n",
                            origin, MAX_RULES, s);
                full_reported = 1;
            } else {
                char copy[MAX_RULE_LEN + 1];
                memcpy(copy, s, strlen(s) + 1);
                const char *why = parse_one(s, &rules[n]);
                if (why)
                    fprintf(stderr, "p11shim: %s: ignoring malformed rule \"%s\": %s\n", origin, copy, why);
                else
                    n++;
            }
        }
        bl = 0;
        overflow = 0;
    }

    if (n == 0) {
        free(rules);
        return;
    }
    *out = rules;
    *nout = n;
}

/* Replaces the rule set (takes ownership of r). */
static void install_rules(struct rule *r, size_t n)
{
    int absent = 0, fin = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].kind == RK_ABSENT)
            absent = 1;
        else if (r[i].kind == RK_FINALIZE)
            fin = 1;
    }
    pthread_mutex_lock(&g_rules_mu);
    struct rule *old = g_rules;
    int was_absent = g_absent;
    g_rules = r;
    g_nrules = n;
    g_absent = absent;
    g_fin_pending = fin;
    atomic_store(&g_active, n > 0);
    pthread_mutex_unlock(&g_rules_mu);
    free(old);

    if (absent && !was_absent)
        token_removed();
}

static void load_text(const char *text, const char *origin)
{
    struct rule *r;
    size_t n;
    parse_rules(text, origin, &r, &n);
    install_rules(r, n);
}

/* ------------------------------------------------------------------------- */
/* Control file                                                               */
/* ------------------------------------------------------------------------- */

static void ctl_stat(long long sig[SIG_N])
{
    struct stat st;
    if (stat(g_ctl_path, &st) != 0) {
        for (int i = 0; i < SIG_N; i++)
            sig[i] = 0;
        return;
    }
    sig[SIG_EXISTS] = 1;
    sig[SIG_SEC] = (long long)st.st_mtim.tv_sec;
    sig[SIG_NSEC] = (long long)st.st_mtim.tv_nsec;
    sig[SIG_SIZE] = (long long)st.st_size;
    sig[SIG_INO] = (long long)st.st_ino;
}

static int ctl_same(const long long sig[SIG_N])
{
    for (int i = 0; i < SIG_N; i++)
        if (atomic_load_explicit(&g_ctl_sig[i], memory_order_acquire) != sig[i])
            return 0;
    return 1;
}

/* Reads the control file (bounded) and installs its rules; missing = no rules. */
static void ctl_load(int exists)
{
    if (!exists) {
        install_rules(NULL, 0);
        return;
    }
    char *buf = malloc(MAX_RULE_TEXT + 2);
    if (buf == NULL)
        return;
    size_t len = 0;
    int fd = open(g_ctl_path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        while (len < MAX_RULE_TEXT + 1) {
            ssize_t k = read(fd, buf + len, MAX_RULE_TEXT + 1 - len);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                break;
            len += (size_t)k;
        }
        close(fd);
    }
    for (size_t i = 0; i < len; i++)   /* a NUL byte would end the text early */
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[len] = '\0';
    load_text(buf, "control file");
    free(buf);
}

/* Called once per call (when HSMKIT_SHIM_CONTROL is set): one stat(). */
static void ctl_check(void)
{
    long long sig[SIG_N];
    ctl_stat(sig);
    if (ctl_same(sig))
        return;
    pthread_mutex_lock(&g_ctl_mu);
    if (!ctl_same(sig)) {   /* another thread may have loaded this version already */
        for (int i = 0; i < SIG_N; i++)
            atomic_store_explicit(&g_ctl_sig[i], sig[i], memory_order_release);
        ctl_load((int)sig[SIG_EXISTS]);
    }
    pthread_mutex_unlock(&g_ctl_mu);
}

/* ------------------------------------------------------------------------- */
/* Initialisation                                                             */
/* ------------------------------------------------------------------------- */

static void shim_init(void)
{
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* writer preference: a pending finalize must not starve behind 8 busy threads */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&g_real_rw, &attr);
    pthread_rwlockattr_destroy(&attr);

    const char *path = getenv("HSMKIT_SHIM_REAL");
    if (path == NULL || *path == '\0')
        path = DEFAULT_REAL;
    g_real_handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (g_real_handle == NULL) {
        const char *e = dlerror();
        shim_log("p11shim: cannot load the real PKCS#11 library: %s%s\n", e ? e : path, NULL);
        g_init_rv = CKR_GENERAL_ERROR;
    } else {
        CK_C_GetFunctionList gfl;
        void *sym = dlsym(g_real_handle, "C_GetFunctionList");
        memcpy(&gfl, &sym, sizeof gfl);
        CK_FUNCTION_LIST_PTR fl = NULL;
        if (gfl == NULL) {
            shim_log("p11shim: %s has no C_GetFunctionList%s\n", path, NULL);
            g_init_rv = CKR_GENERAL_ERROR;
        } else if ((g_init_rv = gfl(&fl)) != CKR_OK || fl == NULL) {
            shim_log("p11shim: the real C_GetFunctionList of %s failed%s\n", path, NULL);
            if (g_init_rv == CKR_OK)
                g_init_rv = CKR_GENERAL_ERROR;
        } else {
            g_real = fl;
        }
    }

    const char *ctl = getenv("HSMKIT_SHIM_CONTROL");
    g_ctl_path = (ctl && *ctl) ? strdup(ctl) : NULL;

    load_text(getenv("HSMKIT_SHIM_RULES"), "HSMKIT_SHIM_RULES");

    if (g_ctl_path) {
        long long sig[SIG_N];
        ctl_stat(sig);
        pthread_mutex_lock(&g_ctl_mu);
        for (int i = 0; i < SIG_N; i++)
            atomic_store(&g_ctl_sig[i], sig[i]);
        if (sig[SIG_EXISTS])        /* present at start: replaces the env rules */
            ctl_load(1);
        pthread_mutex_unlock(&g_ctl_mu);
    }
}

static void ensure_init(void) { pthread_once(&g_once, shim_init); }

/* ------------------------------------------------------------------------- */
/* The rule check done by every forwarder                                     */
/* ------------------------------------------------------------------------- */

enum { ACT_FORWARD, ACT_FAIL, ACT_FAIL_TERM };
enum { AB_NONE, AB_TOKEN, AB_SESSION, AB_SLOTLIST, AB_SLOTINFO };
enum { TM_NONE, TM_SINGLE, TM_FINAL, TM_UPDATE };

struct pre {
    int act;
    CK_RV rv;
    int absent;     /* token absent at the time of the check */
};

static int absent_class(int fid)
{
    switch (fid) {
    case F_C_GetTokenInfo:
    case F_C_OpenSession:
    case F_C_GetMechanismList:
    case F_C_GetMechanismInfo:
    case F_C_InitToken:
        return AB_TOKEN;
    case F_C_GetSlotList:
        return AB_SLOTLIST;
    case F_C_GetSlotInfo:
        return AB_SLOTINFO;
    case F_C_Initialize:
    case F_C_Finalize:
    case F_C_GetInfo:
    case F_C_GetFunctionList:
    case F_C_CloseAllSessions:
    case F_C_WaitForSlotEvent:
        return AB_NONE;
    default:        /* all other functions take a session handle */
        return AB_SESSION;
    }
}

static int term_class(int fid)
{
    switch (fid) {
    case F_C_Encrypt:
    case F_C_Decrypt:
    case F_C_Sign:
    case F_C_Verify:
    case F_C_Digest:
    case F_C_SignRecover:
    case F_C_VerifyRecover:
        return TM_SINGLE;
    case F_C_EncryptFinal:
    case F_C_DecryptFinal:
    case F_C_DigestFinal:
    case F_C_SignFinal:
    case F_C_VerifyFinal:
    case F_C_FindObjectsFinal:
        return TM_FINAL;
    case F_C_EncryptUpdate:
    case F_C_DecryptUpdate:
    case F_C_DigestUpdate:
    case F_C_DigestKey:
    case F_C_SignUpdate:
    case F_C_VerifyUpdate:
        return TM_UPDATE;
    default:
        return TM_NONE;
    }
}

static void fire_finalize(void)
{
    pthread_rwlock_wrlock(&g_real_rw);     /* wait for calls in flight */
    if (g_real && g_real->C_Finalize)
        (void)g_real->C_Finalize(NULL);
    sess_reset();
    pthread_rwlock_unlock(&g_real_rw);
    atomic_fetch_add(&g_injected, 1);
}

static int shim_pre(int fid, struct pre *p)
{
    p->act = ACT_FORWARD;
    p->rv = CKR_OK;
    p->absent = 0;
    atomic_fetch_add_explicit(&g_calls[fid], 1, memory_order_relaxed);
    if (fid == F_C_GetFunctionList)
        return ACT_FORWARD;
    if (g_ctl_path)
        ctl_check();
    if (!atomic_load_explicit(&g_active, memory_order_acquire))
        return ACT_FORWARD;

    int do_fin = 0;
    int ab = absent_class(fid);
    pthread_mutex_lock(&g_rules_mu);
    if (g_fin_pending) {
        g_fin_pending = 0;
        do_fin = 1;
    }
    p->absent = g_absent;
    if (g_absent && (ab == AB_TOKEN || ab == AB_SESSION)) {
        p->act = ACT_FAIL;
        p->rv = ab == AB_TOKEN ? CKR_TOKEN_NOT_PRESENT : CKR_DEVICE_REMOVED;
    } else {
        for (size_t i = 0; i < g_nrules; i++) {
            struct rule *r = &g_rules[i];
            if (r->kind != RK_RV || (r->fid != fid && r->fid != -1))
                continue;
            r->seen++;
            if (p->act == ACT_FORWARD && r->seen > r->after &&
                (r->seen - r->after) % r->every == 0 &&
                (!r->has_limit || r->fired < r->limit)) {
                r->fired++;
                p->act = term_class(fid) != TM_NONE ? ACT_FAIL_TERM : ACT_FAIL;
                p->rv = r->rv;
            }
        }
    }
    pthread_mutex_unlock(&g_rules_mu);

    if (do_fin)
        fire_finalize();
    if (p->act != ACT_FORWARD)
        atomic_fetch_add(&g_injected, 1);
    return p->act;
}

/* ------------------------------------------------------------------------- */
/* Ending a real operation after an injected fault (caller holds real_enter)  */
/* ------------------------------------------------------------------------- */

/* C_Encrypt, C_Decrypt, C_Sign, C_Digest, C_SignRecover, C_VerifyRecover */
typedef CK_RV (*single_fn)(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR);
/* C_EncryptFinal, C_DecryptFinal, C_DigestFinal, C_SignFinal */
typedef CK_RV (*final_fn)(CK_SESSION_HANDLE, CK_BYTE_PTR, CK_ULONG_PTR);

static void finish_single(single_fn fn, CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inl, CK_ULONG need)
{
    for (int tries = 0; tries < 3; tries++) {
        if (need == 0)
            need = 1;
        if (need > MAX_SCRATCH)
            return;
        CK_BYTE_PTR buf = calloc(1, need);
        if (buf == NULL)
            return;
        CK_ULONG len = need;
        CK_RV rv = fn(s, in, inl, buf, &len);
        memset(buf, 0, need);
        free(buf);
        if (rv != CKR_BUFFER_TOO_SMALL)
            return;
        need = len > need ? len : need * 2;
    }
}

static void finish_final(final_fn fn, CK_SESSION_HANDLE s, CK_ULONG need)
{
    for (int tries = 0; tries < 3; tries++) {
        if (need == 0)
            need = 1;
        if (need > MAX_SCRATCH)
            return;
        CK_BYTE_PTR buf = calloc(1, need);
        if (buf == NULL)
            return;
        CK_ULONG len = need;
        CK_RV rv = fn(s, buf, &len);
        memset(buf, 0, need);
        free(buf);
        if (rv != CKR_BUFFER_TOO_SMALL)
            return;
        need = len > need ? len : need * 2;
    }
}

/* Ends an active multi-part operation through its C_*Final. */
static void end_via_final(final_fn fn, CK_SESSION_HANDLE s)
{
    if (fn == NULL)
        return;
    CK_ULONG len = 0;
    CK_RV rv = fn(s, NULL, &len);       /* length query: operation stays active */
    if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL)
        finish_final(fn, s, len);
    /* any other error already ended the operation */
}

/* Forward a single-part call with output; on injection end the operation, zero
 * the caller's buffer and return the injected code. */
static CK_RV do_single(int fid, single_fn fn, CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inl,
                       CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
    struct pre p;
    int act = shim_pre(fid, &p);
    if (act == ACT_FAIL)
        return p.rv;
    if (fn == NULL)
        return act == ACT_FAIL_TERM ? p.rv : CKR_FUNCTION_NOT_SUPPORTED;
    CK_ULONG cap = outl ? *outl : 0;
    real_enter();
    CK_RV rv = fn(s, in, inl, out, outl);
    if (act == ACT_FORWARD) {
        real_leave();
        return rv;
    }
    if (outl && (rv == CKR_BUFFER_TOO_SMALL || (rv == CKR_OK && out == NULL)))
        finish_single(fn, s, in, inl, *outl);
    real_leave();
    if (out && cap)
        memset(out, 0, cap);
    if (outl)
        *outl = cap;
    return p.rv;
}

static CK_RV do_final(int fid, final_fn fn, CK_SESSION_HANDLE s, CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
    struct pre p;
    int act = shim_pre(fid, &p);
    if (act == ACT_FAIL)
        return p.rv;
    if (fn == NULL)
        return act == ACT_FAIL_TERM ? p.rv : CKR_FUNCTION_NOT_SUPPORTED;
    CK_ULONG cap = outl ? *outl : 0;
    real_enter();
    CK_RV rv = fn(s, out, outl);
    if (act == ACT_FORWARD) {
        real_leave();
        return rv;
    }
    if (outl && (rv == CKR_BUFFER_TOO_SMALL || (rv == CKR_OK && out == NULL)))
        finish_final(fn, s, *outl);
    real_leave();
    if (out && cap)
        memset(out, 0, cap);
    if (outl)
        *outl = cap;
    return p.rv;
}

/* Multi-part update: on injection do not forward, end the real operation. */
static CK_RV update_injected(final_fn fin, CK_SESSION_HANDLE s, CK_RV injected)
{
    real_enter();
    end_via_final(fin, s);
    real_leave();
    return injected;
}

/* ------------------------------------------------------------------------- */
/* Forwarders                                                                 */
/* ------------------------------------------------------------------------- */

#define REAL_OR_NOT_SUPPORTED(name)                         \
    if (g_real == NULL || g_real->name == NULL)             \
        return CKR_FUNCTION_NOT_SUPPORTED

/* plain forwarder: rules, then the real call under the read lock */
#define SIMPLE(name, args)                                  \
    do {                                                    \
        struct pre p_;                                      \
        if (shim_pre(F_##name, &p_) != ACT_FORWARD)         \
            return p_.rv;                                   \
        REAL_OR_NOT_SUPPORTED(name);                        \
        real_enter();                                       \
        CK_RV rv_ = g_real->name args;                      \
        real_leave();                                       \
        return rv_;                                         \
    } while (0)

/* forwarder that, on injection, still forwards and discards the real result */
#define FORWARD_DISCARD(name, args)                         \
    do {                                                    \
        struct pre p_;                                      \
        int act_ = shim_pre(F_##name, &p_);                 \
        if (act_ == ACT_FAIL)                               \
            return p_.rv;                                   \
        if (g_real == NULL || g_real->name == NULL)         \
            return act_ == ACT_FAIL_TERM ? p_.rv : CKR_FUNCTION_NOT_SUPPORTED; \
        real_enter();                                       \
        CK_RV rv_ = g_real->name args;                      \
        real_leave();                                       \
        return act_ == ACT_FAIL_TERM ? p_.rv : rv_;         \
    } while (0)

/* multi-part update: on injection end the operation via FINAL, do not forward */
#define UPDATE(name, args, final, s)                        \
    do {                                                    \
        struct pre p_;                                      \
        int act_ = shim_pre(F_##name, &p_);                 \
        if (act_ == ACT_FAIL)                               \
            return p_.rv;                                   \
        if (act_ == ACT_FAIL_TERM)                          \
            return update_injected(g_real ? g_real->final : NULL, s, p_.rv); \
        REAL_OR_NOT_SUPPORTED(name);                        \
        real_enter();                                       \
        CK_RV rv_ = g_real->name args;                      \
        real_leave();                                       \
        return rv_;                                         \
    } while (0)

static CK_RV shim_C_Initialize(CK_VOID_PTR init_args)
{
    SIMPLE(C_Initialize, (init_args));
}

static CK_RV shim_C_Finalize(CK_VOID_PTR res)
{
    struct pre p;
    if (shim_pre(F_C_Finalize, &p) != ACT_FORWARD)
        return p.rv;
    REAL_OR_NOT_SUPPORTED(C_Finalize);
    pthread_rwlock_wrlock(&g_real_rw);
    CK_RV rv = g_real->C_Finalize(res);
    if (rv == CKR_OK)
        sess_reset();
    pthread_rwlock_unlock(&g_real_rw);
    return rv;
}

static CK_RV shim_C_GetInfo(CK_INFO_PTR info)
{
    SIMPLE(C_GetInfo, (info));
}

static CK_RV shim_C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR pp)
{
    struct pre p;
    (void)shim_pre(F_C_GetFunctionList, &p);   /* counted, never faulted */
    if (pp == NULL)
        return CKR_ARGUMENTS_BAD;
    *pp = &g_list;
    return CKR_OK;
}

static CK_RV shim_C_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR n)
{
    struct pre p;
    if (shim_pre(F_C_GetSlotList, &p) != ACT_FORWARD)
        return p.rv;
    if (p.absent && present && n != NULL) {
        *n = 0;             /* the token is gone: no slot has a token */
        return CKR_OK;
    }
    REAL_OR_NOT_SUPPORTED(C_GetSlotList);
    real_enter();
    CK_RV rv = g_real->C_GetSlotList(present, list, n);
    real_leave();
    return rv;
}

static CK_RV shim_C_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
    struct pre p;
    if (shim_pre(F_C_GetSlotInfo, &p) != ACT_FORWARD)
        return p.rv;
    REAL_OR_NOT_SUPPORTED(C_GetSlotInfo);
    real_enter();
    CK_RV rv = g_real->C_GetSlotInfo(slot, info);
    real_leave();
    if (rv == CKR_OK && p.absent && info != NULL)
        info->flags &= ~(CK_FLAGS)CKF_TOKEN_PRESENT;
    return rv;
}

static CK_RV shim_C_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
    SIMPLE(C_GetTokenInfo, (slot, info));
}

static CK_RV shim_C_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR n)
{
    SIMPLE(C_GetMechanismList, (slot, list, n));
}

static CK_RV shim_C_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
    SIMPLE(C_GetMechanismInfo, (slot, type, info));
}

static CK_RV shim_C_InitToken(CK_SLOT_ID slot, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len, CK_UTF8CHAR_PTR label)
{
    SIMPLE(C_InitToken, (slot, pin, pin_len, label));
}

static CK_RV shim_C_InitPIN(CK_SESSION_HANDLE s, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len)
{
    SIMPLE(C_InitPIN, (s, pin, pin_len));
}

static CK_RV shim_C_SetPIN(CK_SESSION_HANDLE s, CK_UTF8CHAR_PTR old_pin, CK_ULONG old_len,
                           CK_UTF8CHAR_PTR new_pin, CK_ULONG new_len)
{
    SIMPLE(C_SetPIN, (s, old_pin, old_len, new_pin, new_len));
}

static CK_RV shim_C_OpenSession(CK_SLOT_ID slot, CK_FLAGS fl, CK_VOID_PTR app, CK_NOTIFY notify,
                                CK_SESSION_HANDLE_PTR ph)
{
    struct pre p;
    if (shim_pre(F_C_OpenSession, &p) != ACT_FORWARD)
        return p.rv;
    REAL_OR_NOT_SUPPORTED(C_OpenSession);
    real_enter();
    CK_RV rv = g_real->C_OpenSession(slot, fl, app, notify, ph);
    real_leave();
    if (rv == CKR_OK && ph != NULL)
        sess_add(*ph, slot);
    return rv;
}

static CK_RV shim_C_CloseSession(CK_SESSION_HANDLE s)
{
    struct pre p;
    if (shim_pre(F_C_CloseSession, &p) != ACT_FORWARD)
        return p.rv;
    REAL_OR_NOT_SUPPORTED(C_CloseSession);
    real_enter();
    CK_RV rv = g_real->C_CloseSession(s);
    real_leave();
    if (rv == CKR_OK)
        sess_remove(s);
    return rv;
}

static CK_RV shim_C_CloseAllSessions(CK_SLOT_ID slot)
{
    struct pre p;
    if (shim_pre(F_C_CloseAllSessions, &p) != ACT_FORWARD)
        return p.rv;
    REAL_OR_NOT_SUPPORTED(C_CloseAllSessions);
    real_enter();
    CK_RV rv = g_real->C_CloseAllSessions(slot);
    real_leave();
    if (rv == CKR_OK)
        sess_remove_slot(slot);
    return rv;
}

static CK_RV shim_C_GetSessionInfo(CK_SESSION_HANDLE s, CK_SESSION_INFO_PTR info)
{
    SIMPLE(C_GetSessionInfo, (s, info));
}

static CK_RV shim_C_GetOperationState(CK_SESSION_HANDLE s, CK_BYTE_PTR st, CK_ULONG_PTR st_len)
{
    SIMPLE(C_GetOperationState, (s, st, st_len));
}

static CK_RV shim_C_SetOperationState(CK_SESSION_HANDLE s, CK_BYTE_PTR st, CK_ULONG st_len,
                                      CK_OBJECT_HANDLE enc_key, CK_OBJECT_HANDLE auth_key)
{
    SIMPLE(C_SetOperationState, (s, st, st_len, enc_key, auth_key));
}

static CK_RV shim_C_Login(CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len)
{
    SIMPLE(C_Login, (s, user, pin, pin_len));
}

static CK_RV shim_C_Logout(CK_SESSION_HANDLE s)
{
    SIMPLE(C_Logout, (s));
}

static CK_RV shim_C_CreateObject(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR obj)
{
    SIMPLE(C_CreateObject, (s, t, n, obj));
}

static CK_RV shim_C_CopyObject(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR t, CK_ULONG n,
                               CK_OBJECT_HANDLE_PTR nobj)
{
    SIMPLE(C_CopyObject, (s, obj, t, n, nobj));
}

static CK_RV shim_C_DestroyObject(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj)
{
    SIMPLE(C_DestroyObject, (s, obj));
}

static CK_RV shim_C_GetObjectSize(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, CK_ULONG_PTR size)
{
    SIMPLE(C_GetObjectSize, (s, obj, size));
}

static CK_RV shim_C_GetAttributeValue(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    SIMPLE(C_GetAttributeValue, (s, obj, t, n));
}

static CK_RV shim_C_SetAttributeValue(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    SIMPLE(C_SetAttributeValue, (s, obj, t, n));
}

static CK_RV shim_C_FindObjectsInit(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    SIMPLE(C_FindObjectsInit, (s, t, n));
}

static CK_RV shim_C_FindObjects(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE_PTR objs, CK_ULONG max, CK_ULONG_PTR n)
{
    SIMPLE(C_FindObjects, (s, objs, max, n));
}

static CK_RV shim_C_FindObjectsFinal(CK_SESSION_HANDLE s)
{
    FORWARD_DISCARD(C_FindObjectsFinal, (s));
}

static CK_RV shim_C_EncryptInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
    SIMPLE(C_EncryptInit, (s, m, key));
}

static CK_RV shim_C_Encrypt(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inl, CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
    return do_single(F_C_Encrypt, g_real ? g_real->C_Encrypt : NULL, s, in, inl, out, outl);
}

static CK_RV shim_C_EncryptUpdate(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inl, CK_BYTE_PTR out,
                                  CK_ULONG_PTR outl)
{
    UPDATE(C_EncryptUpdate, (s, in, inl, out, outl), C_EncryptFinal, s);
}

static CK_RV shim_C_EncryptFinal(CK_SESSION_HANDLE s, CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
    return do_final(F_C_EncryptFinal, g_real ? g_real->C_EncryptFinal : NULL, s, out, outl);
}

static CK_RV shim_C_DecryptInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
    SIMPLE(C_DecryptInit, (s, m, key));
}

static CK_RV shim_C_Decrypt(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inl, CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
    return do_single(F_C_Decrypt, g_real ? g_real->C_Decrypt : NULL, s, in, inl, out, outl);
}

static CK_RV shim_C_DecryptUpdate(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inl, CK_BYTE_PTR out,
                                  CK_ULONG_PTR outl)
{
    UPDATE(C_DecryptUpdate, (s, in, inl, out, outl), C_DecryptFinal, s);
}

static CK_RV shim_C_DecryptFinal(CK_SESSION_HANDLE s, CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
    return do_final(F_C_DecryptFinal, g_real ? g_real->C_DecryptFinal : NULL, s, out, outl);
}

static CK_RV shim_C_DigestInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m)
{
    SIMPLE(C_DigestInit, (s, m));
}

static CK_RV shim_C_Digest(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inl, CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
    return do_single(F_C_Digest, g_real ? g_real->C_Digest : NULL, s, in, inl, out, outl);
}

static CK_RV shim_C_DigestUpdate(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inl)
{
    UPDATE(C_DigestUpdate, (s, in, inl), C_DigestFinal, s);
}

static CK_RV shim_C_DigestKey(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key)
{
    UPDATE(C_DigestKey, (s, key), C_DigestFinal, s);
}

static CK_RV shim_C_DigestFinal(CK_SESSION_HANDLE s, CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
    return do_final(F_C_DigestFinal, g_real ? g_real->C_DigestFinal : NULL, s, out, outl);
}

static CK_RV shim_C_SignInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
    SIMPLE(C_SignInit, (s, m, key));
}

static CK_RV shim_C_Sign(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inl, CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
    return do_single(F_C_Sign, g_real ? g_real->C_Sign : NULL, s, in, inl, out, outl);
}

static CK_RV shim_C_SignUpdate(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inl)
{
    UPDATE(C_SignUpdate, (s, in, inl), C_SignFinal, s);
}

static CK_RV shim_C_SignFinal(CK_SESSION_HANDLE s, CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
    return do_final(F_C_SignFinal, g_real ? g_real->C_SignFinal : NULL, s, out, outl);
}

static CK_RV shim_C_SignRecoverInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
    SIMPLE(C_SignRecoverInit, (s, m, key));
}

static CK_RV shim_C_SignRecover(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inl, CK_BYTE_PTR out,
                                CK_ULONG_PTR outl)
{
    return do_single(F_C_SignRecover, g_real ? g_real->C_SignRecover : NULL, s, in, inl, out, outl);
}

static CK_RV shim_C_VerifyInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
    SIMPLE(C_VerifyInit, (s, m, key));
}

static CK_RV shim_C_Verify(CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG data_len, CK_BYTE_PTR sig,
                           CK_ULONG sig_len)
{
    FORWARD_DISCARD(C_Verify, (s, data, data_len, sig, sig_len));
}

/* C_VerifyUpdate: on injection end the verify operation with a dummy signature */
static CK_RV shim_C_VerifyUpdate(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inl)
{
    struct pre p;
    int act = shim_pre(F_C_VerifyUpdate, &p);
    if (act == ACT_FAIL)
        return p.rv;
    if (act == ACT_FAIL_TERM) {
        if (g_real && g_real->C_VerifyFinal) {
            CK_BYTE dummy[1] = {0};
            real_enter();
            (void)g_real->C_VerifyFinal(s, dummy, sizeof dummy);
            real_leave();
        }
        return p.rv;
    }
    REAL_OR_NOT_SUPPORTED(C_VerifyUpdate);
    real_enter();
    CK_RV rv = g_real->C_VerifyUpdate(s, in, inl);
    real_leave();
    return rv;
}

static CK_RV shim_C_VerifyFinal(CK_SESSION_HANDLE s, CK_BYTE_PTR sig, CK_ULONG sig_len)
{
    FORWARD_DISCARD(C_VerifyFinal, (s, sig, sig_len));
}

static CK_RV shim_C_VerifyRecoverInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
    SIMPLE(C_VerifyRecoverInit, (s, m, key));
}

static CK_RV shim_C_VerifyRecover(CK_SESSION_HANDLE s, CK_BYTE_PTR sig, CK_ULONG sig_len, CK_BYTE_PTR out,
                                  CK_ULONG_PTR outl)
{
    return do_single(F_C_VerifyRecover, g_real ? g_real->C_VerifyRecover : NULL, s, sig, sig_len, out, outl);
}

static CK_RV shim_C_DigestEncryptUpdate(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inl, CK_BYTE_PTR out,
                                        CK_ULONG_PTR outl)
{
    SIMPLE(C_DigestEncryptUpdate, (s, in, inl, out, outl));
}

static CK_RV shim_C_DecryptDigestUpdate(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inl, CK_BYTE_PTR out,
                                        CK_ULONG_PTR outl)
{
    SIMPLE(C_DecryptDigestUpdate, (s, in, inl, out, outl));
}

static CK_RV shim_C_SignEncryptUpdate(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inl, CK_BYTE_PTR out,
                                      CK_ULONG_PTR outl)
{
    SIMPLE(C_SignEncryptUpdate, (s, in, inl, out, outl));
}

static CK_RV shim_C_DecryptVerifyUpdate(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inl, CK_BYTE_PTR out,
                                        CK_ULONG_PTR outl)
{
    SIMPLE(C_DecryptVerifyUpdate, (s, in, inl, out, outl));
}

static CK_RV shim_C_GenerateKey(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR t, CK_ULONG n,
                                CK_OBJECT_HANDLE_PTR key)
{
    SIMPLE(C_GenerateKey, (s, m, t, n, key));
}

static CK_RV shim_C_GenerateKeyPair(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pub_t,
                                    CK_ULONG pub_n, CK_ATTRIBUTE_PTR priv_t, CK_ULONG priv_n,
                                    CK_OBJECT_HANDLE_PTR pub, CK_OBJECT_HANDLE_PTR priv)
{
    SIMPLE(C_GenerateKeyPair, (s, m, pub_t, pub_n, priv_t, priv_n, pub, priv));
}

static CK_RV shim_C_WrapKey(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE wrapping,
                            CK_OBJECT_HANDLE key, CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
    SIMPLE(C_WrapKey, (s, m, wrapping, key, out, outl));
}

static CK_RV shim_C_UnwrapKey(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE unwrapping,
                              CK_BYTE_PTR wrapped, CK_ULONG wrapped_len, CK_ATTRIBUTE_PTR t, CK_ULONG n,
                              CK_OBJECT_HANDLE_PTR key)
{
    SIMPLE(C_UnwrapKey, (s, m, unwrapping, wrapped, wrapped_len, t, n, key));
}

static CK_RV shim_C_DeriveKey(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE base,
                              CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR key)
{
    SIMPLE(C_DeriveKey, (s, m, base, t, n, key));
}

static CK_RV shim_C_SeedRandom(CK_SESSION_HANDLE s, CK_BYTE_PTR seed, CK_ULONG seed_len)
{
    SIMPLE(C_SeedRandom, (s, seed, seed_len));
}

static CK_RV shim_C_GenerateRandom(CK_SESSION_HANDLE s, CK_BYTE_PTR out, CK_ULONG len)
{
    SIMPLE(C_GenerateRandom, (s, out, len));
}

static CK_RV shim_C_GetFunctionStatus(CK_SESSION_HANDLE s)
{
    SIMPLE(C_GetFunctionStatus, (s));
}

static CK_RV shim_C_CancelFunction(CK_SESSION_HANDLE s)
{
    SIMPLE(C_CancelFunction, (s));
}

/* Not under the read lock: it may block until a slot event or C_Finalize. */
static CK_RV shim_C_WaitForSlotEvent(CK_FLAGS fl, CK_SLOT_ID_PTR slot, CK_VOID_PTR res)
{
    struct pre p;
    if (shim_pre(F_C_WaitForSlotEvent, &p) != ACT_FORWARD)
        return p.rv;
    REAL_OR_NOT_SUPPORTED(C_WaitForSlotEvent);
    return g_real->C_WaitForSlotEvent(fl, slot, res);
}

/* The function list: version 2.40, all 68 entries (designated initializers make the
 * compiler check every entry against its member's type). */
static CK_FUNCTION_LIST g_list = {
    .version = {2, 40},
#define X_ENTRY(n) .n = shim_##n,
    SHIM_FUNCS(X_ENTRY)
#undef X_ENTRY
};

/* ------------------------------------------------------------------------- */
/* Exports                                                                    */
/* ------------------------------------------------------------------------- */

SHIM_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
    ensure_init();
    atomic_fetch_add_explicit(&g_calls[F_C_GetFunctionList], 1, memory_order_relaxed);
    if (g_real == NULL)
        return g_init_rv != CKR_OK ? g_init_rv : CKR_GENERAL_ERROR;
    if (ppFunctionList == NULL)
        return CKR_ARGUMENTS_BAD;
    *ppFunctionList = &g_list;
    return CKR_OK;
}

SHIM_EXPORT long hsmkit_shim_open_sessions(void)
{
    return atomic_load(&g_open);
}

SHIM_EXPORT long hsmkit_shim_injected(void)
{
    return atomic_load(&g_injected);
}

SHIM_EXPORT long hsmkit_shim_calls(const char *function_name)
{
    if (function_name == NULL || strcmp(function_name, "*") == 0) {
        long total = 0;
        for (int i = 0; i < F_COUNT; i++)
            total += atomic_load_explicit(&g_calls[i], memory_order_relaxed);
        return total;
    }
    if (strnlen(function_name, 64) >= 64)
        return -1;
    int fid = lookup_function(function_name);
    return fid < 0 ? -1 : atomic_load(&g_calls[fid]);
}

SHIM_EXPORT void hsmkit_shim_set_rules(const char *rules)
{
    ensure_init();      /* so that a later first load cannot overwrite these rules */
    if (g_ctl_path == NULL) {
        load_text(rules, "hsmkit_shim_set_rules");
        return;
    }
    /* Take the control file's current state as "seen", so that only a change made
     * after this call replaces these rules (e.g. a file deleted just before this
     * call must not wipe them on the next PKCS#11 call). */
    long long sig[SIG_N];
    ctl_stat(sig);
    pthread_mutex_lock(&g_ctl_mu);
    for (int i = 0; i < SIG_N; i++)
        atomic_store_explicit(&g_ctl_sig[i], sig[i], memory_order_release);
    load_text(rules, "hsmkit_shim_set_rules");
    pthread_mutex_unlock(&g_ctl_mu);
}

SHIM_EXPORT void hsmkit_shim_reset_counters(void)
{
    for (int i = 0; i < F_COUNT; i++)
        atomic_store(&g_calls[i], 0);
    atomic_store(&g_injected, 0);
}

#pragma GCC visibility pop
