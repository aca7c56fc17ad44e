package io.hsmkit.provider.spi;

import java.security.InvalidAlgorithmParameterException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.NoSuchProviderException;
import java.security.spec.MGF1ParameterSpec;
import java.util.Arrays;
import javax.crypto.BadPaddingException;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;

/**
 * EME-OAEP encoding and decoding (RFC 8017 section 7.1) for the OAEP parameters that the token's
 * CKM_RSA_PKCS_OAEP refuses; the RSA operation itself stays in the token (CKM_RSA_X_509).
 *
 * <p>Decoding is written so that its time does not depend on the encoded message: the checks of
 * RFC 8017 7.1.2 step 3 (Y is zero, lHash matches, the padding string is zeros up to a 0x01) are
 * folded into integer masks with no branch and no early exit, and every failure ends in the same
 * {@link BadPaddingException} ("decryption error", no cause), raised once, at the end. What the
 * outcome reveals is what RSA decryption must reveal: success or failure, and on success the length
 * of the message. (The JIT may still compile masks into branches; this is as far as Java lets one
 * go, and as far as the JDK's own RSAPadding goes.)
 */
final class OaepCodec {
  private final String digest;
  private final String mgfDigest;
  private final byte[] label;
  private final int hLen;

  OaepCodec(OAEPParameterSpec spec) throws InvalidAlgorithmParameterException {
    if (!"MGF1".equalsIgnoreCase(spec.getMGFAlgorithm())) {
      throw new InvalidAlgorithmParameterException("only MGF1 is supported, not " + spec.getMGFAlgorithm());
    }
    if (!(spec.getMGFParameters() instanceof MGF1ParameterSpec mgf)) {
      throw new InvalidAlgorithmParameterException("MGF1 needs an MGF1ParameterSpec");
    }
    if (!(spec.getPSource() instanceof PSource.PSpecified ps)) {
      throw new InvalidAlgorithmParameterException("only PSource.PSpecified labels are supported");
    }
    this.digest = spec.getDigestAlgorithm();
    this.mgfDigest = mgf.getDigestAlgorithm();
    this.label = ps.getValue();
    try {
      this.hLen = md(digest).getDigestLength();
      md(mgfDigest);
    } catch (NoSuchAlgorithmException e) {
      throw new InvalidAlgorithmParameterException("unknown OAEP digest: " + e.getMessage(), e);
    }
  }

  /** The digest of the OAEP hash, from the JDK (not from a provider that may be this one). */
  static MessageDigest md(String name) throws NoSuchAlgorithmException {
    try {
      return MessageDigest.getInstance(name, "SUN");
    } catch (NoSuchAlgorithmException | NoSuchProviderException e) {
      return MessageDigest.getInstance(name);
    }
  }

  int hashLength() {
    return hLen;
  }

  byte[] label() {
    return label.clone();
  }

  /** The longest message for a modulus of {@code k} bytes. */
  int maxMessage(int k) {
    return k - 2 * hLen - 2;
  }

  /** The one exception every failed decoding gives. */
  static BadPaddingException decryptionError() {
    return new BadPaddingException("decryption error");
  }

  /** EM = 0x00 || maskedSeed || maskedDB, {@code k} bytes, for message {@code m} and a random {@code seed} of hLen bytes. */
  byte[] encode(byte[] m, int mOff, int mLen, int k, byte[] seed) throws IllegalBlockSizeException {
    if (mLen > maxMessage(k)) {
      throw new IllegalBlockSizeException("OAEP message too long: at most " + Math.max(0, maxMessage(k)) + " bytes for this key and hash, not " + mLen);
    }
    try {
      MessageDigest h = md(digest);
      byte[] em = new byte[k];
      int dbOff = 1 + hLen;
      int dbLen = k - hLen - 1;
      System.arraycopy(h.digest(label), 0, em, dbOff, hLen);
      em[k - mLen - 1] = 0x01;
      System.arraycopy(m, mOff, em, k - mLen, mLen);
      System.arraycopy(seed, 0, em, 1, hLen);
      MessageDigest g = md(mgfDigest);
      mgf1Xor(g, em, 1, hLen, em, dbOff, dbLen);   // maskedDB = DB xor MGF(seed)
      mgf1Xor(g, em, dbOff, dbLen, em, 1, hLen);   // maskedSeed = seed xor MGF(maskedDB)
      return em;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e); // checked in the constructor
    }
  }

  /** M from EM ({@code k} bytes); every malformed EM gives {@link #decryptionError()}. EM is wiped. */
  byte[] decode(byte[] em, int k) throws BadPaddingException {
    if (em.length != k || k < 2 * hLen + 2) {
      CipherSupport.wipe(em);
      throw decryptionError();
    }
    try {
      MessageDigest g = md(mgfDigest);
      int dbOff = 1 + hLen;
      int dbLen = k - hLen - 1;
      mgf1Xor(g, em, dbOff, dbLen, em, 1, hLen);   // seed = maskedSeed xor MGF(maskedDB)
      mgf1Xor(g, em, 1, hLen, em, dbOff, dbLen);   // DB = maskedDB xor MGF(seed)
      byte[] lHash = md(digest).digest(label);

      int bad = em[0] & 0xff;                      // Y must be zero
      for (int i = 0; i < hLen; i++) {
        bad |= (lHash[i] ^ em[dbOff + i]) & 0xff;  // lHash' must equal lHash
      }
      int looking = -1;                            // all ones while no 0x01 has been seen
      int index = 0;
      int invalid = 0;
      for (int i = dbOff + hLen; i < k; i++) {
        int b = em[i] & 0xff;
        int isZero = isZero(b);
        int isOne = isZero(b ^ 1);
        index = select(looking & isOne, i, index);
        looking &= ~isOne;
        invalid |= looking & ~isZero;              // a byte other than 0x00 before the 0x01
      }
      int good = isZero(bad) & ~invalid & ~looking;
      if (good == 0) {
        throw decryptionError();
      }
      return Arrays.copyOfRange(em, index + 1, k);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    } finally {
      CipherSupport.wipe(em);
    }
  }

  /** -1 when {@code x} (0..2^31-1) is zero, else 0, without a branch. */
  private static int isZero(int x) {
    return ((x | -x) >>> 31) - 1;
  }

  /** {@code a} where {@code mask} is -1, {@code b} where it is 0. */
  private static int select(int mask, int a, int b) {
    return (a & mask) | (b & ~mask);
  }

  /** out[outOff, outOff+outLen) ^= MGF1(seed[seedOff, seedOff+seedLen), outLen). */
  private static void mgf1Xor(MessageDigest g, byte[] seed, int seedOff, int seedLen, byte[] out, int outOff, int outLen) {
    byte[] c = new byte[4];
    int done = 0;
    for (int counter = 0; done < outLen; counter++) {
      c[0] = (byte) (counter >>> 24);
      c[1] = (byte) (counter >>> 16);
      c[2] = (byte) (counter >>> 8);
      c[3] = (byte) counter;
      g.update(seed, seedOff, seedLen);
      g.update(c);
      byte[] t = g.digest();
      for (int i = 0; i < t.length && done < outLen; i++, done++) {
        out[outOff + done] ^= t[i];
      }
      CipherSupport.wipe(t);
    }
  }
}
