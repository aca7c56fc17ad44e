package io.hsmkit.provider.signature;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmPublicKey;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.keys.KeyImport;
import io.hsmkit.provider.keys.KeyTemplates;
import io.hsmkit.provider.testing.ProviderFixture;
import io.hsmkit.provider.testing.Wycheproof;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.crypto.Mac;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Wycheproof signature and MAC vectors, run through {@code Signature.getInstance(name, HsmKit)}
 * and {@code Mac.getInstance(name, HsmKit)} with the vectors' keys imported into the token (one
 * import per group for public keys; one per case for HMAC keys, which differ per case), so that
 * every verification runs in the token. Each file reports every failing tcId in one assertion.
 *
 * <p>For the DER ECDSA files the rejection form is also compared with SunEC's: an invalid
 * signature SunEC refuses with a SignatureException must get one here, one SunEC answers false
 * must be false here.
 */
class SignatureWycheproofTest {
  static ProviderFixture fx;
  static HsmKitProvider p;
  static TokenContext ctx;

  @BeforeAll
  static void setUp() {
    fx = ProviderFixture.create("SignatureWycheproofTest");
    p = fx.provider();
    ctx = p.tokenContext();
  }

  @AfterAll
  static void tearDown() {
    if (p != null) {
      assertThat(ctx.pool().stats().borrowed()).isZero();
      ctx.close();
    }
  }

  /** What a verification did: true, false, or threw SignatureException. */
  private enum Outcome {
    TRUE,
    FALSE,
    THROW
  }

  private static Outcome run(Signature s, PublicKey key, AlgorithmParameterSpec spec, byte[] msg, byte[] sig) throws Exception {
    s.initVerify(key);
    if (spec != null) {
      s.setParameter(spec);
    }
    s.update(msg);
    try {
      return s.verify(sig) ? Outcome.TRUE : Outcome.FALSE;
    } catch (SignatureException e) {
      return Outcome.THROW;
    }
  }

  private static HsmPublicKey importPublic(JsonNode group, String keyAlgorithm) throws Exception {
    PublicKey soft = software(group, keyAlgorithm);
    return KeyImport.publicKey(ctx, soft, KeyTemplates.defaults(ctx).withToken(false));
  }

  private static PublicKey software(JsonNode group, String keyAlgorithm) throws Exception {
    return KeyFactory.getInstance(keyAlgorithm).generatePublic(new X509EncodedKeySpec(Wycheproof.hex(group, "publicKeyDer")));
  }

  /**
   * Runs a verification file; with {@code sunProvider} set, an invalid case that provider rejects
   * must be rejected the same way (exception or false).
   */
  private static void verifyFile(String file, String algorithm, String keyAlgorithm, String sunProvider, boolean pss) throws Exception {
    Wycheproof w = Wycheproof.load(file);
    Signature hsm = Signature.getInstance(algorithm, p);
    assertThat(hsm.getProvider()).isSameAs(p);
    Signature sun = sunProvider == null ? null : Signature.getInstance(algorithm, sunProvider);
    List<String> formMismatches = new ArrayList<>();
    int sameForm = 0;
    for (JsonNode g : w.groups()) {
      HsmPublicKey key = importPublic(g, keyAlgorithm);
      PublicKey soft = sun == null ? null : software(g, keyAlgorithm);
      AlgorithmParameterSpec spec = pss ? pssSpec(g) : null;
      for (JsonNode t : g.get("tests")) {
        byte[] msg = Wycheproof.hex(t, "msg");
        byte[] sig = Wycheproof.hex(t, "sig");
        Outcome o = run(hsm, key, spec, msg, sig);
        w.record(t, o == Outcome.TRUE, o.toString());
        if (sun != null && t.get("result").asText().equals("invalid")) {
          Outcome s = run(sun, soft, null, msg, sig);
          if (s != Outcome.TRUE) {
            if (s == o) {
              sameForm++;
            } else {
              formMismatches.add("tcId " + t.get("tcId").asInt() + ": " + sunProvider + " " + s + ", HsmKit " + o);
            }
          }
        }
      }
    }
    if (sun != null) {
      System.out.println("WYCHEPROOF " + file + ": rejected as " + sunProvider + " rejects: " + sameForm + ", differently: " + formMismatches.size());
    }
    w.assertAllPassed();
    assertThat(formMismatches).as("invalid signatures rejected differently from " + sunProvider).isEmpty();
  }

  private static PSSParameterSpec pssSpec(JsonNode g) {
    String sha = g.get("sha").asText();
    String mgfSha = g.get("mgfSha").asText();
    return new PSSParameterSpec(sha, g.get("mgf").asText(), new MGF1ParameterSpec(mgfSha), g.get("sLen").asInt(), 1);
  }

  @Test
  void ecdsaP256Sha256Der() throws Exception {
    verifyFile("ecdsa_secp256r1_sha256_test.json", "SHA256withECDSA", "EC", "SunEC", false);
  }

  @Test
  void ecdsaP256Sha256P1363() throws Exception {
    verifyFile("ecdsa_secp256r1_sha256_p1363_test.json", "SHA256withECDSAinP1363Format", "EC", null, false);
  }

  @Test
  void ecdsaP384Sha384Der() throws Exception {
    verifyFile("ecdsa_secp384r1_sha384_test.json", "SHA384withECDSA", "EC", "SunEC", false);
  }

  @Test
  void rsaPkcs1Sha256() throws Exception {
    verifyFile("rsa_signature_2048_sha256_test.json", "SHA256withRSA", "RSA", null, false);
  }

  @Test
  void rsaPss2048Sha256Mgf1Salt32() throws Exception {
    verifyFile("rsa_pss_2048_sha256_mgf1_32_test.json", "RSASSA-PSS", "RSA", null, true);
  }

  @Test
  void ed25519() throws Exception {
    verifyFile("ed25519_test.json", "Ed25519", "Ed25519", null, false);
  }

  @Test
  void hmacSha256() throws Exception {
    Wycheproof w = Wycheproof.load("hmac_sha256_test.json");
    Mac mac = Mac.getInstance("HmacSHA256", p);
    assertThat(mac.getProvider()).isSameAs(p);
    for (JsonNode g : w.groups()) {
      int tagBytes = g.get("tagSize").asInt() / 8;
      for (JsonNode t : g.get("tests")) {
        byte[] keyBytes = Wycheproof.hex(t, "key");
        HsmSecretKey key = KeyImport.secret(ctx, keyBytes, CKK.GENERIC_SECRET, "HmacSHA256", KeyTemplates.defaults(ctx).withToken(false));
        try {
          try {
            mac.init(key);
          } catch (InvalidKeyException e) {
            assertThat(e).hasMessageContaining("the token needs ≥ 32 bytes");
            assertThat(keyBytes.length).isLessThan(32);
            w.unsupported(t, "SoftHSM2 HMAC minimum key length");
            continue;
          }
          byte[] full = mac.doFinal(Wycheproof.hex(t, "msg"));
          byte[] tag = Wycheproof.hex(t, "tag");
          // Truncated tags: the full MAC, compared on its prefix in constant time.
          boolean ok = tag.length == tagBytes && MessageDigest.isEqual(Arrays.copyOf(full, tagBytes), tag);
          w.record(t, ok, "tag mismatch");
        } finally {
          ctx.execute(s -> {
            s.destroyObject(key.handle());
            return null;
          });
        }
      }
    }
    w.assertAllPassed();
  }
}
