package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.spi.CipherSupport.OnGeneralError;
import java.security.AlgorithmParameters;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.NoSuchAlgorithmException;
import java.security.ProviderException;
import java.security.SecureRandom;
import java.security.spec.AlgorithmParameterSpec;
import java.util.Arrays;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.NoSuchPaddingException;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.IvParameterSpec;

/**
 * AES/ECB/NoPadding, AES/CBC/NoPadding, AES/CBC/PKCS5Padding and AES/CTR/NoPadding in the token
 * (CKM_AES_ECB, CKM_AES_CBC, CKM_AES_CBC_PAD, CKM_AES_CTR with a 128-bit counter), for AES keys
 * of this token.
 *
 * <h2>Multi-part without a held session</h2>
 *
 * Each update or doFinal is one complete token operation on a pooled session (C_EncryptInit and
 * one C_Encrypt, or the decrypt pair), and the chaining value is carried here between calls: the
 * last ciphertext block for CBC, the counter block and the position inside it for CTR; ECB has
 * none. What is carried is public (ciphertext, counters). Compared with a session held from the
 * first update to doFinal this costs one more native call per update, and buys:
 *
 * <ul>
 *   <li>no session is held between calls, so a Cipher dropped half-way holds nothing and the
 *       pool's bound is not eaten by idle streams;
 *   <li>a {@link ShortBufferException} leaves the state exactly as it was, so the call can be
 *       repeated with a bigger buffer as JCA requires, also for padded decryption, whose output
 *       length is only known once the last block is decrypted;
 *   <li>no operation is ever left running in a session that goes back to the pool (a v2.40 token
 *       such as SoftHSM2 cannot cancel one, and closing the session would destroy the session
 *       objects created in it).
 * </ul>
 *
 * A doFinal without earlier update is one borrow, one C_*Init and one C_Encrypt/C_Decrypt with the
 * caller's buffers. PKCS5Padding runs its updates as CKM_AES_CBC over whole blocks (holding back
 * the last block when decrypting). Its encrypting doFinal pads here and encrypts with CKM_AES_CBC
 * in the caller's output buffer (faster on SoftHSM2 than CKM_AES_CBC_PAD, see padAndEncrypt); its
 * decrypting doFinal uses CKM_AES_CBC_PAD, so the token checks the padding. A token without
 * CKM_AES_CBC gets everything at doFinal, as CKM_AES_CBC_PAD.
 *
 * <h2>Rules</h2>
 *
 * IVs are 16-byte {@link IvParameterSpec}s (anything else is an InvalidAlgorithmParameterException);
 * encryption without one gets a random IV from the token, decryption needs one; ECB takes none.
 * NoPadding input that is not a multiple of 16 bytes is an IllegalBlockSizeException at doFinal,
 * bad padding a BadPaddingException. Output sizes are exact, and room is checked before any token
 * call. CTR wraps its 128-bit counter around as the JDK does (the call is split where SoftHSM2
 * would refuse to wrap). WRAP_MODE and UNWRAP_MODE are not offered (use AESWrap); software keys
 * are refused (see {@link CipherSupport#aesKey}).
 *
 * <h2>Over a cluster</h2>
 *
 * Because no session is held between calls and the chaining value lives here, every update and
 * doFinal is already a complete one-shot operation: over a cluster each one runs on a member the
 * cluster chooses, with that member's handle for the replicated key (same CKA_ID everywhere, same
 * key value, so the same output), and moves to another member after a device error. A multi-part
 * operation therefore needs neither buffering nor one member to stay up from the first update to
 * doFinal: successive updates may run on different members, and a member lost between (or during)
 * them costs nothing but the retry. Input is buffered only as on one token (a partial block, and
 * the last block of a padded decryption). When no member can do a call, the caller gets a
 * {@link io.hsmkit.provider.ClusterOperationException} naming the members tried and the cipher
 * restarts from its IV, as after any failed update. Bad padding is still a BadPaddingException
 * (SoftHSM2's CKR_GENERAL_ERROR: the cluster asks a second member, and the same answer is the
 * data's).
 */
