package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKG;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.constants.CKZ;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmKeys;
import io.hsmkit.provider.keys.HsmPrivateKey;
import io.hsmkit.provider.keys.HsmPublicKey;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.keys.KeyImport;
import io.hsmkit.provider.keys.KeyTemplates;
import io.hsmkit.provider.spi.CipherSupport.OnGeneralError;
import java.lang.ref.Cleaner;
import java.security.AlgorithmParameters;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.NoSuchAlgorithmException;
import java.security.ProviderException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.RSAKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.NoSuchPaddingException;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;

/**
 * RSA/ECB/PKCS1Padding (CKM_RSA_PKCS), RSA/ECB/NoPadding (CKM_RSA_X_509) and RSA-OAEP in the token:
 * decryption with an RSA private key of this token, encryption with an RSA public key of this
 * token or with a software RSA public key given to this provider explicitly (imported as a session
 * object for the life of this Cipher and destroyed afterwards; without a named provider, JCA's
 * selection sends software keys to the JDK, which is right, as public-key encryption needs no HSM).
 *
 * <h2>OAEP: in the token when it can, else raw RSA in the token and OAEP here</h2>
 *
 * The parameters are those of the JDK: "OAEPWith&lt;hash&gt;AndMGF1Padding" means that hash with
 * MGF1-SHA-1 and an empty label unless an {@link OAEPParameterSpec} says otherwise ("RSA/ECB/
 * OAEPPadding" defaults to SHA-1 throughout). The operation first goes to CKM_RSA_PKCS_OAEP with
 * the matching CK_RSA_PKCS_OAEP_PARAMS. If the token refuses those parameters at C_*Init
 * (SoftHSM2 2.6.1 takes only SHA-1 with MGF1-SHA-1 and no label, and says CKR_ARGUMENTS_BAD to
 * anything else), this Cipher remembers it and does the RSA primitive in the token with
 * CKM_RSA_X_509 (private-key decryption, public-key encryption) and the EME-OAEP encoding of RFC
 * 8017 7.1 here ({@link OaepCodec}). The private key never leaves the token either way.
 *
 * <p>Why not decline SHA-256 on such tokens: OAEP with SHA-256 is what current protocols and
 * Wycheproof expect, and the Java decoding can be made constant-time in the decoded data, which is
 * all the padding step needs. Its costs, stated: the token must allow raw RSA decryption with the
 * key (CKA_DECRYPT with CKM_RSA_X_509), and the padded block is in the JVM for a moment (it is wiped
 * after decoding). Every failure of OAEP decryption, in the token or here, is the same
 * {@link BadPaddingException} ("decryption error", no cause), so callers cannot tell bad padding
 * from a wrong label or a ciphertext not below the modulus.
 *
 * <h2>Wrapping</h2>
 *
 * WRAP_MODE wraps a secret key of this token with C_WrapKey (CKM_RSA_PKCS, or CKM_RSA_PKCS_OAEP
 * with parameters the token takes); a software key is wrapped as its encoding. UNWRAP_MODE unwraps
 * secret and private keys into the token with C_UnwrapKey; where the token cannot (OAEP parameters
 * it refuses, NoPadding), the key is decrypted here and imported with the configuration's defaults,
 * so its value passes through the JVM, and is wiped after the import. Public keys are decrypted and
 * returned as JDK keys.
 *
 * <p>Input given to update is kept until doFinal (one RSA block). doFinal needs room for the
 * modulus length when encrypting; when decrypting, a ShortBufferException comes only if the
 * plaintext does not fit, and leaves the input in place for a repeated call.
 */
public final class RsaCipher extends TokenCipherSpi {
  private static final Cleaner CLEANER = Cleaner.create();

  /** The paddings. */
  public enum Padding {
    PKCS1("PKCS1Padding"),
    NONE("NoPadding"),
    OAEP("OAEPPadding");

    final String jca;

    Padding(String jca) {
      this.jca = jca;
    }
  }

  /** OAEP hashes as PKCS#11 names them: the hash mechanism and the MGF1 variant. */
  private static final Map<String, long[]> HASHES = Map.of(
      "SHA-1", new long[] {CKM.SHA_1, CKG.MGF1_SHA1},
      "SHA-224", new long[] {CKM.SHA224, CKG.MGF1_SHA224},
      "SHA-256", new long[] {CKM.SHA256, CKG.MGF1_SHA256},
      "SHA-384", new long[] {CKM.SHA384, CKG.MGF1_SHA384},
      "SHA-512", new long[] {CKM.SHA512, CKG.MGF1_SHA512});

