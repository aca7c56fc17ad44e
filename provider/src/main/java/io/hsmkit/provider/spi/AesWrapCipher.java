package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmPrivateKey;
import io.hsmkit.provider.keys.HsmPublicKey;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.spi.CipherSupport.OnGeneralError;
import java.security.AlgorithmParameters;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.spec.AlgorithmParameterSpec;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.CipherSpi;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.NoSuchPaddingException;
import javax.crypto.ShortBufferException;

/**
 * AESWrap (RFC 3394, CKM_AES_KEY_WRAP) and AESWrapPad (RFC 5649: CKM_AES_KEY_WRAP_KWP, 0x210B, when
 * the token has it, else CKM_AES_KEY_WRAP_PAD, 0x210A, which pre-3.0 tokens such as SoftHSM2 use for
 * RFC 5649) under an AES key of this token.
 *
 * <ul>
 *   <li><b>WRAP_MODE / UNWRAP_MODE</b> use C_WrapKey and C_UnwrapKey: {@code wrap} of an HsmKit key
 *       gives the wrapped bytes without the key ever being in the clear here, and {@code unwrap(bytes,
 *       "AES", Cipher.SECRET_KEY)} makes a new key object in the token with the configuration's
 *       defaults (sensitive, not extractable, a session object unless {@code keys.token}). That is
 *       how a key moves from one token to another. Private keys unwrap the same way ("RSA", "EC");
 *       a public key is decrypted and returned as a JDK key. A software key given to wrap is wrapped
 *       as its encoding (ENCRYPT below).
 *   <li><b>ENCRYPT_MODE / DECRYPT_MODE</b> work on raw bytes. SoftHSM2 has no C_EncryptInit for the
 *       key-wrap mechanisms (CKR_MECHANISM_INVALID, measured), so encryption imports the bytes as a
 *       temporary extractable generic-secret session object and C_WrapKeys it, and decryption
 *       C_UnwrapKeys into such an object, reads CKA_VALUE and destroys it, all within one pooled
 *       session. A failed integrity check is a BadPaddingException.
 *   <li><b>SoftHSM2 2.6.1's RFC 5649 is wrong for lengths that are not a multiple of 8.</b> Measured
 *       against SunJCE's AES/KWP/NoPadding: its C_WrapKey pads the key with zeros to a multiple of 8
 *       before wrapping, so the result is not RFC 5649 (its C_UnwrapKey is right). Its RFC 3394
 *       C_WrapKey silently zero-pads such keys too, where RFC 3394 has no answer. This class
 *       therefore (1) refuses RFC 3394 input that is not a multiple of 8 bytes and at least 16
 *       (IllegalBlockSizeException, as SunJCE), and (2) checks once per token with a known answer
 *       whether the token's RFC 5649 wrap is right for such lengths. Where it is not, ENCRYPT_MODE
 *       computes RFC 5649 here over the token's AES-ECB under the same key (the plaintext is the
 *       caller's, already in the JVM; the key-encryption key stays in the token), and WRAP_MODE
 *       refuses token keys whose length is not a multiple of 8, and private keys, whose PKCS#8
 *       length is unknown, with an InvalidKeyException rather than produce a wrong blob.
 * </ul>
 *
 * <p>Only the default IVs of RFC 3394 and RFC 5649 are used; parameters are refused. Input given to
 * update is kept until doFinal, as the whole input is one wrap.
 *
 * <h2>Over a cluster</h2>
 *
 * Every call is one complete operation on a member the cluster chooses, with that member's handles
 * for the replicated keys, moved to another member after a device error (ENCRYPT/DECRYPT, and WRAP of
 * a cluster key: C_WrapKey on one member). Two rules of replication show through:
 *
 * <ul>
 *   <li><b>Wrapping a replicated key fails</b> with the token's CKR_KEY_NOT_WRAPPABLE (an
 *       InvalidKeyException): replicated keys carry CKA_WRAP_WITH_TRUSTED, so they leave a member
 *       only under a key the security officer marked CKA_TRUSTED, which a user's key never is. That
 *       is the guarantee of the cluster, kept on purpose; software keys are wrapped as their
 *       encoding as on one token.
 *   <li><b>Unwrapping makes a replicated key</b>: C_UnwrapKey on one member as a token key with
 *       CKA_EXTRACTABLE and CKA_WRAP_WITH_TRUSTED (sensitive), then copied to the other members
 *       under the cluster wrapping key, and returned once it is on {@code minReplicas} members
 *       (see {@code ReplicatedKeys}); a session key on one member would be useless to a cluster.
 *       If the member fails during the unwrap, the attempt is dropped and the unwrap runs again
 *       under a new CKA_ID on another member.
 * </ul>
 */
