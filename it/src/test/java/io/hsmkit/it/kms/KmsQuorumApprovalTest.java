package io.hsmkit.it.kms;

import static io.hsmkit.it.kms.KmsSdkEndToEndTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.http.QuorumApprovalHeader;
import io.hsmkit.quorum.Action;
import io.hsmkit.quorum.ApprovalToken;
import io.hsmkit.quorum.Officer;
import io.hsmkit.quorum.SignatureScheme;
import io.hsmkit.quorum.AuditLog;
import io.hsmkit.quorum.QuorumAuthorizer;
import io.hsmkit.quorum.QuorumWindows;
import io.hsmkit.quorum.Service;
import io.hsmkit.quorum.store.InMemoryQuorumStore;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * Over the wire, K=2: an approval token carried in the SigV4-signed X-Hsmkit-Quorum-Approval header.
 * A class of its own: SoftHSM is loaded once per JVM with the first fixture's configuration, and
 * surefire forks a JVM per class.
 */
class KmsQuorumApprovalTest {
  /**
   * Over the wire, K=2: an approval token carried in the SigV4-signed X-Hsmkit-Quorum-Approval header
   * (added by an SDK ExecutionInterceptor before signing) lets ScheduleKeyDeletion run once two
   * officers approved that call (its key and its 7-day window); without it, with one approval, with an
   * approval of a 30-day window, or replayed, it is refused.
   */
  @Test
  void anApprovalHeaderLetsAGuardedCallRunOnce() throws Exception {
    InMemoryQuorumStore store = new InMemoryQuorumStore();
    Map<String, KeyPair> officers = new LinkedHashMap<>();
    for (String o : List.of("alice", "bob")) {
      KeyPair kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
      officers.put(o, kp);
      store.putOfficer(new Officer(o, kp.getPublic(), SignatureScheme.ED25519));
    }
    store.setValue(Service.KEY_MANAGEMENT, 2);
    QuorumAuthorizer quorum = new QuorumAuthorizer(store, new AuditLog(store, new byte[32], Clock.systemUTC()), Clock.systemUTC(),
        new SecureRandom(), QuorumWindows.CLOUDHSM);
    AtomicReference<String> header = new AtomicReference<>();
    ExecutionInterceptor addHeader = new ExecutionInterceptor() {
      @Override
      public SdkHttpRequest modifyHttpRequest(Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
        String v = header.get();
        return v == null ? context.httpRequest() : context.httpRequest().toBuilder().putHeader(QuorumApprovalHeader.NAME, v).build();
      }
    };
    try (KmsServerFixture fx = KmsServerFixture.start("kms-it-quorum-h", null, c -> c.withQuorum(quorum));
        KmsClient kms = fx.root(addHeader)) {
      var meta = kms.createKey(b -> b.description("guarded")).keyMetadata();
      Runnable schedule = () -> kms.scheduleKeyDeletion(b -> b.keyId(meta.keyId()).pendingWindowInDays(7));
      assertThatThrownBy(schedule::run).hasMessageContaining("needs a quorum approval: 2 of");
      // An approval for a 30-day window, signed by both officers, does not schedule a 7-day one;
      // the refusal names the exact action to get approved instead.
      ApprovalToken thirty = quorum.requestToken(Action.of(Service.KEY_MANAGEMENT, "ScheduleKeyDeletion",
          Map.of("key", meta.arn(), "days", "30")), "admin30");
      for (String o : List.of("alice", "bob")) {
        quorum.receiveApproval(thirty, o, SignatureScheme.ED25519.sign(officers.get(o).getPrivate(), thirty.toBytes()));
      }
      header.set(Base64.getEncoder().encodeToString(thirty.toText().getBytes(StandardCharsets.UTF_8)));
      assertThatThrownBy(schedule::run).hasMessageContaining("ACTION_MISMATCH")
          .hasMessageContaining("hsmkit quorum token create --service key-management --operation ScheduleKeyDeletion --arg days=7 --arg key="
              + meta.arn());
      ApprovalToken t = quorum.requestToken(Action.of(Service.KEY_MANAGEMENT, "ScheduleKeyDeletion",
          Map.of("key", meta.arn(), "days", "7")), "admin");
      header.set(Base64.getEncoder().encodeToString(t.toText().getBytes(StandardCharsets.UTF_8)));
      quorum.receiveApproval(t, "alice", SignatureScheme.ED25519.sign(officers.get("alice").getPrivate(), t.toBytes()));
      assertThatThrownBy(schedule::run).isInstanceOf(software.amazon.awssdk.services.kms.model.KmsException.class)
          .hasMessageContaining("have 1 (alice); missing 1");
      quorum.receiveApproval(t, "bob", SignatureScheme.ED25519.sign(officers.get("bob").getPrivate(), t.toBytes()));
      schedule.run();
      assertThat(kms.describeKey(b -> b.keyId(meta.keyId())).keyMetadata().keyStateAsString()).isEqualTo("PendingDeletion");
      kms.cancelKeyDeletion(b -> b.keyId(meta.keyId())); // not guarded
      // The token was consumed by the first use: the same header again is a replay.
      assertThatThrownBy(schedule::run).hasMessageContaining("used before");
      assertThat(kms.describeKey(b -> b.keyId(meta.keyId())).keyMetadata().keyStateAsString()).isEqualTo("Disabled");
    }
  }
}
