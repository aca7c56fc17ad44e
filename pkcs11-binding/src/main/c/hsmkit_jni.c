/*
 * hsmkit_jni.c: the binding's JNI fast path (io.hsmkit.pkcs11.internal.jna.JniCalls).
 *
 * Why it exists: a JNA direct-mapped call costs about 230 ns, and JNA cannot hand a Java byte[] to
 * C without a copy. A one-shot operation through JNA is therefore two crossings and two copies
 * (input in, output out). Here one JNI crossing runs C_xxxInit and the single-part call together,
 * and the data reaches the library either through a stack buffer (small data: one memcpy each way,
 * wiped afterwards when it is secret) or through the pinned Java array (large data: no copy at all).
 *
 * What it trusts: the Java side (JniCalls' callers in JnaPkcs11) has checked every offset and
 * length against its array, that function addresses come from the library's function table, and
 * that pointer arguments (mechanism, scratch) point into live native memory it owns for the call.
 * Nothing here allocates, keeps state between calls, or calls back into Java while an array is
 * pinned (JNI forbids other JNI calls inside a critical region).
 *
 * Types: CK_ULONG is unsigned long and functions use the platform C convention; this file is built
 * for Linux x86-64 only (the pom), where that is PKCS#11's own ABI. No PKCS#11 header is needed.
 */
#define _DEFAULT_SOURCE
#include <jni.h>
#include <stdint.h>
#include <string.h>

typedef unsigned long CK_ULONG;
typedef CK_ULONG CK_RV;
typedef CK_RV (*init_fn)(CK_ULONG session, void *mechanism, CK_ULONG key);
typedef CK_RV (*init_nokey_fn)(CK_ULONG session, void *mechanism);
typedef CK_RV (*in_out_fn)(CK_ULONG session, unsigned char *in, CK_ULONG in_len, unsigned char *out, CK_ULONG *out_len);
typedef CK_RV (*out_only_fn)(CK_ULONG session, unsigned char *out, CK_ULONG *out_len);
typedef CK_RV (*two_in_fn)(CK_ULONG session, unsigned char *a, CK_ULONG a_len, unsigned char *b, CK_ULONG b_len);
typedef CK_RV (*one_buf_fn)(CK_ULONG session, unsigned char *a, CK_ULONG a_len);

/* Keep in step with JniCalls.java. */
#define F_INIT 1        /* call fInit(session, mechanism[, key]) first */
#define F_NO_KEY 2      /* fInit takes no key (C_DigestInit) */
#define F_SECRET_A 4    /* wipe the stack copy of the first buffer (plaintext, data, random bytes) */
#define F_SECRET_B 8    /* wipe the stack copy of the second buffer (plaintext out) */
#define F_OUT_ONLY 16   /* in_out shape without input: f(session, out, &len) */
#define F_WRITES_A 32   /* one_buf shape whose buffer is output (C_GenerateRandom) */
#define F_PIN 64        /* pin the arrays whatever their size: the caller knows the call is quick */

/* Data up to this size goes through the stack; beyond it the Java array is pinned. A pinned array
 * holds off the garbage collector for the call, so small arrays are pinned only with F_PIN, which
 * the Java side sets for quick symmetric mechanisms (AES, HMAC); RSA and EC inputs are copied. */
#define STACK_BYTES 4096

static unsigned char empty_buf[16];

static void wipe(unsigned char *p, size_t n) {
  if (n > 0) {
    explicit_bzero(p, n);
  }
}

static CK_RV run_init(jlong f_init, jlong session, jlong mechanism, jlong key, jint flags) {
  if (flags & F_NO_KEY) {
    return ((init_nokey_fn) (intptr_t) f_init)((CK_ULONG) session, (void *) (intptr_t) mechanism);
  }
  return ((init_fn) (intptr_t) f_init)((CK_ULONG) session, (void *) (intptr_t) mechanism, (CK_ULONG) key);
}

/*
 * [fInit(session, mechanism, key)] then fData(session, in, inLen, out, &len) (or fData(session,
 * out, &len) with F_OUT_ONLY). scratch[0] carries the output capacity in and the reported length
 * out; scratch[1] is set to 1 once the init call (if any) has succeeded, so the caller can name the
 * function that failed. Returns the CK_RV of the call that ended the sequence. out == NULL asks the
 * length only. If pinning an array fails the JVM has a pending OutOfMemoryError, which Java throws
 * on return; nothing has been called in the token by then.
 */
