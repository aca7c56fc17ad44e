package io.hsmkit.bench.provider;

import java.security.GeneralSecurityException;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;

/**
 * One thread's JCA objects for one operation and one provider, made and initialised once; each
 * method is one operation. Every provider gets exactly the same calls.
 *
 * <ul>
 *   <li>GCM: JCA forbids a second encryption under the same key and IV, so every operation is an
 *       init with a fresh IV (4 bytes of thread index, 8 bytes of counter) and one
 *       {@code doFinal(byte[])}. (Single {@code doFinal(byte[])} calls also stay clear of SunPKCS11's
 *       JDK 17 GCM bug with {@code doFinal(in, ofs, len)} after {@code update}.)
 *   <li>CBC: initialised once with a fixed IV; each operation is one {@code doFinal(byte[])}.
 *   <li>Mac, Signature: initialised once; {@code doFinal}/{@code sign}/{@code verify} leave them
 *       ready for the next operation.
 *   <li>Verify: the signature was made in setup by the same provider; a false answer throws.
 *   <li>ECDH: {@code doPhase(peer, true)} and {@code generateSecret()} (the bytes) per operation;
 *       the private key stays from the one init.
 *   <li>OAEP: a provider without RSA-OAEP (SunPKCS11 in JDK 17) throws {@link
 *       UnsupportedOperationException} here, in setup, so the benchmark fails and shows as n/a.
 * </ul>
 */
public final class JcaWorker {
  public final JcaOp op;
  public final String providerName;

  private Cipher cipher;
  private Mac mac;
  private Signature signature;
  private KeyAgreement agreement;
  private SecureRandom random;
  private java.security.Key key;
  private PublicKey peer;
  private byte[] expected;
  private final byte[] iv = new byte[12];
  private long counter;
  private final byte[] out32 = new byte[32];

  public JcaWorker(Providers.Keys keys, JcaOp op, int threadIndex) throws GeneralSecurityException {
    this.op = op;
    this.providerName = keys.name;
    keys.prepare(op);
    var p = keys.provider;
    iv[0] = (byte) (threadIndex >>> 24);
    iv[1] = (byte) (threadIndex >>> 16);
    iv[2] = (byte) (threadIndex >>> 8);
    iv[3] = (byte) threadIndex;
    switch (op) {
      case GCM_ENCRYPT_1K, GCM_ENCRYPT_64K -> {
        cipher = Cipher.getInstance("AES/GCM/NoPadding", p);
        key = keys.aes;
      }
      case CBC_ENCRYPT_1K -> {
        cipher = Cipher.getInstance("AES/CBC/PKCS5Padding", p);
        cipher.init(Cipher.ENCRYPT_MODE, keys.aes, new IvParameterSpec(Providers.pattern(16, 5)));
      }
      case HMAC_1K -> {
        mac = Mac.getInstance("HmacSHA256", p);
        mac.init(keys.hmac);
      }
      case ECDSA_SIGN -> signature = signer("SHA256withECDSA", p, keys.ec.getPrivate(), null);
      case ECDSA_VERIFY -> {
        signature = verifier("SHA256withECDSA", p, keys.ec.getPublic(), null);
        expected = keys.ecdsaSignature;
      }
      case RSA_PKCS1_SIGN -> signature = signer("SHA256withRSA", p, keys.rsa.getPrivate(), null);
      case RSA_PKCS1_VERIFY -> {
        signature = verifier("SHA256withRSA", p, keys.rsa.getPublic(), null);
        expected = keys.pkcs1Signature;
      }
      case RSA_PSS_SIGN -> signature = signer("RSASSA-PSS", p, keys.rsa.getPrivate(), Providers.PSS);
      case RSA_PSS_VERIFY -> {
        signature = verifier("RSASSA-PSS", p, keys.rsa.getPublic(), Providers.PSS);
        expected = keys.pssSignature;
      }
      case RSA_OAEP_DECRYPT -> {
        try {
          cipher = Cipher.getInstance(Providers.OAEP, p);
        } catch (NoSuchAlgorithmException | javax.crypto.NoSuchPaddingException e) {
          throw new UnsupportedOperationException("RSA-OAEP decryption is not supported by " + keys.name + " (" + p.getName()
              + " on JDK " + System.getProperty("java.version") + " has no " + Providers.OAEP + "): n/a", e);
        }
        cipher.init(Cipher.DECRYPT_MODE, keys.rsa.getPrivate());
        expected = keys.oaepCiphertext;
      }
      case ECDH_P256 -> {
        agreement = KeyAgreement.getInstance("ECDH", p);
        agreement.init(keys.ec.getPrivate());
        peer = keys.ecdhPeer();
      }
      case RANDOM32 -> random = SecureRandom.getInstance("PKCS11", p);
    }
    // One operation now: a setup that cannot do it fails here, not in the measurement.
    Object first = run();
    if (op == JcaOp.RSA_OAEP_DECRYPT && !Arrays.equals((byte[]) first, Providers.OAEP_MSG32)) {
      throw new IllegalStateException(keys.name + ": OAEP decryption gave the wrong plaintext");
    }
  }