public final class AesWrapCipher extends CipherSpi {
  /** RFC 5649 alternative initial value, first half (RFC 5649 section 3). */
  private static final byte[] KWP_AIV = {(byte) 0xA6, 0x59, 0x59, (byte) 0xA6};

  // A known answer for the token's RFC 5649, computed with SunJCE's AES/KWP/NoPadding:
  // KEK 000102..0f; keys 10 11 .. (9 bytes) and 10 11 .. 1f (16 bytes).
  private static final byte[] KAT_KEK = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f");
  private static final byte[] KAT_KEY_9 = HexFormat.of().parseHex("101112131415161718");
  private static final byte[] KAT_WRAPPED_9 = HexFormat.of().parseHex("b6214f1051699f3ece5444ecb733985d883e82edc0777893");
  private static final byte[] KAT_KEY_16 = HexFormat.of().parseHex("101112131415161718191a1b1c1d1e1f");
  private static final byte[] KAT_WRAPPED_16 = HexFormat.of().parseHex("45fe7003e725d9f48631b9df8aec9f777f3c990c3863ed25");

  private final TokenContext token;
  private final boolean padded;

  private int opmode;
  private HsmSecretKey kek;
  private final CipherSupport.Buffer held = new CipherSupport.Buffer();

  public AesWrapCipher(TokenContext token, boolean padded) {
    this.token = token;
    this.padded = padded;
  }

  private String name() {
    return padded ? "AESWrapPad" : "AESWrap";
  }

  private Mechanism mechanism() {
    if (!padded) {
      return Mechanism.of(CKM.AES_KEY_WRAP);
    }
    return Mechanism.of(token.has(CKM.AES_KEY_WRAP_KWP) ? CKM.AES_KEY_WRAP_KWP : CKM.AES_KEY_WRAP_PAD);
  }

  // ------------------------------------------------------------------ set-up

  @Override
  protected void engineSetMode(String mode) throws NoSuchAlgorithmException {
    if (!mode.equalsIgnoreCase(padded ? "KWP" : "KW") && !mode.equalsIgnoreCase("ECB")) {
      throw new NoSuchAlgorithmException(name() + " has no mode " + mode);
    }
  }

  @Override
  protected void engineSetPadding(String padding) throws NoSuchPaddingException {
    if (!"NoPadding".equalsIgnoreCase(padding)) {
      throw new NoSuchPaddingException(name() + " takes NoPadding, not " + padding);
    }
  }

  @Override
  protected int engineGetBlockSize() {
    return 8;
  }

  @Override
  protected int engineGetKeySize(Key k) throws InvalidKeyException {
    return CipherSupport.aesKey(k, token).bits();
  }

  @Override
  protected byte[] engineGetIV() {
    return null;
  }

  @Override
  protected AlgorithmParameters engineGetParameters() {
    return null;
  }

  @Override
  protected int engineGetOutputSize(int inputLen) {
    long total = (long) held.size() + inputLen;
    long n;
    if (CipherSupport.encrypting(opmode)) {
      n = padded ? Math.max(16, (total + 7) / 8 * 8 + 8) : total + 8;
    } else {
      n = Math.max(0, total - 8);
    }
    return (int) Math.min(Integer.MAX_VALUE, n);
  }

