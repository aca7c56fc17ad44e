package io.hsmkit.provider.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.cluster.Member;
import io.hsmkit.pkcs11.cluster.MemberHealth;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.testing.ClusterProviderFixture;
import java.math.BigInteger;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.Date;
import java.util.HashSet;
import java.util.Set;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * What the KMS needs of the provider over a cluster of three SoftHSM2 tokens: HMAC and RSA keys
 * made replicated through JCA, RSA-OAEP decryption and RSA signatures over the cluster, SecureRandom,
 * and certificate chains stored beside a cluster key on every member (for the TLS endpoint).
 */
class ClusterKmsFeaturesJcaTest extends ClusterJcaTestSupport {
  @BeforeAll
  static void open() {
    openCluster("cluster-jca-kms");
  }

  @ParameterizedTest
  @ValueSource(strings = {"HmacSHA256:256", "HmacSHA384:384", "HmacSHA512:512"})
  void hmacKeysAreReplicatedAndMacTheSameOnEveryMember(String spec) throws Exception {
    String alg = spec.split(":")[0];
    int bits = Integer.parseInt(spec.split(":")[1]);
    KeyGenerator g = KeyGenerator.getInstance(alg, p);
    g.init(bits);
    SecretKey k = g.generateKey();
    HsmKey hk = (HsmKey) k;
    assertThat(hk.isClustered()).isTrue();
    assertThat(hk.isSensitive()).isTrue();
    assertThat(k.getEncoded()).isNull();
    assertThat(k.getAlgorithm()).isEqualTo(alg);
    assertThat(counts(hk)).containsExactly(1, 1, 1);
    byte[] data = new byte[1024];
    RND.nextBytes(data);
    // 30 MACs spread over the members (least outstanding): one value means one key everywhere
    Set<String> macs = new HashSet<>();
    for (int i = 0; i < 30; i++) {
      Mac m = Mac.getInstance(alg, p);
      m.init(k);
      macs.add(Arrays.toString(m.doFinal(data)));
    }
    assertThat(macs).hasSize(1);
    assertThat(cluster.members().stream().filter(m -> m.operations() > 0).count()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void anRsaPairIsReplicatedSignsAndDecryptsOaepOverTheCluster() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA", p);
    g.initialize(2048);
    KeyPair kp = g.generateKeyPair();
    HsmKey priv = (HsmKey) kp.getPrivate();
    assertThat(priv.isClustered()).isTrue();
    assertThat(counts(priv)).as("private and public key on a, b and c").containsExactly(2, 2, 2);
    PublicKey soft = KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(kp.getPublic().getEncoded()));

    byte[] msg = "the KMS signs this".getBytes();
    for (String alg : new String[] {"SHA256withRSA", "SHA384withRSA"}) {
      Signature s = Signature.getInstance(alg, p);
      s.initSign(kp.getPrivate());
      s.update(msg);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg, "SunRsaSign");
      v.initVerify(soft);
      v.update(msg);
      assertThat(v.verify(sig)).as(alg).isTrue();
    }

