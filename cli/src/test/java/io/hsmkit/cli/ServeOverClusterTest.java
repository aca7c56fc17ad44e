package io.hsmkit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.cluster.Cluster;
import io.hsmkit.pkcs11.cluster.ClusterConfigFile;
import io.hsmkit.pkcs11.cluster.MemberHealth;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.testing.TestToken;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code hsmkit serve --config hsmkit.cfg} where hsmkit.cfg says {@code cluster = cluster.cfg}:
 * three SoftHSM2 tokens made a cluster by {@code hsmkit cluster init}, the KMS served in a child
 * JVM, its export lines eval'd by bash for a plain AWS SDK program (GenerateRandom, CreateKey);
 * afterwards every member holds the same replicated keys (the KMS key, the principal-secret
 * wrapping key, the TLS keys), and a second start finds the endpoint's certificates again in the
 * cluster (the same CA).
 */
class ServeOverClusterTest {
  static TestToken token;
  static Path dir;
  static Path clusterFile;
  static Path hsmkitCfg;
  static Path state;
  static final List<Process> STARTED = new ArrayList<>();

  @BeforeAll
  static void cluster() throws Exception {
    ClusterTokenDir tokens = ClusterTokenDir.create("ServeOverClusterTest", "serve-cl-");
    token = tokens.token();
    dir = tokens.dir();
    StringBuilder cf = new StringBuilder("cluster.members = a, b, c\ncluster.minReplicas = 2\n");
    for (String m : new String[] {"a", "b", "c"}) {
      cf.append(tokens.memberLines(m)).append(tokens.soPinLine(m));
    }
    clusterFile = Files.writeString(dir.resolve("cluster.cfg"), cf);
    hsmkitCfg = Files.writeString(dir.resolve("hsmkit-cluster.cfg"), "name = served\ncluster = " + clusterFile + "\nmaxSessions = 4\n");
    state = ServeCommandTest.fresh(dir.resolve("kms-state"));
    Path quorum = ServeCommandTest.fresh(dir.resolve("quorum"));
    Cli.run("cluster", "init", "--config", clusterFile.toString(), "--state", quorum.toString()).ok();
  }

  @AfterAll
  static void stopAll() {
    STARTED.forEach(Process::destroyForcibly);
  }

  static Served serve() throws Exception {
    return Served.start(hsmkitCfg, state, token.conf(), dir, STARTED);
  }

  static void stop(Served s) throws Exception {
    s.stop();
  }

  static String evalAndCall(List<String> exports) throws Exception {
    return Served.evalAndCall(dir, state, exports);
  }

  @Test
  void serveOverAClusterReplicatesEveryKeyAndFindsItsCertificatesAgain() throws Exception {
    Served first = serve();
    String out;
    String caPem;
    try {
      assertThat(first.exports()).extracting(l -> l.substring(7, l.indexOf('='))).containsExactly("AWS_ENDPOINT_URL_KMS", "AWS_REGION",
          "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_CA_BUNDLE");
      out = evalAndCall(first.exports());
      assertThat(out).contains("random bytes: 24").contains("key: ");
      caPem = Files.readString(state.resolve("ca.pem"));
    } finally {
      stop(first);
    }
    String keyId = out.lines().filter(l -> l.startsWith("key: ")).findFirst().orElseThrow().substring(5).trim();

    try (Cluster c = Cluster.open(ClusterConfigFile.read(clusterFile).config())) {
      List<Cluster.MemberStatus> st = c.status();
      assertThat(st).allMatch(m -> m.health() == MemberHealth.HEALTHY);
      int keys = st.get(0).keys();
      // the KMS key, the principal-secret wrapping key, the grant-token MAC key, the TLS CA and server keys (at least)
      assertThat(keys).isGreaterThanOrEqualTo(4);
      assertThat(st).as("the same replicated keys on a, b and c").allMatch(m -> m.keys() == keys && m.lag() == 0);
      {
        // on one member (the counts above say the others hold the same keys)
        int n = c.execute((s, k) -> {
          int count = 0;
          for (long h : s.findObjects(Attribute.bool(CKA.TOKEN, true))) {
            var label = s.getAttribute(h, CKA.LABEL);
            if (label.present() && label.asString().endsWith(":key/" + keyId)) {
              count++;
            }
          }
          return count;
        });
        assertThat(n).as("the KMS key %s", keyId).isEqualTo(1);
      }
    }

    Served second = serve();
    try {
      assertThat(second.exports()).noneMatch(l -> l.startsWith("export AWS_SECRET_ACCESS_KEY="));
      assertThat(Files.readString(state.resolve("ca.pem"))).as("the endpoint's CA and certificates found again in the cluster").isEqualTo(caPem);
    } finally {
      stop(second);
    }
  }
}