  @Override
  protected void engineInit(int mode, Key k, SecureRandom random) throws InvalidKeyException {
    CipherSupport.checkMode(mode);
    HsmSecretKey aes = CipherSupport.aesKey(k, token);
    if (padded && !token.probe("RFC 5649 wrap of whole semiblocks (" + mechanism() + ")", t -> knownAnswer(t, KAT_KEY_16, KAT_WRAPPED_16))) {
      throw new InvalidKeyException("the token's " + (token.has(CKM.AES_KEY_WRAP_KWP) ? "CKM_AES_KEY_WRAP_KWP" : "CKM_AES_KEY_WRAP_PAD")
          + " does not produce RFC 5649 output: AESWrapPad cannot be used on it");
    }
    this.opmode = mode;
    this.kek = aes;
    held.clear();
  }

  @Override
  protected void engineInit(int mode, Key k, AlgorithmParameterSpec params, SecureRandom random)
      throws InvalidKeyException, InvalidAlgorithmParameterException {
    if (params != null) {
      throw new InvalidAlgorithmParameterException(name() + " uses the default IV of " + (padded ? "RFC 5649" : "RFC 3394") + " and takes no parameters");
    }
    engineInit(mode, k, random);
  }

  @Override
  protected void engineInit(int mode, Key k, AlgorithmParameters params, SecureRandom random)
      throws InvalidKeyException, InvalidAlgorithmParameterException {
    if (params != null) {
      throw new InvalidAlgorithmParameterException(name() + " takes no parameters");
    }
    engineInit(mode, k, random);
  }

  // ------------------------------------------------------------------ raw bytes

  @Override
  protected byte[] engineUpdate(byte[] input, int inputOffset, int inputLen) {
    checkData();
    held.append(input, inputOffset, inputLen);
    return new byte[0];
  }

  @Override
  protected int engineUpdate(byte[] input, int inputOffset, int inputLen, byte[] output, int outputOffset) {
    checkData();
    held.append(input, inputOffset, inputLen);
    return 0;
  }

  @Override
  protected byte[] engineDoFinal(byte[] input, int inputOffset, int inputLen) throws IllegalBlockSizeException, BadPaddingException {
    checkData();
    byte[] data = held.joined(CipherSupport.orEmpty(input), inputOffset, inputLen);
    try {
      byte[] out = opmode == Cipher.ENCRYPT_MODE ? encryptBytes(data) : decryptBytes(data);
      held.clear();
      return out;
    } catch (IllegalBlockSizeException | BadPaddingException | RuntimeException e) {
      held.clear();
      throw e;
    } finally {
      CipherSupport.wipe(data);
    }
  }

  @Override
  protected int engineDoFinal(byte[] input, int inputOffset, int inputLen, byte[] output, int outputOffset)
      throws ShortBufferException, IllegalBlockSizeException, BadPaddingException {
    checkData();
    int room = output == null ? 0 : output.length - outputOffset;
    if (opmode == Cipher.ENCRYPT_MODE || !padded) {
      CipherSupport.checkRoom(output, outputOffset, engineGetOutputSize(inputLen)); // exact for these
    }
    byte[] data = held.joined(CipherSupport.orEmpty(input), inputOffset, inputLen);
    byte[] out = null;
    try {
      out = opmode == Cipher.ENCRYPT_MODE ? encryptBytes(data) : decryptBytes(data);
      if (out.length > room) {
        // RFC 5649 decryption: the length was known only now; keep the input for a repeated call.
        throw new ShortBufferException("output buffer too small: " + out.length + " bytes needed, " + room + " given");
      }
      System.arraycopy(out, 0, output, outputOffset, out.length);
      held.clear();
      return out.length;
    } catch (IllegalBlockSizeException | BadPaddingException | RuntimeException e) {
      held.clear();
      throw e;
    } finally {
      CipherSupport.wipe(data);
      CipherSupport.wipe(out);
    }
  }

  private void checkData() {
    if (opmode == 0) {
      throw new IllegalStateException("Cipher not initialized");
    }
    if (opmode == Cipher.WRAP_MODE || opmode == Cipher.UNWRAP_MODE) {
      throw new IllegalStateException(name() + " is initialised for " + (opmode == Cipher.WRAP_MODE ? "wrap" : "unwrap") + ", not for data");
    }
  }

