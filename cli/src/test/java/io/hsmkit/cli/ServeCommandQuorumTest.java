package io.hsmkit.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.kms.http.QuorumApprovalHeader;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.KmsException;

/**
 * {@code hsmkit serve} with the quorum state {@code hsmkit quorum} keeps on the token: without
 * officers it serves unguarded and says so; once officers are registered and key-management is set
 * to 2 with the cli, a restarted serve refuses ScheduleKeyDeletion without an approval (naming the
 * {@code hsmkit quorum token create} command), refuses it with one officer's approval, runs it with
 * a token two officers approved through the cli sent in {@code X-Hsmkit-Quorum-Approval}, and refuses
 * the replay. Serve runs in a child JVM (HTTPS, its TLS key in the token beside the quorum state); the
 * cli verbs and the SDK client run here, on the same token, as an operator's shell and a client would.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ServeCommandQuorumTest {
  final Cli cli = new Cli("serve-quorum", "servequorum");
  final Path state = ServeCommandTest.fresh(cli.dir.resolve("kms-state"));
  final List<Process> started = new ArrayList<>();

  /** A running serve: its process, its export lines and its stderr once the quorum banner is there. */
  record Served(Process process, List<String> exports, String err) {}

  /**
   * Starts serve (HTTPS unless {@code extra} has --http); reads the export lines up to the last one:
   * the CA bundle over HTTPS, else the access key id (or the secret, on a first start).
   */
  Served serve(boolean first, String... extra) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "io.hsmkit.cli.HsmkitCommand", "serve", "--config", cli.config.toString(),
        "--port", "0", "--state-dir", state.toString()));
    cmd.addAll(List.of(extra));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("SOFTHSM2_CONF", cli.token.conf());
    Path errFile = cli.dir.resolve("serve-" + started.size() + ".err");
    pb.redirectError(errFile.toFile());
    Process p = pb.start();
    started.add(p);
    List<String> lines = new ArrayList<>();
    BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String last = !List.of(extra).contains("--http") ? "export AWS_CA_BUNDLE="
        : first ? "export AWS_SECRET_ACCESS_KEY=" : "export AWS_ACCESS_KEY_ID=";
    String line;
    while ((line = r.readLine()) != null) {
      lines.add(line);
      if (line.startsWith(last)) {
        break;
      }
    }
    assertThat(line).as("serve printed %s, stderr %s", lines, Files.readString(errFile)).isNotNull();
    // The banner follows the exports on stderr.
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String err = Files.readString(errFile);
    while (!err.contains("hsmkit: quorum") && System.nanoTime() < until) {
      Thread.sleep(100);
      err = Files.readString(errFile);
    }
    assertThat(err).contains("hsmkit: quorum");
    return new Served(p, lines, err);
  }

  void stop(Served s) throws Exception {
    s.process().destroy(); // SIGTERM: the shutdown hook closes the server, then the quorum state
    assertThat(s.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
  }

  Path p(String name) {
    return cli.dir.resolve(name);
  }

  Cli.Run q(String... args) {
    return cli.on(java.util.stream.Stream.concat(java.util.stream.Stream.of("quorum"), java.util.stream.Stream.of(args))
        .toArray(String[]::new));
  }

  /** NAME.key (PKCS#8 PEM) and NAME.pub (X.509 PEM): a software Ed25519 officer key. */
  void writeKey(String name) throws Exception {
    var kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Files.writeString(p(name + ".key"), pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
    Files.writeString(p(name + ".pub"), pem("PUBLIC KEY", kp.getPublic().getEncoded()));
  }

  static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  /** Trust managers that trust the CA serve wrote beside its CA bundle (ca.p12, password changeit), nothing else. */
  static TrustManager[] trust(Path p12) {
    try (var in = Files.newInputStream(p12)) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, "changeit".toCharArray());
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      return tmf.getTrustManagers();
    } catch (IOException | GeneralSecurityException e) {
      throw new AssertionError("cannot read the trust store " + p12, e);
    }
  }

  /** An officer signs the token file with the cli and the signature is recorded on the token. */
  void approve(Path token, String officer) {
    Cli.run("quorum", "sign", "--token", token.toString(), "--key", p(officer + ".key").toString(), "--scheme", "ed25519",
        "--out", p(officer + ".sig").toString()).ok();
    q("approve", "--token", token.toString(), "--officer", officer, "--signature", p(officer + ".sig").toString()).ok();
  }

  @Test
  @Order(1)
  void serveGuardsKeyManagementWithTheQuorumTheCliSetOnTheToken() throws Exception {
    // No officers: no quorum, said in one line; the first start's root key pair is kept for the client.
    Served open = serve(true);
    String akid;
    String secret;
    try {
      akid = ServeCommandTest.value(open.exports(), "AWS_ACCESS_KEY_ID");
      secret = ServeCommandTest.value(open.exports(), "AWS_SECRET_ACCESS_KEY");
      assertThat(open.err().lines().filter(l -> l.startsWith("hsmkit: quorum"))).singleElement().asString()
          .startsWith("hsmkit: quorum: none (no officers registered in the quorum state on token 'servequorum')");
      assertThat(open.err()).doesNotContain(secret);
    } finally {
      stop(open);
    }

    for (String o : List.of("alice", "bob", "carol")) {
      writeKey(o);
      q("officers", "register", "--id", o, "--scheme", "ed25519", "--public-key", p(o + ".pub").toString(),
          "--key", p(o + ".key").toString()).ok();
    }
    q("values", "set", "--service", "key-management", "--value", "2").ok();

    Served guarded = serve(false);
    String endpoint = ServeCommandTest.value(guarded.exports(), "AWS_ENDPOINT_URL_KMS"); // --port 0: a new port each start
    AtomicReference<String> header = new AtomicReference<>();
    ExecutionInterceptor addHeader = new ExecutionInterceptor() {
      @Override
      public SdkHttpRequest modifyHttpRequest(Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
        String v = header.get();
        return v == null ? context.httpRequest() : context.httpRequest().toBuilder().putHeader(QuorumApprovalHeader.NAME, v).build();
      }
    };
    try (KmsClient kms = KmsClient.builder().endpointOverride(URI.create(endpoint)).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(akid, secret)))
        .httpClientBuilder(Apache5HttpClient.builder().tlsTrustManagersProvider(() -> trust(state.resolve("ca.p12"))))
        .overrideConfiguration(o -> o.addExecutionInterceptor(addHeader)).build()) {
      assertThat(guarded.err()).contains("hsmkit: quorum: key-management 2 of 3, token 1 of 3, user 1 of 3 (state on token 'servequorum'");
      String arn = kms.createKey(b -> b.description("guarded")).keyMetadata().arn();
      Runnable schedule = () -> kms.scheduleKeyDeletion(b -> b.keyId(arn).pendingWindowInDays(7));
      String create = "hsmkit quorum token create --service key-management --operation ScheduleKeyDeletion --arg days=7 --arg key=" + arn;

      // Without an approval: AccessDeniedException naming the command that requests one.
      assertThatThrownBy(schedule::run).isInstanceOfSatisfying(KmsException.class,
          e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("AccessDeniedException"))
          .hasMessageContaining("needs a quorum approval: 2 of").hasMessageContaining(create);

      // The operator requests the token with exactly that command (on the token serve reads).
      Path token = p("schedule.token");
      q("token", "create", "--service", "key-management", "--operation", "ScheduleKeyDeletion", "--arg", "days=7", "--arg", "key=" + arn,
          "--requester", "ops", "--out", token.toString()).ok();
      header.set(Base64.getEncoder().encodeToString(Files.readAllBytes(token)));

      // One approval of two: refused, naming what is missing.
      approve(token, "alice");
      assertThatThrownBy(schedule::run).isInstanceOf(KmsException.class).hasMessageContaining("have 1 (alice); missing 1");

      // A header that is not a token: refused, not read as "no approval".
      header.set(Base64.getEncoder().encodeToString("not a token".getBytes(StandardCharsets.UTF_8)));
      assertThatThrownBy(schedule::run).isInstanceOf(KmsException.class).hasMessageContaining("is not the base64 of a quorum approval token");

      // Two approvals: the call runs once.
      approve(token, "bob");
      header.set(Base64.getEncoder().encodeToString(Files.readAllBytes(token)));
      schedule.run();
      assertThat(kms.describeKey(b -> b.keyId(arn)).keyMetadata().keyStateAsString()).isEqualTo("PendingDeletion");
      kms.cancelKeyDeletion(b -> b.keyId(arn)); // not guarded

      // The same header again is a replay: refused, and the key stays as it is.
      assertThatThrownBy(schedule::run).isInstanceOfSatisfying(KmsException.class,
          e -> assertThat(e.awsErrorDetails().errorCode()).isEqualTo("AccessDeniedException")).hasMessageContaining("used before");
      assertThat(kms.describeKey(b -> b.keyId(arn)).keyMetadata().keyStateAsString()).isEqualTo("Disabled");
    } finally {
      stop(guarded);
    }
    String err = Files.readString(cli.dir.resolve("serve-1.err"));
    assertThat(err).doesNotContain(secret).doesNotContain(new String(cli.token.userPin()));
  }

  /**
   * --quorum-state DIR reads the state {@code hsmkit quorum --state DIR} keeps: officers and a value
   * there put serve under that quorum, not the token's (key-management 2 since the test before); an
   * unusable directory fails serve with one line rather than serving unguarded.
   */
  @Test
  @Order(2)
  void quorumStateDirectoryIsTheFileStoreOfTheQuorumVerbs() throws Exception {
    Path dir = ServeCommandTest.fresh(p("quorum-files"));
    writeKey("dora");
    writeKey("erin");
    for (String o : List.of("dora", "erin")) {
      Cli.run("quorum", "officers", "register", "--state", dir.toString(), "--id", o, "--scheme", "ed25519",
          "--public-key", p(o + ".pub").toString(), "--key", p(o + ".key").toString()).ok();
    }
    Cli.run("quorum", "values", "set", "--state", dir.toString(), "--service", "token", "--value", "2").ok();
    Served s = serve(false, "--http", "--quorum-state", dir.toString());
    try {
      assertThat(s.err()).contains("hsmkit: quorum: key-management 1 of 2, token 2 of 2, user 1 of 2 (state on " + dir);
    } finally {
      stop(s);
    }
    Path notDir = Files.writeString(p("a-file"), "x");
    Cli.run("serve", "--config", cli.config.toString(), "--http", "--port", "0", "--state-dir", state.toString(),
        "--quorum-state", notDir.toString()).fails("cannot read or create the audit key " + notDir);
  }

  @AfterAll
  void cleanup() throws IOException {
    for (Process p : started) {
      p.destroyForcibly();
    }
  }
}
