package io.hsmkit.provider.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.cluster.Member;
import io.hsmkit.pkcs11.cluster.MemberHealth;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.testing.ClusterProviderFixture;
import java.io.ByteArrayOutputStream;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.ProviderException;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * AES/CBC (with and without padding), AES/CTR, AES/ECB and AESWrap/AESWrapPad over a cluster of
 * three SoftHSM2 tokens (c behind the fault shim): every result is compared with SunJCE under the
 * same key value (imported through HsmKit's SecretKeyFactory as a replicated key), multi-part
 * operations run on while c fails, and what replication forbids fails with the token's own error.
 */
class ClusterCiphersJcaTest extends ClusterJcaTestSupport {
  @BeforeAll
  static void open() {
    openCluster("cluster-jca-ciphers");
  }

  /** The value imported as a replicated AES key of the cluster. */
  static SecretKey imported(byte[] value) throws GeneralSecurityException {
    return SecretKeyFactory.getInstance("AES", p).generateSecret(new SecretKeySpec(value, "AES"));
  }

  /** {@code in} through {@code c} in parts of the sizes given (cycled), then doFinal. */
  static byte[] multiPart(Cipher c, byte[] in, int[] parts, Runnable afterFirstUpdate) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int off = 0;
    int i = 0;
    while (off < in.length) {
      int n = Math.min(parts[i++ % parts.length], in.length - off);
      byte[] o = c.update(in, off, n);
      if (o != null) {
        out.write(o);
      }
      off += n;
      if (i == 1 && afterFirstUpdate != null) {
        afterFirstUpdate.run();
      }
    }
    out.write(c.doFinal());
    return out.toByteArray();
  }

  record Case(String transformation, boolean iv, int length) {}

  static final Case[] MODES = {
      new Case("AES/CBC/PKCS5Padding", true, 1000),
      new Case("AES/CBC/PKCS5Padding", true, 0),
      new Case("AES/CBC/PKCS5Padding", true, 48),
      new Case("AES/CBC/NoPadding", true, 1024),
      new Case("AES/CTR/NoPadding", true, 1001),
      new Case("AES/CTR/NoPadding", true, 7),
      new Case("AES/ECB/NoPadding", false, 512),
  };

  @Test
  void multiPartModesMatchSunJceWhileAMemberFailsBetweenUpdates() throws Exception {
    byte[] value = random(32);
    SecretKey key = imported(value);
    SecretKeySpec soft = new SecretKeySpec(value, "AES");
    Member c = cluster.member("c");
    long failuresBefore = c.failures();
    int[][] splits = {{1}, {15, 17}, {16}, {100, 3}, {1000}};
    int round = 0;
    for (Case m : MODES) {
      for (int[] split : splits) {
        round++;
        byte[] pt = random(m.length());
        IvParameterSpec iv = m.iv() ? new IvParameterSpec(random(16)) : null;
        Cipher enc = Cipher.getInstance(m.transformation(), p);
        enc.init(Cipher.ENCRYPT_MODE, key, iv);
        Cipher ref = Cipher.getInstance(m.transformation(), "SunJCE");
        ref.init(Cipher.ENCRYPT_MODE, soft, iv);
        // every third round c starts failing after the first update: the rest must move to a or b
        boolean fail = round % 3 == 0;
        byte[] ct = multiPart(enc, pt, split, fail ? () -> fx.shim.rules("*:rv=CKR_DEVICE_ERROR") : null);
        assertThat(ct).as(m + " encryption in parts " + java.util.Arrays.toString(split)).isEqualTo(ref.doFinal(pt));
        Cipher dec = Cipher.getInstance(m.transformation(), p);
        dec.init(Cipher.DECRYPT_MODE, key, iv);
        assertThat(multiPart(dec, ct, split, null)).as(m + " decryption").isEqualTo(pt);
        if (fail) {
          fx.shim.clear();
        }
      }
    }
    assertThat(c.failures()).as("c failed some calls, which moved to a or b").isGreaterThan(failuresBefore);
  }

  @Test
  void aClusterGeneratedKeyWorksInEveryModeOnEveryMember() throws Exception {
    KeyGenerator kg = KeyGenerator.getInstance("AES", p);
    kg.init(256);
    SecretKey key = kg.generateKey();
    for (Case m : MODES) {
      byte[] pt = random(m.length());
      IvParameterSpec iv = m.iv() ? new IvParameterSpec(random(16)) : null;
      for (int i = 0; i < 6; i++) {
        Cipher enc = Cipher.getInstance(m.transformation(), p);
        enc.init(Cipher.ENCRYPT_MODE, key, iv);
        byte[] ct = enc.doFinal(pt);
        Cipher dec = Cipher.getInstance(m.transformation(), p);
        dec.init(Cipher.DECRYPT_MODE, key, iv);
        assertThat(dec.doFinal(ct)).as(m.transformation()).isEqualTo(pt);
      }
    }
    assertThat(cluster.members()).allMatch(m -> m.operations() > 0);
  }

  @Test
  void badInputIsTheCallersErrorAndTakesNoMemberOut() throws Exception {
    byte[] value = random(16);
    SecretKey key = imported(value);
    IvParameterSpec iv = new IvParameterSpec(random(16));
    Cipher ref = Cipher.getInstance("AES/CBC/NoPadding", "SunJCE");
    ref.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(value, "AES"), iv);
    byte[] badPadding = ref.doFinal(new byte[32]); // decrypts to zeros: no valid PKCS#5 padding
    for (int i = 0; i < 6; i++) {
      Cipher dec = Cipher.getInstance("AES/CBC/PKCS5Padding", p);
      dec.init(Cipher.DECRYPT_MODE, key, iv);
      assertThatThrownBy(() -> dec.doFinal(badPadding)).isInstanceOf(BadPaddingException.class);
    }
    Cipher nopad = Cipher.getInstance("AES/CBC/NoPadding", p);
    nopad.init(Cipher.ENCRYPT_MODE, key, iv);
    assertThatThrownBy(() -> nopad.doFinal(new byte[17])).isInstanceOf(IllegalBlockSizeException.class);
    assertThat(cluster.members()).allMatch(m -> m.health() == MemberHealth.HEALTHY);
  }

  @Test
  void aKeyOnNoMemberFailsTyped() throws Exception {
    SecretKey key = imported(random(32));
    java.security.KeyStore ks = java.security.KeyStore.getInstance("HsmKit", p);
    ks.load(null, null);
    ks.deleteEntry(((HsmKey) key).label());
    Cipher ecb = Cipher.getInstance("AES/ECB/NoPadding", p);
    ecb.init(Cipher.ENCRYPT_MODE, key);
    assertThatThrownBy(() -> ecb.doFinal(new byte[16])).isInstanceOf(ProviderException.class).hasMessageContaining("on no healthy member");
  }

  // ------------------------------------------------------------------ key wrap

  @Test
  void wrapCiphersOnBytesMatchSunJceWhileAMemberFails() throws Exception {
    byte[] value = random(32);
    SecretKey kek = imported(value);
    SecretKeySpec soft = new SecretKeySpec(value, "AES");
    Member c = cluster.member("c");
    long failuresBefore = c.failures();
    for (int i = 0; i < 12; i++) {
      if (i == 4) {
        fx.shim.rules("*:rv=CKR_DEVICE_ERROR");
      }
      byte[] data = random(16 + 8 * (i % 4));
      for (String alg : new String[] {"AESWrap", "AESWrapPad"}) {
        Cipher enc = Cipher.getInstance(alg, p);
        enc.init(Cipher.ENCRYPT_MODE, kek);
        byte[] wrapped = enc.doFinal(data);
        Cipher ref = Cipher.getInstance(alg.equals("AESWrap") ? "AESWrap" : "AES/KWP/NoPadding", "SunJCE");
        ref.init(Cipher.ENCRYPT_MODE, soft);
        assertThat(wrapped).as(alg).isEqualTo(ref.doFinal(data));
        Cipher dec = Cipher.getInstance(alg, p);
        dec.init(Cipher.DECRYPT_MODE, kek);
        assertThat(dec.doFinal(wrapped)).isEqualTo(data);
      }
    }
    assertThat(c.failures()).isGreaterThan(failuresBefore);
    fx.shim.clear();
    // a failed integrity check is the caller's error
    Cipher enc = Cipher.getInstance("AESWrap", p);
    enc.init(Cipher.ENCRYPT_MODE, kek);
    byte[] wrapped = enc.doFinal(random(32));
    wrapped[3] ^= 1;
    Cipher dec = Cipher.getInstance("AESWrap", p);
    dec.init(Cipher.DECRYPT_MODE, kek);
    assertThatThrownBy(() -> dec.doFinal(wrapped)).isInstanceOf(BadPaddingException.class);
  }

  @Test
  void aReplicatedKeyWrapsOnlyUnderTheTrustedClusterKey() throws Exception {
    SecretKey kek = imported(random(32));
    KeyGenerator kg = KeyGenerator.getInstance("AES", p);
    kg.init(256);
    SecretKey generated = kg.generateKey();
    SecretKey importedKey = imported(random(16));
    for (SecretKey k : new SecretKey[] {generated, importedKey, kek}) {
      Cipher w = Cipher.getInstance("AESWrap", p);
      w.init(Cipher.WRAP_MODE, kek);
      assertThatThrownBy(() -> w.wrap(k)).as("CKA_WRAP_WITH_TRUSTED: a user's key is not trusted")
          .isInstanceOf(InvalidKeyException.class).hasMessageContaining("CKR_KEY_NOT_WRAPPABLE");
    }
    // a software key is wrapped as its encoding, as on one token
    byte[] raw = random(32);
    Cipher w = Cipher.getInstance("AESWrap", p);
    w.init(Cipher.WRAP_MODE, kek);
    byte[] wrapped = w.wrap(new SecretKeySpec(raw, "AES"));
    Cipher dec = Cipher.getInstance("AESWrap", p);
    dec.init(Cipher.DECRYPT_MODE, kek);
    assertThat(dec.doFinal(wrapped)).isEqualTo(raw);
    assertThat(cluster.members()).allMatch(m -> m.health() == MemberHealth.HEALTHY);
  }

  @Test
  void unwrappingMakesAReplicatedKeyThatWorksOnEveryMember() throws Exception {
    byte[] kekValue = random(32);
    SecretKey kek = imported(kekValue);
    byte[] raw = random(32);
    Cipher ref = Cipher.getInstance("AESWrap", "SunJCE");
    ref.init(Cipher.WRAP_MODE, new SecretKeySpec(kekValue, "AES"));
    byte[] wrapped = ref.wrap(new SecretKeySpec(raw, "AES"));

    Cipher u = Cipher.getInstance("AESWrap", p);
    u.init(Cipher.UNWRAP_MODE, kek);
    Key k = u.unwrap(wrapped, "AES", Cipher.SECRET_KEY);
    HsmSecretKey hk = (HsmSecretKey) k;
    assertThat(hk.isClustered()).isTrue();
    assertThat(hk.isTokenObject()).isTrue();
    assertThat(hk.isSensitive()).isTrue();
    assertThat(hk.bits()).isEqualTo(256);
    assertThat(hk.getEncoded()).isNull();
    assertThat(counts(hk)).as("on a, b and c").containsExactly(1, 1, 1);
    byte[] block = random(64);
    Cipher soft = Cipher.getInstance("AES/ECB/NoPadding", "SunJCE");
    soft.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(raw, "AES"));
    byte[] expected = soft.doFinal(block);
    for (int i = 0; i < 6; i++) {
      Cipher ecb = Cipher.getInstance("AES/ECB/NoPadding", p);
      ecb.init(Cipher.ENCRYPT_MODE, k);
      assertThat(ecb.doFinal(block)).as("the unwrapped key has the wrapped value on every member").isEqualTo(expected);
    }

    // a wrapped key that fails its integrity check: an InvalidKeyException, nothing made, nobody taken out
    byte[] bad = wrapped.clone();
    bad[5] ^= 1;
    Cipher u2 = Cipher.getInstance("AESWrap", p);
    u2.init(Cipher.UNWRAP_MODE, kek);
    assertThatThrownBy(() -> u2.unwrap(bad, "AES", Cipher.SECRET_KEY)).isInstanceOf(InvalidKeyException.class);
    assertThat(cluster.members()).allMatch(m -> m.health() == MemberHealth.HEALTHY);
  }

  @Test
  void unwrappingWhileAMemberFailsReachesTheOthersAndThenIt() throws Exception {
    byte[] kekValue = random(32);
    SecretKey kek = imported(kekValue);
    Cipher ref = Cipher.getInstance("AESWrap", "SunJCE");
    ref.init(Cipher.WRAP_MODE, new SecretKeySpec(kekValue, "AES"));
    Member c = cluster.member("c");
    fx.shim.rules("C_UnwrapKey:rv=CKR_DEVICE_ERROR");
    HsmKey[] made = new HsmKey[6];
    for (int i = 0; i < made.length; i++) {
      Cipher u = Cipher.getInstance("AESWrap", p);
      u.init(Cipher.UNWRAP_MODE, kek);
      made[i] = (HsmKey) u.unwrap(ref.wrap(new SecretKeySpec(random(16), "AES")), "AES", Cipher.SECRET_KEY);
      int[] n = counts(made[i]);
      assertThat(n[0] + n[1]).as("on a and b at least (minReplicas 2)").isEqualTo(2);
    }
    fx.shim.clear();
    ClusterProviderFixture.await("c back", Duration.ofSeconds(15), () -> c.health() == MemberHealth.HEALTHY);
    for (HsmKey k : made) {
      assertThat(counts(k)).as("copied to c on its return").containsExactly(1, 1, 1);
    }
  }

  @Test
  void aPrivateKeyUnwrapsAsAReplicatedKeyThatSigns() throws Exception {
    byte[] kekValue = random(32);
    SecretKey kek = imported(kekValue);
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", "SunEC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair soft = g.generateKeyPair();
    Cipher ref = Cipher.getInstance("AES/KWP/NoPadding", "SunJCE");
    ref.init(Cipher.WRAP_MODE, new SecretKeySpec(kekValue, "AES"));
    byte[] wrapped = ref.wrap(soft.getPrivate());
    Cipher u = Cipher.getInstance("AESWrapPad", p);
    u.init(Cipher.UNWRAP_MODE, kek);
    PrivateKey k = (PrivateKey) u.unwrap(wrapped, "EC", Cipher.PRIVATE_KEY);
    assertThat(counts((HsmKey) k)).containsExactly(1, 1, 1);
    for (int i = 0; i < 6; i++) {
      Signature s = Signature.getInstance("SHA256withECDSA", p);
      s.initSign(k);
      s.update(new byte[] {(byte) i});
      byte[] sig = s.sign();
      Signature v = Signature.getInstance("SHA256withECDSA", "SunEC");
      v.initVerify(soft.getPublic());
      v.update(new byte[] {(byte) i});
      assertThat(v.verify(sig)).isTrue();
    }
    // the JDK parses the same encoding: the unwrapped key is that key
    assertThat(KeyFactory.getInstance("EC").generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(soft.getPrivate().getEncoded())))
        .isNotNull();
  }
}
