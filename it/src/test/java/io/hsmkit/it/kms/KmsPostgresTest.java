package io.hsmkit.it.kms;

import static io.hsmkit.it.kms.KmsSdkEndToEndTest.bytes;
import static io.hsmkit.it.kms.KmsSdkEndToEndTest.errorOf;
import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.kms.server.KmsServer;
import io.hsmkit.kms.server.KmsServerConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * The metadata on PostgreSQL (a private server started from Debian's binaries): keys, aliases,
 * principals and grants made through one server are all there for the next server on the same
 * token and database. (Two HTTPS servers in one JVM on two HsmKit provider instances cannot share
 * the JCA provider name the TLS key is used through, so the second node is a restart here.)
 */
class KmsPostgresTest {
  @Test
  void keysGrantsAndPrincipalsSurviveARestartOnPostgres() throws Exception {
    String url = io.hsmkit.kms.testing.TestDatabases.freshPostgresUrl();
    String id;
    byte[] ct;
    KmsServerFixture fx = KmsServerFixture.start("kms-it-pg", url);
    String[] bob;
    String grantToken;
    try (KmsClient kms = fx.root()) {
      id = kms.createKey(b -> b.description("on postgres")).keyMetadata().keyId();
      ct = kms.encrypt(b -> b.keyId(id).plaintext(bytes("shared")).encryptionContext(Map.of("ab", "c"))).ciphertextBlob().asByteArray();
      assertThat(errorOf(() -> kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct)).encryptionContext(Map.of("a", "bc")))))
          .isEqualTo("InvalidCiphertextException");
      bob = fx.user("bob", null);
      String bobArn = bob[2];
      grantToken = kms.createGrant(b -> b.keyId(id).granteePrincipal(bobArn).operationsWithStrings("Decrypt")).grantToken();
      kms.createAlias(b -> b.aliasName("alias/pg").targetKeyId(id));
    } finally {
      fx.close();
    }
    // The next start: same token, same database; nothing of the first run is lost, no new first principal.
    try (KmsServer again = KmsServer.start(KmsServerConfig.of(fx.configFile.toString(), fx.configFile.resolveSibling("state-again"))
            .withPort(0).withDatabase(url, "postgres", null));
        KmsClient root = KmsClientOn.of(fx, again, fx.rootAccessKeyId, fx.rootSecret);
        KmsClient asBob = KmsClientOn.of(fx, again, bob[0], bob[1])) {
      assertThat(again.firstPrincipal()).isEmpty();
      assertThat(root.describeKey(b -> b.keyId("alias/pg")).keyMetadata().keyId()).isEqualTo(id);
      assertThat(asBob.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct)).encryptionContext(Map.of("ab", "c")).grantTokens(grantToken))
          .plaintext().asUtf8String()).isEqualTo("shared");
      assertThat(errorOf(() -> asBob.encrypt(b -> b.keyId(id).plaintext(bytes("x"))))).isEqualTo("AccessDeniedException");
      assertThat(again.service().auditTrail().verify().intact()).isTrue();
    }
  }

  /** A client of the fixture's trust on another server of the same token. */
  static final class KmsClientOn {
    static KmsClient of(KmsServerFixture fx, KmsServer node, String akid, String secret) {
      return fx.clientOn(node.uri(), akid, secret);
    }
  }
}
