package io.hsmkit.provider.spi;

import java.security.SignatureException;

/**
 * Decodes a DER ECDSA signature (SEQUENCE { INTEGER r, INTEGER s }) into PKCS#11's r||s, with the
 * JDK's split between "cannot be parsed" and "does not verify":
 *
 * <ul>
 *   <li>Encodings SunEC refuses with {@code SignatureException("Invalid encoding for signature")}
 *       are refused the same way: a tag other than SEQUENCE or INTEGER, indefinite or non-minimal
 *       lengths, lengths that overrun or leave bytes over, a count of elements other than two,
 *       empty integers, integers with a redundant leading zero.
 *   <li>Well-formed integers that cannot be a signature (zero, longer than the group order) make
 *       {@link #decode} return null, and the verification false, as SunEC returns false.
 *   <li>Negative integers (sign bit set) are false too. SunEC reads their bytes as a positive
 *       magnitude: for "r = -r" and the like it then answers false, as here; for the legacy
 *       "MissingZero" encoding (a positive s written without its leading zero) it answers true,
 *       which Wycheproof (and DER) call invalid. That one case is where HsmKit is stricter than
 *       SunEC.
 * </ul>
 */
final class EcdsaSignatureDer {
  private EcdsaSignatureDer() {}

  /**
   * r||s with {@code n}-byte halves, or null when the values cannot fit; throws for a malformed
   * encoding.
   */
  static byte[] decode(byte[] der, int n) throws SignatureException {
    int[] pos = {0};
    if (der.length < 2 || der[0] != 0x30) {
      throw invalid();
    }
    pos[0] = 1;
    int seqLen = length(der, pos);
    if (pos[0] + seqLen != der.length) {
      throw invalid();
    }
    int[] r = integer(der, pos);
    int[] s = integer(der, pos);
    if (pos[0] != der.length) {
      throw invalid(); // a third element
    }
    if (der[r[0]] < 0 || der[s[0]] < 0) {
      return null; // negative: a signature's integers are positive
    }
    byte[] out = new byte[2 * n];
    if (!place(der, r, out, 0, n) || !place(der, s, out, n, n)) {
      return null;
    }
    return out;
  }

  private static SignatureException invalid() {
    return new SignatureException("Invalid encoding for signature");
  }

  /** A DER length at {@code pos}: short form, or minimal long form up to 4 bytes. */
  private static int length(byte[] d, int[] pos) throws SignatureException {
    if (pos[0] >= d.length) {
      throw invalid();
    }
    int b = d[pos[0]++] & 0xFF;
    if (b < 0x80) {
      return b;
    }
    int k = b & 0x7F;
    if (k == 0 || k > 4 || pos[0] + k > d.length) {
      throw invalid(); // indefinite, or too long to be real
    }
    if (d[pos[0]] == 0) {
      throw invalid(); // leading zero length byte
    }
    long len = 0;
    for (int i = 0; i < k; i++) {
      len = (len << 8) | (d[pos[0]++] & 0xFF);
    }
    if (len < 0x80 || len > Integer.MAX_VALUE) {
      throw invalid(); // long form for a short length
    }
    return (int) len;
  }

  /** An INTEGER at {@code pos}: {offset, length} of its minimally encoded content. */
  private static int[] integer(byte[] d, int[] pos) throws SignatureException {
    if (pos[0] >= d.length || d[pos[0]] != 0x02) {
      throw invalid();
    }
    pos[0]++;
    int len = length(d, pos);
    if (len == 0 || len > d.length - pos[0]) {
      throw invalid();
    }
    int off = pos[0];
    pos[0] += len;
    if (len > 1 && d[off] == 0 && d[off + 1] >= 0) {
      throw invalid(); // redundant leading zero
    }
    return new int[] {off, len};
  }

  /** Copies the integer right-aligned into {@code n} bytes; false when it does not fit. */
  private static boolean place(byte[] d, int[] v, byte[] out, int outOff, int n) {
    int off = v[0];
    int len = v[1];
    while (len > 0 && d[off] == 0) {
      off++;
      len--;
    }
    if (len > n) {
      return false;
    }
    System.arraycopy(d, off, out, outOff + n - len, len);
    return true;
  }
}
