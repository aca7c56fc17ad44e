package io.hsmkit.provider.internal;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKR;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.ProviderException;
import java.security.SignatureException;
import java.util.Map;
import javax.crypto.AEADBadTagException;
import javax.crypto.BadPaddingException;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.ShortBufferException;
import javax.security.auth.login.FailedLoginException;

/**
 * The one table from CKR codes to JCA exceptions. The binding keeps codes raw; SPIs call this at
 * their edge, so the mapping is decided once, here. Every JCA exception keeps the
 * {@link Pkcs11Exception} (function and code) as its cause; none carries data or key material.
 */
public final class Errors {
  private Errors() {}

  /** What a CKR code means to a JCA caller. */
  public enum Kind {
    /** A GCM tag that does not verify: AEADBadTagException. */
    BAD_TAG,
    /** Ciphertext whose padding or encoding is wrong: BadPaddingException. */
    BAD_PADDING,
    /** Data of a length the mechanism cannot take: IllegalBlockSizeException. */
    ILLEGAL_BLOCK_SIZE,
    /** The caller's output buffer is too small: ShortBufferException. */
    SHORT_BUFFER,
    /** The key cannot do this (handle, type, size, usage): InvalidKeyException. */
    INVALID_KEY,
    /** The mechanism's parameters are wrong: InvalidAlgorithmParameterException. */
    INVALID_PARAMETER,
    /** A signature or MAC that does not verify: verify returns false. */
    BAD_SIGNATURE,
    /** A wrong, expired or locked PIN: FailedLoginException. */
    FAILED_LOGIN,
    /** Anything else (device errors, the token gone): ProviderException. */
    PROVIDER
  }

  private static final Map<Long, Kind> TABLE = Map.ofEntries(
      Map.entry(CKR.ENCRYPTED_DATA_INVALID, Kind.BAD_PADDING),
      Map.entry(CKR.AEAD_DECRYPT_FAILED, Kind.BAD_TAG),
      Map.entry(CKR.ENCRYPTED_DATA_LEN_RANGE, Kind.ILLEGAL_BLOCK_SIZE),
      Map.entry(CKR.DATA_LEN_RANGE, Kind.ILLEGAL_BLOCK_SIZE),
      Map.entry(CKR.DATA_INVALID, Kind.ILLEGAL_BLOCK_SIZE),
      Map.entry(CKR.BUFFER_TOO_SMALL, Kind.SHORT_BUFFER),
      Map.entry(CKR.KEY_HANDLE_INVALID, Kind.INVALID_KEY),
      Map.entry(CKR.OBJECT_HANDLE_INVALID, Kind.INVALID_KEY),
      Map.entry(CKR.KEY_TYPE_INCONSISTENT, Kind.INVALID_KEY),
      Map.entry(CKR.KEY_SIZE_RANGE, Kind.INVALID_KEY),
      Map.entry(CKR.KEY_FUNCTION_NOT_PERMITTED, Kind.INVALID_KEY),
      Map.entry(CKR.KEY_UNEXTRACTABLE, Kind.INVALID_KEY),
      Map.entry(CKR.KEY_NOT_WRAPPABLE, Kind.INVALID_KEY),
      Map.entry(CKR.KEY_INDIGESTIBLE, Kind.INVALID_KEY),
      Map.entry(CKR.WRAPPING_KEY_HANDLE_INVALID, Kind.INVALID_KEY),
      Map.entry(CKR.WRAPPING_KEY_SIZE_RANGE, Kind.INVALID_KEY),
      Map.entry(CKR.WRAPPING_KEY_TYPE_INCONSISTENT, Kind.INVALID_KEY),
      Map.entry(CKR.UNWRAPPING_KEY_HANDLE_INVALID, Kind.INVALID_KEY),
      Map.entry(CKR.UNWRAPPING_KEY_SIZE_RANGE, Kind.INVALID_KEY),
      Map.entry(CKR.UNWRAPPING_KEY_TYPE_INCONSISTENT, Kind.INVALID_KEY),
      Map.entry(CKR.WRAPPED_KEY_INVALID, Kind.INVALID_KEY),
      Map.entry(CKR.WRAPPED_KEY_LEN_RANGE, Kind.INVALID_KEY),
      Map.entry(CKR.MECHANISM_PARAM_INVALID, Kind.INVALID_PARAMETER),
      Map.entry(CKR.MECHANISM_INVALID, Kind.INVALID_PARAMETER),
      Map.entry(CKR.DOMAIN_PARAMS_INVALID, Kind.INVALID_PARAMETER),
      Map.entry(CKR.CURVE_NOT_SUPPORTED, Kind.INVALID_PARAMETER),
      Map.entry(CKR.SIGNATURE_INVALID, Kind.BAD_SIGNATURE),
      Map.entry(CKR.SIGNATURE_LEN_RANGE, Kind.BAD_SIGNATURE),
      Map.entry(CKR.PIN_INCORRECT, Kind.FAILED_LOGIN),
      Map.entry(CKR.PIN_INVALID, Kind.FAILED_LOGIN),
      Map.entry(CKR.PIN_LEN_RANGE, Kind.FAILED_LOGIN),
      Map.entry(CKR.PIN_EXPIRED, Kind.FAILED_LOGIN),
      Map.entry(CKR.PIN_LOCKED, Kind.FAILED_LOGIN));