JNIEXPORT jlong JNICALL Java_io_hsmkit_pkcs11_internal_jna_JniCalls_inOut(
    JNIEnv *env, jclass cls, jlong f_init, jlong f_data, jlong session, jlong mechanism, jlong key,
    jbyteArray in, jint in_off, jint in_len, jbyteArray out, jint out_off, jint out_len, jlong scratch_addr, jint flags) {
  (void) cls;
  CK_ULONG *scratch = (CK_ULONG *) (intptr_t) scratch_addr;
  unsigned char in_stack[STACK_BYTES];
  unsigned char out_stack[STACK_BYTES];
  unsigned char *p_in = empty_buf;
  unsigned char *p_out = NULL;
  void *in_pinned = NULL;
  void *out_pinned = NULL;
  int in_on_stack = 0;
  int out_on_stack = 0;
  CK_RV rv;
  const jint limit = (flags & F_PIN) ? 0 : STACK_BYTES;

  scratch[1] = 0;
  if (in_len > 0 && in_len <= limit) {
    (*env)->GetByteArrayRegion(env, in, in_off, in_len, (jbyte *) in_stack);
    p_in = in_stack;
    in_on_stack = 1;
  }
  /* Pin after the copies: no JNI call may happen while an array is pinned. */
  if (in_len > limit) {
    in_pinned = (*env)->GetPrimitiveArrayCritical(env, in, NULL);
    if (in_pinned == NULL) {
      goto done;
    }
    p_in = (unsigned char *) in_pinned + in_off;
  }
  if (out != NULL) {
    if (out_len <= limit || out_len == 0) {
      p_out = out_stack;
      out_on_stack = 1;
    } else {
      out_pinned = (*env)->GetPrimitiveArrayCritical(env, out, NULL);
      if (out_pinned == NULL) {
        if (in_pinned != NULL) {
          (*env)->ReleasePrimitiveArrayCritical(env, in, in_pinned, JNI_ABORT);
          in_pinned = NULL;
        }
        goto done;
      }
      p_out = (unsigned char *) out_pinned + out_off;
    }
  }

  rv = 0;
  if (flags & F_INIT) {
    rv = run_init(f_init, session, mechanism, key, flags);
  }
  if (rv == 0) {
    scratch[1] = 1;
    scratch[0] = (CK_ULONG) (out == NULL ? 0 : out_len);
    if (flags & F_OUT_ONLY) {
      rv = ((out_only_fn) (intptr_t) f_data)((CK_ULONG) session, p_out, &scratch[0]);
    } else {
      rv = ((in_out_fn) (intptr_t) f_data)((CK_ULONG) session, p_in, (CK_ULONG) in_len, p_out, &scratch[0]);
    }
  }

  if (out_pinned != NULL) {
    if (rv != 0 && (flags & F_SECRET_B)) {
      wipe(p_out, (size_t) out_len); /* whatever a failing library wrote there may be plaintext */
    }
    (*env)->ReleasePrimitiveArrayCritical(env, out, out_pinned, 0);
  }
  if (in_pinned != NULL) {
    (*env)->ReleasePrimitiveArrayCritical(env, in, in_pinned, JNI_ABORT);
  }
  if (out_on_stack && rv == 0 && scratch[1] == 1 && scratch[0] <= (CK_ULONG) out_len) {
    (*env)->SetByteArrayRegion(env, out, out_off, (jsize) scratch[0], (jbyte *) out_stack);
  }
  if (in_on_stack && (flags & F_SECRET_A)) {
    wipe(in_stack, (size_t) in_len);
  }
  if (out_on_stack && (flags & F_SECRET_B)) {
    wipe(out_stack, (size_t) out_len);
  }
  return (jlong) rv;

done:
  if (in_on_stack && (flags & F_SECRET_A)) {
    wipe(in_stack, (size_t) in_len);
  }
  return 0; /* a Java exception is pending */
}

/* Small data: copied to the stack (returned); none: a dummy pointer; large: NULL, the caller pins it after every copy. */
static unsigned char *copy_small(JNIEnv *env, jbyteArray a, jint off, jint len, unsigned char *stack, jint limit) {
  if (len <= 0) {
    return empty_buf;
  }
  if (len <= limit) {
    (*env)->GetByteArrayRegion(env, a, off, len, (jbyte *) stack);
    return stack;
  }
  return NULL;
}

/*
 * [fInit(session, mechanism, key)] then fData(session, a, aLen, b, bLen): C_VerifyInit + C_Verify.
 * scratch (may be 0 without F_INIT) gets scratch[1] = 1 once the init call succeeded.
 */
