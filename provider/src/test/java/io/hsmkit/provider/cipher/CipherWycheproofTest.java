package io.hsmkit.provider.cipher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmPrivateKey;
import io.hsmkit.provider.keys.HsmPublicKey;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.keys.KeyImport;
import io.hsmkit.provider.keys.KeyTemplates;
import io.hsmkit.provider.testing.ProviderFixture;
import io.hsmkit.provider.testing.Wycheproof;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.ProviderException;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.RSAPrivateCrtKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Wycheproof through the JCA API ({@code Cipher.getInstance(name, provider)}), with every key
 * imported into the token. One test method per file; each reports all failing tcIds in one
 * assertion and prints its WYCHEPROOF summary line.
 */
class CipherWycheproofTest {
  static ProviderFixture fx;
  static HsmKitProvider p;
  static TokenContext tc;

  /** Keys imported by the current test, by value, destroyed after it (the token's object list stays short). */
  private final Map<String, HsmSecretKey> aesKeys = new HashMap<>();
  private final List<HsmKey> imported = new ArrayList<>();

  @BeforeAll
  static void setUp() {
    fx = ProviderFixture.create("CipherWycheproofTest");
    p = fx.provider();
    tc = p.tokenContext();
  }

  @AfterAll
  static void tearDown() {
    try {
      assertThat(tc.pool().stats().borrowed()).as("sessions still lent out").isZero();
      assertThat(tc.pool().stats().leaked()).as("sessions leaked").isZero();
    } finally {
      tc.close();
    }
  }

  @AfterEach
  void destroyKeys() {
    for (HsmKey k : imported) {
      try {
        tc.execute(s -> {
          s.destroyObject(k.handle());
          return null;
        });
      } catch (Pkcs11Exception ignored) {
        // already gone
      }
    }
    imported.clear();
    aesKeys.clear();
  }

