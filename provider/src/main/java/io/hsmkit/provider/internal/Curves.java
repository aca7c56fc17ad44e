package io.hsmkit.provider.internal;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.EdECPoint;
import java.security.spec.NamedParameterSpec;
import java.util.Arrays;

/**
 * Encodings between JCA and PKCS#11 for EC and EdDSA: CKA_EC_PARAMS (a DER OID), CKA_EC_POINT (a
 * DER OCTET STRING around the point), ECDSA signatures (PKCS#11's r||s against JCA's DER), and
 * Edwards points. Curve parameters come from the JDK's SunEC, never from tables of our own.
 */
public final class Curves {
  private Curves() {}

  /** DER of OID 1.3.101.112 (Ed25519), the CKA_EC_PARAMS of an Ed25519 key in PKCS#11 v3.0. */
  public static final byte[] ED25519_OID = {0x06, 0x03, 0x2B, 0x65, 0x70};

  /** DER of PrintableString "edwards25519", what PKCS#11 v2.40-era tokens (SoftHSM2) also accept. */
  public static final byte[] EDWARDS25519_NAME = {0x13, 0x0C, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5', '1', '9'};

  private static AlgorithmParameters ecParameters() throws GeneralSecurityException {
    try {
      return AlgorithmParameters.getInstance("EC", "SunEC");
    } catch (GeneralSecurityException e) {
      return AlgorithmParameters.getInstance("EC");
    }
  }

  /** CKA_EC_PARAMS (a named curve's DER OID) for {@code spec}. */
  public static byte[] ecParams(ECParameterSpec spec) throws InvalidKeyException {
    try {
      AlgorithmParameters p = ecParameters();
      p.init(spec);
      return p.getEncoded();
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new InvalidKeyException("unsupported EC parameters (only named curves): " + e.getMessage(), e);
    }
  }

  /** CKA_EC_PARAMS of the named curve {@code name} ("secp256r1", "P-384", ...). */
  public static byte[] ecParams(String name) throws GeneralSecurityException {
    AlgorithmParameters p = ecParameters();
    p.init(new java.security.spec.ECGenParameterSpec(name));
    try {
      return p.getEncoded();
    } catch (java.io.IOException e) {
      throw new GeneralSecurityException(e);
    }
  }

  /** The curve of CKA_EC_PARAMS {@code der}. */
  public static ECParameterSpec ecSpec(byte[] der) throws InvalidKeyException {
    try {
      AlgorithmParameters p = ecParameters();
      p.init(der);
      return p.getParameterSpec(ECParameterSpec.class);
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new InvalidKeyException("the token's CKA_EC_PARAMS name no curve the JDK knows", e);
    }
  }

  /** True when {@code der} names Ed25519 (by OID or by the v2.40-era printable name). */
  public static boolean isEd25519(byte[] der) {
    return Arrays.equals(der, ED25519_OID) || Arrays.equals(der, EDWARDS25519_NAME);
  }

  public static int fieldBytes(ECParameterSpec spec) {
    return (spec.getCurve().getField().getFieldSize() + 7) / 8;
  }

  /** The uncompressed point 04||x||y. */
  public static byte[] encodePoint(ECPoint w, ECParameterSpec spec) {
    int n = fieldBytes(spec);
    byte[] out = new byte[1 + 2 * n];
    out[0] = 4;
    fixed(w.getAffineX(), out, 1, n);
    fixed(w.getAffineY(), out, 1 + n, n);
    return out;
  }

  /** Decodes CKA_EC_POINT: an OCTET STRING around 04||x||y, or (some tokens) the bare point. */
  public static ECPoint decodePoint(byte[] attr, ECParameterSpec spec) throws InvalidKeyException {
    int n = fieldBytes(spec);
    byte[] p = attr;
    if (attr.length != 1 + 2 * n || attr[0] != 4) {
      p = unwrapOctetString(attr);
    }
    if (p == null || p.length != 1 + 2 * n || p[0] != 4) {
      throw new InvalidKeyException("CKA_EC_POINT is not an uncompressed point on this curve");
    }
    return new ECPoint(new BigInteger(1, Arrays.copyOfRange(p, 1, 1 + n)), new BigInteger(1, Arrays.copyOfRange(p, 1 + n, 1 + 2 * n)));
  }

  /** The contents of a DER OCTET STRING, or null when {@code der} is not exactly one. */
  public static byte[] unwrapOctetString(byte[] der) {
    if (der.length < 2 || der[0] != 0x04) {
      return null;
    }
    int len = der[1] & 0xFF;
    int off = 2;
    if (len > 0x80) {
      int k = len & 0x7F;
      if (k > 3 || der.length < 2 + k) {
        return null;
      }
      len = 0;
      for (int i = 0; i < k; i++) {
        len = (len << 8) | (der[2 + i] & 0xFF);
      }
      off = 2 + k;
    } else if (len == 0x80) {
      return null;
    }
    if (off + len != der.length) {
      return null;
    }
    return Arrays.copyOfRange(der, off, der.length);
  }

  /** A DER OCTET STRING around {@code v}. */
  public static byte[] octetString(byte[] v) {
    ByteArrayOutputStream o = new ByteArrayOutputStream(v.length + 4);
    o.write(0x04);
    writeLength(o, v.length);
    o.writeBytes(v);
    return o.toByteArray();
  }

  private static void writeLength(ByteArrayOutputStream o, int len) {
    if (len < 0x80) {
      o.write(len);
    } else if (len < 0x100) {
      o.write(0x81);
      o.write(len);
    } else {
      o.write(0x82);
      o.write(len >> 8);
      o.write(len);
    }
  }

  private static void fixed(BigInteger v, byte[] out, int off, int n) {
    byte[] b = v.toByteArray();
    if (b.length > n) {
      System.arraycopy(b, b.length - n, out, off, n);
    } else {
      System.arraycopy(b, 0, out, off + n - b.length, b.length);
    }
  }

  /** ECDSA r||s (each {@code n} bytes) to DER SEQUENCE { INTEGER r, INTEGER s }. */
  public static byte[] rsToDer(byte[] rs) {
    int n = rs.length / 2;
    byte[] r = new BigInteger(1, Arrays.copyOfRange(rs, 0, n)).toByteArray();
    byte[] s = new BigInteger(1, Arrays.copyOfRange(rs, n, 2 * n)).toByteArray();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(0x02);
    writeLength(body, r.length);
    body.writeBytes(r);
    body.write(0x02);
    writeLength(body, s.length);
    body.writeBytes(s);
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    o.write(0x30);
    writeLength(o, body.size());
    o.writeBytes(body.toByteArray());
    return o.toByteArray();
  }

  /**
   * DER ECDSA signature to r||s with {@code n}-byte halves; strict DER (minimal lengths, no
   * trailing bytes, positive minimal integers), as the JDK's verifiers require. Null if malformed.
   */
  public static byte[] derToRs(byte[] der, int n) {
    try {
      int[] pos = {0};
      if (der.length < 8 || der[pos[0]++] != 0x30) {
        return null;
      }
      int seqLen = readLength(der, pos);
      if (seqLen < 0 || pos[0] + seqLen != der.length) {
        return null;
      }
      BigInteger r = readInteger(der, pos);
      BigInteger s = readInteger(der, pos);
      if (r == null || s == null || pos[0] != der.length) {
        return null;
      }
      if (r.bitLength() > 8 * n || s.bitLength() > 8 * n) {
        return null;
      }
      byte[] out = new byte[2 * n];
      fixed(r, out, 0, n);
      fixed(s, out, n, n);
      return out;
    } catch (ArrayIndexOutOfBoundsException e) {
      return null;
    }
  }

  private static int readLength(byte[] d, int[] pos) {
    int b = d[pos[0]++] & 0xFF;
    if (b < 0x80) {
      return b;
    }
    if (b == 0x81) {
      int l = d[pos[0]++] & 0xFF;
      return l < 0x80 ? -1 : l; // not minimal
    }
    if (b == 0x82) {
      int l = ((d[pos[0]++] & 0xFF) << 8) | (d[pos[0]++] & 0xFF);
      return l < 0x100 ? -1 : l;
    }
    return -1;
  }

  private static BigInteger readInteger(byte[] d, int[] pos) {
    if (d[pos[0]++] != 0x02) {
      return null;
    }
    int len = readLength(d, pos);
    if (len <= 0 || pos[0] + len > d.length) {
      return null;
    }
    byte[] v = Arrays.copyOfRange(d, pos[0], pos[0] + len);
    pos[0] += len;
    if (v[0] < 0) {
      return null; // negative
    }
    if (v.length > 1 && v[0] == 0 && v[1] >= 0) {
      return null; // not minimal
    }
    return new BigInteger(1, v);
  }

  /** The Ed25519 point of a 32-byte public key encoding (RFC 8032 5.1.2). */
  public static EdECPoint edPoint(byte[] enc) throws InvalidKeyException {
    if (enc.length != 32) {
      throw new InvalidKeyException("an Ed25519 public key is 32 bytes, not " + enc.length);
    }
    byte[] le = enc.clone();
    boolean xOdd = (le[31] & 0x80) != 0;
    le[31] &= 0x7F;
    byte[] be = new byte[32];
    for (int i = 0; i < 32; i++) {
      be[i] = le[31 - i];
    }
    return new EdECPoint(xOdd, new BigInteger(1, be));
  }

  /** The 32-byte encoding of an Ed25519 point. */
  public static byte[] edEncode(EdECPoint p) {
    byte[] be = p.getY().toByteArray();
    byte[] le = new byte[32];
    for (int i = 0; i < Math.min(be.length, 32); i++) {
      le[i] = be[be.length - 1 - i];
    }
    if (p.isXOdd()) {
      le[31] |= (byte) 0x80;
    }
    return le;
  }

  public static NamedParameterSpec ed25519() {
    return NamedParameterSpec.ED25519;
  }
}