public final class AesCipher extends TokenCipherSpi {
  private static final int BLOCK = 16;

  /** The four transformations. */
  public enum Mode {
    ECB("ECB", "NoPadding", CKM.AES_ECB),
    CBC("CBC", "NoPadding", CKM.AES_CBC),
    CBC_PAD("CBC", "PKCS5Padding", CKM.AES_CBC_PAD),
    CTR("CTR", "NoPadding", CKM.AES_CTR);

    final String mode;
    final String padding;
    final long mechanism;

    Mode(String mode, String padding, long mechanism) {
      this.mode = mode;
      this.padding = padding;
      this.mechanism = mechanism;
    }

    /** The JCA transformation name. */
    public String transformation() {
      return "AES/" + mode + "/" + padding;
    }
  }

  private final TokenContext token;
  private final Mode mode;
  /** What failed, for error messages: built once, not on every operation. */
  private final String encryptionName;
  private final String decryptionName;

  private int opmode;
  private HsmSecretKey key;
  /** The IV given or generated at init (null for ECB). */
  private byte[] iv;
  /** CBC: the IV for the next block (the last ciphertext block); CTR: the current counter block. */
  private byte[] chain;
  /** CTR: key-stream bytes of the current counter block already used (0..15). */
  private int ctrUsed;
  /** ECB and CBC: bytes waiting for a whole block (and, for padded decryption, the last block). */
  private final CipherSupport.Buffer pending = new CipherSupport.Buffer();

  public AesCipher(TokenContext token, Mode mode) {
    this.token = token;
    this.mode = mode;
    this.encryptionName = mode.transformation() + " encryption";
    this.decryptionName = mode.transformation() + " decryption";
  }

  // ------------------------------------------------------------------ set-up

  @Override
  protected void engineSetMode(String m) throws NoSuchAlgorithmException {
    if (!mode.mode.equalsIgnoreCase(m)) {
      throw new NoSuchAlgorithmException("this cipher is " + mode.transformation() + ", not mode " + m);
    }
  }

  @Override
  protected void engineSetPadding(String padding) throws NoSuchPaddingException {
    boolean pkcs5 = "PKCS5Padding".equalsIgnoreCase(padding);
    if (!(mode == Mode.CBC_PAD ? pkcs5 : "NoPadding".equalsIgnoreCase(padding))) {
      throw new NoSuchPaddingException("this cipher is " + mode.transformation() + ", not padding " + padding);
    }
  }

  @Override
  protected int engineGetBlockSize() {
    return BLOCK;
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
    return iv == null ? null : CipherSupport.parameters("AES", new IvParameterSpec(iv));
  }

  /** The most the next update or doFinal can produce (exact for doFinal except padded decryption). */
  @Override
  protected int engineGetOutputSize(int inputLen) {
    long total = (long) pending.size() + inputLen;
    long n = switch (mode) {
      case CTR -> inputLen;
      case CBC_PAD -> encrypting() ? (total / BLOCK + 1) * BLOCK : total;
      default -> total;
    };
    return (int) Math.min(Integer.MAX_VALUE, n);
  }

  @Override
  protected AlgorithmParameterSpec specOf(AlgorithmParameters params) throws InvalidAlgorithmParameterException {
    return CipherSupport.spec(params, IvParameterSpec.class);
  }

