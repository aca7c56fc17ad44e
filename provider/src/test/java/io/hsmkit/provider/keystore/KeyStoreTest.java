package io.hsmkit.provider.keystore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.keys.HsmEcPrivateKey;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmPrivateKey;
import io.hsmkit.provider.testing.ProviderFixture;
import java.math.BigInteger;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.UnrecoverableEntryException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Collections;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class KeyStoreTest {
  static ProviderFixture fx;
  static HsmKitProvider p;

  @BeforeAll
  static void setUp() {
    fx = ProviderFixture.create("KeyStoreTest");
    p = fx.provider();
  }

  @AfterAll
  static void tearDown() {
    p.tokenContext().close();
  }

  static KeyStore store() throws Exception {
    KeyStore ks = KeyStore.getInstance("HsmKit", p);
    ks.load(null, fx.token.userPin());
    return ks;
  }

  static KeyPair ec(java.security.Provider provider) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", provider);
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  static X509Certificate certificate(String subject, PublicKey pub, String issuer, PrivateKey signer, java.security.Provider signWith) throws Exception {
    long now = System.currentTimeMillis();
    var b = new JcaX509v3CertificateBuilder(new X500Name(issuer), BigInteger.valueOf(now), new Date(now - 60_000), new Date(now + 86_400_000L),
        new X500Name(subject), pub);
    var contentSigner = new JcaContentSignerBuilder("SHA256withECDSA").setProvider(signWith).build(signer);
    return new JcaX509CertificateConverter().getCertificate(b.build(contentSigner));
  }

  @Test
  void aTokenKeyWithItsChainIsAnEntryFoundAgainByAnotherKeyStore() throws Exception {
    KeyPair kp = ec(p);
    X509Certificate self = certificate("CN=ec1", kp.getPublic(), "CN=ec1", kp.getPrivate(), p);
    KeyStore ks = store();
    ks.setKeyEntry("ec1", kp.getPrivate(), null, new Certificate[] {self});
    ks.store(null, fx.token.userPin());

    KeyStore again = store();
    assertThat(again.containsAlias("ec1")).isTrue();
    assertThat(again.isKeyEntry("ec1")).isTrue();
    assertThat(again.entryInstanceOf("ec1", KeyStore.PrivateKeyEntry.class)).isTrue();
    assertThat(again.getCreationDate("ec1")).isNotNull();
    Key k = again.getKey("ec1", null);
    assertThat(k).isInstanceOf(HsmEcPrivateKey.class);
    assertThat(((HsmKey) k).isTokenObject()).isTrue();
    assertThat(((HsmKey) k).isSensitive()).isTrue();
    assertThat(k.getEncoded()).isNull();
    assertThat(again.getCertificateChain("ec1")).containsExactly(self);
    assertThat(again.getCertificateAlias(self)).isEqualTo("ec1");

    Signature s = Signature.getInstance("SHA256withECDSA", p);
    s.initSign((PrivateKey) k);
    s.update(new byte[] {1, 2, 3});
    byte[] sig = s.sign();
    Signature v = Signature.getInstance("SHA256withECDSA");
    v.initVerify(self.getPublicKey());
    v.update(new byte[] {1, 2, 3});
    assertThat(v.verify(sig)).isTrue();

    // A CA reply replaces the self-signed certificate: the chain becomes leaf, CA.
    KeyPair ca = ec(p);
    X509Certificate caCert = certificate("CN=Test CA", ca.getPublic(), "CN=Test CA", ca.getPrivate(), p);
    X509Certificate leaf = certificate("CN=ec1", self.getPublicKey(), "CN=Test CA", ca.getPrivate(), p);
    again.setKeyEntry("ec1", k, null, new Certificate[] {leaf, caCert});
    assertThat(store().getCertificateChain("ec1")).containsExactly(leaf, caCert);

    again.deleteEntry("ec1");
    assertThat(store().containsAlias("ec1")).isFalse();
    byte[] id = ((HsmKey) k).id();
    long left = p.tokenContext().execute(s2 -> (long) s2.findObjects(Attribute.bytes(CKA.ID, id)).length);
    assertThat(left).as("key, public key and certificates are all gone").isZero();
  }

  @Test
  void aKeyWithoutACertificateIsStillAnEntry() throws Exception {
    KeyPair kp = ec(p);
    long h = ((HsmKey) kp.getPrivate()).handle();
    p.tokenContext().executeForObjects(s -> s.copyObject(h, Attribute.bool(CKA.TOKEN, true), Attribute.string(CKA.LABEL, "bare")));
    KeyStore ks = store();
    assertThat(Collections.list(ks.aliases())).contains("bare");
    assertThat(ks.isKeyEntry("bare")).isTrue();
    assertThat(ks.getKey("bare", null)).isInstanceOf(HsmPrivateKey.class);
    assertThat(ks.getCertificateChain("bare")).isNull();
    assertThatThrownBy(() -> ks.getEntry("bare", null)).isInstanceOf(UnrecoverableEntryException.class).hasMessageContaining("getKey");
  }

  @Test
  void softwareKeysAreImportedSensitiveAndTrustedCertificatesStored() throws Exception {
    KeyPair soft = ec(java.security.Security.getProvider("SunEC"));
    X509Certificate cert = certificate("CN=soft", soft.getPublic(), "CN=soft", soft.getPrivate(), java.security.Security.getProvider("SunEC"));
    KeyStore ks = store();
    ks.setKeyEntry("soft", soft.getPrivate(), "ignored".toCharArray(), new Certificate[] {cert});
    Key k = store().getKey("soft", null);
    assertThat(k).isInstanceOf(HsmEcPrivateKey.class);
    assertThat(((HsmKey) k).isSensitive()).isTrue();
    assertThat(((HsmKey) k).isExtractable()).isFalse();

    ks.setCertificateEntry("trusted", cert);
    assertThat(store().isCertificateEntry("trusted")).isTrue();
    assertThat(store().getCertificate("trusted")).isEqualTo(cert);
    assertThatThrownBy(() -> ks.setCertificateEntry("soft", cert)).isInstanceOf(KeyStoreException.class);
  }

  @Test
  void aChainThatDoesNotMatchTheKeyIsRefusedAndNothingChanges() throws Exception {
    KeyPair a = ec(p);
    KeyPair b = ec(p);
    X509Certificate certOfB = certificate("CN=b", b.getPublic(), "CN=b", b.getPrivate(), p);
    KeyStore ks = store();
    int before = ks.size();
    assertThatThrownBy(() -> ks.setKeyEntry("mismatch", a.getPrivate(), null, new Certificate[] {certOfB}))
        .isInstanceOf(KeyStoreException.class).hasMessageContaining("does not match");
    assertThat(store().containsAlias("mismatch")).isFalse();
    assertThat(store().size()).isEqualTo(before);
    assertThat(ks.getKey("no-such-alias", null)).isNull();
    assertThat(ks.getCertificateChain("no-such-alias")).isNull();
  }

  @Test
  void aLookUpNoticesAnObjectDeletedUnderIt() throws Exception {
    KeyPair kp = ec(p);
    X509Certificate self = certificate("CN=gone", kp.getPublic(), "CN=gone", kp.getPrivate(), p);
    KeyStore ks = store();
    ks.setKeyEntry("gone", kp.getPrivate(), null, new Certificate[] {self});
    assertThat(ks.isKeyEntry("gone")).isTrue();
    p.tokenContext().executeForObjects(s -> {
      for (long o : s.findObjects(Attribute.string(CKA.LABEL, "gone"), Attribute.ulong(CKA.CLASS, CKO.PRIVATE_KEY))) {
        s.destroyObject(o);
      }
      return null;
    });
    assertThat(ks.isKeyEntry("gone")).as("the cached handle is checked, not trusted").isFalse();
  }
}