  /** Checks {@code len} as the plaintext of a wrap. */
  private void checkPlainLength(int len) throws IllegalBlockSizeException {
    if (padded ? len == 0 : len < 16 || len % 8 != 0) {
      throw new IllegalBlockSizeException(padded
          ? "RFC 5649 wraps 1 byte or more"
          : "RFC 3394 wraps a multiple of 8 bytes, at least 16, not " + len + " (AESWrapPad takes any length)");
    }
  }

  /** Wraps raw bytes (see the class comment for how). */
  private byte[] encryptBytes(byte[] data) throws IllegalBlockSizeException, BadPaddingException {
    checkPlainLength(data.length);
    try {
      if (padded && data.length % 8 != 0 && !kwpExactForAnyLength()) {
        return kwpOverEcb(data);
      }
      Mechanism m = mechanism();
      Attribute[] template = temporaryValue(data);
      return withKek(name() + " encryption", OnGeneralError.PROVIDER, (s, k) -> {
        long h = s.createObject(template);
        try {
          return s.wrapKey(m, k, h);
        } finally {
          CipherSupport.destroyQuietly(s, h);
        }
      });
    } catch (ShortBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Unwraps raw bytes: into a temporary extractable object, whose value is read and destroyed. */
  private byte[] decryptBytes(byte[] wrapped) throws IllegalBlockSizeException, BadPaddingException {
    if (wrapped.length % 8 != 0 || wrapped.length < (padded ? 16 : 24)) {
      throw new IllegalBlockSizeException("the wrapped input must be a multiple of 8 bytes, at least " + (padded ? 16 : 24) + ", not " + wrapped.length);
    }
    Mechanism m = mechanism();
    Attribute[] template = temporaryValue(null);
    try {
      return withKek(name() + " decryption", OnGeneralError.BAD_PADDING, (s, k) -> {
        long h;
        try {
          h = s.unwrapKey(m, k, wrapped, template);
        } catch (Pkcs11Exception e) {
          if (e.is(CKR.WRAPPED_KEY_INVALID)) {
            // What other tokens say for a failed integrity check; Errors makes it an InvalidKeyException,
            // which is right for unwrap() but cannot come out of doFinal.
            throw CipherSupport.dataError(e, OnGeneralError.BAD_PADDING);
          }
          throw e;
        }
        try {
          return s.getAttribute(h, CKA.VALUE).value();
        } finally {
          CipherSupport.destroyQuietly(s, h);
        }
      });
    } catch (ShortBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * One complete operation with the key-encryption key: on one token with its handle; over a cluster
   * on a member the cluster chooses, with that member's handle, moved to another member after a
   * device error (the temporary objects of the raw-bytes modes live and die inside the one call).
   */
  private <T> T withKek(String what, OnGeneralError meaning, CipherSupport.KeyedWork<T> work)
      throws IllegalBlockSizeException, BadPaddingException, ShortBufferException {
    if (token.isCluster()) {
      return CipherSupport.callOnCluster(token, kek, what, meaning, work);
    }
    long k = kek.handle();
    return CipherSupport.call(token, what, meaning, s -> work.apply(s, k));
  }

  /** A generic secret session object that may be wrapped and read: only for the raw-bytes modes. */
  private static Attribute[] temporaryValue(byte[] value) {
    Attribute[] base = {
        Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.GENERIC_SECRET),
        Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.PRIVATE, true),
        Attribute.bool(CKA.SENSITIVE, false), Attribute.bool(CKA.EXTRACTABLE, true)};
    if (value == null) {
      return base;
    }
    Attribute[] t = Arrays.copyOf(base, base.length + 1);
    t[base.length] = Attribute.secret(CKA.VALUE, value);
    return t;
  }

  // ------------------------------------------------------------------ RFC 5649 over AES-ECB

  private boolean kwpExactForAnyLength() {
    return token.probe("RFC 5649 wrap of partial semiblocks (" + mechanism() + ")", t -> knownAnswer(t, KAT_KEY_9, KAT_WRAPPED_9));
  }

  /** Whether the token's RFC 5649 C_WrapKey gives the known answer for {@code key} under the test KEK. */
  private boolean knownAnswer(TokenContext t, byte[] key, byte[] expected) {
    Mechanism m = mechanism();
    return t.execute(s -> {
      long kekHandle = 0;
      long keyHandle = 0;
      try {
        kekHandle = s.createObject(Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES),
            Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.WRAP, true), Attribute.secret(CKA.VALUE, KAT_KEK));
        keyHandle = s.createObject(temporaryValue(key));
        return Arrays.equals(s.wrapKey(m, kekHandle, keyHandle), expected);
      } catch (Pkcs11Exception e) {
        return false;
      } finally {
        if (keyHandle != 0) {
          CipherSupport.destroyQuietly(s, keyHandle);
        }
        if (kekHandle != 0) {
          CipherSupport.destroyQuietly(s, kekHandle);
        }
      }
    });
  }

