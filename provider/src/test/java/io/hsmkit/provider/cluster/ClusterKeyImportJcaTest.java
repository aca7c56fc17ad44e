package io.hsmkit.provider.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.cluster.Cluster;
import io.hsmkit.pkcs11.cluster.ClusterException;
import io.hsmkit.pkcs11.cluster.ClusterKey;
import io.hsmkit.pkcs11.cluster.Member;
import io.hsmkit.pkcs11.cluster.MemberHealth;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.provider.ClusterOperationException;
import io.hsmkit.provider.internal.Curves;
import io.hsmkit.provider.keys.HsmEdPrivateKey;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.testing.ClusterProviderFixture;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.ProviderException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keys that a provider over a cluster of three SoftHSM2 tokens imports (KeyFactory,
 * SecretKeyFactory) or derives (ECDH): made replicated on every member, usable on each, compared
 * with the JDK under the same key; ECDH as bytes and as a replicated key; Ed25519 signing with a
 * pair made through the binding's Cluster API. c, behind the fault shim, fails in each group.
 */
class ClusterKeyImportJcaTest extends ClusterJcaTestSupport {
  @BeforeAll
  static void open() {
    openCluster("cluster-jca-import");
  }

  static KeyPair softEc() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", "SunEC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  // ------------------------------------------------------------------ SecretKeyFactory

  @Test
  void secretKeysImportAsReplicatedKeys() throws Exception {
    byte[] value = random(32);
    SecretKey aes = SecretKeyFactory.getInstance("AES", p).generateSecret(new SecretKeySpec(value, "AES"));
    HsmSecretKey k = (HsmSecretKey) aes;
    assertThat(k.isClustered()).isTrue();
    assertThat(k.isTokenObject()).isTrue();
    assertThat(k.isSensitive()).isTrue();
    assertThat(k.getEncoded()).isNull();
    assertThat(k.bits()).isEqualTo(256);
    assertThat(counts(k)).containsExactly(1, 1, 1);
    assertThat(k.label()).startsWith("hsmkit-import-");
    KeyStore ks = KeyStore.getInstance("HsmKit", p);
    ks.load(null, null);
    assertThat(ks.containsAlias(k.label())).as("listed as a replicated key").isTrue();
    assertThatThrownBy(() -> SecretKeyFactory.getInstance("AES", p).getKeySpec(aes, SecretKeySpec.class))
        .isInstanceOf(InvalidKeySpecException.class).hasMessageContaining("sensitive");

    byte[] iv = random(12);
    byte[] pt = random(300);
    Cipher soft = Cipher.getInstance("AES/GCM/NoPadding", "SunJCE");
    soft.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(value, "AES"), new GCMParameterSpec(128, iv));
    byte[] expected = soft.doFinal(pt);
    for (int i = 0; i < 6; i++) {
      Cipher dec = Cipher.getInstance("AES/GCM/NoPadding", p);
      dec.init(Cipher.DECRYPT_MODE, aes, new GCMParameterSpec(128, iv));
      assertThat(dec.doFinal(expected)).isEqualTo(pt);
    }

    // HMAC: a generic secret of at least the hash length, the same MAC as SunJCE's, also while c fails
    byte[] hv = random(32);
    SecretKey hmac = SecretKeyFactory.getInstance("HmacSHA256", p).generateSecret(new SecretKeySpec(hv, "HmacSHA256"));
    assertThat(counts((HsmKey) hmac)).containsExactly(1, 1, 1);
    Mac ref = Mac.getInstance("HmacSHA256", "SunJCE");
    ref.init(new SecretKeySpec(hv, "HmacSHA256"));
    Member c = cluster.member("c");
    long before = c.failures();
    fx.shim.rules("*:rv=CKR_DEVICE_ERROR");
    for (int i = 0; i < 12; i++) {
      Mac m = Mac.getInstance("HmacSHA256", p);
      m.init(hmac);
      byte[] data = random(100 + i);
      assertThat(m.doFinal(data)).isEqualTo(ref.doFinal(data));
    }
    assertThat(c.failures()).isGreaterThanOrEqualTo(before);

