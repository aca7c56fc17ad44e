package io.hsmkit.kms.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.access.AccessRequest;
import io.hsmkit.kms.access.Grant;
import io.hsmkit.kms.access.PolicyAccessControl;
import io.hsmkit.kms.http.QuorumApprovalHeader;
import io.hsmkit.kms.store.Database;
import io.hsmkit.kms.testing.TestDatabases;
import io.hsmkit.quorum.Action;
import io.hsmkit.quorum.ApprovalToken;
import io.hsmkit.quorum.AuditLog;
import io.hsmkit.quorum.Officer;
import io.hsmkit.quorum.SignatureScheme;
import io.hsmkit.quorum.QuorumAuthorizer;
import io.hsmkit.quorum.QuorumWindows;
import io.hsmkit.quorum.Service;
import io.hsmkit.quorum.store.InMemoryQuorumStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The server's access control around PolicyAccessControl: grant tokens of the core's grants (known
 * ones pass and are dropped, unknown ones are InvalidGrantToken, more than ten a validation
 * error), and the key-management quorum guard; plus the configuration's checks. On H2 and
 * PostgreSQL; no token needed (the policies decide in the JVM).
 */
class ServerAccessControlTest {
  static final String ACCOUNT = "111122223333";
  static final String KEY = "arn:aws:kms:us-east-1:" + ACCOUNT + ":key/1b1c0b6e-7c3f-4a53-9a59-0c1f1f0f0f0f";
  static final Caller ROOT = Caller.of("arn:aws:iam::" + ACCOUNT + ":root", ACCOUNT, null);
  static final Caller BOB = Caller.of("arn:aws:iam::" + ACCOUNT + ":user/bob", ACCOUNT, null);
  static final String POLICY = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::"
      + ACCOUNT + ":root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}";

  static ServerAccessControl access(Database db, QuorumAuthorizer quorum) {
    return new ServerAccessControl(new PolicyAccessControl(ServerAccessControl.grantTokensIn(db)), db, quorum);
  }

  /** The authorizer the server would build over {@code store}: system clock, CloudHSM windows. */
  static QuorumAuthorizer authorizer(InMemoryQuorumStore store) {
    return new QuorumAuthorizer(store, new AuditLog(store, new byte[32], Clock.systemUTC()), Clock.systemUTC(), new SecureRandom(),
        QuorumWindows.CLOUDHSM);
  }

  /** Officers alice and bob with fresh Ed25519 keys, a key-management quorum of 2, and the authorizer over them. */
  record TwoOfficers(Map<String, KeyPair> keys, QuorumAuthorizer quorum) {
    static TwoOfficers create() throws GeneralSecurityException {
      InMemoryQuorumStore store = new InMemoryQuorumStore();
      Map<String, KeyPair> keys = new java.util.LinkedHashMap<>();
      for (String id : List.of("alice", "bob")) {
        KeyPair kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        keys.put(id, kp);
        store.putOfficer(new Officer(id, kp.getPublic(), SignatureScheme.ED25519));
      }
      store.setValue(Service.KEY_MANAGEMENT, 2);
      return new TwoOfficers(Map.copyOf(keys), authorizer(store));
    }

    /** The first {@code n} officers (alice, then bob) approve {@code t}. */
    void approve(ApprovalToken t, int n) {
      for (String id : List.of("alice", "bob").subList(0, n)) {
        try {
          quorum.receiveApproval(t, id, SignatureScheme.ED25519.sign(keys.get(id).getPrivate(), t.toBytes()));
        } catch (GeneralSecurityException x) {
          throw new IllegalStateException(x);
        }
      }
    }
  }

