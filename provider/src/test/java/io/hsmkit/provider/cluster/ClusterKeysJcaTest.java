package io.hsmkit.provider.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.cluster.Member;
import io.hsmkit.pkcs11.cluster.MemberHealth;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.testing.ClusterProviderFixture;
import java.io.ByteArrayOutputStream;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.ProviderException;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import javax.security.auth.login.LoginException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keys of the provider over a cluster of three SoftHSM2 tokens: generated through JCA and
 * replicated, listed, read and deleted through the provider's KeyStore on every member (also one
 * that was down), and what a cluster does not do, refused with a typed error.
 */
class ClusterKeysJcaTest extends ClusterJcaTestSupport {
  @BeforeAll
  static void open() {
    openCluster("cluster-jca-keys");
  }

  static SecretKey aes() throws GeneralSecurityException {
    KeyGenerator kg = KeyGenerator.getInstance("AES", p);
    kg.init(256);
    return kg.generateKey();
  }

  static KeyPair ec() throws GeneralSecurityException {
    KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC", p);
    kpg.initialize(new ECGenParameterSpec("secp256r1"));
    return kpg.generateKeyPair();
  }

  static KeyStore keyStore() throws Exception {
    KeyStore ks = KeyStore.getInstance("HsmKit", p);
    ks.load(null, null);
    return ks;
  }

  static byte[] gcm(int mode, SecretKey k, byte[] iv, byte[] in) throws GeneralSecurityException {
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding", p);
    c.init(mode, k, new GCMParameterSpec(128, iv));
    return c.doFinal(in);
  }

  @Test
  void keysGeneratedThroughJcaAreReplicatedAndListedByTheKeyStore() throws Exception {
    SecretKey aes = aes();
    KeyPair ec = ec();
    HsmKey a = (HsmKey) aes;
    HsmKey e = (HsmKey) ec.getPrivate();
    assertThat(counts(a)).as("the AES key on a, b, c").containsExactly(1, 1, 1);
    assertThat(counts(e)).as("the EC pair (private and public object) on a, b, c").containsExactly(2, 2, 2);
    assertThat(a.isClustered()).isTrue();
    assertThat(a.handle()).as("no one member's handle").isZero();
    assertThat(a.isTokenObject()).isTrue();
    assertThat(a.isSensitive()).isTrue();
    assertThat(a.getEncoded()).isNull();

    KeyStore ks = keyStore();
    List<String> aliases = Collections.list(ks.aliases());
    assertThat(aliases).contains(a.label(), e.label()).doesNotContain("hsmkit-cluster-wrap");
    assertThat(ks.isKeyEntry(a.label())).isTrue();
    assertThat(ks.getCertificate(a.label())).isNull();
    SecretKey fromStore = (SecretKey) ks.getKey(a.label(), null);
    assertThat(fromStore).isEqualTo(aes);

    // what one member encrypts with the key from the generator, any member decrypts with the one from the store
    byte[] iv = new byte[12];
    RND.nextBytes(iv);
    byte[] pt = "replicated".getBytes();
    for (int i = 0; i < 12; i++) {
      assertThat(gcm(Cipher.DECRYPT_MODE, fromStore, iv, gcm(Cipher.ENCRYPT_MODE, aes, iv, pt))).isEqualTo(pt);
      RND.nextBytes(iv);
    }
    Signature s = Signature.getInstance("SHA256withECDSA", p);
    s.initSign((java.security.PrivateKey) ks.getKey(e.label(), null));
    s.update(pt);
    byte[] sig = s.sign();
    s.initVerify(ec.getPublic());
    s.update(pt);
    assertThat(s.verify(sig)).isTrue();
    assertThat(cluster.members()).allMatch(m -> m.operations() > 0);
  }

