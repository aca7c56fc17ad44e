package io.hsmkit.provider.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.session.PoolStats;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.internal.Curves;
import io.hsmkit.provider.spi.EcKeyPairGenerator;
import io.hsmkit.provider.testing.ProviderFixture;
import java.math.BigInteger;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.InvalidParameterException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.RSAKeyGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Key pairs, HMAC keys and ECDH made in the token, checked against the JDK. */
class KeyGenerationTest {
  static ProviderFixture fx;
  static HsmKitProvider p;
  static final byte[] MESSAGE = "HsmKit key generation test".getBytes(java.nio.charset.StandardCharsets.UTF_8);

  @BeforeAll
  static void setUp() {
    fx = ProviderFixture.create("KeyGenerationTest");
    p = fx.provider();
  }

  @AfterAll
  static void tearDown() {
    PoolStats st = p.tokenContext().pool().stats();
    p.tokenContext().close();
    assertThat(st.borrowed()).as("sessions still borrowed").isZero();
    assertThat(st.leaked()).as("sessions leaked").isZero();
  }

  private static void assertPrivateStaysInToken(PrivateKey k) {
    assertThat(k).isInstanceOf(HsmPrivateKey.class);
    HsmPrivateKey hk = (HsmPrivateKey) k;
    assertThat(hk.isSensitive()).isTrue();
    assertThat(hk.isExtractable()).isFalse();
    assertThat(hk.isTokenObject()).isFalse();
    assertThat(k.getEncoded()).isNull();
    assertThat(k.getFormat()).isNull();
  }

  private static void assertPublicReadsBack(PublicKey k, String jdkAlg) throws Exception {
    assertThat(k).isInstanceOf(HsmPublicKey.class);
    assertThat(k.getFormat()).isEqualTo("X.509");
    PublicKey back = KeyFactory.getInstance(jdkAlg, provFor(jdkAlg))
        .generatePublic(new X509EncodedKeySpec(k.getEncoded()));
    assertThat(back.getEncoded()).isEqualTo(k.getEncoded());
    assertThat(back).isEqualTo(KeyFactory.getInstance(jdkAlg).generatePublic(new X509EncodedKeySpec(k.getEncoded())));
  }

  private static String provFor(String alg) {
    return alg.equals("RSA") ? "SunRsaSign" : "SunEC";
  }

  private static byte[] sign(PrivateKey k, Mechanism m, byte[] data) {
    long h = ((HsmKey) k).handle();
    return p.tokenContext().execute(s -> s.sign(m, h, data));
  }

  @Test
  void rsaPairSignsForTheJdk() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA", p);
    // The default is 2048 bits with e = 65537; here a chosen exponent.
    g.initialize(new RSAKeyGenParameterSpec(2048, BigInteger.valueOf(65539)));
    KeyPair kp = g.generateKeyPair();
    assertPrivateStaysInToken(kp.getPrivate());
    assertThat(kp.getPrivate()).isInstanceOf(RSAKey.class);
    RSAPublicKey pub = (RSAPublicKey) kp.getPublic();
    assertThat(pub.getModulus().bitLength()).isEqualTo(2048);
    assertThat(pub.getPublicExponent()).isEqualTo(BigInteger.valueOf(65539));
    assertThat(((RSAKey) kp.getPrivate()).getModulus()).isEqualTo(pub.getModulus());
    assertThat(((HsmKey) kp.getPrivate()).id()).isNotNull().isEqualTo(((HsmKey) kp.getPublic()).id());
    assertPublicReadsBack(kp.getPublic(), "RSA");