    // negative cases: lengths the token cannot use, before anything is made
    assertThatThrownBy(() -> SecretKeyFactory.getInstance("AES", p).generateSecret(new SecretKeySpec(new byte[20], "AES")))
        .isInstanceOf(InvalidKeySpecException.class);
    assertThatThrownBy(() -> SecretKeyFactory.getInstance("HmacSHA256", p).generateSecret(new SecretKeySpec(new byte[8], "HmacSHA256")))
        .isInstanceOf(InvalidKeySpecException.class);
  }

  @Test
  void anImportWhileAMemberIsAbsentReachesItWhenItReturns() throws Exception {
    Member c = cluster.member("c");
    fx.shim.rules("absent");
    SecretKey aes = SecretKeyFactory.getInstance("AES", p).generateSecret(new SecretKeySpec(random(16), "AES"));
    PrivateKey ec = KeyFactory.getInstance("EC", p).generatePrivate(new PKCS8EncodedKeySpec(softEc().getPrivate().getEncoded()));
    assertThat(counts((HsmKey) aes)).as("minReplicas 2 reached on a and b").containsExactly(1, 1, 0);
    assertThat(counts((HsmKey) ec)).containsExactly(1, 1, 0);
    fx.shim.clear();
    ClusterProviderFixture.await("c back", Duration.ofSeconds(15), () -> c.health() == MemberHealth.HEALTHY);
    assertThat(counts((HsmKey) aes)).containsExactly(1, 1, 1);
    assertThat(counts((HsmKey) ec)).containsExactly(1, 1, 1);
  }

  // ------------------------------------------------------------------ KeyFactory

  @Test
  void privateKeysImportReplicatedAndSignWhileAMemberFails() throws Exception {
    KeyPair ec = softEc();
    KeyPairGenerator rg = KeyPairGenerator.getInstance("RSA", "SunRsaSign");
    rg.initialize(2048);
    KeyPair rsa = rg.generateKeyPair();
    PrivateKey ecKey = KeyFactory.getInstance("EC", p).generatePrivate(new PKCS8EncodedKeySpec(ec.getPrivate().getEncoded()));
    PrivateKey rsaKey = (PrivateKey) KeyFactory.getInstance("RSA", p).translateKey(rsa.getPrivate());
    for (PrivateKey k : new PrivateKey[] {ecKey, rsaKey}) {
      HsmKey hk = (HsmKey) k;
      assertThat(hk.isClustered()).isTrue();
      assertThat(hk.isSensitive()).isTrue();
      assertThat(k.getEncoded()).isNull();
      assertThat(counts(hk)).containsExactly(1, 1, 1);
    }
    // a public key over a cluster stays the JDK's key (verified in software, usable as an ECDH peer)
    PublicKey pub = KeyFactory.getInstance("EC", p).generatePublic(new X509EncodedKeySpec(ec.getPublic().getEncoded()));
    assertThat(pub).isNotInstanceOf(HsmKey.class).isEqualTo(ec.getPublic());
    assertThat(KeyFactory.getInstance("EC", p).translateKey(ec.getPublic())).isEqualTo(ec.getPublic());

    Member c = cluster.member("c");
    long before = c.failures();
    for (int i = 0; i < 24; i++) {
      if (i == 4) {
        fx.shim.rules("*:rv=CKR_DEVICE_ERROR");
      }
      byte[] data = random(50 + i);
      Signature s = Signature.getInstance("SHA256withECDSA", p);
      s.initSign(ecKey);
      s.update(data);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance("SHA256withECDSA", p);
      v.initVerify(pub);
      v.update(data);
      assertThat(v.verify(sig)).isTrue();
      Signature r = Signature.getInstance("SHA256withRSA", p);
      r.initSign(rsaKey);
      r.update(data);
      Signature rv = Signature.getInstance("SHA256withRSA", "SunRsaSign");
      rv.initSign(rsa.getPrivate());
      rv.update(data);
      assertThat(r.sign()).as("PKCS#1 v1.5 is deterministic: the same as the JDK's").isEqualTo(rv.sign());
    }
    assertThat(c.failures()).isGreaterThan(before);
    // negative: the wrong family, and a spec that is no key
    assertThatThrownBy(() -> KeyFactory.getInstance("EC", p).translateKey(rsa.getPrivate())).isInstanceOf(InvalidKeyException.class);
    assertThatThrownBy(() -> KeyFactory.getInstance("EC", p).generatePrivate(new PKCS8EncodedKeySpec(new byte[10])))
        .isInstanceOf(InvalidKeySpecException.class);
  }

  // ------------------------------------------------------------------ ECDH

  @Test
  void ecdhGivesTheJdksSecretAsBytesAndAReplicatedKeyOtherwise() throws Exception {
    KeyPair ours = softEc();
    KeyPair peer = softEc();
    PrivateKey k = KeyFactory.getInstance("EC", p).generatePrivate(new PKCS8EncodedKeySpec(ours.getPrivate().getEncoded()));
    KeyAgreement jdk = KeyAgreement.getInstance("ECDH", "SunEC");
    jdk.init(peer.getPrivate());
    jdk.doPhase(ours.getPublic(), true);
    byte[] expected = jdk.generateSecret();

    Member c = cluster.member("c");
    long before = c.failures();
    for (int i = 0; i < 12; i++) {
      if (i == 3) {
        fx.shim.rules("*:rv=CKR_DEVICE_ERROR");
      }
      KeyAgreement ka = KeyAgreement.getInstance("ECDH", p);
      ka.init(k);
      ka.doPhase(peer.getPublic(), true);
      assertThat(ka.generateSecret()).isEqualTo(expected);
    }
    assertThat(c.failures()).isGreaterThan(before);
    fx.shim.clear();
    ClusterProviderFixture.await("c back", Duration.ofSeconds(15), () -> c.health() == MemberHealth.HEALTHY);

    KeyAgreement ka = KeyAgreement.getInstance("ECDH", p);
    ka.init(k);
    ka.doPhase(peer.getPublic(), true);
    SecretKey aes = ka.generateSecret("AES");
    HsmSecretKey hk = (HsmSecretKey) aes;
    assertThat(hk.isClustered()).isTrue();
    assertThat(hk.isSensitive()).isTrue();
    assertThat(hk.bits()).isEqualTo(256);
    assertThat(hk.label()).startsWith("hsmkit-ecdh-");
    assertThat(counts(hk)).as("derived on one member, copied to the others").containsExactly(1, 1, 1);
    byte[] iv = random(12);
    byte[] pt = random(100);
    Cipher soft = Cipher.getInstance("AES/GCM/NoPadding", "SunJCE");
    soft.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(expected, "AES"), new GCMParameterSpec(128, iv));
    byte[] ct = soft.doFinal(pt);
    for (int i = 0; i < 6; i++) {
      Cipher dec = Cipher.getInstance("AES/GCM/NoPadding", p);
      dec.init(Cipher.DECRYPT_MODE, aes, new GCMParameterSpec(128, iv));
      assertThat(dec.doFinal(ct)).as("the AES key is the shared secret, on every member").isEqualTo(pt);
    }
    ka.init(k);
    ka.doPhase(peer.getPublic(), true);
    SecretKey generic = ka.generateSecret("GenericSecret");
    assertThat(counts((HsmKey) generic)).containsExactly(1, 1, 1);
    ka.init(k);
    ka.doPhase(peer.getPublic(), true);
    assertThat(ka.generateSecret("TlsPremasterSecret").getEncoded()).as("JSSE's premaster secret stays bytes").isEqualTo(expected);

    // negative cases: a peer on another curve; a cluster-generated EC key, made for signing only
    KeyPairGenerator g384 = KeyPairGenerator.getInstance("EC", "SunEC");
    g384.initialize(new ECGenParameterSpec("secp384r1"));
    KeyAgreement bad = KeyAgreement.getInstance("ECDH", p);
    bad.init(k);
    assertThatThrownBy(() -> bad.doPhase(g384.generateKeyPair().getPublic(), true)).isInstanceOf(InvalidKeyException.class);
    KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC", p);
    kpg.initialize(new ECGenParameterSpec("secp256r1"));
    PrivateKey signingOnly = kpg.generateKeyPair().getPrivate();
    KeyAgreement no = KeyAgreement.getInstance("ECDH", p);
    no.init(signingOnly);
    no.doPhase(peer.getPublic(), true);
    assertThatThrownBy(no::generateSecret).isInstanceOf(ProviderException.class).hasMessageContaining("CKR_KEY_");
    no.init(signingOnly);
    no.doPhase(peer.getPublic(), true);
    assertThatThrownBy(() -> no.generateSecret("AES")).isInstanceOf(InvalidKeyException.class).hasMessageContaining("CKR_KEY_");
    assertThat(cluster.members()).allMatch(m -> m.health() == MemberHealth.HEALTHY);
  }

  // ------------------------------------------------------------------ Ed25519

  @Test
  void ed25519SignsOverTheClusterAndCannotBeReplicatedBySoftHsm2() throws Exception {
    // Through the binding's Cluster API: SoftHSM2 2.6.1 makes the pair, but its C_WrapKey refuses
    // an Ed25519 private key (CKR_KEY_NOT_WRAPPABLE), so the copy fails and the key is destroyed.
    byte[] id = random(16);
    String label = "test-ed25519-" + HexFormat.of().formatHex(random(4));
    Attribute[] pubT = {Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, false), Attribute.string(CKA.LABEL, label),
        Attribute.bytes(CKA.ID, id), Attribute.bytes(CKA.EC_PARAMS, Curves.ED25519_OID), Attribute.bool(CKA.VERIFY, true)};
    Attribute[] privT = {Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, true), Attribute.bool(CKA.SENSITIVE, true),
        Attribute.bool(CKA.EXTRACTABLE, true), Attribute.bool(CKA.WRAP_WITH_TRUSTED, true), Attribute.string(CKA.LABEL, label),
        Attribute.bytes(CKA.ID, id), Attribute.bool(CKA.SIGN, true)};
    assertThatThrownBy(() -> cluster.create(new ClusterKey(label, id, true),
        (s, keys) -> s.generateKeyPair(Mechanism.of(CKM.EC_EDWARDS_KEY_PAIR_GEN), pubT, privT)))
        .isInstanceOf(ClusterException.class).hasMessageContaining("CKR_KEY_NOT_WRAPPABLE");
    for (int i = 0; i < 3; i++) {
      assertThat(fx.objectsWithId(i, id)).as("destroyed where it was made").isZero();
    }
    // the same through JCA's KeyFactory: a typed error naming the members, nothing left behind
    KeyPair soft = KeyPairGenerator.getInstance("Ed25519", "SunEC").generateKeyPair();
    assertThatThrownBy(() -> KeyFactory.getInstance("Ed25519", p).generatePrivate(new PKCS8EncodedKeySpec(soft.getPrivate().getEncoded())))
        .isInstanceOf(ClusterOperationException.class).hasMessageContaining("CKR_KEY_NOT_WRAPPABLE");

    // Signing over the cluster: the same Ed25519 key put on every member directly (as an
    // administrator would import it on each HSM), named by one CKA_ID.
    byte[] id2 = random(16);
    String label2 = "test-ed25519-" + HexFormat.of().formatHex(random(4));
    byte[] seed = ((java.security.interfaces.EdECPrivateKey) soft.getPrivate()).getBytes().orElseThrow();
    byte[] enc = soft.getPublic().getEncoded();
    byte[] point = new byte[34];
    point[0] = 0x04;
    point[1] = 32;
    System.arraycopy(enc, enc.length - 32, point, 2, 32);
    for (int i = 0; i < 3; i++) {
      fx.onMember(i, s -> {
        s.createObject(Attribute.ulong(CKA.CLASS, CKO.PRIVATE_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.EC_EDWARDS),
            Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, true), Attribute.bool(CKA.SENSITIVE, true),
            Attribute.bool(CKA.EXTRACTABLE, true), Attribute.bool(CKA.WRAP_WITH_TRUSTED, true), Attribute.string(CKA.LABEL, label2),
            Attribute.bytes(CKA.ID, id2), Attribute.bytes(CKA.EC_PARAMS, Curves.ED25519_OID), Attribute.secret(CKA.VALUE, seed),
            Attribute.bool(CKA.SIGN, true));
        s.createObject(Attribute.ulong(CKA.CLASS, CKO.PUBLIC_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.EC_EDWARDS),
            Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, false), Attribute.string(CKA.LABEL, label2),
            Attribute.bytes(CKA.ID, id2), Attribute.bytes(CKA.EC_PARAMS, Curves.ED25519_OID), Attribute.bytes(CKA.EC_POINT, point),
            Attribute.bool(CKA.VERIFY, true));
        return null;
      });
    }
    Arrays.fill(seed, (byte) 0);
    PrivateKey key = (PrivateKey) keyStoreKey(label2);
    assertThat(key).isInstanceOf(HsmEdPrivateKey.class);
    assertThat(((HsmKey) key).isClustered()).isTrue();

    Member c = cluster.member("c");
    long before = c.failures();
    Signature ref = Signature.getInstance("Ed25519", "SunEC");
    for (int i = 0; i < 16; i++) {
      if (i == 4) {
        fx.shim.rules("*:rv=CKR_DEVICE_ERROR");
      }
      byte[] data = random(40 + i);
      Signature s = Signature.getInstance("Ed25519", p);
      s.initSign(key);
      s.update(data);
      byte[] sig = s.sign();
      ref.initSign(soft.getPrivate());
      ref.update(data);
      assertThat(sig).as("Ed25519 is deterministic: the JDK's signature under the same key").isEqualTo(ref.sign());
      Signature v = Signature.getInstance("Ed25519", p);
      v.initVerify(soft.getPublic());
      v.update(data);
      assertThat(v.verify(sig)).isTrue();
    }
    assertThat(c.failures()).isGreaterThan(before);
    fx.shim.clear();
    ClusterProviderFixture.await("c back", Duration.ofSeconds(15), () -> c.health() == MemberHealth.HEALTHY);

    // negative: the key deleted everywhere fails typed
    KeyStore ks = KeyStore.getInstance("HsmKit", p);
    ks.load(null, null);
    ks.deleteEntry(label2);
    Signature gone = Signature.getInstance("Ed25519", p);
    gone.initSign(key);
    gone.update(new byte[1]);
    assertThatThrownBy(gone::sign).isInstanceOf(java.security.SignatureException.class).hasMessageContaining("on no healthy member");
  }

  static java.security.Key keyStoreKey(String label) throws Exception {
    KeyStore ks = KeyStore.getInstance("HsmKit", p);
    ks.load(null, null);
    return ks.getKey(label, null);
  }

}