  @Test
  void deleteEntryRemovesTheKeyFromEveryMember() throws Exception {
    SecretKey aes = aes();
    KeyPair ec = ec();
    KeyStore ks = keyStore();
    String aesAlias = ((HsmKey) aes).label();
    String ecAlias = ((HsmKey) ec.getPrivate()).label();
    ks.deleteEntry(aesAlias);
    ks.deleteEntry(ecAlias);
    assertThat(counts((HsmKey) aes)).containsExactly(0, 0, 0);
    assertThat(counts((HsmKey) ec.getPrivate())).as("private and public object gone").containsExactly(0, 0, 0);
    assertThat(ks.containsAlias(aesAlias)).isFalse();
    assertThat(ks.getKey(aesAlias, null)).isNull();
    ks.deleteEntry(aesAlias); // deleting what is not there: no error, as the JDK's keystores
    // the key object the caller still holds names a key no member has
    byte[] iv = new byte[12];
    assertThatThrownBy(() -> gcm(Cipher.ENCRYPT_MODE, aes, iv, new byte[16]))
        .isInstanceOf(ProviderException.class).hasMessageContaining("on no healthy member");
    assertThat(cluster.members()).allMatch(m -> m.health() == MemberHealth.HEALTHY);
  }

  @Test
  void deletionAsksTheAdminGuardOnceAndARefusalDeletesNothing() throws Exception {
    SecretKey aes = aes();
    String alias = ((HsmKey) aes).label();
    List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
    try {
      p.setAdminGuard((op, args) -> {
        asked.add(op + " " + args);
        throw new SecurityException("approval required for " + args.get("alias"));
      });
      KeyStore ks = keyStore();
      assertThatThrownBy(() -> ks.deleteEntry(alias)).isInstanceOf(KeyStoreException.class).hasMessage("approval required for " + alias)
          .hasCauseInstanceOf(SecurityException.class);
      assertThat(counts((HsmKey) aes)).as("refused: nothing deleted").containsExactly(1, 1, 1);
      ks.deleteEntry("no-such-alias"); // a no-op asks nothing
      assertThat(asked).containsExactly("delete-key {alias=" + alias + "}");
      p.setAdminGuard(io.hsmkit.provider.AdminGuard.ALLOW_ALL);
      ks.deleteEntry(alias);
      assertThat(counts((HsmKey) aes)).containsExactly(0, 0, 0);
    } finally {
      p.setAdminGuard(io.hsmkit.provider.AdminGuard.ALLOW_ALL);
    }
  }

  @Test
  void aKeyDeletedWhileAMemberIsDownIsGoneFromItWhenItReturns() throws Exception {
    SecretKey aes = aes();
    HsmKey k = (HsmKey) aes;
    assertThat(counts(k)).containsExactly(1, 1, 1);
    Member c = cluster.member("c");
    fx.shim.rules("absent");
    keyStore().deleteEntry(k.label());
    assertThat(c.health()).isEqualTo(MemberHealth.DOWN);
    assertThat(counts(k)).as("deleted on a and b, still on c (read past the shim)").containsExactly(0, 0, 1);
    assertThat(cluster.pendingDeletions("c")).isEqualTo(1);
    fx.shim.clear();
    ClusterProviderFixture.await("c back", Duration.ofSeconds(15), () -> c.health() == MemberHealth.HEALTHY);
    assertThat(counts(k)).as("gone from c after its return").containsExactly(0, 0, 0);
  }

  @Test
  void aKeyGeneratedWhileAMemberIsDownIsOnTwoMembersThenOnItWhenItReturns() throws Exception {
    Member c = cluster.member("c");
    fx.shim.rules("absent");
    SecretKey aes = aes();
    HsmKey k = (HsmKey) aes;
    assertThat(counts(k)).as("on a and b: minReplicas 2 reached").containsExactly(1, 1, 0);
    byte[] iv = new byte[12];
    RND.nextBytes(iv);
    assertThat(gcm(Cipher.DECRYPT_MODE, aes, iv, gcm(Cipher.ENCRYPT_MODE, aes, iv, new byte[100]))).hasSize(100);
    fx.shim.clear();
    ClusterProviderFixture.await("c back", Duration.ofSeconds(15), () -> c.health() == MemberHealth.HEALTHY);
    assertThat(counts(k)).as("copied to c on its return").containsExactly(1, 1, 1);
    assertThat(Collections.list(keyStore().aliases())).contains(k.label());
  }

