package io.hsmkit.kms.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.kms.backing.token.TokenKeyBacking;
import io.hsmkit.provider.keys.HsmKey;
import java.security.Key;
import java.util.UUID;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import org.junit.jupiter.api.Test;

/**
 * The label -> key cache of {@link TokenKeyBacking}: repeated look-ups do not search the token,
 * and a key destroyed and made again under the same label (by this backing, or by another one on
 * the same token, as a second KMS node would) is never answered with the old entry.
 */
class TokenKeyBackingCacheTest {
  static String label() {
    return "arn:aws:kms:eu-west-1:111122223333:key/" + UUID.randomUUID();
  }

  static byte[] id(Key k) {
    return ((HsmKey) k).id();
  }

  static byte[] roundTrip(TokenKeyBacking b, Key k, byte[] pt) throws Exception {
    byte[] iv = new byte[12];
    Cipher e = Cipher.getInstance("AES/GCM/NoPadding", b.provider());
    e.init(Cipher.ENCRYPT_MODE, k, new GCMParameterSpec(128, iv));
    byte[] ct = e.doFinal(pt);
    Cipher d = Cipher.getInstance("AES/GCM/NoPadding", b.provider());
    d.init(Cipher.DECRYPT_MODE, k, new GCMParameterSpec(128, iv));
    return d.doFinal(ct);
  }

  @Test
  void repeatedLookUpsDoNotSearchTheToken() throws Exception {
    TokenKeyBacking b = new TokenKeyBacking(KmsFixture.provider());
    String label = label();
    Key k = b.createAes256(label);
    long before = b.searches();
    for (int i = 0; i < 20; i++) {
      assertThat(id(b.find(label))).isEqualTo(id(k));
    }
    assertThat(b.searches() - before).as("one search, then the cache").isEqualTo(1);
    assertThat(roundTrip(b, b.find(label), new byte[] {1, 2, 3})).containsExactly(1, 2, 3);
    // a label that is not there is searched every time (nothing to cache)
    long missing = b.searches();
    assertThat(b.find(label())).isNull();
    assertThat(b.find(label())).isNull();
    assertThat(b.searches() - missing).isEqualTo(2 * 2); // secret key, then private key, each time
  }

  @Test
  void destroyAndRecreateUnderTheSameLabelIsNotAnsweredFromTheCache() throws Exception {
    TokenKeyBacking b = new TokenKeyBacking(KmsFixture.provider());
    String label = label();
    Key old = b.createAes256(label);
    assertThat(id(b.find(label))).isEqualTo(id(old));
    b.destroy(label);
    assertThat(b.find(label)).isNull();
    Key fresh = b.createAes256(label);
    assertThat(id(fresh)).isNotEqualTo(id(old));
    assertThat(id(b.find(label))).isEqualTo(id(fresh));
    assertThat(roundTrip(b, b.find(label), new byte[] {4})).containsExactly(4);
  }

  @Test
  void anotherBackingOnTheSameTokenReplacingTheKeyIsSeen() throws Exception {
    TokenKeyBacking node1 = new TokenKeyBacking(KmsFixture.provider());
    TokenKeyBacking node2 = new TokenKeyBacking(KmsFixture.provider());
    String label = label();
    Key old = node1.createAes256(label);
    assertThat(id(node1.find(label))).isEqualTo(id(old)); // cached by node 1
    node2.destroy(label);
    assertThat(node1.find(label)).as("node 1's entry checked against the token: gone").isNull();
    Key fresh = node2.createAes256(label);
    assertThat(id(node1.find(label))).as("node 1 finds the new key, not its old entry").isEqualTo(id(fresh));

    // the same with the ordering reversed: node 1 has the new key cached, node 2 replaces it again
    node2.destroy(label);
    Key third = node2.createAes256(label);
    assertThat(id(node1.find(label))).isEqualTo(id(third));
    node1.destroy(label);
    assertThat(node2.find(label)).isNull();
  }

  @Test
  void publicHalvesAreCachedAndForgottenLikeTheirKeys() {
    TokenKeyBacking b = new TokenKeyBacking(KmsFixture.provider());
    String label = label();
    Key priv = b.createEc(label, TokenKeyBacking.P256);
    Key pub = b.findPublic(label);
    long before = b.searches();
    assertThat(id(b.findPublic(label))).isEqualTo(id(pub)).isEqualTo(id(priv));
    assertThat(id(b.find(label))).isEqualTo(id(priv));
    b.find(label);
    assertThat(b.searches() - before).as("private: secret-key miss, private-key search; then cached").isLessThanOrEqualTo(2);
    b.destroy(label);
    assertThat(b.findPublic(label)).isNull();
    assertThat(b.find(label)).isNull();
  }
}
