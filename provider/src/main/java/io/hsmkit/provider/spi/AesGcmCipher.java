package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;
import io.hsmkit.provider.internal.Errors;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.spi.CipherSupport.OnGeneralError;
import java.nio.ByteBuffer;
import java.security.AlgorithmParameters;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.spec.AlgorithmParameterSpec;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.AEADBadTagException;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.NoSuchPaddingException;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.GCMParameterSpec;

/**
 * AES/GCM/NoPadding in the token (CKM_AES_GCM with CK_GCM_PARAMS), for AES keys of this token.
 *
 * <ul>
 *   <li><b>Parameters.</b> A {@link GCMParameterSpec} with a non-empty IV and a tag of 96, 104,
 *       112, 120 or 128 bits, as the JDK accepts. IVs over 128 bytes are used only if the token
 *       passes a known-answer test for them (SoftHSM2 2.6.1 does not: it silently computes with a
 *       wrong IV), else refused with an InvalidAlgorithmParameterException. Encryption without parameters gets a 12-byte IV from the token's random
 *       generator and a 128-bit tag; {@link #engineGetIV()} and {@link #engineGetParameters()}
 *       return them. Decryption needs the parameters.
 *   <li><b>No IV reuse.</b> As SunJCE: initialising for encryption with the key and IV of the
 *       previous encryption init of this object is an InvalidAlgorithmParameterException ("Cannot
 *       reuse iv for GCM encryption"), and after an encryption's doFinal the object must be
 *       re-initialised before it encrypts again (IllegalStateException otherwise).
 *   <li><b>AAD</b> goes into CK_GCM_PARAMS, so it must come before the first update; the token
 *       operation starts at the first update or doFinal, when the AAD is complete.
 *   <li><b>Encryption streams.</b> SoftHSM2 2.6.1 does multi-part GCM encryption (measured:
 *       C_EncryptUpdate returns as many bytes as it is given, C_EncryptFinal the tag), so update
 *       calls go to the token through a session held for the operation ({@link CipherSession}),
 *       and data is never buffered here. A doFinal without earlier update is the fast path: one
 *       pooled session, C_EncryptInit and one C_Encrypt into the caller's buffer.
 *   <li><b>Decryption buffers.</b> GCM must not release plaintext before the tag is checked, so
 *       ciphertext is kept until doFinal and decrypted with one C_DecryptInit and one C_Decrypt
 *       (the JDK does the same). A wrong tag is an {@link AEADBadTagException}; SoftHSM2 reports it
 *       as CKR_GENERAL_ERROR, see {@link CipherSupport}.
 *   <li>doFinal returns the object to its state after init (for decryption, ready for the next
 *       message with the same parameters); a {@link ShortBufferException} leaves the state as it
 *       was, so the call can be repeated with a bigger buffer.
 * </ul>
 *
 * <p>WRAP_MODE and UNWRAP_MODE are not offered here; use AESWrap or AESWrapPad. Software keys are
 * refused (see {@link CipherSupport#aesKey}). The SecureRandom given to init is not used: IVs come
 * from the token.
 */
public final class AesGcmCipher extends TokenCipherSpi {
  static final int DEFAULT_IV_BYTES = 12;
  static final int DEFAULT_TAG_BITS = 128;

  /**
   * IVs longer than this are checked against a known answer before use: OpenSSL 3 takes GCM IVs of
   * at most 128 bytes, and SoftHSM2 2.6.1 ignores its refusal and encrypts with a wrong IV
   * (measured: Wycheproof's 257-byte IVs give wrong ciphertexts and tags, without an error).
   */
  static final int LONG_IV = 128;
  // The known answer, from SunJCE: key 000102..0f, IV 20 21 22 .. (129 bytes), no AAD, no plaintext.
  private static final byte[] KAT_KEY = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f");
  private static final byte[] KAT_TAG = HexFormat.of().parseHex("11a8736fef249ba3e97cd3c2a7a0c1d7");

  private final TokenContext token;

  private int opmode;
  private HsmSecretKey key;
  private byte[] iv;
  private int tagBits;
  /** AAD of the current message (copied into CK_GCM_PARAMS when the token operation starts). */
  private final CipherSupport.Buffer aad = new CipherSupport.Buffer();
  /** Decryption: the ciphertext and tag, held until doFinal. */
  private final CipherSupport.Buffer held = new CipherSupport.Buffer();
  /** Encryption: the token operation, once update has been called. */
  private CipherSession stream;
  /** Encryption: bytes given to and received from the running token operation. */
  private long streamedIn;
  private long streamedOut;
  /** Data has been passed for the current message: no more AAD. */
  private boolean dataStarted;
  /** An encryption finished: a new IV (re-init) is needed before the next. */
  private boolean spent;
  private HsmSecretKey lastEncryptionKey;
  private byte[] lastEncryptionIv;