  @Override
  protected void engineInit(int opm, Key k, AlgorithmParameterSpec params, SecureRandom random)
      throws InvalidKeyException, InvalidAlgorithmParameterException {
    CipherSupport.checkMode(opm);
    if (opm == Cipher.WRAP_MODE || opm == Cipher.UNWRAP_MODE) {
      throw new UnsupportedOperationException(mode.transformation() + " in HsmKit does not wrap keys: use AESWrap or AESWrapPad");
    }
    HsmSecretKey aes = CipherSupport.aesKey(k, token);
    byte[] newIv = null;
    if (mode == Mode.ECB) {
      if (params != null) {
        throw new InvalidAlgorithmParameterException("ECB mode takes no IV");
      }
    } else if (params == null) {
      if (opm != Cipher.ENCRYPT_MODE) {
        throw new InvalidAlgorithmParameterException(mode.mode + " decryption needs the IV (an IvParameterSpec)");
      }
      newIv = CipherSupport.random(token, BLOCK);
    } else if (params instanceof IvParameterSpec ivs) {
      newIv = ivs.getIV();
      if (newIv.length != BLOCK) {
        throw new InvalidAlgorithmParameterException("Wrong IV length: must be 16 bytes long, not " + newIv.length);
      }
    } else {
      throw new InvalidAlgorithmParameterException(mode.mode + " takes an IvParameterSpec, not " + params.getClass().getName());
    }
    this.opmode = opm;
    this.key = aes;
    this.iv = newIv;
    restart();
  }

  // ------------------------------------------------------------------ data

  /** Bytes the next update of {@code inputLen} bytes produces. */
  private int updateSize(int inputLen) {
    if (mode == Mode.CTR) {
      return inputLen;
    }
    if (mode == Mode.CBC_PAD && !token.has(CKM.AES_CBC)) {
      return 0;
    }
    long total = (long) pending.size() + inputLen;
    long n = total / BLOCK * BLOCK;
    if (mode == Mode.CBC_PAD && !encrypting() && n == total && n > 0) {
      n -= BLOCK; // the last block may be padding: keep it for doFinal
    }
    return (int) n;
  }

  @Override
  protected byte[] engineUpdate(byte[] input, int inputOffset, int inputLen) {
    byte[] out = new byte[updateSize(inputLen)];
    try {
      int n = engineUpdate(input, inputOffset, inputLen, out, 0);
      return n == out.length ? out : Arrays.copyOf(out, n);
    } catch (ShortBufferException e) {
      throw new IllegalStateException("output size miscomputed", e);
    }
  }

  @Override
  protected int engineUpdate(byte[] input, int inputOffset, int inputLen, byte[] output, int outputOffset) throws ShortBufferException {
    checkInitialized();
    if (inputLen == 0) {
      return 0;
    }
    try {
      if (mode == Mode.CTR) {
        CipherSupport.checkRoom(output, outputOffset, inputLen);
        ctr(input, inputOffset, inputLen, output, outputOffset);
        return inputLen;
      }
      int process = updateSize(inputLen);
      if (process == 0) {
        pending.append(input, inputOffset, inputLen);
        return 0;
      }
      CipherSupport.checkRoom(output, outputOffset, process);
      return blocks(input, inputOffset, inputLen, process, output, outputOffset);
    } catch (IllegalBlockSizeException | BadPaddingException e) {
      // Whole blocks without padding: the token has no reason to refuse them.
      restart();
      throw new ProviderException(mode.transformation() + " update: " + e.getMessage(), e);
    }
  }

