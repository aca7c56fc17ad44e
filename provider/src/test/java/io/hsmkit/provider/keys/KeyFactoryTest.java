package io.hsmkit.provider.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.session.PoolStats;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.testing.ProviderFixture;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPrivateKey;
import java.security.interfaces.EdECPublicKey;
import java.security.interfaces.RSAKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.EdECPrivateKeySpec;
import java.security.spec.EdECPublicKeySpec;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPrivateCrtKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** KeyFactory and SecretKeyFactory: software keys into the token and back (public parts only). */
class KeyFactoryTest {
  static ProviderFixture fx;
  static HsmKitProvider p;
  static KeyPair rsa;
  static final byte[] MESSAGE = "HsmKit key factory test".getBytes(StandardCharsets.UTF_8);

  @BeforeAll
  static void setUp() throws Exception {
    fx = ProviderFixture.create("KeyFactoryTest");
    p = fx.provider();
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA", "SunRsaSign");
    g.initialize(2048);
    rsa = g.generateKeyPair();
  }

  @AfterAll
  static void tearDown() {
    PoolStats st = p.tokenContext().pool().stats();
    p.tokenContext().close();
    assertThat(st.borrowed()).as("sessions still borrowed").isZero();
    assertThat(st.leaked()).as("sessions leaked").isZero();
  }

  private static void assertSessionPrivate(Key k) {
    assertThat(k).isInstanceOf(HsmPrivateKey.class);
    HsmPrivateKey hk = (HsmPrivateKey) k;
    assertThat(hk.isSensitive()).isTrue();
    assertThat(hk.isExtractable()).isFalse();
    assertThat(hk.isTokenObject()).isFalse();
    assertThat(k.getEncoded()).isNull();
    assertThat(k.getFormat()).isNull();
    boolean sensitive = p.tokenContext().execute(s -> s.getAttribute(hk.handle(), CKA.SENSITIVE).asBool());
    boolean extractable = p.tokenContext().execute(s -> s.getAttribute(hk.handle(), CKA.EXTRACTABLE).asBool());
    assertThat(sensitive).isTrue();
    assertThat(extractable).isFalse();
  }

  private static byte[] sign(Key k, Mechanism m, byte[] data) {
    long h = ((HsmKey) k).handle();
    return p.tokenContext().execute(s -> s.sign(m, h, data));
  }

  private static boolean jdkVerify(String alg, PublicKey pub, byte[] sig) throws Exception {
    Signature v = Signature.getInstance(alg);
    v.initVerify(pub);
    v.update(MESSAGE);
    return v.verify(sig);
  }

