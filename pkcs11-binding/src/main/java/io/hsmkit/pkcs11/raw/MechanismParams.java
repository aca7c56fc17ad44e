package io.hsmkit.pkcs11.raw;

/**
 * The parameter structures that the binding knows how to lay out in native memory. Each record
 * mirrors one PKCS#11 structure field by field; byte arrays are copied in and out, so the records
 * are immutable. None of them prints its byte values.
 */
public sealed interface MechanismParams {

  /** A parameter that is a plain byte string (an IV, a CK_BYTE array). */
  record Bytes(byte[] value) implements MechanismParams {
    public Bytes {
      value = value.clone();
    }

    @Override
    public byte[] value() {
      return value.clone();
    }

    /** The length without a copy. */
    public int length() {
      return value.length;
    }

    /** Copies the value into {@code dst} at {@code index} (absolute), without an intermediate copy: the hot path of CBC. */
    public void copyValue(java.nio.ByteBuffer dst, int index) {
      dst.put(index, value);
    }

    @Override
    public String toString() {
      return "Bytes[" + value.length + "]";
    }
  }

  /** A parameter that is one CK_ULONG (CK_MAC_GENERAL_PARAMS, for example). */
  record Ulong(long value) implements MechanismParams {}

  /**
   * CK_GCM_PARAMS. The binding writes whichever of the two published layouts the library accepts
   * (with {@code ulIvBits}, as in v2.40 errata and v3.0, or without it, as in v2.40 as first
   * published), remembering the choice per library.
   */
  record Gcm(byte[] iv, byte[] aad, int tagBits) implements MechanismParams {
    private static final byte[] NO_AAD = new byte[0];

    public Gcm {
      iv = iv.clone();
      // Never handed out (aad() copies), so one shared empty array serves every call without AAD.
      aad = aad == null || aad.length == 0 ? NO_AAD : aad.clone();
    }

    @Override
    public byte[] iv() {
      return iv.clone();
    }

    @Override
    public byte[] aad() {
      return aad.clone();
    }

    /** The IV's length, without a copy. */
    public int ivLength() {
      return iv.length;
    }

    /** The AAD's length, without a copy. */
    public int aadLength() {
      return aad.length;
    }

    /** Copies the IV into {@code dst} at {@code index}: the native layer's hot path, without a second copy. */
    public void copyIv(java.nio.ByteBuffer dst, int index) {
      dst.put(index, iv, 0, iv.length);
    }

    /** Copies the AAD into {@code dst} at {@code index}. */
    public void copyAad(java.nio.ByteBuffer dst, int index) {
      dst.put(index, aad, 0, aad.length);
    }

    @Override
    public String toString() {
      return "Gcm[iv=" + iv.length + ", aad=" + aad.length + ", tagBits=" + tagBits + "]";
    }
  }

  /** CK_RSA_PKCS_OAEP_PARAMS; {@code source} is CKZ_DATA_SPECIFIED (1) or 0, {@code sourceData} the label. */
  record Oaep(long hashAlg, long mgf, long source, byte[] sourceData) implements MechanismParams {
    public Oaep {
      sourceData = sourceData == null ? new byte[0] : sourceData.clone();
    }

    @Override
    public byte[] sourceData() {
      return sourceData.clone();
    }

    @Override
    public String toString() {
      return "Oaep[hash=0x" + Long.toHexString(hashAlg) + ", mgf=" + mgf + ", label=" + sourceData.length + "]";
    }
  }

  /** CK_RSA_PKCS_PSS_PARAMS. */
  record Pss(long hashAlg, long mgf, long saltLength) implements MechanismParams {}

  /** CK_ECDH1_DERIVE_PARAMS; {@code publicData} is the peer's public point (or its DER encoding). */
  record Ecdh1Derive(long kdf, byte[] sharedData, byte[] publicData) implements MechanismParams {
    public Ecdh1Derive {
      sharedData = sharedData == null ? new byte[0] : sharedData.clone();
      publicData = publicData.clone();
    }

    @Override
    public byte[] sharedData() {
      return sharedData.clone();
    }

    @Override
    public byte[] publicData() {
      return publicData.clone();
    }

    @Override
    public String toString() {
      return "Ecdh1Derive[kdf=" + kdf + ", shared=" + sharedData.length + ", public=" + publicData.length + "]";
    }
  }

  /** CK_AES_CTR_PARAMS: the number of counter bits and the 16-byte initial counter block. */
  record AesCtr(long counterBits, byte[] counterBlock) implements MechanismParams {
    public AesCtr {
      if (counterBlock.length != 16) {
        throw new IllegalArgumentException("the counter block is 16 bytes, not " + counterBlock.length);
      }
      counterBlock = counterBlock.clone();
    }

    @Override
    public byte[] counterBlock() {
      return counterBlock.clone();
    }

    @Override
    public String toString() {
      return "AesCtr[bits=" + counterBits + "]";
    }
  }

  /** CK_EDDSA_PARAMS (v3.0): pre-hash flag and context data (Ed25519ctx/ph, Ed448). */
  record Eddsa(boolean preHash, byte[] context) implements MechanismParams {
    public Eddsa {
      context = context == null ? new byte[0] : context.clone();
    }

    @Override
    public byte[] context() {
      return context.clone();
    }

    @Override
    public String toString() {
      return "Eddsa[ph=" + preHash + ", context=" + context.length + "]";
    }
  }
}