  /**
   * Runs {@code process} bytes (whole blocks: the pending bytes, then input) through the raw mode,
   * keeps the rest of the input pending and moves the chaining value on.
   */
  private int blocks(byte[] in, int inOff, int inLen, int process, byte[] out, int outOff)
      throws ShortBufferException, IllegalBlockSizeException, BadPaddingException {
    int fromInput = process - pending.size();
    byte[] data;
    int dataOff;
    if (pending.size() == 0) {
      data = in;
      dataOff = inOff;
    } else {
      data = pending.joined(in, inOff, fromInput);
      dataOff = 0;
    }
    // Copy what stays behind and the next IV before the call: the output may overlap the input.
    byte[] rest = Arrays.copyOfRange(in, inOff + fromInput, inOff + inLen);
    byte[] nextChain = mode == Mode.ECB || encrypting() ? null : Arrays.copyOfRange(data, dataOff + process - BLOCK, dataOff + process);
    Mechanism m = mode == Mode.ECB ? Mechanism.of(CKM.AES_ECB) : Mechanism.of(CKM.AES_CBC, chain.clone());
    int n;
    try {
      n = crypt(m, data, dataOff, process, out, outOff, OnGeneralError.PROVIDER);
    } catch (ShortBufferException | IllegalBlockSizeException | BadPaddingException | RuntimeException e) {
      restart();
      throw e;
    } finally {
      if (data != in) {
        CipherSupport.wipe(data);
      }
    }
    if (mode != Mode.ECB) {
      chain = nextChain != null ? nextChain : Arrays.copyOfRange(out, outOff + n - BLOCK, outOff + n);
    }
    pending.clear();
    pending.append(rest, 0, rest.length);
    CipherSupport.wipe(rest);
    return n;
  }

  @Override
  protected byte[] engineDoFinal(byte[] input, int inputOffset, int inputLen) throws IllegalBlockSizeException, BadPaddingException {
    checkInitialized();
    return CipherSupport.finalToArray(engineGetOutputSize(inputLen), (out, off) -> engineDoFinal(input, inputOffset, inputLen, out, off));
  }

  @Override
  protected int engineDoFinal(byte[] input, int inputOffset, int inputLen, byte[] output, int outputOffset)
      throws ShortBufferException, IllegalBlockSizeException, BadPaddingException {
    checkInitialized();
    byte[] in = CipherSupport.orEmpty(input);
    if (mode == Mode.CTR) {
      CipherSupport.checkRoom(output, outputOffset, inputLen);
      try {
        if (inputLen > 0) {
          ctr(in, inputOffset, inputLen, output, outputOffset);
        }
        return inputLen;
      } finally {
        restart();
      }
    }
    int total = pending.size() + inputLen;
    if (mode != Mode.CBC_PAD || !encrypting()) {
      if (total % BLOCK != 0 || (mode == Mode.CBC_PAD && total == 0)) {
        restart();
        throw new IllegalBlockSizeException(mode == Mode.CBC_PAD
            ? "Input length must be a non-zero multiple of 16 when decrypting with padded cipher, not " + total
            : "Input length not multiple of 16 bytes: " + total);
      }
    }
    if (mode == Mode.CBC_PAD && !encrypting()) {
      return finishPaddedDecryption(in, inputOffset, inputLen, output, outputOffset);
    }
    int outLen = engineGetOutputSize(inputLen);
    CipherSupport.checkRoom(output, outputOffset, outLen);
    try {
      if (total == 0 && mode != Mode.CBC_PAD) {
        return 0;
      }
      if (mode == Mode.CBC_PAD && token.has(CKM.AES_CBC)) {
        return padAndEncrypt(in, inputOffset, inputLen, total, outLen, output, outputOffset);
      }
      byte[] data = pending.size() == 0 ? in : pending.joined(in, inputOffset, inputLen);
      int dataOff = pending.size() == 0 ? inputOffset : 0;
      try {
        return crypt(mechanism(), data, dataOff, total, output, outputOffset, OnGeneralError.PROVIDER);
      } finally {
        if (data != in) {
          CipherSupport.wipe(data);
        }
      }
    } finally {
      restart();
    }
  }