  private final TokenContext token;
  private final Padding padding;
  /** OAEP: the digest that the transformation name gives (SHA-1 for OAEPPadding). */
  private final String oaepDigest;

  private int opmode;
  private HsmKey key;
  private int k;
  private OAEPParameterSpec oaep;
  private OaepCodec codec;
  /** OAEP: null until the token has been asked, then whether CKM_RSA_PKCS_OAEP took these parameters. */
  private Boolean oaepInToken;
  private final CipherSupport.Buffer held = new CipherSupport.Buffer();
  /** A software public key imported for encryption, and what destroys it. */
  private PublicKey importedFrom;
  private HsmPublicKey imported;
  private Cleaner.Cleanable importCleanup;

  /**
   * @param oaepDigest for OAEP, the digest of "OAEPWith&lt;digest&gt;AndMGF1Padding", or "SHA-1" for
   *     "OAEPPadding"; null otherwise
   */
  public RsaCipher(TokenContext token, Padding padding, String oaepDigest) {
    this.token = token;
    this.padding = padding;
    this.oaepDigest = oaepDigest;
  }

  // ------------------------------------------------------------------ set-up

  @Override
  protected void engineSetMode(String mode) throws NoSuchAlgorithmException {
    if (!"ECB".equalsIgnoreCase(mode) && !"NONE".equalsIgnoreCase(mode)) {
      throw new NoSuchAlgorithmException("RSA has mode ECB, not " + mode);
    }
  }

  @Override
  protected void engineSetPadding(String p) throws NoSuchPaddingException {
    String l = p.toLowerCase(Locale.ROOT);
    boolean ok = switch (padding) {
      case PKCS1 -> l.equals("pkcs1padding");
      case NONE -> l.equals("nopadding");
      case OAEP -> l.equals("oaeppadding") || (l.startsWith("oaepwith") && l.endsWith("andmgf1padding"));
    };
    if (!ok) {
      throw new NoSuchPaddingException("this cipher is RSA with " + padding.jca + ", not " + p);
    }
  }

  @Override
  protected int engineGetBlockSize() {
    return 0;
  }

  @Override
  protected int engineGetKeySize(Key key) throws InvalidKeyException {
    if (key instanceof RSAKey r) {
      return r.getModulus().bitLength();
    }
    throw new InvalidKeyException("not an RSA key: " + key.getAlgorithm());
  }

  @Override
  protected byte[] engineGetIV() {
    return null;
  }

  @Override
  protected AlgorithmParameters engineGetParameters() {
    if (padding != Padding.OAEP) {
      return null;
    }
    return CipherSupport.parameters("OAEP", oaep != null ? oaep : defaultOaep());
  }

  @Override
  protected int engineGetOutputSize(int inputLen) {
    return k;
  }

  private OAEPParameterSpec defaultOaep() {
    // As the JDK: the transformation names the OAEP hash; MGF1 uses SHA-1 unless a spec says otherwise.
    return new OAEPParameterSpec(oaepDigest, "MGF1", MGF1ParameterSpec.SHA1, PSource.PSpecified.DEFAULT);
  }

  @Override
  protected AlgorithmParameterSpec specOf(AlgorithmParameters params) throws InvalidAlgorithmParameterException {
    return padding == Padding.OAEP ? CipherSupport.spec(params, OAEPParameterSpec.class) : paramsNotTaken(params);
  }

  private static AlgorithmParameterSpec paramsNotTaken(AlgorithmParameters params) throws InvalidAlgorithmParameterException {
    if (params != null) {
      throw new InvalidAlgorithmParameterException("this RSA padding takes no parameters");
    }
    return null;
  }

