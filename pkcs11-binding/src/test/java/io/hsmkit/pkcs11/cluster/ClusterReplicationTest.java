package io.hsmkit.pkcs11.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ClusterReplicationTest {
  static ClusterFixture fx;

  @BeforeAll
  static void setUp() {
    fx = new ClusterFixture("clrep");
  }

  @AfterAll
  static void tearDown() {
    fx.close();
  }

  @Test
  void aReplicatedKeyIsOnEveryMemberWithTheSameIdLabelAndAttributes() throws Exception {
    try (Cluster c = Cluster.open(fx.config())) {
      ClusterKey aes = c.generateSecretKey("rep-aes", 32);
      byte[] iv = new byte[12];
      byte[] pt = "replicated".getBytes(StandardCharsets.UTF_8);
      Mechanism gcm = Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(iv, null, 128));
      byte[] ct = c.member("a").pool.execute(s -> s.encrypt(gcm, c.member("a").handle(s, CKO.SECRET_KEY, aes.id()), pt));
      for (Member m : c.members()) {
        Attribute[] a = m.pool.execute(s -> s.getAttributes(m.handle(s, CKO.SECRET_KEY, aes.id()),
            CKA.LABEL, CKA.EXTRACTABLE, CKA.WRAP_WITH_TRUSTED, CKA.SENSITIVE, CKA.PRIVATE));
        assertThat(a[0].asString()).as(m.name()).isEqualTo("rep-aes");
        assertThat(a[1].asBool()).as(m.name() + " extractable").isTrue();
        assertThat(a[2].asBool()).as(m.name() + " wrap with trusted").isTrue();
        assertThat(a[3].asBool()).as(m.name() + " sensitive").isTrue();
        assertThat(a[4].asBool()).as(m.name() + " private").isTrue();
        byte[] back = m.pool.execute(s -> s.decrypt(gcm, m.handle(s, CKO.SECRET_KEY, aes.id()), ct));
        assertThat(back).as(m.name() + " decrypts what a encrypted").isEqualTo(pt);
      }
    }
  }
}
