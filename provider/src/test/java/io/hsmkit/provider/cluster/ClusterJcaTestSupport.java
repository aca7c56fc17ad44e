package io.hsmkit.provider.cluster;

import io.hsmkit.pkcs11.cluster.Cluster;
import io.hsmkit.pkcs11.cluster.MemberHealth;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.testing.ClusterProviderFixture;
import java.security.SecureRandom;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;

/**
 * The fixture the cluster JCA tests share: a provider over three SoftHSM2 tokens (c behind the
 * fault shim), closed after the class, and after each test the shim cleared and every member
 * awaited HEALTHY so that a test's injected failure never leaks into the next one. Each subclass
 * opens it from its own {@code @BeforeAll} with its own token name, so every class keeps its own
 * token directories under target/.
 */
abstract class ClusterJcaTestSupport {
  static ClusterProviderFixture fx;
  static HsmKitProvider p;
  static Cluster cluster;
  static final SecureRandom RND = new SecureRandom();

  /** Opens the cluster of tokens named {@code name} (distinct per test class) and its provider. */
  protected static void openCluster(String name) {
    fx = ClusterProviderFixture.create(name);
    p = fx.provider();
    cluster = p.tokenContext().cluster();
  }

  @AfterAll
  static void close() {
    if (p != null) {
      p.tokenContext().close();
    }
    if (fx != null) {
      fx.close();
    }
  }

  @AfterEach
  void allBack() throws InterruptedException {
    fx.shim.clear();
    ClusterProviderFixture.await("every member healthy", Duration.ofSeconds(15),
        () -> cluster.members().stream().allMatch(m -> m.health() == MemberHealth.HEALTHY));
  }

  /** How many objects carry {@code k}'s CKA_ID on members a, b and c. */
  static int[] counts(HsmKey k) {
    int[] n = new int[3];
    for (int i = 0; i < 3; i++) {
      n[i] = fx.objectsWithId(i, k.id());
    }
    return n;
  }

  static byte[] random(int n) {
    byte[] b = new byte[n];
    RND.nextBytes(b);
    return b;
  }
}