    // RSAES_OAEP_SHA_1 (in the token) and RSAES_OAEP_SHA_256 (raw RSA in the token, OAEP in Java),
    // as the KMS decrypts: encrypted in SunJCE with the public key, decrypted over the cluster
    for (String t : new String[] {"RSA/ECB/OAEPPadding", "RSA/ECB/OAEPWithSHA-256AndMGF1Padding"}) {
      for (int i = 0; i < 6; i++) {
        byte[] pt = new byte[1 + RND.nextInt(60)];
        RND.nextBytes(pt);
        Cipher e = Cipher.getInstance(t, "SunJCE");
        e.init(Cipher.ENCRYPT_MODE, soft);
        byte[] ct = e.doFinal(pt);
        Cipher d = Cipher.getInstance(t, p);
        d.init(Cipher.DECRYPT_MODE, kp.getPrivate());
        assertThat(d.doFinal(ct)).as(t).isEqualTo(pt);
        ct[ct.length / 2] ^= 1;
        Cipher d2 = Cipher.getInstance(t, p);
        d2.init(Cipher.DECRYPT_MODE, kp.getPrivate());
        assertThatThrownBy(() -> d2.doFinal(ct)).as(t + ", one bit flipped").isInstanceOf(BadPaddingException.class);
      }
    }
    assertThat(cluster.members()).allMatch(m -> m.health() == MemberHealth.HEALTHY);
  }

  @Test
  void rsaDecryptionMovesToAnotherMemberWhenOneFails() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA", p);
    g.initialize(2048);
    KeyPair kp = g.generateKeyPair();
    PublicKey soft = KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(kp.getPublic().getEncoded()));
    fx.shim.rules("*:rv=CKR_DEVICE_ERROR");
    for (int i = 0; i < 10; i++) {
      byte[] pt = ("message " + i).getBytes();
      Cipher e = Cipher.getInstance("RSA/ECB/OAEPPadding", "SunJCE");
      e.init(Cipher.ENCRYPT_MODE, soft);
      Cipher d = Cipher.getInstance("RSA/ECB/OAEPPadding", p);
      d.init(Cipher.DECRYPT_MODE, kp.getPrivate());
      assertThat(d.doFinal(e.doFinal(pt))).isEqualTo(pt);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"secp256r1", "secp384r1", "secp521r1"})
  void ecPairsOnEveryNistCurveAreReplicated(String curve) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", p);
    g.initialize(new ECGenParameterSpec(curve));
    KeyPair kp = g.generateKeyPair();
    assertThat(counts((HsmKey) kp.getPrivate())).containsExactly(2, 2, 2);
    Signature s = Signature.getInstance("SHA256withECDSA", p);
    s.initSign(kp.getPrivate());
    s.update(new byte[10]);
    Signature v = Signature.getInstance("SHA256withECDSA", "SunEC");
    v.initVerify(KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(kp.getPublic().getEncoded())));
    v.update(new byte[10]);
    assertThat(v.verify(s.sign())).isTrue();
  }

  @Test
  void secureRandomRunsOverTheCluster() throws Exception {
    byte[] a = new byte[32];
    byte[] b = new byte[32];
    SecureRandom r = SecureRandom.getInstance("PKCS11", p);
    r.nextBytes(a);
    r.nextBytes(b);
    assertThat(a).isNotEqualTo(b).isNotEqualTo(new byte[32]);
  }

  static X509Certificate selfSigned(KeyPair kp, String cn) throws Exception {
    X500Principal name = new X500Principal("CN=" + cn);
    Date now = new Date();
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(RND.nextInt(1 << 30)), now,
        new Date(now.getTime() + 86_400_000L), name, kp.getPublic());
    return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").setProvider(p).build(kp.getPrivate())));
  }

  static KeyStore keyStore() throws Exception {
    KeyStore ks = KeyStore.getInstance("HsmKit", p);
    ks.load(null, null);
    return ks;
  }

  @Test
  void aCertificateChainIsStoredOnEveryMemberAndDeletedWithItsKey() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", p);
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair ca = g.generateKeyPair();
    KeyPair leaf = g.generateKeyPair();
    X509Certificate caCert = selfSigned(ca, "test CA");
    X509Certificate leafCert = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(caCert,
        BigInteger.TEN, new Date(), new Date(System.currentTimeMillis() + 86_400_000L), new X500Principal("CN=leaf"), leaf.getPublic())
        .build(new JcaContentSignerBuilder("SHA256withECDSA").setProvider(p).build(ca.getPrivate())));
    HsmKey lk = (HsmKey) leaf.getPrivate();
    KeyStore ks = keyStore();
    assertThat(ks.getCertificateChain(lk.label())).as("no chain yet").isNull();

    ks.setKeyEntry(lk.label(), leaf.getPrivate(), null, new Certificate[] {leafCert, caCert});
    assertThat(counts(lk)).as("private, public and two certificates on every member").containsExactly(4, 4, 4);
    assertThat(keyStore().getCertificateChain(lk.label())).containsExactly(leafCert, caCert);
    assertThat(keyStore().getCertificate(lk.label())).isEqualTo(leafCert);
    assertThat(keyStore().getCertificateAlias(leafCert)).isEqualTo(lk.label());
    assertThat(keyStore().isKeyEntry(lk.label())).isTrue();

    // replaced as a whole
    ks.setKeyEntry(lk.label(), leaf.getPrivate(), null, new Certificate[] {leafCert});
    assertThat(counts(lk)).containsExactly(3, 3, 3);
    assertThat(keyStore().getCertificateChain(lk.label())).containsExactly(leafCert);

    // negative cases: another alias, a software key, a trusted certificate entry
    assertThatThrownBy(() -> ks.setKeyEntry("another-alias", leaf.getPrivate(), null, new Certificate[] {leafCert}))
        .isInstanceOf(KeyStoreException.class).hasMessageContaining("keeps the alias it was made with");
    KeyPair software = KeyPairGenerator.getInstance("EC", "SunEC").generateKeyPair();
    assertThatThrownBy(() -> ks.setKeyEntry("sw", software.getPrivate(), null, new Certificate[] {leafCert}))
        .isInstanceOf(KeyStoreException.class).hasMessageContaining("one member only");
    assertThatThrownBy(() -> ks.setCertificateEntry("trusted", caCert)).isInstanceOf(KeyStoreException.class);

    ks.deleteEntry(lk.label());
    assertThat(counts(lk)).as("key and certificates gone everywhere").containsExactly(0, 0, 0);
    assertThat(keyStore().getCertificateChain(lk.label())).isNull();
  }

  @Test
  void aChainStoredWhileAMemberIsDownIsReadFromTheOthers() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", p);
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair kp = g.generateKeyPair();
    X509Certificate cert = selfSigned(kp, "while c is down");
    HsmKey k = (HsmKey) kp.getPrivate();
    Member c = cluster.member("c");
    fx.shim.rules("absent");
    keyStore().setKeyEntry(k.label(), kp.getPrivate(), null, new Certificate[] {cert});
    assertThat(c.health()).isEqualTo(MemberHealth.DOWN);
    fx.shim.clear();
    ClusterProviderFixture.await("c back", Duration.ofSeconds(15), () -> c.health() == MemberHealth.HEALTHY);
    assertThat(counts(k)).as("the key was on c already; the certificate is not").containsExactly(3, 3, 2);
    for (int i = 0; i < 12; i++) {
      assertThat(keyStore().getCertificateChain(k.label())).as("read " + i).containsExactly(cert);
    }
  }
}
