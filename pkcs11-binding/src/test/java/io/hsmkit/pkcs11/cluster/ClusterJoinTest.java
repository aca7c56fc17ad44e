package io.hsmkit.pkcs11.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import java.math.BigInteger;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The authenticated join: member c (its cluster wrapping key removed before each test) joins from
 * b; the relay between the tokens is tampered with, or the pinned fingerprint is wrong, and the
 * join must refuse, naming the member, with no key reaching c.
 */
class ClusterJoinTest {
  static ClusterFixture fx;

  @BeforeAll
  static void setUp() {
    fx = new ClusterFixture("cljoin"); // joined once already, through join(SoToken, SoToken): identities exist
  }

  @AfterAll
  static void tearDown() {
    fx.close();
  }

  @BeforeEach
  void cLeaves() {
    try (ClusterAdmin.SoToken c = fx.so(2)) {
      ClusterAdmin.leave(c);
    }
  }

  static String fingerprint(int i) {
    try (ClusterAdmin.SoToken t = fx.so(i)) {
      return ClusterAdmin.ensureIdentity(t).fingerprint();
    }
  }

  static boolean cHasClusterKey() {
    try (Session s = fx.direct.slotByTokenLabel(fx.labels[2]).orElseThrow().openSession(false)) {
      return ClusterAdmin.hasWrapKey(s);
    }
  }

