package io.hsmkit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.cluster.Cluster;
import io.hsmkit.pkcs11.cluster.ClusterConfigFile;
import io.hsmkit.pkcs11.cluster.MemberHealth;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.testing.TestToken;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
    token = TestToken.create("ServeOverClusterTest", "serve-cl-a");
    dir = TestToken.buildDir().resolve("tokens").resolve("ServeOverClusterTest");
    for (String l : new String[] {"serve-cl-b", "serve-cl-c"}) {
      ProcessBuilder pb = new ProcessBuilder("softhsm2-util", "--init-token", "--free", "--label", l,
          "--so-pin", new String(token.soPin()), "--pin", new String(token.userPin()));
      pb.environment().put("SOFTHSM2_CONF", token.conf());
      pb.redirectErrorStream(true);
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as(out).isTrue();
    }
    Path pin = dir.resolve("user.pin");
    Files.writeString(pin, new String(token.userPin()));
    Path so = dir.resolve("so.pin");
    Files.writeString(so, new String(token.soPin()));
    StringBuilder cf = new StringBuilder("cluster.members = a, b, c\ncluster.minReplicas = 2\n");
    for (String m : new String[] {"a", "b", "c"}) {
      cf.append("member.").append(m).append(".library = ").append(token.library()).append('\n')
          .append("member.").append(m).append(".tokenLabel = serve-cl-").append(m).append('\n')
          .append("member.").append(m).append(".pin = file:").append(pin).append('\n')
          .append("member.").append(m).append(".soPin = file:").append(so).append('\n');
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

  record Served(Process process, List<String> exports, String err) {}

  static Served serve() throws Exception {
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "io.hsmkit.cli.HsmkitCommand", "serve", "--config", hsmkitCfg.toString(),
        "--port", "0", "--state-dir", state.toString());
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("SOFTHSM2_CONF", token.conf());
    Path errFile = dir.resolve("serve-" + STARTED.size() + ".err");
    pb.redirectError(errFile.toFile());
    Process p = pb.start();
    STARTED.add(p);
    List<String> lines = new ArrayList<>();
    BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = r.readLine()) != null) {
      lines.add(line);
      if (line.startsWith("export AWS_CA_BUNDLE=")) {
        break;
      }
    }
    String err = Files.readString(errFile);
    assertThat(line).as("serve printed %s, stderr %s", lines, err).isNotNull();
    return new Served(p, lines, err);
  }

  static void stop(Served s) throws Exception {
    s.process().destroy();
    assertThat(s.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
  }

  static String evalAndCall(List<String> exports) throws Exception {
    Path env = Files.write(dir.resolve("serve.env"), exports);
    Path trust = state.resolve("ca.p12");
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", "eval \"$(cat \"$1\")\"; exec \"$2\" -Djavax.net.ssl.trustStore=\"$3\" "
        + "-Djavax.net.ssl.trustStorePassword=changeit -cp \"$4\" io.hsmkit.cli.PlainKmsProgram",
        "sh", env.toString(), Path.of(System.getProperty("java.home"), "bin", "java").toString(), trust.toString(),
        System.getProperty("java.class.path")).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("AWS_"));
    pb.environment().put("AWS_CONFIG_FILE", dir.resolve("no-aws-config").toString());
    pb.environment().put("AWS_SHARED_CREDENTIALS_FILE", dir.resolve("no-aws-credentials").toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
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
