package io.hsmkit.provider.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.provider.ClusterOperationException;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.testing.ClusterProviderFixture;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A cluster whose only member (c, behind the fault shim) is gone: the caller gets a
 * {@link ClusterOperationException} (a ProviderException) naming the member and its error, after
 * the cluster's retry budget (10 s); a provider cannot open over it at all.
 */
class ClusterOnlyMemberTest {
  static ClusterProviderFixture fx;

  @BeforeAll
  static void cluster() {
    fx = ClusterProviderFixture.onlyC("cluster-jca-only-c");
  }

  @AfterAll
  static void close() {
    fx.close();
  }

  @Test
  void whenNoMemberIsLeftTheCallerGetsATypedErrorNamingTheMembersTried() throws Exception {
    HsmKitProvider p = fx.provider();
    try {
      KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC", p);
      kpg.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair ec = kpg.generateKeyPair();
      Signature s = Signature.getInstance("SHA256withECDSA", p);
      s.initSign(ec.getPrivate());
      s.update(new byte[32]);
      assertThat(s.sign()).isNotEmpty();

      fx.shim.rules("absent");
      s.initSign(ec.getPrivate());
      s.update(new byte[32]);
      long t0 = System.nanoTime();
      assertThatThrownBy(s::sign).isInstanceOfSatisfying(ClusterOperationException.class, e -> {
        assertThat(e.membersTried()).containsExactly("c");
        assertThat(e.getMessage()).contains("c: C_").contains("CKR_");
      });
      System.out.printf("failed after %d ms%n", (System.nanoTime() - t0) / 1_000_000);

      fx.shim.clear();
      ClusterProviderFixture.await("c back", java.time.Duration.ofSeconds(15),
          () -> p.tokenContext().cluster().member("c").health() == io.hsmkit.pkcs11.cluster.MemberHealth.HEALTHY);
      s.initSign(ec.getPrivate());
      s.update(new byte[32]);
      assertThat(s.sign()).as("works again once c is back").isNotEmpty();
    } finally {
      fx.shim.clear();
      p.tokenContext().close();
    }
  }

  @Test
  void aProviderCannotOpenOverAClusterWithNoMemberAnswering() {
    fx.shim.rules("absent");
    try {
      assertThatThrownBy(fx::provider).isInstanceOfSatisfying(ClusterOperationException.class, e -> {
        assertThat(e.membersTried()).containsExactly("c");
        assertThat(e.getMessage()).contains("cannot open the cluster").contains(fx.clusterFile.toString());
      });
    } finally {
      fx.shim.clear();
    }
  }
}
