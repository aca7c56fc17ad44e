package io.hsmkit.provider.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.provider.HsmKitConfig;
import io.hsmkit.provider.HsmKitProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.ProviderException;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The {@code cluster = file} entry of the provider's configuration, and cluster files the provider cannot open. */
class ClusterConfigEntryTest {

  @Test
  void aClusterEntryMakesAClusterConfiguration() {
    HsmKitConfig c = HsmKitConfig.parse("--cluster=/etc/hsmkit/cluster.cfg name=prod maxSessions=4");
    assertThat(c.isCluster()).isTrue();
    assertThat(c.cluster()).isEqualTo(Path.of("/etc/hsmkit/cluster.cfg"));
    assertThat(c.library()).isNull();
    assertThat(c.providerName()).isEqualTo("HsmKit-prod");
    assertThat(c.toString()).contains("cluster=/etc/hsmkit/cluster.cfg");
    HsmKitConfig one = HsmKitConfig.parse("--library=/usr/lib/softhsm/libsofthsm2.so tokenLabel=x");
    assertThat(one.isCluster()).isFalse();
    assertThat(one.cluster()).isNull();
  }

  static Stream<Arguments> bad() {
    return Stream.of(
        Arguments.of("cluster = /c.cfg\nlibrary = /lib.so\n", "line 2: 'library' cannot be given with 'cluster' (line 1)"),
        Arguments.of("library = /lib.so\ncluster = /c.cfg\n", "line 1: 'library' cannot be given with 'cluster' (line 2)"),
        Arguments.of("cluster = /c.cfg\n\ntokenLabel = t\n", "line 3: 'tokenLabel' cannot be given with 'cluster'"),
        Arguments.of("cluster = /c.cfg\nslot = 1\n", "line 2: 'slot' cannot be given with 'cluster'"),
        Arguments.of("cluster = /c.cfg\nslotListIndex = 0\n", "line 2: 'slotListIndex' cannot be given with 'cluster'"),
        Arguments.of("cluster = /c.cfg\npin = env:X\n", "line 2: 'pin' cannot be given with 'cluster'"),
        Arguments.of("cluster = /c.cfg\ncluster = /d.cfg\n", "line 2: 'cluster' is given twice"),
        Arguments.of("cluster =\n", "no value for cluster"),
        Arguments.of("name = x\n", "'library' is required (the path of the PKCS#11 library), or 'cluster'"));
  }

  @ParameterizedTest
  @MethodSource("bad")
  void aBadClusterEntryFailsNamingTheLine(String text, String message) throws Exception {
    Path f = Files.createTempFile("hsmkit", ".cfg");
    try {
      Files.writeString(f, text);
      assertThatThrownBy(() -> HsmKitConfig.parse(f.toString())).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(f.toString()).hasMessageContaining(message);
    } finally {
      Files.delete(f);
    }
  }

  @Test
  void aMissingOrMalformedClusterFileFailsWhenTheProviderOpens() throws Exception {
    Path dir = Files.createTempDirectory("hsmkit-cluster");
    try {
      Path missing = dir.resolve("missing.cfg");
      assertThatThrownBy(() -> new HsmKitProvider("--cluster=" + missing)).isInstanceOf(ProviderException.class)
          .hasMessageContaining("cannot read the cluster file " + missing).hasMessageContaining("inline configuration");
      Path bad = dir.resolve("bad.cfg");
      Files.writeString(bad, "cluster.members = a\nmember.a.library = /x.so\nmember.a.tokenLabel = t\nmember.a.pin = Pq-secret-9z\n");
      // a PIN of letters and signs: digits alone could appear in the random temp directory name
      assertThatThrownBy(() -> new HsmKitProvider("--cluster=" + bad)).isInstanceOf(ProviderException.class)
          .hasMessageContaining(bad.toString()).hasMessageNotContaining("Pq-secret-9z");
      Files.writeString(bad, "cluster.members = a\nmember.a.colour = red\n");
      assertThatThrownBy(() -> new HsmKitProvider("--cluster=" + bad)).isInstanceOf(ProviderException.class)
          .hasMessageContaining(bad + ":2: unknown key member.a.colour");
    } finally {
      try (Stream<Path> s = Files.list(dir)) {
        s.forEach(x -> x.toFile().delete());
      }
      Files.delete(dir);
    }
  }
}
