package io.hsmkit.kms.cks;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.backing.KeyBacking;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.Provider;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;

/**
 * Seals the kmsuser PINs that {@link CustomKeyStores} keeps in the metadata database, so that no
 * PIN is ever on disk (or in a database dump) in the clear.
 *
 * <p>The standard sealer ({@link #onBacking}) is AES-256-GCM under a persistent, sensitive,
 * non-extractable key of the DEFAULT key store's token: reading the database alone does not give
 * the PINs; one needs the default token and its user PIN too. The sealed form is
 * {@code 0x01 || IV (12 bytes, from the token) || ciphertext || tag (16 bytes)}, with the store id
 * as additional authenticated data, so a sealed PIN copied onto another store's row does not open.
 */
public interface PinSealer {
  /** The label of the sealing key on the default store's token. */
  String DEFAULT_KEY_LABEL = "hsmkit-kms/cks-pin-sealing-key";

  /** Seals {@code pin} for store {@code customKeyStoreId}; the caller still wipes {@code pin}. */
  byte[] seal(char[] pin, String customKeyStoreId);

  /**
   * Opens what {@link #seal} made for the same store; the caller wipes the result.
   *
   * @throws KmsException KMS_INTERNAL when it does not open (altered, or sealed for another store)
   */
  char[] open(byte[] sealed, String customKeyStoreId);

  /** AES-GCM under {@code key}, with the Cipher of {@code provider}. */
  static PinSealer aesGcm(Provider provider, Key key) {
    return new AesGcm(provider, key);
  }

  /**
   * AES-GCM under the key labelled {@link #DEFAULT_KEY_LABEL} in {@code defaultStore}, made there
   * (AES-256, persistent, sensitive, non-extractable) when it does not exist yet.
   */
  static PinSealer onBacking(KeyBacking defaultStore) {
    Key k = defaultStore.find(DEFAULT_KEY_LABEL);
    if (k == null) {
      k = defaultStore.createAes256(DEFAULT_KEY_LABEL);
    }
    return aesGcm(defaultStore.provider(), k);
  }

  /** The AES-GCM sealer. */
  final class AesGcm implements PinSealer {
    private static final byte VERSION = 1;
    private static final int IV_BYTES = 12;
    private final Provider provider;
    private final Key key;

    AesGcm(Provider provider, Key key) {
      this.provider = Objects.requireNonNull(provider, "provider");
      this.key = Objects.requireNonNull(key, "key");
    }

    private static byte[] aad(String storeId) {
      return ("hsmkit-cks-pin/1/" + storeId).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] seal(char[] pin, String customKeyStoreId) {
      ByteBuffer bb = StandardCharsets.UTF_8.encode(CharBuffer.wrap(pin));
      byte[] plain = new byte[bb.remaining()];
      bb.get(plain);
      Arrays.fill(bb.array(), (byte) 0);
      try {
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding", provider);
        c.init(Cipher.ENCRYPT_MODE, key); // the IV comes from the token
        c.updateAAD(aad(customKeyStoreId));
        byte[] ct = c.doFinal(plain);
        byte[] iv = c.getIV();
        if (iv == null || iv.length != IV_BYTES) {
          throw new KmsException(KmsError.KMS_INTERNAL, "PIN sealing: unexpected GCM IV from the default store's provider");
        }
        byte[] out = new byte[1 + IV_BYTES + ct.length];
        out[0] = VERSION;
        System.arraycopy(iv, 0, out, 1, IV_BYTES);
        System.arraycopy(ct, 0, out, 1 + IV_BYTES, ct.length);
        return out;
      } catch (GeneralSecurityException | RuntimeException e) {
        if (e instanceof KmsException ke) {
          throw ke;
        }
        throw new KmsException(KmsError.KMS_INTERNAL, "cannot seal a kmsuser PIN for custom key store " + customKeyStoreId
            + " with the default store's key (" + e.getClass().getSimpleName() + ")", e);
      } finally {
        Arrays.fill(plain, (byte) 0);
      }
    }

    @Override
    public char[] open(byte[] sealed, String customKeyStoreId) {
      if (sealed == null || sealed.length < 1 + IV_BYTES + 16 || sealed[0] != VERSION) {
        throw new KmsException(KmsError.KMS_INTERNAL, "the sealed kmsuser PIN of custom key store " + customKeyStoreId + " is malformed");
      }
      byte[] plain = null;
      try {
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding", provider);
        c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, sealed, 1, IV_BYTES));
        c.updateAAD(aad(customKeyStoreId));
        plain = c.doFinal(sealed, 1 + IV_BYTES, sealed.length - 1 - IV_BYTES);
        CharBuffer cb = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(plain));
        char[] pin = new char[cb.remaining()];
        cb.get(pin);
        Arrays.fill(cb.array(), '\0');
        return pin;
      } catch (GeneralSecurityException | RuntimeException e) {
        throw new KmsException(KmsError.KMS_INTERNAL, "the sealed kmsuser PIN of custom key store " + customKeyStoreId
            + " does not open with the default store's key (" + e.getClass().getSimpleName() + ")", e);
      } finally {
        if (plain != null) {
          Arrays.fill(plain, (byte) 0);
        }
      }
    }
  }
}