  /**
   * RFC 5649 wrapping of {@code p}, computed here with the token's AES-ECB under the KEK (section
   * 4.1: one AES block for up to 8 bytes, else the RFC 3394 wrapping process with the alternative
   * initial value). Used only where the token's own RFC 5649 wrap is known to be wrong.
   */
  private byte[] kwpOverEcb(byte[] p) throws IllegalBlockSizeException, BadPaddingException, ShortBufferException {
    int n = (p.length + 7) / 8; // semiblocks
    byte[] a = new byte[8];
    System.arraycopy(KWP_AIV, 0, a, 0, 4);
    a[4] = (byte) (p.length >>> 24);
    a[5] = (byte) (p.length >>> 16);
    a[6] = (byte) (p.length >>> 8);
    a[7] = (byte) p.length;
    byte[] r = new byte[n * 8];
    System.arraycopy(p, 0, r, 0, p.length);
    Mechanism ecb = Mechanism.of(CKM.AES_ECB);
    try {
      return withKek("AESWrapPad encryption", OnGeneralError.PROVIDER, (s, k) -> {
        byte[] b = new byte[16];
        try {
          if (n == 1) {
            System.arraycopy(a, 0, b, 0, 8);
            System.arraycopy(r, 0, b, 8, 8);
            return s.encrypt(ecb, k, b);
          }
          byte[] aa = a.clone();
          byte[] rr = r.clone();
          s.encryptInit(ecb, k);
          try {
            for (int j = 0; j <= 5; j++) {
              for (int i = 0; i < n; i++) {
                System.arraycopy(aa, 0, b, 0, 8);
                System.arraycopy(rr, 8 * i, b, 8, 8);
                s.encryptUpdate(b, 0, 16, b, 0, 16);
                long t = (long) n * j + i + 1;
                for (int x = 0; x < 8; x++) {
                  aa[x] = (byte) (b[x] ^ (t >>> (8 * (7 - x))));
                }
                System.arraycopy(b, 8, rr, 8 * i, 8);
              }
            }
            s.encryptFinal(b, 0, 16);
          } finally {
            finishQuietly(s);
          }
          byte[] c = new byte[8 + rr.length];
          System.arraycopy(aa, 0, c, 0, 8);
          System.arraycopy(rr, 0, c, 8, rr.length);
          CipherSupport.wipe(rr);
          return c;
        } finally {
          CipherSupport.wipe(b);
        }
      });
    } finally {
      CipherSupport.wipe(r);
    }
  }

  /** Leaves no encryption running in a session that goes back to the pool. */
  private static void finishQuietly(Session s) {
    if ((s.activeOperations() & Session.OP_ENCRYPT) != 0) {
      try {
        s.encryptFinal(new byte[16], 0, 16);
      } catch (Pkcs11Exception ignored) {
        // the error ended the operation
      }
    }
  }

  // ------------------------------------------------------------------ keys

