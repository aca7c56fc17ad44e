package io.hsmkit.kms.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.store.Database;
import io.hsmkit.kms.testing.TestDatabases;
import io.hsmkit.pkcs11.testing.TestToken;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.quorum.Action;
import io.hsmkit.quorum.Approval;
import io.hsmkit.quorum.ApprovalToken;
import io.hsmkit.quorum.AuditLog;
import io.hsmkit.quorum.QuorumAuthorizer;
import io.hsmkit.quorum.QuorumWindows;
import io.hsmkit.quorum.RegistrationChallenge;
import io.hsmkit.quorum.Service;
import io.hsmkit.quorum.SignatureScheme;
import io.hsmkit.quorum.store.InMemoryQuorumStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Principals on a real SoftHSM2 token and on both databases: secrets returned once and stored
 * only wrapped, look-ups for SigV4, deactivation and deletion, and the user quorum (K = 2).
 */
class PrincipalsTest {
  static HsmKitProvider provider;

  @BeforeAll
  static void token() throws Exception {
    String name = "kms-access-principals";
    TestToken t = TestToken.create(name, name);
    Path dir = TestToken.buildDir().resolve("tokens").resolve(name);
    Path pin = dir.resolve("user.pin");
    Files.writeString(pin, new String(t.userPin()));
    pin.toFile().setReadable(false, false);
    pin.toFile().setReadable(true, true);
    Path cfg = dir.resolve("hsmkit.cfg");
    Files.writeString(cfg, "library = " + t.library() + "\ntokenLabel = " + t.label() + "\npin = file:" + pin + "\n");
    provider = new HsmKitProvider(cfg.toString());
  }

  static Principals principals(TestDatabases.Kind kind) {
    return new Principals(TestDatabases.fresh(kind), provider, null);
  }