  /** The kind of {@code e}; AEAD decryption turns CKR_ENCRYPTED_DATA_INVALID into {@link Kind#BAD_TAG}. */
  public static Kind kind(Pkcs11Exception e, boolean aeadDecrypt) {
    Kind k = TABLE.getOrDefault(e.ckr(), Kind.PROVIDER);
    if (aeadDecrypt && (k == Kind.BAD_PADDING || e.ckr() == CKR.ENCRYPTED_DATA_INVALID)) {
      return Kind.BAD_TAG;
    }
    return k;
  }

  public static Kind kind(Pkcs11Exception e) {
    return kind(e, false);
  }

  private static <T extends Throwable> T cause(T t, Pkcs11Exception e) {
    t.initCause(e);
    return t;
  }

  public static ProviderException provider(String what, Pkcs11Exception e) {
    return new ProviderException(what + ": " + e.getMessage(), e);
  }

  public static InvalidKeyException invalidKey(String what, Pkcs11Exception e) {
    return cause(new InvalidKeyException(what + ": " + e.getMessage()), e);
  }

  public static InvalidAlgorithmParameterException invalidParameter(String what, Pkcs11Exception e) {
    return cause(new InvalidAlgorithmParameterException(what + ": " + e.getMessage()), e);
  }

  public static FailedLoginException failedLogin(Pkcs11Exception e) {
    return cause(new FailedLoginException("login failed: " + e.ckrName()), e);
  }

  /**
   * The exception for a failed cipher data call (update/doFinal): AEADBadTagException,
   * BadPaddingException, IllegalBlockSizeException or ShortBufferException, or a
   * ProviderException (unchecked) for everything else.
   */
  public static GeneralSecurityException cipher(Pkcs11Exception e, boolean aeadDecrypt) {
    return switch (kind(e, aeadDecrypt)) {
      case BAD_TAG -> cause(new AEADBadTagException("tag mismatch (" + e.ckrName() + ")"), e);
      case BAD_PADDING -> cause(new BadPaddingException("bad padding or ciphertext (" + e.ckrName() + ")"), e);
      case ILLEGAL_BLOCK_SIZE -> cause(new IllegalBlockSizeException("data length not accepted (" + e.ckrName() + ")"), e);
      case SHORT_BUFFER -> cause(new ShortBufferException("output buffer too small (" + e.ckrName() + ")" + (e.requiredLength() > 0 ? ": " + e.requiredLength() + " bytes needed" : "")), e);
      case INVALID_KEY -> invalidKey("the key cannot do this", e);
      default -> throw provider(e.function() + " failed", e);
    };
  }

  public static SignatureException signature(String what, Pkcs11Exception e) {
    return new SignatureException(what + ": " + e.getMessage(), e);
  }
}