  @Test
  void aWrongGcmTagIsTheCallersErrorAndTakesNoMemberOut() throws Exception {
    SecretKey aes = aes();
    byte[] iv = new byte[12];
    RND.nextBytes(iv);
    byte[] ct = gcm(Cipher.ENCRYPT_MODE, aes, iv, new byte[64]);
    ct[ct.length - 1] ^= 1;
    for (int i = 0; i < 6; i++) {
      assertThatThrownBy(() -> gcm(Cipher.DECRYPT_MODE, aes, iv, ct)).isInstanceOf(AEADBadTagException.class);
    }
    assertThat(cluster.members()).allMatch(m -> m.health() == MemberHealth.HEALTHY);
  }

  @Test
  void aMultiPartEncryptionIsKeptAndSentWholeSoItSurvivesAMemberFailing() throws Exception {
    SecretKey aes = aes();
    Member c = cluster.member("c");
    long failuresBefore = c.failures();
    for (int i = 0; i < 30; i++) {
      byte[] iv = new byte[12];
      RND.nextBytes(iv);
      byte[] pt = new byte[3000 + i];
      RND.nextBytes(pt);
      Cipher enc = Cipher.getInstance("AES/GCM/NoPadding", p);
      enc.init(Cipher.ENCRYPT_MODE, aes, new GCMParameterSpec(128, iv));
      enc.updateAAD(iv);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (int off = 0; off < pt.length; off += 1000) {
        byte[] part = enc.update(pt, off, Math.min(1000, pt.length - off));
        if (part != null) {
          out.write(part);
        }
      }
      if (i == 5) {
        fx.shim.rules("*:rv=CKR_DEVICE_ERROR"); // c fails between update and doFinal
      }
      out.write(enc.doFinal());
      Cipher dec = Cipher.getInstance("AES/GCM/NoPadding", p);
      dec.init(Cipher.DECRYPT_MODE, aes, new GCMParameterSpec(128, iv));
      dec.updateAAD(iv);
      assertThat(dec.doFinal(out.toByteArray())).isEqualTo(pt);
    }
    assertThat(c.failures()).as("c failed some of them, which moved to a or b").isGreaterThan(failuresBefore);
    assertThat(c.health()).isEqualTo(MemberHealth.DOWN);
  }

  @Test
  void whatACannotDoIsRefusedWithATypedError() throws Exception {
    assertThatThrownBy(() -> p.login("1234".toCharArray())).isInstanceOf(LoginException.class).hasMessageContaining("cluster file")
        .hasMessageNotContaining("1234");
    assertThatThrownBy(() -> p.logout()).isInstanceOf(LoginException.class);
    KeyStore ks = keyStore();
    assertThatThrownBy(() -> ks.setKeyEntry("imported", new SecretKeySpec(new byte[16], "AES"), null, null))
        .isInstanceOf(KeyStoreException.class).hasMessageContaining("one member only");
    assertThatThrownBy(() -> ks.load(new java.io.ByteArrayInputStream(new byte[0]), null)).isInstanceOf(java.io.IOException.class);
    // a session key would live on one member: refused, not made there (RSA and HMAC keys are
    // replicated now: ClusterKmsFeaturesJcaTest; Ed25519 pairs are not: SoftHSM2 cannot wrap them)
    KeyPairGenerator ed = KeyPairGenerator.getInstance("Ed25519", p);
    assertThatThrownBy(ed::generateKeyPair).isInstanceOf(ProviderException.class).hasMessageContaining("not supported over a cluster");
    // (AES/CBC, which failed here with CKR_*_HANDLE_INVALID, now resolves the key per member: ClusterCiphersJcaTest)
  }
}