  static final String IDENTITY = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Resource\":\"*\"}}";

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void theSecretIsReturnedOnceAndStoredOnlyWrapped(TestDatabases.Kind kind) throws Exception {
    Database db = TestDatabases.fresh(kind);
    Principals ps = new Principals(db, provider, null);
    try (Principals.NewPrincipal np = ps.create("alice", "111122223333", IDENTITY, null)) {
      String id = np.principal().accessKeyId();
      String secret = new String(np.secretAccessKey());
      assertThat(id).matches("AKIA[A-Z2-7]{16}");
      assertThat(secret).hasSize(40).matches("[A-Za-z0-9+/]{40}");
      assertThat(np.principal().arn()).isEqualTo("arn:aws:iam::111122223333:user/alice");
      assertThat(np.toString()).doesNotContain(secret);

      // Every column of the row, as text: the secret is in none of them, in any encoding.
      List<String> row = db.inTransaction(c -> {
        try (var st = c.prepareStatement("SELECT * FROM kms_principal WHERE access_key_id = ?")) {
          st.setString(1, id);
          try (ResultSet rs = st.executeQuery()) {
            rs.next();
            ResultSetMetaData md = rs.getMetaData();
            List<String> out = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
              out.add(String.valueOf(rs.getString(i)));
            }
            return out;
          }
        }
      });
      String b64 = Base64.getEncoder().encodeToString(secret.getBytes(StandardCharsets.US_ASCII));
      for (String v : row) {
        assertThat(v).doesNotContain(secret).doesNotContain(secret.substring(0, 16)).doesNotContain(b64.substring(0, 20));
      }
      String wrapped = db.inTransaction(c -> {
        try (var st = c.prepareStatement("SELECT wrapped_secret FROM kms_principal WHERE access_key_id = ?")) {
          st.setString(1, id);
          try (ResultSet rs = st.executeQuery()) {
            rs.next();
            return rs.getString(1);
          }
        }
      });
      byte[] raw = Base64.getDecoder().decode(wrapped);
      assertThat(raw).hasSize(1 + 12 + 40 + 16); // version, IV, ciphertext, tag
      assertThat(raw[0]).isEqualTo((byte) 1);

      // SigV4's look-up unwraps it into a fresh array, wiped on close.
      char[] seen;
      try (CredentialLookup.Credential cred = ps.find(id).orElseThrow()) {
        seen = cred.secretAccessKey();
        assertThat(new String(seen)).isEqualTo(secret);
        assertThat(cred.principal().principalArn()).isEqualTo("arn:aws:iam::111122223333:user/alice");
        assertThat(cred.principal().identityPolicyJson()).isEqualTo(IDENTITY);
        assertThat(cred.principal().accessKeyId()).isEqualTo(id);
        assertThat(cred.toString()).doesNotContain(secret);
      }
      assertThat(seen).containsOnly('\0');
    }
  }

  @Test
  void theWrappingKeyIsASensitiveNonExtractableTokenObjectAndSurvivesARestart() throws Exception {
    Database db = TestDatabases.fresh(TestDatabases.Kind.H2);
    String id;
    String secret;
    try (Principals.NewPrincipal np = new Principals(db, provider, null).create("bob", "111122223333", null, null)) {
      id = np.principal().accessKeyId();
      secret = new String(np.secretAccessKey());
    }
    KeyStore ks = KeyStore.getInstance("HsmKit", provider);
    ks.load(null, null);
    Key k = ks.getKey(Principals.WRAP_KEY_LABEL, null);
    assertThat(k).isInstanceOf(HsmKey.class);
    HsmKey hk = (HsmKey) k;
    assertThat(hk.isTokenObject()).isTrue();
    assertThat(hk.isSensitive()).isTrue();
    assertThat(hk.isExtractable()).isFalse();
    assertThat(k.getEncoded()).isNull();
    // A new service object (as after a restart) finds the same key and unwraps the old secret.
    try (CredentialLookup.Credential cred = new Principals(db, provider, null).find(id).orElseThrow()) {
      assertThat(new String(cred.secretAccessKey())).isEqualTo(secret);
    }
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void unknownDeactivatedAndDeletedKeysFindNothing(TestDatabases.Kind kind) {
    Principals ps = principals(kind);
    String id;
    try (Principals.NewPrincipal np = ps.create("carol", "111122223333", null, null)) {
      id = np.principal().accessKeyId();
    }
    assertThat(ps.find("AKIAAAAAAAAAAAAAAAAA")).isEmpty();
    assertThat(ps.find("")).isEmpty();
    assertThat(ps.find(null)).isEmpty();
    assertThat(ps.find(id)).isPresent().get().satisfies(CredentialLookup.Credential::close);
    ps.setActive(id, false);
    assertThat(ps.find(id)).isEmpty();
    assertThat(ps.get(id)).get().extracting(Principals.Principal::active).isEqualTo(false);
    ps.setActive(id, true);
    assertThat(ps.find(id)).isPresent().get().satisfies(CredentialLookup.Credential::close);
    ps.delete(id, null);
    assertThat(ps.find(id)).isEmpty();
    assertThat(ps.get(id)).isEmpty();
    assertThatThrownBy(() -> ps.delete(id, null)).isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.NOT_FOUND));
    assertThatThrownBy(() -> ps.setActive(id, true)).isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.NOT_FOUND));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void listAndPolicyUpdates(TestDatabases.Kind kind) {
    Principals ps = principals(kind);
    ps.create("zed", "111122223333", null, null).close();
    ps.create("amy", "111122223333", IDENTITY, null).close();
    ps.create("amy", "444455556666", null, null).close(); // the same name in another account
    List<Principals.Principal> all = ps.list();
    assertThat(all).extracting(Principals.Principal::arn).containsExactly("arn:aws:iam::111122223333:user/amy",
        "arn:aws:iam::111122223333:user/zed", "arn:aws:iam::444455556666:user/amy");
    String zed = all.get(1).accessKeyId();
    ps.setIdentityPolicy(zed, IDENTITY);
    assertThat(ps.get(zed).orElseThrow().identityPolicyJson()).isEqualTo(IDENTITY);
    assertThatThrownBy(() -> ps.setIdentityPolicy(zed, "{\"Statement\":[]}"))
        .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.MALFORMED_POLICY_DOCUMENT));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void invalidCreationsAreRefused(TestDatabases.Kind kind) {
    Principals ps = principals(kind);
    ps.create("dup", "111122223333", null, null).close();
    Object[][] cases = {
        {"dup", "111122223333", null, KmsError.ALREADY_EXISTS},
        {"", "111122223333", null, KmsError.VALIDATION},
        {"has space", "111122223333", null, KmsError.VALIDATION},
        {"x".repeat(65), "111122223333", null, KmsError.VALIDATION},
        {"ok", "1111", null, KmsError.VALIDATION},
        {"ok", null, null, KmsError.VALIDATION},
        {"ok", "111122223333", "{not json", KmsError.MALFORMED_POLICY_DOCUMENT},
        {"ok", "111122223333", "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\",\"Resource\":\"*\"}}", KmsError.MALFORMED_POLICY_DOCUMENT}};
    for (Object[] c : cases) {
      assertThatThrownBy(() -> ps.create((String) c[0], (String) c[1], (String) c[2], null)).as("%s/%s", c[0], c[1])
          .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(c[3]));
    }
    assertThat(ps.list()).hasSize(1);
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void aSecretMovedToAnotherRowDoesNotUnwrap(TestDatabases.Kind kind) {
    Database db = TestDatabases.fresh(kind);
    Principals ps = new Principals(db, provider, null);
    String a;
    String b;
    try (Principals.NewPrincipal pa = ps.create("a", "111122223333", null, null); Principals.NewPrincipal pb = ps.create("b", "111122223333", null, null)) {
      a = pa.principal().accessKeyId();
      b = pb.principal().accessKeyId();
    }
    // The attacker with database access copies b's wrapped secret over a's: the AAD binds it to b.
    db.inTransaction(c -> {
      try (var st = c.prepareStatement("UPDATE kms_principal SET wrapped_secret = (SELECT wrapped_secret FROM kms_principal WHERE access_key_id = ?) WHERE access_key_id = ?")) {
        st.setString(1, b);
        st.setString(2, a);
        return st.executeUpdate();
      }
    });
    assertThatThrownBy(() -> ps.find(a)).isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.KMS_INTERNAL))
        .hasMessageContaining("does not unwrap");
    assertThat(ps.find(b)).isPresent().get().satisfies(CredentialLookup.Credential::close);
  }

  // ---------------------------------------------------------------- quorum

  /** Three officers with EC keys and a user quorum of K. */
  static final class Quorum {
    final InMemoryQuorumStore store = new InMemoryQuorumStore();
    final QuorumAuthorizer authorizer = new QuorumAuthorizer(store, new AuditLog(store, new byte[32], Clock.systemUTC()), Clock.systemUTC(),
        new SecureRandom(), QuorumWindows.CLOUDHSM);
    final Map<String, KeyPair> keys = new HashMap<>();

    Quorum(int userK) throws Exception {
      for (String o : List.of("alice", "bob", "carol")) {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = g.generateKeyPair();
        keys.put(o, kp);
        RegistrationChallenge ch = authorizer.challenge(o, kp.getPublic(), SignatureScheme.SHA256_WITH_ECDSA);
        authorizer.register(ch, SignatureScheme.SHA256_WITH_ECDSA.sign(kp.getPrivate(), ch.toBytes()), null);
      }
      if (userK > 1) {
        authorizer.setValue(Service.QUORUM, 2, null);
        authorizer.setValue(Service.USER, userK, approve(QuorumAuthorizer.setValueAction(Service.USER, userK), "alice", "bob"));
      }
    }

    QuorumAuthorizer.Authorization approve(Action action, String... officers) throws Exception {
      ApprovalToken t = authorizer.requestToken(action, "admin");
      List<Approval> approvals = new ArrayList<>();
      for (String o : officers) {
        approvals.add(authorizer.receiveApproval(t, o, SignatureScheme.SHA256_WITH_ECDSA.sign(keys.get(o).getPrivate(), t.toBytes())));
      }
      return new QuorumAuthorizer.Authorization(t, approvals);
    }
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void creatingAndDeletingPrincipalsNeedTwoApprovalsWhenUserIsTwo(TestDatabases.Kind kind) throws Exception {
    Quorum q = new Quorum(2);
    Principals ps = new Principals(TestDatabases.fresh(kind), provider, q.authorizer);
    Action create = Principals.createAction("erin", "111122223333");

    assertThatThrownBy(() -> ps.create("erin", "111122223333", null, null))
        .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.ACCESS_DENIED))
        .hasMessageContaining("user/create-principal needs a quorum approval: 2 of 3")
        .hasMessageContaining("request its token with: hsmkit quorum token create --service user --operation create-principal --arg account=111122223333 --arg name=erin --requester");
    QuorumAuthorizer.Authorization one = q.approve(create, "alice");
    assertThatThrownBy(() -> ps.create("erin", "111122223333", null, one))
        .isInstanceOf(KmsException.class).hasMessageContaining("missing 1");
    q.authorizer.withdraw(one.token());
    // A token approved for another name does not create this one.
    QuorumAuthorizer.Authorization other = q.approve(Principals.createAction("mallory", "111122223333"), "alice", "bob");
    assertThatThrownBy(() -> ps.create("erin", "111122223333", null, other)).isInstanceOf(KmsException.class).hasMessageContaining("ACTION_MISMATCH");
    q.authorizer.withdraw(other.token());
    assertThat(ps.list()).isEmpty();

    QuorumAuthorizer.Authorization two = q.approve(create, "alice", "carol");
    String id;
    try (Principals.NewPrincipal np = ps.create("erin", "111122223333", null, two)) {
      id = np.principal().accessKeyId();
    }
    assertThat(ps.find(id)).isPresent().get().satisfies(CredentialLookup.Credential::close);
    // the token is spent
    assertThatThrownBy(() -> ps.create("erin2", "111122223333", null, two)).isInstanceOf(KmsException.class);

    Principals.Principal p = ps.get(id).orElseThrow();
    assertThatThrownBy(() -> ps.delete(id, null)).isInstanceOf(KmsException.class).hasMessageContaining("user/delete-principal needs a quorum approval");
    assertThat(ps.get(id)).isPresent();
    ps.delete(id, q.approve(Principals.deleteAction(p), "bob", "carol"));
    assertThat(ps.get(id)).isEmpty();
  }

  @Test
  void withUserQuorumOneNoApprovalIsNeeded() throws Exception {
    Quorum q = new Quorum(1);
    Principals ps = new Principals(TestDatabases.fresh(TestDatabases.Kind.H2), provider, q.authorizer);
    try (Principals.NewPrincipal np = ps.create("frank", "111122223333", null, null)) {
      ps.delete(np.principal().accessKeyId(), null);
    }
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void theAccountRootIsAPrincipalOfItsOwn(TestDatabases.Kind kind) {
    Principals ps = principals(kind);
    String id;
    try (Principals.NewPrincipal np = ps.createAccountRoot("111122223333", null)) {
      id = np.principal().accessKeyId();
      assertThat(np.principal().arn()).isEqualTo("arn:aws:iam::111122223333:root");
    }
    try (CredentialLookup.Credential c = ps.find(id).orElseThrow()) {
      // the default key policy lets it do everything on the account's keys
      new PolicyAccessControl().check(new AccessRequest(c.principal(), "kms:ScheduleKeyDeletion",
          "arn:aws:kms:us-east-1:111122223333:key/k", KeyPolicies.defaultPolicy("111122223333"), List.of(), Map.of(), List.of()));
    }
    assertThatThrownBy(() -> ps.createAccountRoot("111122223333", null))
        .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.ALREADY_EXISTS));
    assertThatThrownBy(() -> ps.create("root", "444455556666", null, null))
        .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.VALIDATION));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void concurrentCreatesOfOneNameLeaveOne(TestDatabases.Kind kind) throws Exception {
    Principals ps = principals(kind);
    int n = 6;
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(n);
    java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
    List<java.util.concurrent.Future<String>> results = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      results.add(pool.submit(() -> {
        start.await();
        try (Principals.NewPrincipal np = ps.create("racer", "111122223333", null, null)) {
          return "created";
        } catch (KmsException e) {
          return e.error().name();
        }
      }));
    }
    start.countDown();
    List<String> outcomes = new ArrayList<>();
    for (var f : results) {
      outcomes.add(f.get(60, java.util.concurrent.TimeUnit.SECONDS));
    }
    pool.shutdown();
    assertThat(outcomes).containsOnlyOnce("created");
    assertThat(outcomes.stream().filter(o -> !o.equals("created"))).containsOnly("ALREADY_EXISTS");
    assertThat(ps.list()).hasSize(1);
  }

  @Test
  void aProviderThatMakesExtractableKeysIsRefusedBeforeAnyKeyIsMade() throws Exception {
    Path cfg = TestToken.buildDir().resolve("tokens").resolve("kms-access-principals").resolve("hsmkit.cfg");
    Path weakCfg = cfg.resolveSibling("weak.cfg");
    Files.writeString(weakCfg, Files.readString(cfg) + "name = weak\nkeys.extractable = true\n");
    HsmKitProvider weak = new HsmKitProvider(weakCfg.toString());
    assertThatThrownBy(() -> TokenKeys.getOrCreate(weak, "hsmkit-kms-test-weak", "AES", 256))
        .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.KMS_INTERNAL))
        .hasMessageContaining("keys.extractable");
    KeyStore ks = KeyStore.getInstance("HsmKit", provider);
    ks.load(null, null);
    assertThat(ks.containsAlias("hsmkit-kms-test-weak")).isFalse();
  }
}
