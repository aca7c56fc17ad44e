package io.hsmkit.provider.keys;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.hsmkit.pkcs11.session.PoolStats;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.testing.ProviderFixture;
import io.hsmkit.provider.testing.Wycheproof;
import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.KeyAgreement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Wycheproof {@code ecdh_secp256r1_test.json} through HsmKit's ECDH: our private scalar imported
 * into the token (HsmKit KeyFactory, ECPrivateKeySpec), the peer's key parsed from its
 * SubjectPublicKeyInfo by the JDK, {@code generateSecret()} compared with {@code shared}.
 *
 * <p>A peer encoding the JDK cannot parse counts as rejected: correct for "invalid" vectors, and
 * recorded as a rejection for "acceptable" ones (compressed points, explicit curve parameters,
 * which JDK 17 does not decode). Policy for "acceptable": either outcome passes; the outcomes are
 * printed per flag.
 */
class EcdhWycheproofTest {
  static ProviderFixture fx;
  static HsmKitProvider p;

  @BeforeAll
  static void setUp() {
    fx = ProviderFixture.create("EcdhWycheproofTest");
    p = fx.provider();
  }

  @AfterAll
  static void tearDown() {
    PoolStats st = p.tokenContext().pool().stats();
    p.tokenContext().close();
    assertThat(st.borrowed()).as("sessions still borrowed").isZero();
    assertThat(st.leaked()).as("sessions leaked").isZero();
  }

  @Test
  void ecdhSecp256r1() throws Exception {
    Wycheproof w = Wycheproof.load("ecdh_secp256r1_test.json");
    AlgorithmParameters ap = AlgorithmParameters.getInstance("EC", "SunEC");
    ap.init(new ECGenParameterSpec("secp256r1"));
    ECParameterSpec p256 = ap.getParameterSpec(ECParameterSpec.class);
    KeyFactory jdk = KeyFactory.getInstance("EC", "SunEC");
    KeyFactory ours = KeyFactory.getInstance("EC", p);
    Map<String, PrivateKey> imported = new HashMap<>();
    Map<String, Integer> acceptableByFlag = new TreeMap<>();
    Map<String, Integer> rejectedBy = new TreeMap<>();
    for (JsonNode g : w.groups()) {
      assertThat(g.get("curve").asText()).isEqualTo("secp256r1");
      for (JsonNode t : g.get("tests")) {
        String privHex = t.get("private").asText();
        PrivateKey priv = imported.get(privHex);
        if (priv == null) {
          priv = ours.generatePrivate(new ECPrivateKeySpec(new BigInteger(privHex, 16), p256));
          assertThat(priv).isInstanceOf(HsmEcPrivateKey.class);
          imported.put(privHex, priv);
        }
        PublicKey peer;
        try {
          peer = jdk.generatePublic(new X509EncodedKeySpec(Wycheproof.hex(t, "public")));
        } catch (GeneralSecurityException e) {
          note(t, false, acceptableByFlag);
          rejectedBy.merge("the JDK's X.509 parser", 1, Integer::sum);
          w.record(t, false, "the JDK cannot parse the peer key: " + e.getMessage());
          continue;
        }
        boolean ok;
        String detail;
        String stage = "doPhase (HsmKit's point and curve checks)";
        try {
          KeyAgreement ka = KeyAgreement.getInstance("ECDH", p);
          ka.init(priv);
          ka.doPhase(peer, true);
          stage = "generateSecret (the token)";
          byte[] z = ka.generateSecret();
          ok = Arrays.equals(z, Wycheproof.hex(t, "shared"));
          detail = ok ? "" : "wrong shared secret";
        } catch (GeneralSecurityException | RuntimeException e) {
          ok = false;
          detail = e.getClass().getSimpleName() + ": " + e.getMessage();
          rejectedBy.merge(stage, 1, Integer::sum);
        }
        note(t, ok, acceptableByFlag);
        w.record(t, ok, detail);
      }
    }
    System.out.println("WYCHEPROOF ecdh_secp256r1 acceptable outcomes by flag: " + acceptableByFlag);
    System.out.println("WYCHEPROOF ecdh_secp256r1 rejections by stage: " + rejectedBy);
    for (PrivateKey k : imported.values()) {
      long h = ((HsmKey) k).handle();
      p.tokenContext().execute(s -> {
        s.destroyObject(h);
        return null;
      });
    }
    w.assertAllPassed();
  }

  private static void note(JsonNode t, boolean ok, Map<String, Integer> byFlag) {
    if (!"acceptable".equals(t.get("result").asText())) {
      return;
    }
    for (JsonNode f : t.get("flags")) {
      byFlag.merge(f.asText() + (ok ? " accepted" : " rejected"), 1, Integer::sum);
    }
  }
}
