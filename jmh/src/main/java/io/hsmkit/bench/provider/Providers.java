package io.hsmkit.bench.provider;

import io.hsmkit.bench.BenchToken;
import io.hsmkit.provider.HsmKitProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;

/**
 * Both JCA providers on one fresh SoftHSM2 token in this JVM: HsmKit (configured with {@code
 * library}, {@code tokenLabel} and {@code pin = file:...}) and SunPKCS11 (configured with {@code
 * name}, {@code library} and {@code slot}, logged in through {@code KeyStore.load(null, pin)}),
 * and each provider's keys, generated in the token by that provider's own KeyGenerator or
 * KeyPairGenerator when an operation first needs them.
 *
 * <p>Both providers are always configured, whichever one is measured, so the library, the login
 * and the token look the same to both. SunPKCS11 comes first: HsmKit's C_Initialize then gets
 * CKR_CRYPTOKI_ALREADY_INITIALIZED and its C_Login CKR_USER_ALREADY_LOGGED_IN, both success
 * (shared/SOFTHSM-NOTES.md). Nothing is closed or finalized: the fork ends with the trial.
 *
 * <p>SunPKCS11's configuration adds two templates, without which its ECDH fails on SoftHSM2 (HsmKit
 * sets the same attributes itself): {@code attributes(generate, CKO_PRIVATE_KEY, CKK_EC) = {
 * CKA_DERIVE = true }}, as SoftHSM2 leaves CKA_DERIVE off by default, and {@code
 * attributes(generate, CKO_SECRET_KEY, CKK_GENERIC_SECRET) = { CKA_SENSITIVE = false
 * CKA_EXTRACTABLE = true }}, as SunPKCS11 derives the ECDH secret with only CKA_CLASS and
 * CKA_KEY_TYPE and then reads CKA_VALUE, which SoftHSM2 refuses for a secret it made sensitive
 * (CKR_ATTRIBUTE_SENSITIVE). "generate" covers derivation; it also makes SunPKCS11's HMAC key (a
 * generic secret) non-sensitive, which does not change what signing costs.
 */
public final class Providers {
  public static final String HSMKIT = "HsmKit";
  public static final String SUN = "SunPKCS11";
  public static final List<String> NAMES = List.of(HSMKIT, SUN);

