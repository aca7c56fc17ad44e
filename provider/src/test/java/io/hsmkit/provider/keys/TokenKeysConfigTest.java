package io.hsmkit.provider.keys;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.session.PoolStats;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.testing.ProviderFixture;
import java.security.Key;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import javax.crypto.KeyAgreement;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code keys.token = true}: generated and imported private and secret keys are token objects. */
class TokenKeysConfigTest {
  static ProviderFixture fx;
  static HsmKitProvider p;

  @BeforeAll
  static void setUp() {
    fx = ProviderFixture.create("TokenKeysConfigTest", "keys.token = true");
    p = fx.provider();
  }

  @AfterAll
  static void tearDown() {
    PoolStats st = p.tokenContext().pool().stats();
    p.tokenContext().close();
    assertThat(st.borrowed()).as("sessions still borrowed").isZero();
    assertThat(st.leaked()).as("sessions leaked").isZero();
  }

  /** CKA_TOKEN, CKA_SENSITIVE (absent for public keys) and CKA_ID as the token says. */
  private static Attribute[] read(Key k) {
    long h = ((HsmKey) k).handle();
    return p.tokenContext().execute(s -> s.getAttributes(h, CKA.TOKEN, CKA.SENSITIVE, CKA.ID));
  }

  private static void assertTokenObject(Key k, boolean expected) {
    assertThat(((HsmKey) k).isTokenObject()).isEqualTo(expected);
    assertThat(read(k)[0].asBool()).as("CKA_TOKEN of %s", k).isEqualTo(expected);
  }

  @Test
  void generatedPairsAreTokenObjectsWithOneId() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", p);
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair ec = g.generateKeyPair();
    assertTokenObject(ec.getPrivate(), true);
    assertTokenObject(ec.getPublic(), true);
    assertThat(read(ec.getPrivate())[1].asBool()).isTrue();
    assertThat(read(ec.getPrivate())[2].value()).isNotEmpty().isEqualTo(read(ec.getPublic())[2].value());

    KeyPair ed = KeyPairGenerator.getInstance("Ed25519", p).generateKeyPair();
    assertTokenObject(ed.getPrivate(), true);
    assertTokenObject(ed.getPublic(), true);

    // ECDH's secret keys are session objects whatever keys.token says: they are per agreement.
    KeyPairGenerator jg = KeyPairGenerator.getInstance("EC", "SunEC");
    jg.initialize(new ECGenParameterSpec("secp256r1"));
    KeyAgreement ka = KeyAgreement.getInstance("ECDH", p);
    ka.init(ec.getPrivate());
    ka.doPhase(jg.generateKeyPair().getPublic(), true);
    assertTokenObject(ka.generateSecret("AES"), false);
  }

  @Test
  void generatedSecretKeysAreTokenObjects() throws Exception {
    SecretKey hmac = KeyGenerator.getInstance("HmacSHA384", p).generateKey();
    assertTokenObject(hmac, true);
    SecretKey generic = KeyGenerator.getInstance("GenericSecret", p).generateKey();
    assertTokenObject(generic, true);
  }

  @Test
  void importedPrivateKeysAreTokenObjectsAndPublicKeysSessionObjects() throws Exception {
    KeyPairGenerator jg = KeyPairGenerator.getInstance("EC", "SunEC");
    jg.initialize(256);
    KeyPair sw = jg.generateKeyPair();
    KeyFactory kf = KeyFactory.getInstance("EC", p);
    assertTokenObject(kf.generatePrivate(new PKCS8EncodedKeySpec(sw.getPrivate().getEncoded())), true);
    assertTokenObject(kf.generatePublic(new X509EncodedKeySpec(sw.getPublic().getEncoded())), false);
  }
}