  @Test
  void rsaRoundTrips() throws Exception {
    KeyFactory kf = KeyFactory.getInstance("RSA", p);
    RSAPublicKey sw = (RSAPublicKey) rsa.getPublic();
    PublicKey fromX509 = kf.generatePublic(new X509EncodedKeySpec(sw.getEncoded()));
    PublicKey fromSpec = kf.generatePublic(new RSAPublicKeySpec(sw.getModulus(), sw.getPublicExponent()));
    for (PublicKey k : new PublicKey[] {fromX509, fromSpec}) {
      assertThat(k).isInstanceOf(HsmRsaPublicKey.class);
      assertThat(((HsmKey) k).isTokenObject()).isFalse();
      assertThat(k.getEncoded()).isEqualTo(sw.getEncoded());
      assertThat(kf.getKeySpec(k, X509EncodedKeySpec.class).getEncoded()).isEqualTo(sw.getEncoded());
      RSAPublicKeySpec spec = kf.getKeySpec(k, RSAPublicKeySpec.class);
      assertThat(spec.getModulus()).isEqualTo(sw.getModulus());
      assertThat(spec.getPublicExponent()).isEqualTo(sw.getPublicExponent());
    }
    RSAPrivateCrtKey swPriv = (RSAPrivateCrtKey) rsa.getPrivate();
    PrivateKey fromPkcs8 = kf.generatePrivate(new PKCS8EncodedKeySpec(swPriv.getEncoded()));
    PrivateKey fromCrt = kf.generatePrivate(new RSAPrivateCrtKeySpec(swPriv.getModulus(), swPriv.getPublicExponent(),
        swPriv.getPrivateExponent(), swPriv.getPrimeP(), swPriv.getPrimeQ(), swPriv.getPrimeExponentP(), swPriv.getPrimeExponentQ(),
        swPriv.getCrtCoefficient()));
    for (PrivateKey k : new PrivateKey[] {fromPkcs8, fromCrt}) {
      assertSessionPrivate(k);
      assertThat(((RSAKey) k).getModulus()).isEqualTo(swPriv.getModulus());
      assertThat(jdkVerify("SHA256withRSA", sw, sign(k, Mechanism.of(CKM.SHA256_RSA_PKCS), MESSAGE))).isTrue();
      assertThatThrownBy(() -> kf.getKeySpec(k, PKCS8EncodedKeySpec.class)).isInstanceOf(InvalidKeySpecException.class)
          .hasMessageContaining("sensitive");
      assertThatThrownBy(() -> kf.getKeySpec(k, RSAPrivateCrtKeySpec.class)).isInstanceOf(InvalidKeySpecException.class);
      assertThat(kf.translateKey(k)).isSameAs(k);
    }
    Key translated = kf.translateKey(swPriv);
    assertSessionPrivate(translated);
    assertThat(kf.translateKey(sw)).isInstanceOf(HsmRsaPublicKey.class);
    // Software specs of software keys still work (the JDK answers).
    assertThat(kf.getKeySpec(swPriv, RSAPrivateCrtKeySpec.class).getModulus()).isEqualTo(swPriv.getModulus());
  }