  private static Signature signer(String alg, java.security.Provider p, java.security.PrivateKey k, java.security.spec.AlgorithmParameterSpec params)
      throws GeneralSecurityException {
    Signature s = Signature.getInstance(alg, p);
    if (params != null) {
      s.setParameter(params);
    }
    s.initSign(k);
    return s;
  }

  private static Signature verifier(String alg, java.security.Provider p, PublicKey k, java.security.spec.AlgorithmParameterSpec params)
      throws GeneralSecurityException {
    Signature s = Signature.getInstance(alg, p);
    if (params != null) {
      s.setParameter(params);
    }
    s.initVerify(k);
    return s;
  }

  private GCMParameterSpec nextIv() {
    long c = ++counter;
    for (int i = 0; i < 8; i++) {
      iv[4 + i] = (byte) (c >>> (56 - 8 * i));
    }
    return new GCMParameterSpec(128, iv); // copies iv
  }

  public byte[] gcmEncrypt1k() throws GeneralSecurityException {
    cipher.init(Cipher.ENCRYPT_MODE, key, nextIv());
    return cipher.doFinal(Providers.DATA_1K);
  }

  public byte[] gcmEncrypt64k() throws GeneralSecurityException {
    cipher.init(Cipher.ENCRYPT_MODE, key, nextIv());
    return cipher.doFinal(Providers.DATA_64K);
  }

  public byte[] cbcEncrypt1k() throws GeneralSecurityException {
    return cipher.doFinal(Providers.DATA_1K);
  }

  public byte[] hmac1k() {
    return mac.doFinal(Providers.DATA_1K);
  }

  public byte[] sign() throws GeneralSecurityException {
    signature.update(Providers.MSG32);
    return signature.sign();
  }

  public boolean verify() throws GeneralSecurityException {
    signature.update(Providers.MSG32);
    if (!signature.verify(expected)) {
      throw new IllegalStateException(providerName + " " + op + ": a good signature did not verify");
    }
    return true;
  }

  public byte[] oaepDecrypt() throws GeneralSecurityException {
    return cipher.doFinal(expected);
  }

  public byte[] ecdh() throws GeneralSecurityException {
    agreement.doPhase(peer, true);
    return agreement.generateSecret();
  }

  public byte[] random32() {
    random.nextBytes(out32);
    return out32;
  }

  /** One operation of {@link #op}. */
  public Object run() throws GeneralSecurityException {
    return switch (op) {
      case GCM_ENCRYPT_1K -> gcmEncrypt1k();
      case GCM_ENCRYPT_64K -> gcmEncrypt64k();
      case CBC_ENCRYPT_1K -> cbcEncrypt1k();
      case HMAC_1K -> hmac1k();
      case ECDSA_SIGN, RSA_PKCS1_SIGN, RSA_PSS_SIGN -> sign();
      case ECDSA_VERIFY, RSA_PKCS1_VERIFY, RSA_PSS_VERIFY -> verify();
      case RSA_OAEP_DECRYPT -> oaepDecrypt();
      case ECDH_P256 -> ecdh();
      case RANDOM32 -> random32();
    };
  }
}