  @Override
  protected void engineInit(int mode, Key k, AlgorithmParameterSpec params, SecureRandom random)
      throws InvalidKeyException, InvalidAlgorithmParameterException {
    CipherSupport.checkMode(mode);
    OAEPParameterSpec spec = null;
    OaepCodec newCodec = null;
    if (padding == Padding.OAEP) {
      if (params != null && !(params instanceof OAEPParameterSpec)) {
        throw new InvalidAlgorithmParameterException("OAEP takes an OAEPParameterSpec, not " + params.getClass().getName());
      }
      spec = params == null ? defaultOaep() : (OAEPParameterSpec) params;
      newCodec = new OaepCodec(spec);
    } else if (params != null) {
      throw new InvalidAlgorithmParameterException("RSA with " + padding.jca + " takes no parameters");
    }
    HsmKey newKey = CipherSupport.encrypting(mode) ? publicKey(k) : privateKey(k);
    int newK = (((RSAKey) newKey).getModulus().bitLength() + 7) / 8;
    if (newCodec != null && newCodec.maxMessage(newK) < 0) {
      throw new InvalidKeyException("the key is too short for OAEP with " + spec.getDigestAlgorithm());
    }
    this.opmode = mode;
    this.key = newKey;
    this.k = newK;
    if (!sameOaep(spec, oaep)) {
      oaepInToken = null;
    }
    this.oaep = spec;
    this.codec = newCodec;
    held.clear();
  }

  private static boolean sameOaep(OAEPParameterSpec a, OAEPParameterSpec b) {
    if (a == null || b == null) {
      return a == b;
    }
    return a.getDigestAlgorithm().equalsIgnoreCase(b.getDigestAlgorithm())
        && ((MGF1ParameterSpec) a.getMGFParameters()).getDigestAlgorithm().equalsIgnoreCase(((MGF1ParameterSpec) b.getMGFParameters()).getDigestAlgorithm())
        && Arrays.equals(((PSource.PSpecified) a.getPSource()).getValue(), ((PSource.PSpecified) b.getPSource()).getValue());
  }

  private HsmPrivateKey privateKey(Key k) throws InvalidKeyException {
    HsmPrivateKey p = HsmKeys.require(k, token, HsmPrivateKey.class);
    if (p.keyType() != CKK.RSA || !(p instanceof RSAKey)) {
      throw new InvalidKeyException("not an RSA private key: " + p.getAlgorithm());
    }
    return p;
  }

  /** A public key of this token; a software RSA public key is imported (once per key, for this Cipher). */
  private HsmPublicKey publicKey(Key k) throws InvalidKeyException {
    if (k instanceof HsmKey) {
      HsmPublicKey p = HsmKeys.require(k, token, HsmPublicKey.class);
      if (p.keyType() != CKK.RSA || !(p instanceof RSAPublicKey)) {
        throw new InvalidKeyException("not an RSA public key: " + p.getAlgorithm());
      }
      return p;
    }
    if (!(k instanceof RSAPublicKey rsa)) {
      throw new InvalidKeyException("encryption needs an RSA public key, not " + (k == null ? "null" : k.getAlgorithm() + " " + k.getClass().getName()));
    }
    if (imported != null && rsa.equals(importedFrom)) {
      return imported;
    }
    dropImported();
    HsmPublicKey p = KeyImport.publicKey(token, rsa, KeyTemplates.defaults(token).withToken(false));
    imported = p;
    importedFrom = rsa;
    importCleanup = CLEANER.register(this, new DestroyObject(token, p.handle()));
    return p;
  }

  private void dropImported() {
    if (importCleanup != null) {
      importCleanup.clean();
    }
    importCleanup = null;
    imported = null;
    importedFrom = null;
  }

  /** Destroys an imported public key object when its Cipher is re-initialised or collected. */
  private record DestroyObject(TokenContext token, long handle) implements Runnable {
    @Override
    public void run() {
      try {
        token.execute(s -> {
          s.destroyObject(handle);
          return null;
        });
      } catch (RuntimeException ignored) {
        // the token or the pool is gone, and the session object with it
      }
    }
  }