  private HsmSecretKey aes(byte[] value) throws GeneralSecurityException {
    String hex = java.util.HexFormat.of().formatHex(value);
    HsmSecretKey k = aesKeys.get(hex);
    if (k == null) {
      k = KeyImport.secret(tc, value, CKK.AES, "AES", KeyTemplates.defaults(tc));
      aesKeys.put(hex, k);
      imported.add(k);
    }
    return k;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  /** The PKCS#11 failure inside {@code t}, if any. */
  private static Pkcs11Exception ckr(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof Pkcs11Exception e) {
        return e;
      }
    }
    return null;
  }

  @Test
  void aesGcm() throws Exception {
    Wycheproof w = Wycheproof.load("aes_gcm_test.json");
    for (JsonNode g : w.groups()) {
      int tagBits = g.get("tagSize").asInt();
      for (JsonNode t : g.get("tests")) {
        byte[] key = Wycheproof.hex(t, "key");
        byte[] iv = Wycheproof.hex(t, "iv");
        byte[] aad = Wycheproof.hex(t, "aad");
        byte[] msg = Wycheproof.hex(t, "msg");
        byte[] ctTag = concat(Wycheproof.hex(t, "ct"), Wycheproof.hex(t, "tag"));
        HsmSecretKey k = aes(key);
        GCMParameterSpec spec = new GCMParameterSpec(tagBits, iv);
        boolean encOk;
        String detail;
        try {
          Cipher c = Cipher.getInstance("AES/GCM/NoPadding", p);
          c.init(Cipher.ENCRYPT_MODE, k, spec);
          c.updateAAD(aad);
          encOk = Arrays.equals(c.doFinal(msg), ctTag);
          detail = encOk ? "" : "encryption differs";
        } catch (java.security.InvalidAlgorithmParameterException e) {
          if (iv.length > 128) {
            // HsmKit refuses what the token would compute wrongly; see AesGcmCipher.LONG_IV.
            w.unsupported(t, "the token computes GCM wrongly for IVs over 128 bytes (HsmKit refuses them)");
            continue;
          }
          encOk = false;
          detail = "encryption: " + e;
        } catch (ProviderException e) {
          Pkcs11Exception ckr = ckr(e);
          if (iv.length != 12 && ckr != null && "C_EncryptInit".equals(ckr.function())) {
            w.unsupported(t, "the token refuses " + iv.length * 8 + "-bit GCM IVs (" + ckr.ckrName() + ")");
            continue;
          }
          throw e;
        } catch (GeneralSecurityException e) {
          encOk = false;
          detail = "encryption: " + e;
        }
        boolean decOk;
        try {
          Cipher c = Cipher.getInstance("AES/GCM/NoPadding", p);
          c.init(Cipher.DECRYPT_MODE, k, spec);
          c.updateAAD(aad);
          decOk = Arrays.equals(c.doFinal(ctTag), msg);
          detail += decOk ? "" : " decryption differs";
        } catch (GeneralSecurityException e) {
          decOk = false;
          detail += " decryption: " + e;
        }
        w.record(t, encOk && decOk, detail);
      }
    }
    w.assertAllPassed();
  }

  @Test
  void aesCbcPkcs5() throws Exception {
    Wycheproof w = Wycheproof.load("aes_cbc_pkcs5_test.json");
    for (JsonNode g : w.groups()) {
      for (JsonNode t : g.get("tests")) {
        HsmSecretKey k = aes(Wycheproof.hex(t, "key"));
        IvParameterSpec iv = new IvParameterSpec(Wycheproof.hex(t, "iv"));
        byte[] msg = Wycheproof.hex(t, "msg");
        byte[] ct = Wycheproof.hex(t, "ct");
        boolean encOk;
        boolean decOk;
        String detail = "";
        try {
          Cipher c = Cipher.getInstance("AES/CBC/PKCS5Padding", p);
          c.init(Cipher.ENCRYPT_MODE, k, iv);
          encOk = Arrays.equals(c.doFinal(msg), ct);
          detail += encOk ? "" : "encryption differs";
        } catch (GeneralSecurityException e) {
          encOk = false;
          detail += "encryption: " + e;
        }
        try {
          Cipher c = Cipher.getInstance("AES/CBC/PKCS5Padding", p);
          c.init(Cipher.DECRYPT_MODE, k, iv);
          decOk = Arrays.equals(c.doFinal(ct), msg);
          detail += decOk ? "" : " decryption differs";
        } catch (GeneralSecurityException e) {
          decOk = false;
          detail += " decryption: " + e;
        }
        w.record(t, encOk && decOk, detail);
      }
    }
    w.assertAllPassed();
  }

  @Test
  void aesWrap() throws Exception {
    keyWrap("aes_wrap_test.json", "AESWrap");
  }

  @Test
  void aesKwp() throws Exception {
    keyWrap("aes_kwp_test.json", "AESWrapPad");
  }

  /** Encrypt = wrap the bytes, decrypt = unwrap them (ENCRYPT_MODE/DECRYPT_MODE on raw bytes). */
  private void keyWrap(String file, String algorithm) throws Exception {
    Wycheproof w = Wycheproof.load(file);
    for (JsonNode g : w.groups()) {
      for (JsonNode t : g.get("tests")) {
        HsmSecretKey k = aes(Wycheproof.hex(t, "key"));
        byte[] msg = Wycheproof.hex(t, "msg");
        byte[] ct = Wycheproof.hex(t, "ct");
        boolean encOk;
        boolean decOk;
        String detail = "";
        try {
          Cipher c = Cipher.getInstance(algorithm, p);
          c.init(Cipher.ENCRYPT_MODE, k);
          encOk = Arrays.equals(c.doFinal(msg), ct);
          detail += encOk ? "" : "wrap differs";
        } catch (GeneralSecurityException e) {
          encOk = false;
          detail += "wrap: " + e;
        }
        try {
          Cipher c = Cipher.getInstance(algorithm, p);
          c.init(Cipher.DECRYPT_MODE, k);
          decOk = Arrays.equals(c.doFinal(ct), msg);
          detail += decOk ? "" : " unwrap differs";
        } catch (GeneralSecurityException e) {
          decOk = false;
          detail += " unwrap: " + e;
        }
        w.record(t, encOk && decOk, detail);
      }
    }
    w.assertAllPassed();
  }

  /** The group's private key imported into the token, and its public half. */
  private HsmKey[] rsaKeys(JsonNode g) throws Exception {
    JsonNode k = g.get("privateKey");
    BigInteger n = new BigInteger(1, Wycheproof.hex(k, "modulus"));
    BigInteger e = new BigInteger(1, Wycheproof.hex(k, "publicExponent"));
    RSAPrivateCrtKeySpec spec = new RSAPrivateCrtKeySpec(n, e, new BigInteger(1, Wycheproof.hex(k, "privateExponent")),
        new BigInteger(1, Wycheproof.hex(k, "prime1")), new BigInteger(1, Wycheproof.hex(k, "prime2")),
        new BigInteger(1, Wycheproof.hex(k, "exponent1")), new BigInteger(1, Wycheproof.hex(k, "exponent2")),
        new BigInteger(1, Wycheproof.hex(k, "coefficient")));
    KeyFactory kf = KeyFactory.getInstance("RSA", "SunRsaSign");
    HsmPrivateKey priv = KeyImport.privateKey(tc, (RSAPrivateCrtKey) kf.generatePrivate(spec), KeyTemplates.defaults(tc));
    HsmPublicKey pub = KeyImport.publicKey(tc, (RSAPublicKey) kf.generatePublic(new RSAPublicKeySpec(n, e)), KeyTemplates.defaults(tc));
    imported.add(priv);
    imported.add(pub);
    return new HsmKey[] {priv, pub};
  }

  @Test
  void rsaOaepSha256() throws Exception {
    Wycheproof w = Wycheproof.load("rsa_oaep_2048_sha256_mgf1sha256_test.json");
    for (JsonNode g : w.groups()) {
      HsmKey[] keys = rsaKeys(g);
      MGF1ParameterSpec mgf = new MGF1ParameterSpec(g.get("mgfSha").asText());
      String sha = g.get("sha").asText();
      for (JsonNode t : g.get("tests")) {
        byte[] msg = Wycheproof.hex(t, "msg");
        byte[] ct = Wycheproof.hex(t, "ct");
        OAEPParameterSpec spec = new OAEPParameterSpec(sha, "MGF1", mgf, new PSource.PSpecified(Wycheproof.hex(t, "label")));
        boolean ok;
        String detail = "";
        try {
          Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding", p);
          c.init(Cipher.DECRYPT_MODE, keys[0], spec);
          ok = Arrays.equals(c.doFinal(ct), msg);
          detail = ok ? "" : "decryption differs";
        } catch (GeneralSecurityException e) {
          ok = false;
          detail = "decryption: " + e;
        }
        if (ok) {
          // The other direction too: encrypt in the token, decrypt in the token.
          Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding", p);
          c.init(Cipher.ENCRYPT_MODE, keys[1], spec);
          byte[] again = c.doFinal(msg);
          c.init(Cipher.DECRYPT_MODE, keys[0], spec);
          ok = Arrays.equals(c.doFinal(again), msg);
          detail = ok ? "" : "round trip differs";
        }
        w.record(t, ok, detail);
      }
    }
    w.assertAllPassed();
  }

  @Test
  void rsaPkcs1() throws Exception {
    Wycheproof w = Wycheproof.load("rsa_pkcs1_2048_test.json");
    for (JsonNode g : w.groups()) {
      HsmKey[] keys = rsaKeys(g);
      for (JsonNode t : g.get("tests")) {
        byte[] msg = Wycheproof.hex(t, "msg");
        byte[] ct = Wycheproof.hex(t, "ct");
        boolean ok;
        String detail;
        try {
          Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding", p);
          c.init(Cipher.DECRYPT_MODE, keys[0]);
          ok = Arrays.equals(c.doFinal(ct), msg);
          detail = ok ? "" : "decryption differs";
        } catch (GeneralSecurityException e) {
          ok = false;
          detail = "decryption: " + e;
        }
        w.record(t, ok, detail);
      }
    }
    w.assertAllPassed();
  }
}
