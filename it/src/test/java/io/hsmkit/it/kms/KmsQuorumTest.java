package io.hsmkit.it.kms;

import static io.hsmkit.it.kms.KmsSdkEndToEndTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.kms.KmsException;
import io.hsmkit.quorum.AuditLog;
import io.hsmkit.quorum.QuorumAuthorizer;
import io.hsmkit.quorum.QuorumWindows;
import io.hsmkit.quorum.Service;
import io.hsmkit.quorum.store.InMemoryQuorumStore;
import java.security.SecureRandom;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * The server with a quorum whose values ask for approvals: without an approval token in the
 * X-Hsmkit-Quorum-Approval header (see KmsQuorumApprovalTest), guarded actions (key-management: ScheduleKeyDeletion, PutKeyPolicy,
 * ImportKeyMaterial; token: custom key store changes; user: principals after the first) are
 * refused naming the missing approvals, and unguarded ones go on.
 */
class KmsQuorumTest {
  @Test
  void quorumGuardsKeyManagementCustomKeyStoresAndPrincipals() throws Exception {
    InMemoryQuorumStore store = new InMemoryQuorumStore();
    store.setValue(Service.KEY_MANAGEMENT, 2);
    store.setValue(Service.TOKEN, 2);
    store.setValue(Service.USER, 2);
    QuorumAuthorizer quorum = new QuorumAuthorizer(store, new AuditLog(store, new byte[32], Clock.systemUTC()), Clock.systemUTC(),
        new SecureRandom(), QuorumWindows.CLOUDHSM);
    try (KmsServerFixture fx = KmsServerFixture.start("kms-it-quorum", null, c -> c.withQuorum(quorum), "cks-q");
        KmsClient kms = fx.root()) {
      String id = kms.createKey(b -> b.description("guarded")).keyMetadata().keyId();
      byte[] ct = kms.encrypt(b -> b.keyId(id).plaintext(bytes("fine"))).ciphertextBlob().asByteArray();
      assertThat(kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct))).plaintext().asUtf8String()).isEqualTo("fine");
      kms.disableKey(b -> b.keyId(id)); // not a guarded action
      kms.enableKey(b -> b.keyId(id));
      for (Runnable guarded : new Runnable[] {
          () -> kms.scheduleKeyDeletion(b -> b.keyId(id).pendingWindowInDays(7)),
          () -> kms.putKeyPolicy(b -> b.keyId(id).policyName("default").policy(fx.server.service().defaultKeyPolicy())),
          () -> kms.createCustomKeyStore(b -> b.customKeyStoreName("q").cloudHsmClusterId("cluster-cks-q")
              .trustAnchorCertificate("x").keyStorePassword(KmsServerFixture.kmsuserPin("cks-q")))}) {
        try {
          guarded.run();
          throw new AssertionError("a guarded action ran without its quorum");
        } catch (software.amazon.awssdk.services.kms.model.KmsException e) {
          assertThat(e.awsErrorDetails().errorCode()).isEqualTo("AccessDeniedException");
          assertThat(e.awsErrorDetails().errorMessage()).contains("needs a quorum approval: 2 of");
        }
      }
      assertThat(kms.describeKey(b -> b.keyId(id)).keyMetadata().keyStateAsString()).isEqualTo("Enabled");
      // A custom key store change is approved with its fields; the kmsuser password only by its SHA-256.
      String pin = KmsServerFixture.kmsuserPin("cks-q");
      String pinSha256 = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest(pin.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      assertThatThrownBy(() -> kms.createCustomKeyStore(b -> b.customKeyStoreName("q").cloudHsmClusterId("cluster-cks-q")
          .trustAnchorCertificate("x").keyStorePassword(pin)))
          .hasMessageContaining("hsmkit quorum token create --service token --operation CreateCustomKeyStore --arg account=")
          .hasMessageContaining("--arg cluster-id=cluster-cks-q --arg name=q --arg password-sha256=" + pinSha256 + " ")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain(pin));
      // Principals: the user quorum guards every principal after the first.
      assertThatThrownBy(() -> fx.user("dave", null)).isInstanceOf(KmsException.class).hasMessageContaining("needs a quorum approval");
      // The refusals are in the audit trail.
      assertThat(fx.server.service().auditTrail().records()).anyMatch(r -> r.path("eventName").asText().equals("ScheduleKeyDeletion")
          && r.path("errorCode").asText().equals("AccessDeniedException"));
    }
  }

}