  @Override
  protected byte[] engineWrap(Key key) throws IllegalBlockSizeException, InvalidKeyException {
    if (opmode != Cipher.WRAP_MODE) {
      throw new IllegalStateException(name() + " is not initialised for WRAP_MODE");
    }
    if (key instanceof HsmKey hk && hk.belongsTo(token) && !(key instanceof HsmPublicKey)) {
      checkWrappable(hk);
      Mechanism m = mechanism();
      if (token.isCluster()) {
        // Both keys by CKA_ID, on the one member that runs the wrap.
        return CipherSupport.callForKeyOnCluster(token, name() + " wrap",
            (s, keys) -> s.wrapKey(m, keys.handle(CKO.SECRET_KEY, kek.id()), keys.handle(hk.objectClass(), hk.id())));
      }
      long k = kek.handle();
      return CipherSupport.callForKey(token, name() + " wrap", false, s -> s.wrapKey(m, k, hk.handle()));
    }
    if (key instanceof HsmKey hk && !hk.belongsTo(token) && !(key instanceof HsmPublicKey)) {
      throw new InvalidKeyException("the key belongs to another token (" + hk.token() + "); wrap it with a cipher of that token");
    }
    byte[] encoded = key.getEncoded();
    if (encoded == null) {
      throw new InvalidKeyException("the key has no encoding to wrap: " + key.getAlgorithm() + " " + key.getClass().getName());
    }
    try {
      return encryptBytes(encoded);
    } catch (BadPaddingException e) {
      throw new InvalidKeyException(name() + " wrap: " + e.getMessage(), e);
    } finally {
      CipherSupport.wipe(encoded);
    }
  }

  /** Refuses what the token would wrap wrongly (see the class comment). */
  private void checkWrappable(HsmKey hk) throws InvalidKeyException {
    if (hk instanceof HsmSecretKey sk) {
      int bytes = sk.bits() / 8;
      if (bytes == 0 && hk.isClustered()) {
        // A replicated key read back on a member that holds a copy: SoftHSM2 leaves CKA_VALUE_LEN at
        // 0 on keys made by C_UnwrapKey, so the length is unknown here; the token checks it.
        return;
      }
      if (!padded && (bytes % 8 != 0 || bytes < 16)) {
        throw new InvalidKeyException("RFC 3394 wraps keys of a multiple of 8 bytes, at least 16; this key has " + bytes + ": use AESWrapPad");
      }
      if (padded && bytes % 8 != 0 && !kwpExactForAnyLength()) {
        throw new InvalidKeyException("this token's RFC 5649 wrap is wrong for keys that are not a multiple of 8 bytes (this one has " + bytes + ")");
      }
    } else if (hk instanceof HsmPrivateKey) {
      if (!padded) {
        throw new InvalidKeyException("a private key's PKCS#8 encoding is not always a multiple of 8 bytes: wrap it with AESWrapPad");
      }
      if (!kwpExactForAnyLength()) {
        throw new InvalidKeyException("this token's RFC 5649 wrap is wrong for lengths that are not a multiple of 8 bytes, which a PKCS#8 encoding can have");
      }
    }
  }

  @Override
  protected Key engineUnwrap(byte[] wrappedKey, String wrappedKeyAlgorithm, int wrappedKeyType) throws InvalidKeyException, NoSuchAlgorithmException {
    if (opmode != Cipher.UNWRAP_MODE) {
      throw new IllegalStateException(name() + " is not initialised for UNWRAP_MODE");
    }
    if (wrappedKeyType == Cipher.PUBLIC_KEY) {
      byte[] encoded = null;
      try {
        encoded = decryptBytes(wrappedKey);
        return CipherSupport.keyFromEncoding(token, encoded, wrappedKeyAlgorithm, wrappedKeyType);
      } catch (IllegalBlockSizeException | BadPaddingException e) {
        throw new InvalidKeyException(name() + " unwrap: " + e.getMessage(), e);
      } finally {
        CipherSupport.wipe(encoded);
      }
    }
    // The key length, for tokens that do not set CKA_VALUE_LEN on unwrapped keys: exact for RFC 3394,
    // and for RFC 5649 when the key is AES (16, 24 or 32 bytes, so no padding).
    int hint = !padded || "AES".equalsIgnoreCase(wrappedKeyAlgorithm) ? wrappedKey.length - 8 : 0;
    if (token.isCluster()) {
      return CipherSupport.unwrapOnCluster(token, name() + " unwrap", mechanism(), kek, wrappedKey, wrappedKeyAlgorithm, wrappedKeyType, hint);
    }
    return CipherSupport.unwrapInToken(token, name() + " unwrap", mechanism(), kek.handle(), wrappedKey, wrappedKeyAlgorithm, wrappedKeyType, hint);
  }
}