  /** A P-256 point nobody in the cluster holds the private key of (DER OCTET STRING of 04||x||y, as CKA_EC_POINT). */
  static byte[] strangerPoint() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    ECPublicKey pub = (ECPublicKey) g.generateKeyPair().getPublic();
    byte[] out = new byte[67];
    out[0] = 0x04;
    out[1] = 0x41;
    out[2] = 0x04;
    fixed(pub.getW().getAffineX(), out, 3);
    fixed(pub.getW().getAffineY(), out, 35);
    return out;
  }

  static void fixed(BigInteger v, byte[] out, int off) {
    byte[] b = v.toByteArray();
    int n = Math.min(b.length, 32);
    System.arraycopy(b, b.length - n, out, off + 32 - n, n);
  }

  static void join(ClusterAdmin.Relay relay, String pinnedB, String pinnedC) {
    try (ClusterAdmin.SoToken b = fx.so(1); ClusterAdmin.SoToken c = fx.so(2)) {
      ClusterAdmin.join("test-cluster", new ClusterAdmin.Party("b", b, pinnedB), new ClusterAdmin.Party("c", c, pinnedC), relay);
    }
  }

  @Test
  void aJoinWithThePinnedIdentitiesGivesTheClusterKeyAndTheClusterWorks() {
    join(ClusterAdmin.Relay.DIRECT, fingerprint(1), fingerprint(2));
    assertThat(cHasClusterKey()).isTrue();
    try (Cluster c = Cluster.open(fx.config())) {
      assertThat(c.members()).allMatch(m -> m.health() == MemberHealth.HEALTHY);
      ClusterKey k = c.generateSecretKey("after-join", 32);
      Member mc = c.member("c");
      int onC = mc.pool.execute(s -> s.findObjects(2, Attribute.bytes(CKA.ID, k.id())).length);
      assertThat(onC).isEqualTo(1);
    }
  }

  /** Cases: what the relay (or the file) does, and the member the refusal names. */
  @ParameterizedTest
  @CsvSource({
      "source-point-swapped, b, does not verify",
      "target-point-swapped, b, does not verify",
      "source-identity-replaced, b, not the pinned",
      "target-identity-replaced, c, not the pinned",
      "source-signature-random, b, does not verify",
      "target-signature-reflected, c, does not verify",
      "wrong-pin-for-target, c, not the pinned",
      "wrong-pin-for-source, b, not the pinned",
      "target-without-identity, c, 0 identity keys"})
  void aTamperedJoinIsRefusedNamingTheMemberAndNoKeyReachesIt(String kase, String member, String reason) throws Exception {
    String fa = fingerprint(0);
    String fb = fingerprint(1);
    String fc = fingerprint(2);
    byte[] stranger = strangerPoint();
    byte[] aIdentity = identityPoint(0);
    byte[][] sourceSig = new byte[1][];
    ClusterAdmin.Relay relay = new ClusterAdmin.Relay() {
      @Override
      public ClusterAdmin.Offer offer(String from, ClusterAdmin.Offer o) {
        return switch (kase) {
          case "source-point-swapped" -> from.equals("b") ? new ClusterAdmin.Offer(o.identityPoint(), stranger) : o;
          case "target-point-swapped" -> from.equals("c") ? new ClusterAdmin.Offer(o.identityPoint(), stranger) : o;
          case "source-identity-replaced" -> from.equals("b") ? new ClusterAdmin.Offer(aIdentity, o.ephemeralPoint()) : o;
          case "target-identity-replaced" -> from.equals("c") ? new ClusterAdmin.Offer(aIdentity, o.ephemeralPoint()) : o;
          default -> o;
        };
      }

      @Override
      public byte[] signature(String from, byte[] sig) {
        if (from.equals("b")) {
          sourceSig[0] = sig;
        }
        return switch (kase) {
          case "source-signature-random" -> from.equals("b") ? new byte[64] : sig;
          case "target-signature-reflected" -> from.equals("c") ? sourceSig[0] : sig; // b's own signature sent back as c's
          default -> sig;
        };
      }
    };
    String pinB = kase.equals("wrong-pin-for-source") ? fa : fb;
    String pinC = kase.equals("wrong-pin-for-target") ? fa : fc;
    if (kase.equals("target-without-identity")) {
      try (ClusterAdmin.SoToken c = fx.so(2); Session s = c.open()) {
        for (long h : s.findObjects(4, Attribute.bytes(CKA.ID, ClusterAdmin.IDENTITY_ID))) {
          s.destroyObject(h);
        }
        s.logout();
      }
    }
    assertThatThrownBy(() -> join(relay, pinB, pinC)).isInstanceOfSatisfying(JoinRefusedException.class, e -> {
      assertThat(e.member()).isEqualTo(member);
      assertThat(e.membersTried()).containsExactly(member);
      assertThat(e.getMessage()).startsWith("join refused: member " + member + ": ").contains(reason)
          .doesNotContain(new String(fx.token.soPin()));
    });
    assertThat(cHasClusterKey()).as("no cluster key reached c").isFalse();
    // and the honest join still works afterwards (c gets a new identity where it lost one)
    join(ClusterAdmin.Relay.DIRECT, fingerprint(1), fingerprint(2));
    assertThat(cHasClusterKey()).isTrue();
  }

  static byte[] identityPoint(int i) {
    try (Session s = fx.direct.slotByTokenLabel(fx.labels[i]).orElseThrow().openSession(false)) {
      long h = s.findObjects(2, Attribute.ulong(CKA.CLASS, CKO.PUBLIC_KEY), Attribute.bytes(CKA.ID, ClusterAdmin.IDENTITY_ID))[0];
      return s.getAttribute(h, CKA.EC_POINT).value();
    }
  }

  @Test
  void ensureIdentityIsIdempotentAndEveryMemberHasItsOwn() {
    String fa = fingerprint(0);
    assertThat(fa).matches("sha256:[0-9a-f]{64}");
    try (ClusterAdmin.SoToken a = fx.so(0)) {
      ClusterAdmin.Identity again = ClusterAdmin.ensureIdentity(a);
      assertThat(again.created()).isFalse();
      assertThat(again.fingerprint()).isEqualTo(fa);
    }
    assertThat(fingerprint(1)).isNotEqualTo(fa);
    assertThatThrownBy(() -> new ClusterAdmin.Party("b", fx.so(1), "sha256:abc")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("member b");
  }

  /** The identity private key through the binding, and what pkcs11-tool (OpenSC) shows of it. */
  @Test
  void theIdentityKeyIsSensitiveAndNeverExtractable() throws Exception {
    try (Session s = fx.direct.slotByTokenLabel(fx.labels[0]).orElseThrow().openSession(false)) {
      long[] h = s.findObjects(2, Attribute.ulong(CKA.CLASS, CKO.PRIVATE_KEY), Attribute.bytes(CKA.ID, ClusterAdmin.IDENTITY_ID));
      assertThat(h).hasSize(1);
      Attribute[] a = s.getAttributes(h[0], CKA.SENSITIVE, CKA.EXTRACTABLE, CKA.NEVER_EXTRACTABLE, CKA.ALWAYS_SENSITIVE, CKA.SIGN,
          CKA.DERIVE, CKA.DECRYPT, CKA.UNWRAP, CKA.WRAP_WITH_TRUSTED, CKA.MODIFIABLE, CKA.PRIVATE);
      assertThat(a[0].asBool()).as("sensitive").isTrue();
      assertThat(a[1].asBool()).as("extractable").isFalse();
      assertThat(a[2].asBool()).as("never extractable").isTrue();
      assertThat(a[3].asBool()).as("always sensitive").isTrue();
      assertThat(a[4].asBool()).as("sign").isTrue();
      assertThat(a[5].asBool() || a[6].asBool() || a[7].asBool()).as("derive, decrypt, unwrap").isFalse();
      assertThat(a[8].asBool()).as("not a replicated key").isFalse();
      assertThat(a[9].asBool()).as("modifiable").isFalse();
      assertThat(a[10].asBool()).as("private: the SO can only make public objects").isFalse();
    }
    String out = fx.pkcs11Tool(0, "--list-objects", "--type", "privkey");
    System.out.println("pkcs11-tool --list-objects --type privkey on member a:\n" + out);
    String block = out.substring(out.indexOf("label:      " + ClusterAdmin.IDENTITY_LABEL));
    int access = block.indexOf("Access:");
    int eol = block.indexOf('\n', access);
    String accessLine = block.substring(access, eol < 0 ? block.length() : eol);
    assertThat(accessLine).contains("sensitive").contains("never extractable");
    assertThat(accessLine.replace("never extractable", "")).doesNotContain("extractable");
    assertThat(block.substring(0, access)).contains("Usage:      sign");
  }
}