  /**
   * PKCS5Padding encryption as CKM_AES_CBC of the padded plaintext, laid out in the caller's output
   * buffer and encrypted there in place (no extra array). The token still does all the encryption;
   * only the padding bytes are written here. Why not CKM_AES_CBC_PAD: on SoftHSM2 2.6.1 it costs 5 %
   * more at 1 KiB and 17 % more at 64 KiB than padding here (measured through the binding, one
   * session, the same key). Decryption keeps CKM_AES_CBC_PAD, so the padding check stays in the token.
   */
  private int padAndEncrypt(byte[] in, int inOff, int inLen, int total, int padded, byte[] out, int outOff)
      throws ShortBufferException, IllegalBlockSizeException, BadPaddingException {
    int held = pending.size();
    // Input first (arraycopy is overlap-safe when the caller encrypts in place), then what an
    // earlier update held back, then the padding.
    System.arraycopy(in, inOff, out, outOff + held, inLen);
    System.arraycopy(pending.array(), 0, out, outOff, held);
    Arrays.fill(out, outOff + total, outOff + padded, (byte) (padded - total));
    boolean done = false;
    try {
      int n = crypt(Mechanism.of(CKM.AES_CBC, chain), out, outOff, padded, out, outOff, OnGeneralError.PROVIDER);
      done = true;
      return n;
    } finally {
      if (!done) {
        Arrays.fill(out, outOff, outOff + padded, (byte) 0); // plaintext must not stay in the caller's buffer
      }
    }
  }

  /**
   * The last blocks of PKCS5Padding decryption, through CKM_AES_CBC_PAD. The plaintext is 1 to 16
   * bytes shorter than the input; a caller's buffer with room for less than the input gets a
   * scratch copy, and when the plaintext then does not fit, a ShortBufferException leaves the state
   * untouched so that the call can be repeated.
   */
  private int finishPaddedDecryption(byte[] in, int inOff, int inLen, byte[] out, int outOff)
      throws ShortBufferException, IllegalBlockSizeException, BadPaddingException {
    int total = pending.size() + inLen;
    CipherSupport.checkRoom(out, outOff, total - BLOCK);
    byte[] data = pending.size() == 0 ? in : pending.joined(in, inOff, inLen);
    int dataOff = pending.size() == 0 ? inOff : 0;
    Mechanism m = mechanism();
    boolean done = true;
    try {
      if (out.length - outOff >= total) {
        return crypt(m, data, dataOff, total, out, outOff, OnGeneralError.BAD_PADDING);
      }
      byte[] scratch = new byte[total];
      try {
        int n = crypt(m, data, dataOff, total, scratch, 0, OnGeneralError.BAD_PADDING);
        if (n > out.length - outOff) {
          done = false;
          throw new ShortBufferException("output buffer too small: " + n + " bytes needed, " + (out.length - outOff) + " given");
        }
        System.arraycopy(scratch, 0, out, outOff, n);
        return n;
      } finally {
        CipherSupport.wipe(scratch);
      }
    } finally {
      if (data != in) {
        CipherSupport.wipe(data);
      }
      if (done) {
        restart();
      }
    }
  }

  // ------------------------------------------------------------------ CTR

  /** CTR over {@code len} bytes, split where the 128-bit counter wraps (SoftHSM2 refuses to wrap in one call). */
  private void ctr(byte[] in, int inOff, int len, byte[] out, int outOff) throws ShortBufferException {
    byte[] src = in;
    int srcOff = inOff;
    if (in == out && len > 0) {
      // Segments are processed one after another; a copy keeps later input safe from earlier output.
      src = Arrays.copyOfRange(in, inOff, inOff + len);
      srcOff = 0;
    }
    int done = 0;
    try {
      while (done < len) {
        int seg = len - done;
        long toWrap = blocksBeforeWrap(chain);
        long needed = (ctrUsed + (long) seg + BLOCK - 1) / BLOCK;
        if (needed > toWrap) {
          seg = (int) (toWrap * BLOCK - ctrUsed);
        }
        ctrSegment(src, srcOff + done, seg, out, outOff + done);
        done += seg;
      }
    } catch (IllegalBlockSizeException | BadPaddingException e) {
      restart();
      throw new ProviderException("AES/CTR: " + e.getMessage(), e);
    } catch (ShortBufferException | RuntimeException e) {
      restart();
      throw e;
    } finally {
      if (src != in) {
        CipherSupport.wipe(src);
      }
    }
  }