  @Test
  void ecRoundTripsAndImportedKeysAgree() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", "SunEC");
    g.initialize(new ECGenParameterSpec("secp384r1"));
    KeyPair a = g.generateKeyPair();
    KeyPair b = g.generateKeyPair();
    KeyFactory kf = KeyFactory.getInstance("EC", p);
    ECPrivateKey swPriv = (ECPrivateKey) a.getPrivate();
    PrivateKey fromSpec = kf.generatePrivate(new ECPrivateKeySpec(swPriv.getS(), swPriv.getParams()));
    PrivateKey fromPkcs8 = kf.generatePrivate(new PKCS8EncodedKeySpec(swPriv.getEncoded()));
    KeyAgreement jdk = KeyAgreement.getInstance("ECDH", "SunEC");
    jdk.init(b.getPrivate());
    jdk.doPhase(a.getPublic(), true);
    byte[] expected = jdk.generateSecret();
    for (PrivateKey k : new PrivateKey[] {fromSpec, fromPkcs8}) {
      assertSessionPrivate(k);
      assertThat(k).isInstanceOf(HsmEcPrivateKey.class);
      KeyAgreement ka = KeyAgreement.getInstance("ECDH", p);
      ka.init(k);
      ka.doPhase(b.getPublic(), true);
      assertThat(ka.generateSecret()).isEqualTo(expected);
      assertThatThrownBy(() -> kf.getKeySpec(k, ECPrivateKeySpec.class)).isInstanceOf(InvalidKeySpecException.class);
    }
    ECPublicKey swPub = (ECPublicKey) a.getPublic();
    PublicKey pub = kf.generatePublic(new ECPublicKeySpec(swPub.getW(), swPub.getParams()));
    assertThat(pub).isInstanceOf(HsmEcPublicKey.class);
    assertThat(pub.getEncoded()).isEqualTo(swPub.getEncoded());
    assertThat(kf.getKeySpec(pub, ECPublicKeySpec.class).getW()).isEqualTo(swPub.getW());
    assertThat(kf.generatePublic(new X509EncodedKeySpec(swPub.getEncoded())).getEncoded()).isEqualTo(swPub.getEncoded());
    // A token public key verifies through the binding.
    byte[] digest = java.security.MessageDigest.getInstance("SHA-384").digest(MESSAGE);
    Signature s = Signature.getInstance("SHA384withECDSA", "SunEC");
    s.initSign(swPriv);
    s.update(MESSAGE);
    byte[] rs = io.hsmkit.provider.internal.Curves.derToRs(s.sign(), 48);
    long h = ((HsmKey) pub).handle();
    boolean ok = p.tokenContext().execute(x -> x.verify(Mechanism.of(CKM.ECDSA), h, digest, rs));
    assertThat(ok).isTrue();
  }

  @Test
  void ed25519RoundTripsAndSignsLikeTheJdk() throws Exception {
    KeyPair a = KeyPairGenerator.getInstance("Ed25519", "SunEC").generateKeyPair();
    Signature js = Signature.getInstance("Ed25519", "SunEC");
    js.initSign(a.getPrivate());
    js.update(MESSAGE);
    byte[] expected = js.sign(); // Ed25519 is deterministic
    for (String name : new String[] {"Ed25519", "EdDSA"}) {
      KeyFactory kf = KeyFactory.getInstance(name, p);
      EdECPrivateKey sw = (EdECPrivateKey) a.getPrivate();
      PrivateKey fromPkcs8 = kf.generatePrivate(new PKCS8EncodedKeySpec(sw.getEncoded()));
      PrivateKey fromSpec = kf.generatePrivate(new EdECPrivateKeySpec(NamedParameterSpec.ED25519, sw.getBytes().orElseThrow()));
      for (PrivateKey k : new PrivateKey[] {fromPkcs8, fromSpec}) {
        assertSessionPrivate(k);
        assertThat(sign(k, Mechanism.of(CKM.EDDSA), MESSAGE)).isEqualTo(expected);
      }
      EdECPublicKey swPub = (EdECPublicKey) a.getPublic();
      PublicKey pub = kf.generatePublic(new EdECPublicKeySpec(NamedParameterSpec.ED25519, swPub.getPoint()));
      assertThat(pub).isInstanceOf(HsmEdPublicKey.class);
      assertThat(pub.getEncoded()).isEqualTo(swPub.getEncoded());
      assertThat(kf.generatePublic(new X509EncodedKeySpec(swPub.getEncoded())).getEncoded()).isEqualTo(swPub.getEncoded());
      assertThat(kf.getKeySpec(pub, EdECPublicKeySpec.class).getPoint().getY()).isEqualTo(swPub.getPoint().getY());
    }
  }

  @Test
  void factoriesRefuseOtherFamilies() throws Exception {
    KeyFactory rsaKf = KeyFactory.getInstance("RSA", p);
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", "SunEC");
    g.initialize(256);
    KeyPair ec = g.generateKeyPair();
    assertThatThrownBy(() -> rsaKf.generatePublic(new X509EncodedKeySpec(ec.getPublic().getEncoded())))
        .isInstanceOf(InvalidKeySpecException.class);
    assertThatThrownBy(() -> rsaKf.translateKey(ec.getPrivate())).isInstanceOf(InvalidKeyException.class);
    KeyFactory edKf = KeyFactory.getInstance("Ed25519", p);
    KeyPair ed448 = KeyPairGenerator.getInstance("Ed448", "SunEC").generateKeyPair();
    assertThatThrownBy(() -> edKf.generatePublic(new X509EncodedKeySpec(ed448.getPublic().getEncoded())))
        .isInstanceOf(InvalidKeySpecException.class);
  }

  @Test
  void secretKeyFactoryImportsSensitiveSessionKeys() throws Exception {
    byte[] raw = new byte[32];
    new java.security.SecureRandom().nextBytes(raw);
    SecretKeyFactory f = SecretKeyFactory.getInstance("AES", p);
    SecretKey k = f.generateSecret(new SecretKeySpec(raw, "AES"));
    assertThat(k).isInstanceOf(HsmSecretKey.class);
    HsmSecretKey hk = (HsmSecretKey) k;
    assertThat(k.getEncoded()).isNull();
    assertThat(hk.isSensitive()).isTrue();
    assertThat(hk.isExtractable()).isFalse();
    assertThat(hk.isTokenObject()).isFalse();
    assertThat(hk.bits()).isEqualTo(256);
    byte[] zero = new byte[16];
    byte[] ct = p.tokenContext().execute(s -> s.encrypt(Mechanism.of(CKM.AES_ECB), hk.handle(), zero));
    Cipher c = Cipher.getInstance("AES/ECB/NoPadding", "SunJCE");
    c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(raw, "AES"));
    assertThat(ct).isEqualTo(c.doFinal(zero));
    assertThatThrownBy(() -> f.getKeySpec(k, SecretKeySpec.class)).isInstanceOf(InvalidKeySpecException.class).hasMessageContaining("sensitive");
    assertThat(f.translateKey(k)).isSameAs(k);
    assertThat(f.translateKey(new SecretKeySpec(new byte[16], "AES"))).isInstanceOf(HsmSecretKey.class);
    assertThatThrownBy(() -> f.generateSecret(new SecretKeySpec(new byte[15], "AES"))).isInstanceOf(InvalidKeySpecException.class);
    assertThatThrownBy(() -> f.generateSecret(new SecretKeySpec(new byte[16], "HmacSHA256"))).isInstanceOf(InvalidKeySpecException.class);

    SecretKeyFactory hf = SecretKeyFactory.getInstance("HmacSHA256", p);
    SecretKey hmac = hf.generateSecret(new SecretKeySpec(raw, "HmacSHA256"));
    assertThat(hmac.getAlgorithm()).isEqualTo("HmacSHA256");
    assertThat(hmac.getEncoded()).isNull();
    long h = ((HsmKey) hmac).handle();
    byte[] tag = p.tokenContext().execute(s -> s.sign(Mechanism.of(CKM.SHA256_HMAC), h, MESSAGE));
    Mac m = Mac.getInstance("HmacSHA256", "SunJCE");
    m.init(new SecretKeySpec(raw, "HmacSHA256"));
    assertThat(tag).isEqualTo(m.doFinal(MESSAGE));
    assertThatThrownBy(() -> hf.generateSecret(new SecretKeySpec(new byte[16], "HmacSHA256"))).isInstanceOf(InvalidKeySpecException.class)
        .hasMessageContaining("minimum");
    SecretKey generic = SecretKeyFactory.getInstance("GenericSecret", p).generateSecret(new SecretKeySpec(new byte[5], "GenericSecret"));
    assertThat(((HsmSecretKey) generic).bits()).isEqualTo(40);
  }

  @Test
  void extractableKeysGiveTheirSpecsWhenConfiguredSo() throws Exception {
    HsmKitProvider open = new HsmKitProvider(fx.inlineConfigWithoutPin() + " name=open keys.sensitive=false keys.extractable=true");
    try {
      open.login(fx.token.userPin());
      byte[] raw = new byte[16];
      raw[0] = 7;
      SecretKeyFactory f = SecretKeyFactory.getInstance("AES", open);
      SecretKey k = f.generateSecret(new SecretKeySpec(raw, "AES"));
      assertThat(((HsmSecretKey) k).isExtractable()).isTrue();
      assertThat(((SecretKeySpec) f.getKeySpec(k, SecretKeySpec.class)).getEncoded()).isEqualTo(raw);

      KeyPairGenerator g = KeyPairGenerator.getInstance("EC", "SunEC");
      g.initialize(256);
      ECPrivateKey sw = (ECPrivateKey) g.generateKeyPair().getPrivate();
      KeyFactory kf = KeyFactory.getInstance("EC", open);
      PrivateKey imported = kf.generatePrivate(new PKCS8EncodedKeySpec(sw.getEncoded()));
      assertThat(kf.getKeySpec(imported, ECPrivateKeySpec.class).getS()).isEqualTo(sw.getS());
    } finally {
      open.tokenContext().close();
    }
  }
}