  public AesGcmCipher(TokenContext token) {
    this.token = token;
  }

  // ------------------------------------------------------------------ set-up

  @Override
  protected void engineSetMode(String mode) throws NoSuchAlgorithmException {
    if (!"GCM".equalsIgnoreCase(mode)) {
      throw new NoSuchAlgorithmException("only GCM mode, not " + mode);
    }
  }

  @Override
  protected void engineSetPadding(String padding) throws NoSuchPaddingException {
    if (!"NoPadding".equalsIgnoreCase(padding)) {
      throw new NoSuchPaddingException("GCM takes NoPadding, not " + padding);
    }
  }

  @Override
  protected int engineGetBlockSize() {
    return 16;
  }

  @Override
  protected int engineGetKeySize(Key k) throws InvalidKeyException {
    return CipherSupport.aesKey(k, token).bits();
  }

  @Override
  protected byte[] engineGetIV() {
    return iv == null ? null : iv.clone();
  }

  @Override
  protected AlgorithmParameters engineGetParameters() {
    return iv == null ? null : CipherSupport.parameters("GCM", new GCMParameterSpec(tagBits, iv));
  }

  @Override
  protected int engineGetOutputSize(int inputLen) {
    if (CipherSupport.encrypting(opmode)) {
      // held: the plaintext kept over a cluster (empty for one token)
      return (int) Math.min(Integer.MAX_VALUE, pending() + held.size() + inputLen + tagBits / 8);
    }
    return Math.max(0, held.size() + inputLen - tagBits / 8);
  }

  @Override
  protected AlgorithmParameterSpec specOf(AlgorithmParameters params) throws InvalidAlgorithmParameterException {
    return CipherSupport.spec(params, GCMParameterSpec.class);
  }

  @Override
  protected void engineInit(int mode, Key k, AlgorithmParameterSpec params, SecureRandom random)
      throws InvalidKeyException, InvalidAlgorithmParameterException {
    CipherSupport.checkMode(mode);
    if (mode == Cipher.WRAP_MODE || mode == Cipher.UNWRAP_MODE) {
      throw new UnsupportedOperationException("AES/GCM in HsmKit does not wrap keys: use AESWrap or AESWrapPad");
    }
    HsmSecretKey aes = CipherSupport.aesKey(k, token);
    boolean encrypt = mode == Cipher.ENCRYPT_MODE;
    byte[] newIv;
    int newTagBits;
    if (params == null) {
      if (!encrypt) {
        throw new InvalidAlgorithmParameterException("GCM decryption needs a GCMParameterSpec (IV and tag length)");
      }
      newIv = CipherSupport.random(token, DEFAULT_IV_BYTES);
      newTagBits = DEFAULT_TAG_BITS;
    } else if (params instanceof GCMParameterSpec g) {
      newTagBits = g.getTLen();
      if (newTagBits < 96 || newTagBits > 128 || newTagBits % 8 != 0) {
        throw new InvalidAlgorithmParameterException("GCM tag length must be 96, 104, 112, 120 or 128 bits, not " + newTagBits);
      }
      newIv = g.getIV();
      if (newIv == null || newIv.length == 0) {
        throw new InvalidAlgorithmParameterException("GCM IV must not be empty");
      }
      if (newIv.length > LONG_IV && !longIvsWork()) {
        throw new InvalidAlgorithmParameterException("this token computes GCM wrongly for IVs over " + LONG_IV
            + " bytes (it gave a wrong known answer), so HsmKit refuses them: use a 12-byte IV");
      }
    } else {
      throw new InvalidAlgorithmParameterException("GCM takes a GCMParameterSpec, not " + params.getClass().getName());
    }
    if (encrypt) {
      // Same rule as SunJCE: the pair (key, IV) of the last encryption init may not come back.
      if (aes.equals(lastEncryptionKey) && Arrays.equals(newIv, lastEncryptionIv)) {
        throw new InvalidAlgorithmParameterException("Cannot reuse iv for GCM encryption");
      }
      lastEncryptionKey = aes;
      lastEncryptionIv = newIv; // our own copy (getIV() clones), never written to
    }
    endMessage();
    this.opmode = mode;
    this.key = aes;
    this.iv = newIv;
    this.tagBits = newTagBits;
    this.spent = false;
  }