JNIEXPORT jlong JNICALL Java_io_hsmkit_pkcs11_internal_jna_JniCalls_twoIn(
    JNIEnv *env, jclass cls, jlong f_init, jlong f_data, jlong session, jlong mechanism, jlong key,
    jbyteArray a, jint a_off, jint a_len, jbyteArray b, jint b_off, jint b_len, jlong scratch_addr, jint flags) {
  (void) cls;
  CK_ULONG *scratch = (CK_ULONG *) (intptr_t) scratch_addr;
  unsigned char a_stack[STACK_BYTES];
  unsigned char b_stack[STACK_BYTES];
  void *a_pinned = NULL;
  void *b_pinned = NULL;
  const jint limit = (flags & F_PIN) ? 0 : STACK_BYTES;
  unsigned char *p_a = copy_small(env, a, a_off, a_len, a_stack, limit);
  unsigned char *p_b = copy_small(env, b, b_off, b_len, b_stack, limit);
  const int a_on_stack = p_a == a_stack;
  CK_RV rv = 0;

  if (scratch != NULL) {
    scratch[1] = 0;
  }
  if (a_len > limit) {
    a_pinned = (*env)->GetPrimitiveArrayCritical(env, a, NULL);
    if (a_pinned == NULL) {
      goto fail;
    }
    p_a = (unsigned char *) a_pinned + a_off;
  }
  if (b_len > limit) {
    b_pinned = (*env)->GetPrimitiveArrayCritical(env, b, NULL);
    if (b_pinned == NULL) {
      if (a_pinned != NULL) {
        (*env)->ReleasePrimitiveArrayCritical(env, a, a_pinned, JNI_ABORT);
      }
      goto fail;
    }
    p_b = (unsigned char *) b_pinned + b_off;
  }
  if (flags & F_INIT) {
    rv = run_init(f_init, session, mechanism, key, flags);
  }
  if (rv == 0) {
    if (scratch != NULL) {
      scratch[1] = 1;
    }
    rv = ((two_in_fn) (intptr_t) f_data)((CK_ULONG) session, p_a, (CK_ULONG) a_len, p_b, (CK_ULONG) b_len);
  }
  if (b_pinned != NULL) {
    (*env)->ReleasePrimitiveArrayCritical(env, b, b_pinned, JNI_ABORT);
  }
  if (a_pinned != NULL) {
    (*env)->ReleasePrimitiveArrayCritical(env, a, a_pinned, JNI_ABORT);
  }
  if ((flags & F_SECRET_A) && a_on_stack) {
    wipe(a_stack, (size_t) a_len);
  }
  return (jlong) rv;

fail:
  if ((flags & F_SECRET_A) && a_on_stack) {
    wipe(a_stack, (size_t) a_len);
  }
  return 0; /* a Java exception is pending */
}

/*
 * f(session, a, aLen) with one buffer: input (C_SignUpdate, C_VerifyUpdate, C_VerifyFinal,
 * C_DigestUpdate, C_SeedRandom) or, with F_WRITES_A, output (C_GenerateRandom).
 */
JNIEXPORT jlong JNICALL Java_io_hsmkit_pkcs11_internal_jna_JniCalls_oneBuf(
    JNIEnv *env, jclass cls, jlong f, jlong session, jbyteArray a, jint a_off, jint a_len, jint flags) {
  (void) cls;
  unsigned char a_stack[STACK_BYTES];
  void *a_pinned = NULL;
  unsigned char *p_a = empty_buf;
  int writes = (flags & F_WRITES_A) != 0;
  CK_RV rv;

  if (a_len > STACK_BYTES) {
    a_pinned = (*env)->GetPrimitiveArrayCritical(env, a, NULL);
    if (a_pinned == NULL) {
      return 0; /* a Java exception is pending */
    }
    p_a = (unsigned char *) a_pinned + a_off;
  } else if (a_len > 0) {
    if (!writes) {
      (*env)->GetByteArrayRegion(env, a, a_off, a_len, (jbyte *) a_stack);
    }
    p_a = a_stack;
  }
  rv = ((one_buf_fn) (intptr_t) f)((CK_ULONG) session, p_a, (CK_ULONG) a_len);
  if (a_pinned != NULL) {
    (*env)->ReleasePrimitiveArrayCritical(env, a, a_pinned, writes ? 0 : JNI_ABORT);
  } else if (a_len > 0) {
    if (writes && rv == 0) {
      (*env)->SetByteArrayRegion(env, a, a_off, a_len, (jbyte *) a_stack);
    }
    if (flags & F_SECRET_A) {
      wipe(a_stack, (size_t) a_len);
    }
  }
  return (jlong) rv;
}

/* For the loader's self-check: proves the library is the one this class expects. */
JNIEXPORT jint JNICALL Java_io_hsmkit_pkcs11_internal_jna_JniCalls_abiVersion(JNIEnv *env, jclass cls) {
  (void) env;
  (void) cls;
  return (jint) (1000 + (int) sizeof(CK_ULONG));
}