  /** One CTR call from the current counter block, starting {@link #ctrUsed} bytes into its key stream. */
  private void ctrSegment(byte[] in, int inOff, int len, byte[] out, int outOff)
      throws ShortBufferException, IllegalBlockSizeException, BadPaddingException {
    Mechanism m = Mechanism.of(CKM.AES_CTR, new MechanismParams.AesCtr(128, chain));
    if (ctrUsed == 0) {
      crypt(m, in, inOff, len, out, outOff, OnGeneralError.PROVIDER);
    } else {
      // Mid-block: run zeros over the used part of the key stream and drop them.
      byte[] data = new byte[ctrUsed + len];
      System.arraycopy(in, inOff, data, ctrUsed, len);
      byte[] scratch = new byte[data.length];
      try {
        crypt(m, data, 0, data.length, scratch, 0, OnGeneralError.PROVIDER);
        System.arraycopy(scratch, ctrUsed, out, outOff, len);
      } finally {
        CipherSupport.wipe(data);
        CipherSupport.wipe(scratch);
      }
    }
    long used = ctrUsed + (long) len;
    addToCounter(chain, used / BLOCK);
    ctrUsed = (int) (used % BLOCK);
  }

  /** Whole blocks left before the 128-bit counter wraps to zero (Long.MAX_VALUE when that is far). */
  static long blocksBeforeWrap(byte[] counter) {
    for (int i = 0; i < 8; i++) {
      if (counter[i] != (byte) 0xff) {
        return Long.MAX_VALUE;
      }
    }
    long low = 0;
    for (int i = 8; i < 16; i++) {
      low = (low << 8) | (counter[i] & 0xff);
    }
    long left = -low; // 2^64 - low, as an unsigned value
    return left <= 0 ? Long.MAX_VALUE : left;
  }

  /** counter += blocks, modulo 2^128 (big-endian). */
  static void addToCounter(byte[] counter, long blocks) {
    long carry = blocks;
    for (int i = 15; i >= 0 && carry != 0; i--) {
      long sum = (counter[i] & 0xff) + (carry & 0xff);
      counter[i] = (byte) sum;
      carry = (carry >>> 8) + (sum >>> 8);
    }
  }

  // ------------------------------------------------------------------ helpers

  /** The mechanism for a doFinal from the current chaining value. */
  private Mechanism mechanism() {
    return switch (mode) {
      case ECB -> Mechanism.of(CKM.AES_ECB);
      case CBC, CBC_PAD -> Mechanism.of(mode.mechanism, chain); // MechanismParams.Bytes copies it
      case CTR -> Mechanism.of(CKM.AES_CTR, new MechanismParams.AesCtr(128, chain));
    };
  }

  /** One C_*Init and one C_Encrypt/C_Decrypt on a pooled session. */
  private int crypt(Mechanism m, byte[] in, int inOff, int len, byte[] out, int outOff, OnGeneralError meaning)
      throws ShortBufferException, IllegalBlockSizeException, BadPaddingException {
    boolean enc = encrypting();
    String what = enc ? encryptionName : decryptionName;
    if (token.isCluster()) {
      return CipherSupport.callOnCluster(token, key, what, meaning,
          (s, h) -> enc ? s.encrypt(m, h, in, inOff, len, out, outOff) : s.decrypt(m, h, in, inOff, len, out, outOff));
    }
    long h = key.handle();
    return CipherSupport.call(token, what, meaning,
        s -> enc ? s.encrypt(m, h, in, inOff, len, out, outOff) : s.decrypt(m, h, in, inOff, len, out, outOff));
  }

  private boolean encrypting() {
    return opmode == Cipher.ENCRYPT_MODE;
  }

  private void checkInitialized() {
    if (opmode == 0) {
      throw new IllegalStateException("Cipher not initialized");
    }
  }

  /** Back to the state right after init: the IV again, nothing pending. */
  private void restart() {
    chain = iv == null ? null : iv.clone();
    ctrUsed = 0;
    pending.clear();
  }
}