  static void insertGrant(Database db, String grantId, String token) {
    db.inTransaction(c -> {
      try (PreparedStatement st = c.prepareStatement("INSERT INTO kms_grant (grant_id, key_id, grantee_principal, issuing_account, "
          + "grant_operations, grant_token, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
        st.setString(1, grantId);
        st.setString(2, "1b1c0b6e-7c3f-4a53-9a59-0c1f1f0f0f0f");
        st.setString(3, BOB.principalArn());
        st.setString(4, "arn:aws:iam::" + ACCOUNT + ":root");
        st.setString(5, "Encrypt");
        st.setString(6, token);
        st.setLong(7, 0);
        st.executeUpdate();
      }
      return null;
    });
  }

  static AccessRequest encrypt(Caller caller, List<Grant> grants, List<String> tokens) {
    return new AccessRequest(caller, "kms:Encrypt", KEY, POLICY, grants, Map.of(), tokens);
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void grantTokensOfTheCoresGrants(TestDatabases.Kind kind) {
    Database db = TestDatabases.fresh(kind);
    ServerAccessControl access = access(db, null);
    insertGrant(db, "g1", "token-of-g1");
    Grant g = new Grant("g1", KEY, null, BOB.principalArn(), null, "arn:aws:iam::" + ACCOUNT + ":root", Set.of("Encrypt"), null, Instant.EPOCH);
    // The grant in the key's list allows; its token is known and passes with it.
    assertThatCode(() -> access.check(encrypt(BOB, List.of(g), List.of("token-of-g1")))).doesNotThrowAnyException();
    // Without the grant, bob is denied: a token alone brings no grant here.
    assertThatThrownBy(() -> access.check(encrypt(BOB, List.of(), List.of("token-of-g1"))))
        .isInstanceOf(KmsException.class).extracting(e -> ((KmsException) e).error()).isEqualTo(KmsError.ACCESS_DENIED);
    // Unknown, empty, and too many tokens.
    assertThatThrownBy(() -> access.check(encrypt(ROOT, List.of(), List.of("forged"))))
        .extracting(e -> ((KmsException) e).error()).isEqualTo(KmsError.INVALID_GRANT_TOKEN);
    assertThatThrownBy(() -> access.check(encrypt(ROOT, List.of(), List.of(""))))
        .extracting(e -> ((KmsException) e).error()).isEqualTo(KmsError.INVALID_GRANT_TOKEN);
    assertThatThrownBy(() -> access.check(encrypt(ROOT, List.of(), Collections.nCopies(11, "token-of-g1"))))
        .extracting(e -> ((KmsException) e).error()).isEqualTo(KmsError.VALIDATION);
    // A revoked grant (its row gone): its token is no longer known.
    db.inTransaction(c -> c.createStatement().executeUpdate("DELETE FROM kms_grant WHERE grant_id = 'g1'"));
    assertThatThrownBy(() -> access.check(encrypt(ROOT, List.of(), List.of("token-of-g1"))))
        .extracting(e -> ((KmsException) e).error()).isEqualTo(KmsError.INVALID_GRANT_TOKEN);
  }

  @ParameterizedTest
  @CsvSource({"1, kms:ScheduleKeyDeletion, true", "2, kms:ScheduleKeyDeletion, false", "2, kms:PutKeyPolicy, false",
      "2, kms:ImportKeyMaterial, false", "2, kms:Encrypt, true", "2, kms:DisableKey, true"})
  void theKeyManagementQuorumGuards(int value, String action, boolean allowed) {
    Database db = TestDatabases.fresh(TestDatabases.Kind.H2);
    InMemoryQuorumStore store = new InMemoryQuorumStore();
    store.setValue(Service.KEY_MANAGEMENT, value);
    QuorumAuthorizer quorum = authorizer(store);
    ServerAccessControl access = access(db, quorum);
    AccessRequest r = new AccessRequest(ROOT, action, KEY, POLICY, List.of(), Map.of(), List.of());
    if (allowed) {
      assertThatCode(() -> access.check(r)).doesNotThrowAnyException();
    } else {
      assertThatThrownBy(() -> access.check(r)).isInstanceOf(KmsException.class).hasMessageContaining("needs a quorum approval: 2 of")
          .extracting(e -> ((KmsException) e).error()).isEqualTo(KmsError.ACCESS_DENIED);
    }
  }

  /**
   * With K=2, an approval token in the request's {@link QuorumApprovalHeader} passes the guard when
   * two officers approved exactly this call; one approval, another key's token, another operation's
   * token, a malformed header and a replay are refused as AccessDenied.
   */
  @ParameterizedTest
  @CsvSource({"kms:ScheduleKeyDeletion, ScheduleKeyDeletion, KEY, 2, , true", "kms:PutKeyPolicy, PutKeyPolicy, KEY, 2, , true",
      "kms:ImportKeyMaterial, ImportKeyMaterial, KEY, 2, , true", "kms:ScheduleKeyDeletion, ScheduleKeyDeletion, KEY, 1, , false",
      "kms:ScheduleKeyDeletion, ScheduleKeyDeletion, OTHER, 2, , false", "kms:ScheduleKeyDeletion, PutKeyPolicy, KEY, 2, , false",
      "kms:ScheduleKeyDeletion, ScheduleKeyDeletion, KEY, 2, bm90IGEgdG9rZW4=, false"})
  void anApprovalHeaderCarriesTheQuorum(String action, String approvedOperation, String approvedKey, int approving, String rawHeader,
      boolean allowed) throws Exception {
    Database db = TestDatabases.fresh(TestDatabases.Kind.H2);
    TwoOfficers officers = TwoOfficers.create();
    QuorumAuthorizer quorum = officers.quorum();
    ServerAccessControl access = access(db, quorum);
    String approvedArn = "KEY".equals(approvedKey) ? KEY : KEY.replace("key/1b1c", "key/2b1c");
    ApprovalToken t = quorum.requestToken(Action.of(Service.KEY_MANAGEMENT, approvedOperation, Map.of("key", approvedArn)), "admin");
    officers.approve(t, approving);
    String header = rawHeader != null ? rawHeader : Base64.getEncoder().encodeToString(t.toText().getBytes(StandardCharsets.UTF_8));
    AccessRequest r = new AccessRequest(ROOT, action, KEY, POLICY, List.of(), Map.of(), List.of());
    // Without the header: refused whatever was approved.
    assertThatThrownBy(() -> access.check(r)).extracting(e -> ((KmsException) e).error()).isEqualTo(KmsError.ACCESS_DENIED);
    Runnable withHeader = () -> QuorumApprovalHeader.with(header, () -> {
      access.check(r);
      return null;
    });
    if (allowed) {
      assertThatCode(withHeader::run).doesNotThrowAnyException();
      // The token was consumed: the same header again is a replay.
      assertThatThrownBy(withHeader::run).isInstanceOf(KmsException.class).hasMessageContaining("used before")
          .extracting(e -> ((KmsException) e).error()).isEqualTo(KmsError.ACCESS_DENIED);
    } else {
      assertThatThrownBy(withHeader::run).isInstanceOf(KmsException.class)
          .extracting(e -> ((KmsException) e).error()).isEqualTo(KmsError.ACCESS_DENIED);
    }
    assertThat(QuorumApprovalHeader.current()).isNull();
  }

  /**
   * The approval binds the call's arguments, not only the operation and the key: an approval for one
   * value is refused for another (and the refusal names the exact action to approve as the
   * {@code hsmkit quorum token create} command), the approval for the value itself passes once.
   */
  @ParameterizedTest(name = "{0}: approved {1}={2}, asked {1}={3}")
  @CsvSource({
      "kms:ScheduleKeyDeletion, days,            30,                                                               7",
      "kms:ScheduleKeyDeletion, days,            7,                                                                30",
      "kms:PutKeyPolicy,        policy-sha256,   aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
      "kms:ImportKeyMaterial,   material-sha256, 1111111111111111111111111111111111111111111111111111111111111111, 2222222222222222222222222222222222222222222222222222222222222222"})
  void anApprovalIsForTheCallsExactArguments(String action, String param, String approved, String asked) throws Exception {
    Database db = TestDatabases.fresh(TestDatabases.Kind.H2);
    TwoOfficers officers = TwoOfficers.create();
    QuorumAuthorizer quorum = officers.quorum();
    ServerAccessControl access = access(db, quorum);
    String op = action.substring(4);
    java.util.function.Function<String, String> approvedHeader = value -> {
      ApprovalToken t = quorum.requestToken(Action.of(Service.KEY_MANAGEMENT, op, Map.of("key", KEY, param, value)), "admin-" + value);
      officers.approve(t, 2);
      return Base64.getEncoder().encodeToString(t.toText().getBytes(StandardCharsets.UTF_8));
    };
    AccessRequest r = new AccessRequest(ROOT, action, KEY, POLICY, List.of(), Map.of(), List.of(), Map.of(param, asked));
    assertThat(ServerAccessControl.keyManagementAction(r)).isEqualTo(Action.of(Service.KEY_MANAGEMENT, op, Map.of("key", KEY, param, asked)));
    String other = approvedHeader.apply(approved);
    assertThatThrownBy(() -> QuorumApprovalHeader.with(other, () -> {
      access.check(r);
      return null;
    })).isInstanceOf(KmsException.class)
        .hasMessageContaining("hsmkit quorum token create --service key-management --operation " + op + " ")
        .hasMessageContaining(" --arg " + param + "=" + asked + " ").hasMessageContaining(" --arg key=" + KEY + " ")
        .extracting(e -> ((KmsException) e).error()).isEqualTo(KmsError.ACCESS_DENIED);
    // No argument at all (the old, operation-and-key approval) is another action too.
    AccessRequest bare = new AccessRequest(ROOT, action, KEY, POLICY, List.of(), Map.of(), List.of());
    String exact = approvedHeader.apply(asked);
    assertThatThrownBy(() -> QuorumApprovalHeader.with(exact, () -> {
      access.check(bare);
      return null;
    })).extracting(e -> ((KmsException) e).error()).isEqualTo(KmsError.ACCESS_DENIED);
    // The approval of the exact arguments passes, once. (The refusal above spent nothing.)
    Runnable withExact = () -> QuorumApprovalHeader.with(exact, () -> {
      access.check(r);
      return null;
    });
    assertThatCode(withExact::run).doesNotThrowAnyException();
    assertThatThrownBy(withExact::run).hasMessageContaining("used before");
  }

  @Test
  void theConfigurationRefusesWhatCannotWork() {
    KmsServerConfig ok = KmsServerConfig.of("/x.cfg", Path.of("state"));
    assertThat(ok.https()).isTrue();
    assertThat(ok.bindAddress().isLoopbackAddress()).isTrue();
    assertThat(ok.jdbcUrl()).startsWith("jdbc:h2:file:");
    assertThat(ok.withDatabase("jdbc:postgresql://h/db", "u", "secret-pw").toString()).doesNotContain("secret-pw");
    assertThatThrownBy(() -> ok.withRegion("Europe")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ok.withAccountId("12")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ok.withPort(70000)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ok.withBindAddress(java.net.InetAddress.getByAddress(new byte[4])).withPlainHttp())
        .hasMessageContaining("loopback");
  }
}