  /** Whether the token gets GCM right for IVs over {@link #LONG_IV} bytes (asked once per token). */
  private boolean longIvsWork() {
    return token.probe("AES-GCM with IVs over " + LONG_IV + " bytes", t -> t.execute(s -> {
      byte[] iv = new byte[LONG_IV + 1];
      for (int i = 0; i < iv.length; i++) {
        iv[i] = (byte) (0x20 + i);
      }
      long h = 0;
      try {
        h = s.createObject(Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES),
            Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.ENCRYPT, true), Attribute.secret(CKA.VALUE, KAT_KEY));
        return Arrays.equals(s.encrypt(Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(iv, null, 128)), h, new byte[0]), KAT_TAG);
      } catch (Pkcs11Exception e) {
        return false;
      } finally {
        if (h != 0) {
          CipherSupport.destroyQuietly(s, h);
        }
      }
    }));
  }

  // ------------------------------------------------------------------ data

  @Override
  protected void engineUpdateAAD(byte[] src, int offset, int len) {
    checkUsable();
    if (dataStarted) {
      throw new IllegalStateException("AAD must be supplied before encryption/decryption starts");
    }
    aad.append(src, offset, len);
  }

  @Override
  protected void engineUpdateAAD(ByteBuffer src) {
    byte[] b = new byte[src.remaining()];
    src.get(b);
    engineUpdateAAD(b, 0, b.length);
  }

  @Override
  protected byte[] engineUpdate(byte[] input, int inputOffset, int inputLen) {
    byte[] out = new byte[CipherSupport.encrypting(opmode) ? (int) Math.min(Integer.MAX_VALUE, pending() + inputLen) : 0];
    try {
      int n = engineUpdate(input, inputOffset, inputLen, out, 0);
      return n == out.length ? out : Arrays.copyOf(out, n);
    } catch (ShortBufferException e) {
      throw new IllegalStateException("output size miscomputed", e);
    }
  }

  @Override
  protected int engineUpdate(byte[] input, int inputOffset, int inputLen, byte[] output, int outputOffset) throws ShortBufferException {
    checkUsable();
    if (!CipherSupport.encrypting(opmode)) {
      dataStarted = true;
      held.append(input, inputOffset, inputLen);
      return 0;
    }
    if (inputLen == 0) {
      dataStarted = true;
      return 0;
    }
    if (token.isCluster()) {
      // Over a cluster the plaintext is kept and encrypted whole at doFinal: an encryption held on
      // one member's session could not move to another if that member went away half-way.
      dataStarted = true;
      held.append(input, inputOffset, inputLen);
      return 0;
    }
    CipherSupport.checkRoom(output, outputOffset, (int) Math.min(Integer.MAX_VALUE, pending() + inputLen));
    dataStarted = true;
    try {
      if (stream == null) {
        stream = CipherSession.startEncrypt(token, mechanism(), key.handle());
      }
      int n = stream.update(input, inputOffset, inputLen, output, outputOffset, output.length - outputOffset);
      streamedIn += inputLen;
      streamedOut += n;
      return n;
    } catch (Pkcs11Exception e) {
      failEncryption();
      throw Errors.provider("AES-GCM update", e);
    }
  }

  @Override
  protected byte[] engineDoFinal(byte[] input, int inputOffset, int inputLen) throws IllegalBlockSizeException, BadPaddingException {
    checkUsable();
    return CipherSupport.finalToArray(engineGetOutputSize(inputLen), (out, off) -> engineDoFinal(input, inputOffset, inputLen, out, off));
  }

  @Override
  protected int engineDoFinal(byte[] input, int inputOffset, int inputLen, byte[] output, int outputOffset)
      throws ShortBufferException, IllegalBlockSizeException, BadPaddingException {
    checkUsable();
    byte[] in = CipherSupport.orEmpty(input);
    return CipherSupport.encrypting(opmode)
        ? finishEncryption(in, inputOffset, inputLen, output, outputOffset)
        : finishDecryption(in, inputOffset, inputLen, output, outputOffset);
  }

  private int finishEncryption(byte[] in, int inOff, int inLen, byte[] out, int outOff)
      throws ShortBufferException, IllegalBlockSizeException, BadPaddingException {
    CipherSupport.checkRoom(out, outOff, engineGetOutputSize(inLen));
    dataStarted = true;
    try {
      int n;
      if (token.isCluster()) {
        byte[] pt = held.size() == 0 ? in : held.joined(in, inOff, inLen);
        int ptOff = held.size() == 0 ? inOff : 0;
        int ptLen = held.size() + inLen;
        Mechanism m = mechanism();
        try {
          n = CipherSupport.callOnCluster(token, key, "AES-GCM encryption", OnGeneralError.PROVIDER,
              (s, h) -> s.encrypt(m, h, pt, ptOff, ptLen, out, outOff));
        } finally {
          if (pt != in) {
            CipherSupport.wipe(pt);
          }
        }
      } else if (stream == null) {
        // The fast path: one borrow, C_EncryptInit and one C_Encrypt straight into the caller's buffer.
        Mechanism m = mechanism();
        long h = key.handle();
        n = CipherSupport.call(token, "AES-GCM encryption", OnGeneralError.PROVIDER, s -> s.encrypt(m, h, in, inOff, inLen, out, outOff));
      } else {
        try {
          n = inLen == 0 ? 0 : stream.update(in, inOff, inLen, out, outOff, out.length - outOff);
          n += stream.finish(out, outOff + n, out.length - outOff - n);
        } catch (Pkcs11Exception e) {
          throw CipherSupport.rethrow("AES-GCM encryption", CipherSupport.cipherError("AES-GCM encryption", e, false));
        }
      }
      return n;
    } finally {
      // Whether it worked or not, this IV has been used with this key.
      failEncryption();
    }
  }

  private int finishDecryption(byte[] in, int inOff, int inLen, byte[] out, int outOff)
      throws ShortBufferException, IllegalBlockSizeException, BadPaddingException {
    int tagBytes = tagBits / 8;
    int total = held.size() + inLen;
    if (total < tagBytes) {
      endMessage();
      throw new AEADBadTagException("input too short to contain a " + tagBytes + "-byte tag");
    }
    int plainLen = total - tagBytes;
    CipherSupport.checkRoom(out, outOff, plainLen);
    byte[] ct = held.size() == 0 ? in : held.joined(in, inOff, inLen);
    int ctOff = held.size() == 0 ? inOff : 0;
    Mechanism m = mechanism();
    long h = key.handle();
    try {
      if (token.isCluster()) {
        return decryptOnCluster(m, ct, ctOff, total, out, outOff);
      }
      // The token wants room for the whole input (SoftHSM2 checks the output against the ciphertext
      // length, tag included); a caller's buffer sized for the plaintext gets a scratch copy.
      if (out.length - outOff >= total) {
        return CipherSupport.call(token, "AES-GCM decryption", OnGeneralError.BAD_TAG, s -> s.decrypt(m, h, ct, ctOff, total, out, outOff));
      }
      byte[] scratch = new byte[total];
      try {
        int n = CipherSupport.call(token, "AES-GCM decryption", OnGeneralError.BAD_TAG, s -> s.decrypt(m, h, ct, ctOff, total, scratch, 0));
        System.arraycopy(scratch, 0, out, outOff, n);
        return n;
      } finally {
        CipherSupport.wipe(scratch);
      }
    } finally {
      endMessage();
    }
  }

  /** One-shot decryption over a cluster, into a scratch array that fits the token's length check. */
  private int decryptOnCluster(Mechanism m, byte[] ct, int ctOff, int total, byte[] out, int outOff)
      throws ShortBufferException, IllegalBlockSizeException, BadPaddingException {
    byte[] scratch = new byte[total];
    try {
      int n = CipherSupport.callOnCluster(token, key, "AES-GCM decryption", OnGeneralError.BAD_TAG,
          (s, h) -> s.decrypt(m, h, ct, ctOff, total, scratch, 0));
      System.arraycopy(scratch, 0, out, outOff, n);
      return n;
    } finally {
      CipherSupport.wipe(scratch);
    }
  }

  // ------------------------------------------------------------------ state

  private Mechanism mechanism() {
    return Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(iv, aad.size() == 0 ? null : Arrays.copyOf(aad.array(), aad.size()), tagBits));
  }

  /** Bytes the token has taken and not yet returned (zero for SoftHSM2, which streams). */
  private long pending() {
    return streamedIn - streamedOut;
  }

  private void checkUsable() {
    if (opmode == 0) {
      throw new IllegalStateException("Cipher not initialized");
    }
    if (spent) {
      throw new IllegalStateException("Must use either different key or iv for GCM encryption");
    }
  }

  /** An encryption ended (or failed half-way): its IV is used up. */
  private void failEncryption() {
    endMessage();
    spent = true;
  }

  /** Forgets the current message: AAD, held ciphertext, the running token operation. */
  private void endMessage() {
    if (stream != null) {
      stream.abort();
      stream = null;
    }
    streamedIn = 0;
    streamedOut = 0;
    aad.clear();
    held.clear();
    dataStarted = false;
  }
}