    byte[] sig = sign(kp.getPrivate(), Mechanism.of(CKM.SHA256_RSA_PKCS), MESSAGE);
    Signature v = Signature.getInstance("SHA256withRSA", "SunRsaSign");
    v.initVerify(pub);
    v.update(MESSAGE);
    assertThat(v.verify(sig)).isTrue();
    // The private key can decrypt what the JDK encrypts to the public key.
    Cipher c = Cipher.getInstance("RSA/ECB/PKCS1Padding", "SunJCE");
    c.init(Cipher.ENCRYPT_MODE, pub);
    byte[] ct = c.doFinal(MESSAGE);
    long h = ((HsmKey) kp.getPrivate()).handle();
    byte[] pt = p.tokenContext().execute(s -> s.decrypt(Mechanism.of(CKM.RSA_PKCS), h, ct));
    assertThat(pt).isEqualTo(MESSAGE);
  }

  @Test
  void rsaSizesAndExponentsAreChecked() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA", p);
    assertThatThrownBy(() -> g.initialize(1024)).isInstanceOf(InvalidParameterException.class).hasMessageContaining("2048 to 4096");
    assertThatThrownBy(() -> g.initialize(8192)).isInstanceOf(InvalidParameterException.class);
    assertThatThrownBy(() -> g.initialize(new RSAKeyGenParameterSpec(2048, BigInteger.valueOf(65536))))
        .isInstanceOf(InvalidAlgorithmParameterException.class).hasMessageContaining("odd");
    assertThatThrownBy(() -> g.initialize(new ECGenParameterSpec("secp256r1"))).isInstanceOf(InvalidAlgorithmParameterException.class);
    g.initialize(3072); // accepted (not generated: slow)
  }

  @Test
  void ecPairsOnTheNistCurvesSignForTheJdk() throws Exception {
    for (Object[] c : new Object[][] {{"P-256", 256, "SHA-256"}, {"secp384r1", 384, "SHA-384"}, {"secp521r1", 521, "SHA-512"}}) {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC", p);
      g.initialize(new ECGenParameterSpec((String) c[0]));
      KeyPair kp = g.generateKeyPair();
      assertPrivateStaysInToken(kp.getPrivate());
      assertThat(kp.getPrivate()).isInstanceOf(ECKey.class);
      ECParameterSpec params = ((ECKey) kp.getPrivate()).getParams();
      assertThat(params.getCurve().getField().getFieldSize()).isEqualTo(c[1]);
      assertThat(params.getOrder()).isEqualTo(((ECPublicKey) kp.getPublic()).getParams().getOrder());
      assertPublicReadsBack(kp.getPublic(), "EC");

      byte[] digest = MessageDigest.getInstance((String) c[2]).digest(MESSAGE);
      byte[] rs = sign(kp.getPrivate(), Mechanism.of(CKM.ECDSA), digest);
      Signature v = Signature.getInstance(((String) c[2]).replace("-", "") + "withECDSA", "SunEC");
      v.initVerify(kp.getPublic());
      v.update(MESSAGE);
      assertThat(v.verify(Curves.rsToDer(rs))).as("ECDSA on %s", c[0]).isTrue();
    }
  }

  @Test
  void ecCurvesBySizeAndSpecAndTheTokensList() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", p);
    g.initialize(384);
    assertThat(((ECKey) g.generateKeyPair().getPrivate()).getParams().getCurve().getField().getFieldSize()).isEqualTo(384);
    ECParameterSpec p256 = ((ECPublicKey) KeyPairGenerator.getInstance("EC", "SunEC").generateKeyPair().getPublic()).getParams();
    g.initialize(p256);
    assertThat(((ECKey) g.generateKeyPair().getPrivate()).getParams().getOrder()).isEqualTo(p256.getOrder());
    assertThatThrownBy(() -> g.initialize(300)).isInstanceOf(InvalidParameterException.class);
    assertThatThrownBy(() -> g.initialize(new ECGenParameterSpec("nosuchcurve"))).isInstanceOf(InvalidAlgorithmParameterException.class);

    List<String> curves = EcKeyPairGenerator.supportedCurves(p.tokenContext());
    System.out.println("EC curves the token generates keys on: " + curves);
    assertThat(curves).contains("secp256r1", "secp384r1", "secp521r1");
    if (curves.contains("secp256k1")) {
      g.initialize(new ECGenParameterSpec("secp256k1"));
      KeyPair kp = g.generateKeyPair();
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(MESSAGE);
      byte[] rs = sign(kp.getPrivate(), Mechanism.of(CKM.ECDSA), digest);
      // JDK 17's SunEC no longer signs or verifies on secp256k1: check the signature by hand.
      assertThat(verifyEcdsa((ECPublicKey) kp.getPublic(), digest, rs)).isTrue();
    } else {
      assertThatThrownBy(() -> g.initialize(new ECGenParameterSpec("secp256k1"))).isInstanceOf(InvalidAlgorithmParameterException.class);
    }
  }

  /** Textbook ECDSA verification (affine arithmetic), for curves SunEC no longer does. */
  static boolean verifyEcdsa(ECPublicKey pub, byte[] digest, byte[] rs) {
    ECParameterSpec sp = pub.getParams();
    BigInteger n = sp.getOrder();
    int half = rs.length / 2;
    BigInteger r = new BigInteger(1, Arrays.copyOfRange(rs, 0, half));
    BigInteger s = new BigInteger(1, Arrays.copyOfRange(rs, half, rs.length));
    BigInteger e = new BigInteger(1, digest);
    if (digest.length * 8 > n.bitLength()) {
      e = e.shiftRight(digest.length * 8 - n.bitLength());
    }
    BigInteger w = s.modInverse(n);
    ECPoint pt = add(mul(sp.getGenerator(), e.multiply(w).mod(n), sp), mul(pub.getW(), r.multiply(w).mod(n), sp), sp);
    return pt != ECPoint.POINT_INFINITY && pt.getAffineX().mod(n).equals(r);
  }

  private static ECPoint add(ECPoint a, ECPoint b, ECParameterSpec sp) {
    if (a == ECPoint.POINT_INFINITY) {
      return b;
    }
    if (b == ECPoint.POINT_INFINITY) {
      return a;
    }
    BigInteger q = ((java.security.spec.ECFieldFp) sp.getCurve().getField()).getP();
    BigInteger l;
    if (a.getAffineX().equals(b.getAffineX())) {
      if (!a.getAffineY().equals(b.getAffineY()) || a.getAffineY().signum() == 0) {
        return ECPoint.POINT_INFINITY;
      }
      l = a.getAffineX().pow(2).multiply(BigInteger.valueOf(3)).add(sp.getCurve().getA())
          .multiply(a.getAffineY().shiftLeft(1).modInverse(q)).mod(q);
    } else {
      l = b.getAffineY().subtract(a.getAffineY()).multiply(b.getAffineX().subtract(a.getAffineX()).modInverse(q)).mod(q);
    }
    BigInteger x = l.pow(2).subtract(a.getAffineX()).subtract(b.getAffineX()).mod(q);
    BigInteger y = l.multiply(a.getAffineX().subtract(x)).subtract(a.getAffineY()).mod(q);
    return new ECPoint(x, y);
  }

  private static ECPoint mul(ECPoint pt, BigInteger k, ECParameterSpec sp) {
    ECPoint r = ECPoint.POINT_INFINITY;
    for (int i = k.bitLength() - 1; i >= 0; i--) {
      r = add(r, r, sp);
      if (k.testBit(i)) {
        r = add(r, pt, sp);
      }
    }
    return r;
  }

  @Test
  void ed25519PairSignsForTheJdk() throws Exception {
    for (String name : new String[] {"Ed25519", "EdDSA"}) {
      KeyPairGenerator g = KeyPairGenerator.getInstance(name, p);
      if (name.equals("EdDSA")) {
        g.initialize(NamedParameterSpec.ED25519);
        assertThatThrownBy(() -> g.initialize(NamedParameterSpec.ED448)).isInstanceOf(InvalidAlgorithmParameterException.class);
      }
      KeyPair kp = g.generateKeyPair();
      assertPrivateStaysInToken(kp.getPrivate());
      assertThat(kp.getPrivate()).isInstanceOf(java.security.interfaces.EdECKey.class);
      assertPublicReadsBack(kp.getPublic(), "Ed25519");
      byte[] sig = sign(kp.getPrivate(), Mechanism.of(CKM.EDDSA), MESSAGE);
      Signature v = Signature.getInstance("Ed25519", "SunEC");
      v.initVerify(kp.getPublic());
      v.update(MESSAGE);
      assertThat(v.verify(sig)).isTrue();
    }
  }

  private static KeyPair ec(String curve) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", p);
    g.initialize(new ECGenParameterSpec(curve));
    return g.generateKeyPair();
  }

  private static byte[] jdkEcdh(PrivateKey ours, PublicKey theirs) throws Exception {
    KeyAgreement ka = KeyAgreement.getInstance("ECDH", "SunEC");
    ka.init(ours);
    ka.doPhase(theirs, true);
    return ka.generateSecret();
  }

  private static byte[] tokenEcdh(PrivateKey ours, PublicKey theirs) throws Exception {
    KeyAgreement ka = KeyAgreement.getInstance("ECDH", p);
    ka.init(ours);
    ka.doPhase(theirs, true);
    return ka.generateSecret();
  }

  @Test
  void ecdhBetweenTokenKeysAndWithTheJdk() throws Exception {
    for (String curve : new String[] {"secp256r1", "secp384r1", "secp521r1"}) {
      KeyPair a = ec(curve);
      KeyPair b = ec(curve);
      byte[] ab = tokenEcdh(a.getPrivate(), b.getPublic());
      assertThat(ab).hasSize(Curves.fieldBytes(((ECKey) a.getPrivate()).getParams()));
      assertThat(tokenEcdh(b.getPrivate(), a.getPublic())).isEqualTo(ab);

      KeyPairGenerator jg = KeyPairGenerator.getInstance("EC", "SunEC");
      jg.initialize(new ECGenParameterSpec(curve));
      KeyPair j = jg.generateKeyPair();
      byte[] tj = tokenEcdh(a.getPrivate(), j.getPublic());
      assertThat(tj).as("token-JDK ECDH on %s", curve).isEqualTo(jdkEcdh(j.getPrivate(), a.getPublic()));

      // generateSecret(byte[], int) and its ShortBufferException, which keeps the agreement.
      KeyAgreement ka = KeyAgreement.getInstance("ECDH", p);
      ka.init(a.getPrivate());
      ka.doPhase(j.getPublic(), true);
      assertThatThrownBy(() -> ka.generateSecret(new byte[tj.length], 1)).isInstanceOf(javax.crypto.ShortBufferException.class);
      byte[] out = new byte[tj.length + 3];
      assertThat(ka.generateSecret(out, 3)).isEqualTo(tj.length);
      assertThat(Arrays.copyOfRange(out, 3, out.length)).isEqualTo(tj);
      assertThatThrownBy(ka::generateSecret).isInstanceOf(IllegalStateException.class); // the agreement ended
    }
  }

  @Test
  void ecdhRefusesBadPeersAndForeignKeys() throws Exception {
    KeyPair a = ec("secp256r1");
    KeyAgreement ka = KeyAgreement.getInstance("ECDH", p);
    ka.init(a.getPrivate());
    KeyPair other = ec("secp384r1");
    assertThatThrownBy(() -> ka.doPhase(other.getPublic(), true)).isInstanceOf(InvalidKeyException.class).hasMessageContaining("curve");
    ECPublicKey pub = (ECPublicKey) a.getPublic();
    ECPoint w = pub.getW();
    ECPoint off = new ECPoint(w.getAffineX(), w.getAffineY().add(BigInteger.ONE));
    // The JDK's KeyFactory does not check points; a hand-made key does not either.
    ECPublicKey bad = new ECPublicKey() {
      @Override
      public ECPoint getW() {
        return off;
      }

      @Override
      public String getAlgorithm() {
        return "EC";
      }

      @Override
      public String getFormat() {
        return null;
      }

      @Override
      public byte[] getEncoded() {
        return null;
      }

      @Override
      public ECParameterSpec getParams() {
        return pub.getParams();
      }
    };
    assertThatThrownBy(() -> ka.doPhase(bad, true)).isInstanceOf(InvalidKeyException.class).hasMessageContaining("not on the curve");
    assertThatThrownBy(() -> ka.doPhase(a.getPublic(), false)).isInstanceOf(IllegalStateException.class);
    KeyAgreement other2 = KeyAgreement.getInstance("ECDH", p);
    KeyPairGenerator jg = KeyPairGenerator.getInstance("EC", "SunEC");
    jg.initialize(256);
    PrivateKey software = jg.generateKeyPair().getPrivate();
    assertThatThrownBy(() -> other2.init(software)).isInstanceOf(InvalidKeyException.class).hasMessageContaining("not an HsmKit key");
    // SupportedKeyClasses: JCA's delayed selection sends software keys elsewhere and token keys here.
    java.security.Provider.Service ecdh = p.getService("KeyAgreement", "ECDH");
    assertThat(ecdh.supportsParameter(software)).isFalse();
    assertThat(ecdh.supportsParameter(a.getPrivate())).isTrue();
  }

  @Test
  void ecdhToATokenAesKeyThatEncrypts() throws Exception {
    KeyPair a = ec("secp256r1");
    KeyPairGenerator jg = KeyPairGenerator.getInstance("EC", "SunEC");
    jg.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair j = jg.generateKeyPair();
    KeyAgreement ka = KeyAgreement.getInstance("ECDH", p);
    ka.init(a.getPrivate());
    ka.doPhase(j.getPublic(), true);
    SecretKey aes = ka.generateSecret("AES");
    assertThat(aes).isInstanceOf(HsmSecretKey.class);
    HsmSecretKey hk = (HsmSecretKey) aes;
    assertThat(hk.getAlgorithm()).isEqualTo("AES");
    assertThat(hk.bits()).isEqualTo(256);
    assertThat(hk.isSensitive()).isTrue();
    assertThat(hk.isExtractable()).isFalse();
    assertThat(hk.isTokenObject()).isFalse();
    assertThat(aes.getEncoded()).isNull();
    byte[] zero = new byte[16];
    byte[] ct = p.tokenContext().execute(s -> s.encrypt(Mechanism.of(CKM.AES_ECB), hk.handle(), zero));
    // On P-256 the AES key is the whole shared secret: the JDK agrees.
    Cipher c = Cipher.getInstance("AES/ECB/NoPadding", "SunJCE");
    c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(jdkEcdh(j.getPrivate(), a.getPublic()), "AES"));
    assertThat(ct).isEqualTo(c.doFinal(zero));
    boolean sensitive = p.tokenContext().execute(s -> s.getAttribute(hk.handle(), CKA.SENSITIVE).asBool());
    assertThat(sensitive).isTrue();

    // JSSE's premaster secret: RAW bytes of the whole field length (its TLS key schedules run in
    // software and read them); other names are refused.
    ka.doPhase(j.getPublic(), true);
    SecretKey tls = ka.generateSecret("TlsPremasterSecret");
    assertThat(tls.getAlgorithm()).isEqualTo("TlsPremasterSecret");
    assertThat(tls.getFormat()).isEqualTo("RAW");
    assertThat(tls.getEncoded()).isEqualTo(jdkEcdh(j.getPrivate(), a.getPublic()));
    ka.doPhase(j.getPublic(), true);
    assertThatThrownBy(() -> ka.generateSecret("DESede")).isInstanceOf(java.security.NoSuchAlgorithmException.class);
  }

  @Test
  void ecdhToAesOnP384KeepsTheTokensChoiceOfBytes() throws Exception {
    KeyPair a = ec("secp384r1");
    KeyPairGenerator jg = KeyPairGenerator.getInstance("EC", "SunEC");
    jg.initialize(new ECGenParameterSpec("secp384r1"));
    KeyPair j = jg.generateKeyPair();
    KeyAgreement ka = KeyAgreement.getInstance("ECDH", p);
    ka.init(a.getPrivate());
    ka.doPhase(j.getPublic(), true);
    HsmSecretKey aes = (HsmSecretKey) ka.generateSecret("AES");
    byte[] zero = new byte[16];
    byte[] ct = p.tokenContext().execute(s -> s.encrypt(Mechanism.of(CKM.AES_ECB), aes.handle(), zero));
    byte[] z = jdkEcdh(j.getPrivate(), a.getPublic());
    Cipher c = Cipher.getInstance("AES/ECB/NoPadding", "SunJCE");
    c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(Arrays.copyOfRange(z, 0, 32), "AES"));
    boolean first = Arrays.equals(ct, c.doFinal(zero));
    c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(Arrays.copyOfRange(z, z.length - 32, z.length), "AES"));
    boolean last = Arrays.equals(ct, c.doFinal(zero));
    System.out.println("ECDH P-384 to AES-256: the token keeps the " + (first ? "first" : last ? "last" : "neither first nor last") + " 32 bytes");
    assertThat(first || last).isTrue();
  }

  @Test
  void hmacKeySizes() throws Exception {
    int[][] cases = {{1, 160}, {224, 224}, {256, 256}, {384, 384}, {512, 512}};
    String[] names = {"HmacSHA1", "HmacSHA224", "HmacSHA256", "HmacSHA384", "HmacSHA512"};
    for (int i = 0; i < names.length; i++) {
      KeyGenerator g = KeyGenerator.getInstance(names[i], p);
      SecretKey k = g.generateKey();
      assertThat(k.getAlgorithm()).isEqualTo(names[i]);
      assertThat(((HsmSecretKey) k).bits()).as(names[i] + " default").isEqualTo(cases[i][1]);
      assertThat(k.getEncoded()).isNull();
      int min = cases[i][1];
      assertThatThrownBy(() -> g.init(min - 8)).as(names[i] + " shorter than the hash").isInstanceOf(InvalidParameterException.class)
          .hasMessageContaining("minimum");
      assertThatThrownBy(() -> g.init(min + 3)).isInstanceOf(InvalidParameterException.class);
      g.init(min + 64);
      SecretKey longer = g.generateKey();
      assertThat(((HsmSecretKey) longer).bits()).isEqualTo(min + 64);
      long h = ((HsmSecretKey) longer).handle();
      long len = p.tokenContext().execute(s -> s.getAttribute(h, CKA.VALUE_LEN).asUlong());
      assertThat(len).isEqualTo((min + 64) / 8);
    }
    // A key the token's HMAC takes signs: through the binding (the Mac service is someone else's).
    KeyGenerator g = KeyGenerator.getInstance("HmacSHA256", p);
    HsmSecretKey k = (HsmSecretKey) g.generateKey();
    byte[] mac = p.tokenContext().execute(s -> s.sign(Mechanism.of(CKM.SHA256_HMAC), k.handle(), MESSAGE));
    assertThat(mac).hasSize(32);

    KeyGenerator gen = KeyGenerator.getInstance("GenericSecret", p);
    assertThat(((HsmSecretKey) gen.generateKey()).bits()).isEqualTo(256);
    gen.init(8);
    assertThat(((HsmSecretKey) gen.generateKey()).bits()).isEqualTo(8);
    assertThatThrownBy(() -> gen.init(12)).isInstanceOf(InvalidParameterException.class);
  }

  @Test
  void servicesAreRegistered() {
    for (String[] s : new String[][] {{"KeyPairGenerator", "RSA"}, {"KeyPairGenerator", "EC"}, {"KeyPairGenerator", "Ed25519"},
        {"KeyPairGenerator", "EdDSA"}, {"KeyGenerator", "HmacSHA256"}, {"KeyGenerator", "GenericSecret"}, {"KeyAgreement", "ECDH"},
        {"KeyFactory", "RSA"}, {"KeyFactory", "EC"}, {"KeyFactory", "Ed25519"}, {"KeyFactory", "EdDSA"},
        {"SecretKeyFactory", "AES"}, {"SecretKeyFactory", "GenericSecret"}, {"SecretKeyFactory", "HmacSHA256"}}) {
      assertThat(p.getService(s[0], s[1])).as(s[0] + "." + s[1]).isNotNull();
    }
    assertThat(p.getService("KeyAgreement", "ECDH").getAttribute("SupportedKeyClasses")).isEqualTo(HsmEcPrivateKey.class.getName());
  }

  @Test
  void publicKeysAreUsableAsEcPublicKeySpecs() throws Exception {
    KeyPair a = ec("secp256r1");
    ECPublicKey pub = (ECPublicKey) a.getPublic();
    PublicKey viaSpec = KeyFactory.getInstance("EC", "SunEC").generatePublic(new ECPublicKeySpec(pub.getW(), pub.getParams()));
    assertThat(viaSpec.getEncoded()).isEqualTo(pub.getEncoded());
    Attribute point = p.tokenContext().execute(s -> s.getAttribute(((HsmKey) pub).handle(), CKA.EC_POINT));
    assertThat(Curves.decodePoint(point.value(), pub.getParams())).isEqualTo(pub.getW());
  }
}