  /** The message every sign and verify operation signs. */
  static final byte[] MSG32 = pattern(32, 17);
  /** The OAEP plaintext. */
  static final byte[] OAEP_MSG32 = pattern(32, 101);
  static final byte[] DATA_1K = pattern(1024, 7);
  static final byte[] DATA_64K = pattern(64 * 1024, 3);
  /** RSASSA-PSS: SHA-256, MGF1 with SHA-256, 32-byte salt, trailer 1. */
  static final PSSParameterSpec PSS = new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, PSSParameterSpec.TRAILER_FIELD_BC);
  static final String OAEP = "RSA/ECB/OAEPWithSHA-1AndMGF1Padding";

  private final BenchToken token;
  private final Map<String, Keys> keys = new LinkedHashMap<>();
  /** The peer's public key for ECDH: a software P-256 key (SunEC), the same for both providers. */
  private PublicKey ecdhPeer;

  private Providers(BenchToken token, Provider hsmkit, Provider sun) {
    this.token = token;
    keys.put(HSMKIT, new Keys(HSMKIT, hsmkit));
    keys.put(SUN, new Keys(SUN, sun));
  }

  /**
   * Where the provider benchmarks make their token: {@code hsmkit.bench.providerTokenDir}, else
   * beside the binding benchmark's token ({@code provider-bench-token} next to {@link
   * BenchToken#defaultDir()}), so the two never delete each other's.
   */
  public static Path tokenDir() {
    String p = System.getProperty("hsmkit.bench.providerTokenDir");
    if (p != null && !p.isBlank()) {
      return Path.of(p).toAbsolutePath();
    }
    return BenchToken.defaultDir().resolveSibling("provider-bench-token");
  }

  /** SunPKCS11, then HsmKit, on {@code token} (made with {@link BenchToken#create}, so SOFTHSM2_CONF is set). */
  public static Providers open(BenchToken token) throws GeneralSecurityException {
    Provider sun = sunPkcs11(token);
    Provider hsmkit = hsmKit(token);
    return new Providers(token, hsmkit, sun);
  }

  static Provider sunPkcs11(BenchToken token) throws GeneralSecurityException {
    Provider base = Security.getProvider("SunPKCS11");
    if (base == null) {
      throw new IllegalStateException("this JDK has no SunPKCS11 provider (module jdk.crypto.cryptoki)");
    }
    String cfg = "--name=bench\n"
        + "library=" + token.library() + "\n"
        + "slot=" + token.slotId() + "\n"
        + "attributes(generate, CKO_PRIVATE_KEY, CKK_EC) = {\n  CKA_DERIVE = true\n}\n"
        + "attributes(generate, CKO_SECRET_KEY, CKK_GENERIC_SECRET) = {\n  CKA_SENSITIVE = false\n  CKA_EXTRACTABLE = true\n}\n";
    Provider sun = base.configure(cfg);
    KeyStore ks = KeyStore.getInstance("PKCS11", sun);
    char[] pin = token.userPin().toCharArray();
    try {
      ks.load(null, pin);
    } catch (IOException e) {
      throw new GeneralSecurityException("SunPKCS11 login failed: " + e.getMessage(), e);
    } finally {
      Arrays.fill(pin, '\0');
    }
    return sun;
  }

  static Provider hsmKit(BenchToken token) {
    Path pinFile = tokenDir().resolve("user.pin");
    try {
      Files.deleteIfExists(pinFile);
      Files.createFile(pinFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(pinFile, token.userPin(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the PIN file " + pinFile, e);
    }
    String cfg = "--library=\"" + token.library() + "\" tokenLabel=\"" + BenchToken.LABEL + "\" pin=\"file:" + pinFile + "\"";
    return new HsmKitProvider(cfg);
  }

  /** The keys (and provider) of {@code provider}, "HsmKit" or "SunPKCS11". */
  public Keys keys(String provider) {
    Keys k = keys.get(provider);
    if (k == null) {
      throw new IllegalArgumentException("provider is one of " + NAMES + ", not " + provider);
    }
    return k;
  }

  public BenchToken token() {
    return token;
  }

  synchronized PublicKey ecdhPeer() throws GeneralSecurityException {
    if (ecdhPeer == null) {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC", "SunEC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      ecdhPeer = g.generateKeyPair().getPublic();
    }
    return ecdhPeer;
  }

  /**
   * One provider's keys, each made by that provider in the token when first needed, and what the
   * verify and decrypt operations need made in advance (signatures by the same provider, an OAEP
   * ciphertext made by SunJCE with the public key's values).
   */
  public final class Keys {
    public final String name;
    public final Provider provider;
    SecretKey aes;
    SecretKey hmac;
    KeyPair ec;
    KeyPair rsa;
    byte[] ecdsaSignature;
    byte[] pkcs1Signature;
    byte[] pssSignature;
    byte[] oaepCiphertext;

    Keys(String name, Provider provider) {
      this.name = name;
      this.provider = provider;
    }

    /** Makes what {@code op} needs (idempotent). */
    public synchronized void prepare(JcaOp op) throws GeneralSecurityException {
      switch (op.key) {
        case AES -> {
          if (aes == null) {
            KeyGenerator g = KeyGenerator.getInstance("AES", provider);
            g.init(256);
            aes = own(g.generateKey());
          }
        }
        case HMAC -> {
          if (hmac == null) {
            KeyGenerator g = KeyGenerator.getInstance("HmacSHA256", provider);
            g.init(256);
            hmac = own(g.generateKey());
          }
        }
        case EC -> {
          if (ec == null) {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC", provider);
            g.initialize(new ECGenParameterSpec("secp256r1"));
            ec = g.generateKeyPair();
            own(ec.getPrivate());
            own(ec.getPublic());
          }
        }
        case RSA -> {
          if (rsa == null) {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA", provider);
            g.initialize(2048);
            rsa = g.generateKeyPair();
            own(rsa.getPrivate());
            own(rsa.getPublic());
          }
        }
        case NONE -> {
          // random: no key
        }
      }
      switch (op) {
        case ECDSA_VERIFY -> {
          if (ecdsaSignature == null) {
            ecdsaSignature = sign("SHA256withECDSA", null, ec);
          }
        }
        case RSA_PKCS1_VERIFY -> {
          if (pkcs1Signature == null) {
            pkcs1Signature = sign("SHA256withRSA", null, rsa);
          }
        }
        case RSA_PSS_VERIFY -> {
          if (pssSignature == null) {
            pssSignature = sign("RSASSA-PSS", PSS, rsa);
          }
        }
        case RSA_OAEP_DECRYPT -> {
          if (oaepCiphertext == null) {
            RSAPublicKey pub = (RSAPublicKey) rsa.getPublic();
            PublicKey soft = KeyFactory.getInstance("RSA", "SunRsaSign").generatePublic(new RSAPublicKeySpec(pub.getModulus(), pub.getPublicExponent()));
            Cipher c = Cipher.getInstance(OAEP, "SunJCE");
            c.init(Cipher.ENCRYPT_MODE, soft);
            oaepCiphertext = c.doFinal(OAEP_MSG32);
          }
        }
        default -> {
          // nothing made in advance
        }
      }
    }

    private byte[] sign(String alg, PSSParameterSpec params, KeyPair kp) throws GeneralSecurityException {
      Signature s = Signature.getInstance(alg, provider);
      if (params != null) {
        s.setParameter(params);
      }
      s.initSign(kp.getPrivate());
      s.update(MSG32);
      byte[] sig = s.sign();
      // The verify benchmarks check the answer on every call; make sure it is true to begin with.
      Signature v = Signature.getInstance(alg, provider);
      if (params != null) {
        v.setParameter(params);
      }
      v.initVerify(kp.getPublic());
      v.update(MSG32);
      if (!v.verify(sig)) {
        throw new IllegalStateException(name + " " + alg + ": a fresh signature does not verify");
      }
      return sig;
    }

    /** Checks that {@code k} is a key in this provider's token, not a software key. */
    private <K extends java.security.Key> K own(K k) {
      String cls = k.getClass().getName();
      boolean ok = name.equals(HSMKIT) ? cls.startsWith("io.hsmkit.") : cls.startsWith("sun.security.pkcs11.");
      if (!ok) {
        throw new IllegalStateException(name + " generated a " + cls + ", not a key of its token");
      }
      return k;
    }

    PublicKey ecdhPeer() throws GeneralSecurityException {
      return Providers.this.ecdhPeer();
    }
  }

  static byte[] pattern(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 31 + seed);
    }
    return b;
  }
}
