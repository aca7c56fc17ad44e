package io.hsmkit.kms.blob;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;
import java.util.UUID;

/**
 * The ciphertext blob of a symmetric KMS key, format version 1. All integers big-endian.
 *
 * <pre>
 *   offset  size  field
 *   0       1     format version, 0x01
 *   1       16    KMS key id (the key's UUID, most significant half first)
 *   17      4     backing-key version (unsigned; 1 at creation, +1 per rotation)
 *   21      12    AES-GCM IV (random, from the token)
 *   33      n     AES-256-GCM ciphertext of the plaintext (n = plaintext length)
 *   33+n    16    GCM tag
 * </pre>
 *
 * <p>The GCM AAD is the 21-byte header (version, key id, backing-key version) followed by the
 * {@link EncryptionContextCodec canonical encoding} of the encryption context, so the key, the
 * version and every context pair are authenticated: a changed header byte, a changed context or a
 * flipped ciphertext bit all fail the tag check, and every such failure, like a blob too short or
 * of an unknown version, is {@code InvalidCiphertextException}. The encryption is done in the
 * token (the backing key never leaves it); this class only lays out bytes. Immutable.
 */
public final class CiphertextBlob {
  public static final byte VERSION_1 = 1;
  public static final int HEADER_BYTES = 21;
  public static final int IV_BYTES = 12;
  public static final int TAG_BYTES = 16;
  /** Header, IV and tag around at least one byte of ciphertext (AWS plaintexts are 1 byte and more). */
  public static final int MIN_BYTES = HEADER_BYTES + IV_BYTES + 1 + TAG_BYTES;

  private final UUID keyId;
  private final int keyVersion;
  private final byte[] iv;
  private final byte[] ciphertextAndTag;

  public CiphertextBlob(UUID keyId, int keyVersion, byte[] iv, byte[] ciphertextAndTag) {
    this.keyId = Objects.requireNonNull(keyId, "keyId");
    if (keyVersion < 1) {
      throw new IllegalArgumentException("key versions start at 1");
    }
    if (iv.length != IV_BYTES || ciphertextAndTag.length < 1 + TAG_BYTES) {
      throw new IllegalArgumentException("a blob has a 12-byte IV and at least 17 bytes of ciphertext and tag");
    }
    this.keyVersion = keyVersion;
    this.iv = iv.clone();
    this.ciphertextAndTag = ciphertextAndTag.clone();
  }

  /** Parses a blob; anything that is not a well-formed version-1 blob is {@code INVALID_CIPHERTEXT}. */
  public static CiphertextBlob parse(byte[] blob) {
    if (blob == null || blob.length < MIN_BYTES || blob[0] != VERSION_1) {
      throw invalid();
    }
    ByteBuffer b = ByteBuffer.wrap(blob);
    b.get();
    UUID id = new UUID(b.getLong(), b.getLong());
    int version = b.getInt();
    if (version < 1) {
      throw invalid();
    }
    byte[] iv = new byte[IV_BYTES];
    b.get(iv);
    byte[] rest = new byte[b.remaining()];
    b.get(rest);
    return new CiphertextBlob(id, version, iv, rest);
  }

  /** The one error every malformed or unauthentic blob gives (it says nothing about why). */
  public static KmsException invalid() {
    return new KmsException(KmsError.INVALID_CIPHERTEXT, "the ciphertext is invalid, or it does not belong to this key and encryption context");
  }

  public UUID keyId() {
    return keyId;
  }

  public int keyVersion() {
    return keyVersion;
  }

  public byte[] iv() {
    return iv.clone();
  }

  public byte[] ciphertextAndTag() {
    return ciphertextAndTag.clone();
  }

  /** The 21 header bytes: version, key id and backing-key version. */
  public byte[] header() {
    return header(keyId, keyVersion);
  }

  public static byte[] header(UUID keyId, int keyVersion) {
    return ByteBuffer.allocate(HEADER_BYTES).put(VERSION_1).putLong(keyId.getMostSignificantBits())
        .putLong(keyId.getLeastSignificantBits()).putInt(keyVersion).array();
  }

  /** The AAD for GCM: the header, then the canonical encryption context. */
  public static byte[] aad(UUID keyId, int keyVersion, java.util.Map<String, String> context) {
    byte[] h = header(keyId, keyVersion);
    byte[] c = EncryptionContextCodec.encode(context);
    byte[] out = Arrays.copyOf(h, h.length + c.length);
    System.arraycopy(c, 0, out, h.length, c.length);
    return out;
  }

  /** The blob's bytes. */
  public byte[] toBytes() {
    return ByteBuffer.allocate(HEADER_BYTES + IV_BYTES + ciphertextAndTag.length).put(header()).put(iv).put(ciphertextAndTag).array();
  }
}