  // ------------------------------------------------------------------ data

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
      return CipherSupport.encrypting(opmode) ? encrypt(data) : decrypt(data);
    } finally {
      held.clear();
      CipherSupport.wipe(data);
    }
  }

  @Override
  protected int engineDoFinal(byte[] input, int inputOffset, int inputLen, byte[] output, int outputOffset)
      throws ShortBufferException, IllegalBlockSizeException, BadPaddingException {
    checkData();
    boolean encrypting = CipherSupport.encrypting(opmode);
    if (encrypting) {
      CipherSupport.checkRoom(output, outputOffset, k);
    }
    byte[] data = held.joined(CipherSupport.orEmpty(input), inputOffset, inputLen);
    byte[] out = null;
    boolean keep = false;
    try {
      out = encrypting ? encrypt(data) : decrypt(data);
      int room = output == null ? 0 : output.length - outputOffset;
      if (out.length > room) {
        keep = true; // the input stays, so that the call can be repeated with more room
        throw new ShortBufferException("output buffer too small: " + out.length + " bytes needed, " + room + " given");
      }
      System.arraycopy(out, 0, output, outputOffset, out.length);
      return out.length;
    } finally {
      if (!keep) {
        held.clear();
      }
      CipherSupport.wipe(data);
      CipherSupport.wipe(out);
    }
  }

  private void checkData() {
    if (opmode == 0) {
      throw new IllegalStateException("Cipher not initialized");
    }
    if (opmode == Cipher.WRAP_MODE || opmode == Cipher.UNWRAP_MODE) {
      throw new IllegalStateException("the cipher is initialised to " + (opmode == Cipher.WRAP_MODE ? "wrap" : "unwrap") + " keys, not for data");
    }
  }

  /** One RSA encryption of {@code m} with the public key. */
  private byte[] encrypt(byte[] m) throws IllegalBlockSizeException, BadPaddingException {
    switch (padding) {
      case PKCS1:
        if (m.length > k - 11) {
          throw new IllegalBlockSizeException("RSA/PKCS#1 encrypts at most " + (k - 11) + " bytes with this key, not " + m.length);
        }
        return run("RSA encryption", OnGeneralError.BAD_INPUT, true, (s, h, out) -> s.encrypt(Mechanism.of(CKM.RSA_PKCS), h, m, 0, m.length, out, 0));
      case NONE:
        if (m.length > k) {
          throw new IllegalBlockSizeException("Data must not be longer than " + k + " bytes");
        }
        return run("RSA encryption", OnGeneralError.BAD_INPUT, true, (s, h, out) -> s.encrypt(Mechanism.of(CKM.RSA_X_509), h, m, 0, m.length, out, 0));
      default: {
        if (m.length > codec.maxMessage(k)) {
          throw new IllegalBlockSizeException("OAEP encrypts at most " + codec.maxMessage(k) + " bytes with this key and hash, not " + m.length);
        }
        Mechanism oaepMech = tokenOaep();
        return run("RSA-OAEP encryption", OnGeneralError.BAD_INPUT, true, (s, h, out) -> {
          if (oaepMech != null) {
            try {
              int n = s.encrypt(oaepMech, h, m, 0, m.length, out, 0);
              oaepInToken = Boolean.TRUE;
              return n;
            } catch (Pkcs11Exception e) {
              if (!refusedParameters(e, "C_EncryptInit")) {
                throw e;
              }
            }
          }
          byte[] em = codec.encode(m, 0, m.length, k, s.generateRandom(codec.hashLength()));
          try {
            return s.encrypt(Mechanism.of(CKM.RSA_X_509), h, em, 0, k, out, 0);
          } finally {
            CipherSupport.wipe(em);
          }
        });
      }
    }
  }

  /** One RSA decryption of {@code c} with the private key. */
  private byte[] decrypt(byte[] c) throws IllegalBlockSizeException, BadPaddingException {
    if (c.length > k) {
      throw new IllegalBlockSizeException("Data must not be longer than " + k + " bytes");
    }
    switch (padding) {
      case PKCS1:
        if (c.length != k) {
          throw new BadPaddingException("decryption error"); // RFC 8017 7.2.2 step 1
        }
        return run("RSA decryption", OnGeneralError.BAD_PADDING, false, (s, h, out) -> s.decrypt(Mechanism.of(CKM.RSA_PKCS), h, c, 0, k, out, 0));
      case NONE: {
        byte[] full = c;
        if (c.length < k) { // a shorter input is the same number with leading zeros, as in SunJCE
          full = new byte[k];
          System.arraycopy(c, 0, full, k - c.length, c.length);
        }
        byte[] in = full;
        return run("RSA decryption", OnGeneralError.BAD_INPUT, true, (s, h, out) -> s.decrypt(Mechanism.of(CKM.RSA_X_509), h, in, 0, k, out, 0));
      }
      default:
        try {
          if (c.length != k) {
            throw OaepCodec.decryptionError(); // RFC 8017 7.1.2 step 1
          }
          Mechanism oaepMech = tokenOaep();
          return run("RSA-OAEP decryption", OnGeneralError.BAD_PADDING, false, (s, h, out) -> {
            if (oaepMech != null) {
              try {
                int n = s.decrypt(oaepMech, h, c, 0, k, out, 0);
                oaepInToken = Boolean.TRUE;
                return n;
              } catch (Pkcs11Exception e) {
                if (!refusedParameters(e, "C_DecryptInit")) {
                  throw e;
                }
              }
            }
            byte[] em = new byte[k];
            int n = s.decrypt(Mechanism.of(CKM.RSA_X_509), h, c, 0, k, em, 0);
            if (n < k) { // the leading zeros of the number
              System.arraycopy(em, 0, em, k - n, n);
              Arrays.fill(em, 0, k - n, (byte) 0);
            }
            byte[] msg = codec.decode(em, k); // wipes em
            System.arraycopy(msg, 0, out, 0, msg.length);
            CipherSupport.wipe(msg);
            return msg.length;
          });
        } catch (BadPaddingException e) {
          throw OaepCodec.decryptionError(); // one exception for every failure, whoever found it
        }
    }
  }

  /**
   * Token work that writes into a k-byte buffer and says how much it wrote; {@code h} is the key's
   * handle in the session's token (over a cluster, on the member that runs the work).
   */
  @FunctionalInterface
  private interface IntoBuffer {
    int apply(io.hsmkit.pkcs11.Session s, long h, byte[] out) throws java.security.GeneralSecurityException;
  }

  /**
   * Runs {@code work} on a pooled session with a fresh k-byte output buffer (the token asks for
   * the modulus length as room) and returns what it wrote, left-padded with zeros to k bytes when
   * {@code number} (a ciphertext or raw RSA output is a k-byte number).
   */
  private byte[] run(String what, OnGeneralError meaning, boolean number, IntoBuffer work) throws IllegalBlockSizeException, BadPaddingException {
    byte[] out = new byte[k];
    int n;
    try {
      if (token.isCluster()) {
        // a complete one-shot operation with the handle of the member that runs it, moved to
        // another member after a device error (RSA data is never streamed: k bytes at most)
        n = CipherSupport.callOnCluster(token, key, what, meaning, (s, h) -> work.apply(s, h, out));
      } else {
        long h = key.handle();
        n = CipherSupport.call(token, what, meaning, s -> work.apply(s, h, out));
      }
    } catch (ShortBufferException e) {
      throw new IllegalStateException("RSA output room miscomputed", e);
    }
    if (n == k) {
      return out;
    }
    byte[] r;
    if (number) {
      r = new byte[k];
      System.arraycopy(out, 0, r, k - n, n);
    } else {
      r = Arrays.copyOf(out, n);
    }
    CipherSupport.wipe(out);
    return r;
  }

  // ------------------------------------------------------------------ OAEP in the token

  /**
   * CKM_RSA_PKCS_OAEP with these parameters, or null when the token does not have the mechanism,
   * PKCS#11 has no name for the hash, or the token has already refused these parameters.
   */
  private Mechanism tokenOaep() {
    if (Boolean.FALSE.equals(oaepInToken) || !token.has(CKM.RSA_PKCS_OAEP)) {
      return null;
    }
    long[] hash = HASHES.get(canonical(oaep.getDigestAlgorithm()));
    long[] mgf = HASHES.get(canonical(((MGF1ParameterSpec) oaep.getMGFParameters()).getDigestAlgorithm()));
    if (hash == null || mgf == null) {
      return null;
    }
    byte[] label = codec.label();
    return Mechanism.of(CKM.RSA_PKCS_OAEP, new MechanismParams.Oaep(hash[0], mgf[1], CKZ.DATA_SPECIFIED, label.length == 0 ? null : label));
  }

  private static String canonical(String digest) {
    String d = digest.toUpperCase(Locale.ROOT);
    return switch (d) {
      case "SHA", "SHA1", "SHA-1" -> "SHA-1";
      case "SHA224", "SHA-224" -> "SHA-224";
      case "SHA256", "SHA-256" -> "SHA-256";
      case "SHA384", "SHA-384" -> "SHA-384";
      case "SHA512", "SHA-512" -> "SHA-512";
      default -> d;
    };
  }

  /** Whether {@code e} is the token refusing the OAEP parameters at {@code init}; remembers the answer. */
  private boolean refusedParameters(Pkcs11Exception e, String init) {
    if (init.equals(e.function()) && e.isAny(CKR.ARGUMENTS_BAD, CKR.MECHANISM_PARAM_INVALID, CKR.MECHANISM_INVALID)) {
      oaepInToken = Boolean.FALSE;
      return true;
    }
    return false;
  }

  // ------------------------------------------------------------------ keys

  /** The PKCS#11 error behind {@code t}, if any. */
  private static Pkcs11Exception ckr(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof Pkcs11Exception p) {
        return p;
      }
    }
    return null;
  }

  @Override
  protected byte[] engineWrap(Key toWrap) throws IllegalBlockSizeException, InvalidKeyException {
    if (opmode != Cipher.WRAP_MODE) {
      throw new IllegalStateException("the cipher is not initialised for WRAP_MODE");
    }
    if (toWrap instanceof HsmSecretKey sk) {
      if (!sk.belongsTo(token)) {
        throw new InvalidKeyException("the key belongs to another token (" + sk.token() + ")");
      }
      Mechanism m = padding == Padding.PKCS1 ? Mechanism.of(CKM.RSA_PKCS) : padding == Padding.OAEP ? tokenOaep() : null;
      if (m == null) {
        throw new InvalidKeyException("the token cannot wrap with RSA " + padding.jca + (padding == Padding.OAEP ? " and " + oaep.getDigestAlgorithm() : "")
            + ", and a key of the token is not exported in the clear: use PKCS1Padding, or OAEP parameters the token takes");
      }
      long h = key.handle();
      try {
        return CipherSupport.callForKey(token, "RSA wrap", false, s -> s.wrapKey(m, h, sk.handle()));
      } catch (InvalidKeyException | ProviderException e) {
        Pkcs11Exception p = ckr(e);
        if (p != null && refusedParameters(p, "C_WrapKey")) {
          throw new InvalidKeyException("the token refuses to wrap with these OAEP parameters, and a key of the token is not exported in the clear", e);
        }
        throw e;
      }
    }
    if (toWrap instanceof HsmKey && !(toWrap instanceof HsmPublicKey)) {
      throw new InvalidKeyException("RSA wraps secret keys; " + toWrap.getClass().getSimpleName() + " cannot be wrapped with it");
    }
    byte[] encoded = toWrap.getEncoded();
    if (encoded == null) {
      throw new InvalidKeyException("the key has no encoding to wrap: " + toWrap.getAlgorithm());
    }
    try {
      return encrypt(encoded);
    } catch (BadPaddingException e) {
      throw new InvalidKeyException("RSA wrap: " + e.getMessage(), e);
    } finally {
      CipherSupport.wipe(encoded);
    }
  }

  @Override
  protected Key engineUnwrap(byte[] wrapped, String algorithm, int type) throws InvalidKeyException, NoSuchAlgorithmException {
    if (opmode != Cipher.UNWRAP_MODE) {
      throw new IllegalStateException("the cipher is not initialised for UNWRAP_MODE");
    }
    if (type != Cipher.PUBLIC_KEY) {
      Mechanism m = padding == Padding.PKCS1 ? Mechanism.of(CKM.RSA_PKCS) : padding == Padding.OAEP ? tokenOaep() : null;
      if (m != null) {
        try {
          return CipherSupport.unwrapInToken(token, "RSA unwrap", m, key.handle(), wrapped, algorithm, type, 0);
        } catch (InvalidKeyException | ProviderException e) {
          Pkcs11Exception p = ckr(e);
          if (p == null || !refusedParameters(p, "C_UnwrapKey")) {
            throw e;
          }
          // the token refused these OAEP parameters: decrypt here and import, below
        }
      }
    }
    byte[] encoded = null;
    try {
      encoded = decrypt(wrapped);
      return CipherSupport.keyFromEncoding(token, encoded, algorithm, type);
    } catch (IllegalBlockSizeException | BadPaddingException e) {
      throw new InvalidKeyException("RSA unwrap failed", e);
    } finally {
      CipherSupport.wipe(encoded);
    }
  }
}
