package io.hsmkit.it.tomcat;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.catalina.startup.Catalina;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A Tomcat configured the way a standalone installation is: the key pairs made in the token with
 * keytool, HsmKit registered through a {@code java.security} file given with
 * {@code -Djava.security.properties}, the HTTPS connector read from {@code conf/server.xml} by
 * Catalina, in a JVM of its own whose class path holds Tomcat and the provider's self-contained
 * jar only. Then curl, openssl s_client and Java's HttpClient.
 *
 * <p>Two placements of HsmKit in {@code java.security}: {@code LAST} (after the JDK's providers,
 * PIN from the HsmKit configuration, {@code certificateKeystorePassword=""}: what TOMCAT.md
 * recommends) and {@code FIRST} ({@code security.provider.1}, no PIN in the configuration,
 * {@code certificateKeystorePasswordFile} instead). The FIRST run uses only X25519 clients; on
 * P-256 it fails as {@link TomcatTlsProviderFirstTest} shows.
 */
class TomcatStandaloneTest {
  static final String BODY = "hello from the token";

  static TokenFiles files;
  static Path providerJar;
  static X509Certificate rsaCert;
  static X509Certificate ecCert;
  static Path caPem;

  /** keytool with the HsmKit store, as TOMCAT.md shows it. */
  static List<String> keytool(String... command) {
    List<String> cmd = new ArrayList<>(List.of(Proc.jdkTool("keytool")));
    cmd.addAll(Arrays.asList(command));
    cmd.addAll(List.of("-keystore", "NONE", "-storetype", "HsmKit",
        "-providerClass", "io.hsmkit.provider.HsmKitProvider", "-providerArg", files.config().toString(),
        "-providerPath", providerJar.toString(), "-storepass:file", files.pinFile().toString()));
    return cmd;
  }

  static Proc.Result run(List<String> cmd) {
    Proc.Result r = Proc.run(Duration.ofSeconds(60), Map.of("SOFTHSM2_CONF", files.token().conf()), cmd);
    assertThat(r.exit()).as(r.describe()).isZero();
    return r;
  }

  @BeforeAll
  static void makeKeysWithKeytool() throws Exception {
    files = TokenFiles.create("TomcatStandaloneTest", "tomcat-standalone", 4);
    providerJar = Path.of(System.getProperty("hsmkit.provider.jar", "../provider/target/hsmkit-provider-0.1.0-SNAPSHOT-all.jar")).toAbsolutePath();
    assertThat(providerJar).as("the provider's self-contained jar: build it with `mvn -B -o install -DskipTests -pl pkcs11-binding,provider`").isRegularFile();

    String dname = "CN=localhost, O=HsmKit tests";
    String san = "SAN=dns:localhost,ip:127.0.0.1";
    List<String> rsa = keytool("-genkeypair", "-alias", "tls-rsa", "-keyalg", "RSA", "-keysize", "2048", "-sigalg", "SHA256withRSA",
        "-dname", dname, "-ext", san, "-validity", "2", "-providerName", "HsmKit", "-keypass:file", files.pinFile().toString());
    List<String> ec = keytool("-genkeypair", "-alias", "tls-ec", "-keyalg", "EC", "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA",
        "-dname", dname, "-ext", san, "-validity", "2", "-providerName", "HsmKit", "-keypass:file", files.pinFile().toString());
    run(rsa);
    run(ec);
    rsaCert = Pem.certificates(run(keytool("-exportcert", "-rfc", "-alias", "tls-rsa")).out()).get(0);
    ecCert = Pem.certificates(run(keytool("-exportcert", "-rfc", "-alias", "tls-ec")).out()).get(0);
    assertThat(rsaCert.getPublicKey().getAlgorithm()).isEqualTo("RSA");
    assertThat(ecCert.getPublicKey().getAlgorithm()).isEqualTo("EC");
    caPem = Files.writeString(files.dir().resolve("ca.pem"), Pem.encode(rsaCert, ecCert));

    // The private keys were generated in the token (CKA_LOCAL) and can never leave it.
    Proc.Result objs = run(List.of(Proc.require("pkcs11-tool", "opensc"), "--module", files.token().library(), "--token-label", files.token().label(),
        "--login", "--pin", files.pin(), "--list-objects", "--type", "privkey"));
    assertThat(objs.out()).as(objs.describe()).contains("label:      tls-rsa").contains("label:      tls-ec");
    List<String> keys = Arrays.stream(objs.out().split("Private Key Object")).filter(b -> b.contains("label:")).toList();
    assertThat(keys).as(objs.describe()).hasSize(2)
        .allSatisfy(k -> assertThat(k).contains("sensitive").contains("never extractable").contains("local"));
  }

  enum Placement {
    /** After the JDK's providers; the PIN in hsmkit.cfg; certificateKeystorePassword="". */
    LAST,
    /** security.provider.1; no PIN in hsmkit.cfg; certificateKeystorePasswordFile. */
    FIRST
  }

  /** The JDK's own provider lines, in order (from $JAVA_HOME/conf/security/java.security). */
  static List<String> jdkProviders() throws IOException {
    List<String> names = new ArrayList<>();
    for (int i = 1; ; i++) {
      String prefix = "security.provider." + i + "=";
      String line = Files.readAllLines(Path.of(System.getProperty("java.home"), "conf", "security", "java.security")).stream()
          .filter(l -> l.startsWith(prefix)).findFirst().orElse(null);
      if (line == null) {
        return names;
      }
      names.add(line.substring(prefix.length()).trim());
    }
  }

  /** The java.security override file for {@code placement}, with {@code config} as HsmKit's argument. */
  static String javaSecurity(Placement placement, Path config) throws IOException {
    List<String> jdk = jdkProviders();
    StringBuilder sb = new StringBuilder("# HsmKit for Tomcat: -Djava.security.properties=<this file>\n");
    if (placement == Placement.FIRST) {
      sb.append("security.provider.1=HsmKit ").append(config).append('\n');
      for (int i = 0; i < jdk.size(); i++) {
        sb.append("security.provider.").append(i + 2).append('=').append(jdk.get(i)).append('\n');
      }
    } else {
      sb.append("security.provider.").append(jdk.size() + 1).append("=HsmKit ").append(config).append('\n');
    }
    return sb.toString();
  }

  /** The {@code <Connector>} of conf/server.xml. */
  static String connector(Placement placement, Path pinFile) {
    String password = placement == Placement.LAST
        ? "certificateKeystorePassword=\"\""
        : "certificateKeystorePasswordFile=\"" + pinFile + "\"";
    return """
        <Connector port="0" address="127.0.0.1"
                   protocol="org.apache.coyote.http11.Http11NioProtocol"
                   SSLEnabled="true" scheme="https" secure="true" maxThreads="200">
          <SSLHostConfig protocols="TLSv1.2+TLSv1.3">
            <Certificate type="RSA"
                         certificateKeystoreType="HsmKit"
                         certificateKeystoreProvider="HsmKit"
                         certificateKeystoreFile="NONE"
                         %1$s
                         certificateKeyAlias="tls-rsa"/>
            <Certificate type="EC"
                         certificateKeystoreType="HsmKit"
                         certificateKeystoreProvider="HsmKit"
                         certificateKeystoreFile="NONE"
                         %1$s
                         certificateKeyAlias="tls-ec"/>
          </SSLHostConfig>
        </Connector>
        """.formatted(password);
  }

  /** A CATALINA_BASE: conf/server.xml, a minimal conf/web.xml with the default servlet, webapps/ROOT/index.html. */
  static Path catalinaBase(Placement placement, Path pinFile) throws IOException {
    Path base = files.dir().resolve("catalina-" + placement.name().toLowerCase());
    TokenFiles.deleteTree(base);
    Files.createDirectories(base.resolve("conf"));
    Files.createDirectories(base.resolve("webapps/ROOT"));
    Files.createDirectories(base.resolve("logs"));
    Files.writeString(base.resolve("conf/server.xml"), """
        <?xml version="1.0" encoding="UTF-8"?>
        <Server port="-1" shutdown="SHUTDOWN">
          <Service name="Catalina">
        %s
            <Engine name="Catalina" defaultHost="localhost">
              <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false"/>
            </Engine>
          </Service>
        </Server>
        """.formatted(connector(placement, pinFile).indent(4)));
    Files.writeString(base.resolve("conf/web.xml"), """
        <?xml version="1.0" encoding="UTF-8"?>
        <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.1" metadata-complete="true">
          <servlet>
            <servlet-name>default</servlet-name>
            <servlet-class>org.apache.catalina.servlets.DefaultServlet</servlet-class>
            <load-on-startup>1</load-on-startup>
          </servlet>
          <servlet-mapping><servlet-name>default</servlet-name><url-pattern>/</url-pattern></servlet-mapping>
          <mime-mapping><extension>html</extension><mime-type>text/html</mime-type></mime-mapping>
          <welcome-file-list><welcome-file>index.html</welcome-file></welcome-file-list>
        </web-app>
        """);
    Files.writeString(base.resolve("conf/context.xml"), "<Context><JarScanner scanClassPath=\"false\"/></Context>\n");
    Files.writeString(base.resolve("webapps/ROOT/index.html"), BODY);
    return base;
  }

  static String location(Class<?> c) throws Exception {
    return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }

  @ParameterizedTest
  @EnumSource(Placement.class)
  void standaloneTomcat(Placement placement) throws Exception {
    Path config = files.config();
    if (placement == Placement.FIRST) {
      // No PIN in the configuration: Tomcat logs in with certificateKeystorePasswordFile.
      config = Files.writeString(files.dir().resolve("hsmkit-nopin.cfg"),
          Files.readAllLines(files.config()).stream().filter(l -> !l.startsWith("pin ")).reduce("", (a, b) -> a + b + "\n"));
    }
    Path javaSecurity = Files.writeString(files.dir().resolve("java.security-" + placement.name().toLowerCase()), javaSecurity(placement, config));
    Path base = catalinaBase(placement, files.pinFile());

    String classPath = String.join(File.pathSeparator, location(StandaloneTomcatMain.class), location(Catalina.class),
        location(Class.forName("jakarta.annotation.PostConstruct")), providerJar.toString());
    ProcessBuilder pb = new ProcessBuilder(Proc.jdkTool("java"), "-cp", classPath,
        "-Dcatalina.base=" + base, "-Dcatalina.home=" + base,
        "-Djava.security.properties=" + javaSecurity,
        StandaloneTomcatMain.class.getName())
        .redirectError(base.resolve("logs/catalina.err").toFile());
    pb.environment().put("SOFTHSM2_CONF", files.token().conf());
    Process tomcat = pb.start();
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(tomcat.getInputStream(), StandardCharsets.UTF_8))) {
        for (String l; (l = r.readLine()) != null; ) {
          lines.add(l);
        }
      } catch (IOException ignored) {
        // the process ended
      }
      lines.add("HSMKIT-EOF");
    }, "tomcat-stdout");
    reader.setDaemon(true);
    reader.start();

    List<String> out = new ArrayList<>();
    try {
      int port = -1;
      while (port < 0) {
        String l = lines.poll(60, TimeUnit.SECONDS);
        assertThat(l).as("Tomcat printed nothing for 60 s; see " + base.resolve("logs/catalina.err")).isNotNull();
        out.add(l);
        if (l.startsWith("HSMKIT-PORT ")) {
          port = Integer.parseInt(l.substring(12).trim());
        } else if (l.startsWith("HSMKIT-FAILED") || l.equals("HSMKIT-EOF")) {
          throw new AssertionError("Tomcat did not start: " + out + "\n" + Files.readString(base.resolve("logs/catalina.err")));
        }
      }
      int expectedPosition = placement == Placement.FIRST ? 1 : jdkProviders().size() + 1;
      assertThat(out).as("HsmKit came from java.security").anyMatch(l -> l.startsWith("HSMKIT-PROVIDER " + expectedPosition + " HsmKit"));
      System.out.printf("TomcatStandaloneTest %s: %s%n", placement, out);

      // curl: TLS 1.3, and TLS 1.2 only (with the RSA and the EC certificate).
      for (List<String> opts : List.of(List.of("--tlsv1.3"), List.of("--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"),
          List.of("--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"))) {
        TlsClients.Seen seen = TlsClients.curl(port, caPem, opts);
        assertThat(seen.status()).as("curl " + opts).isEqualTo(200);
        assertThat(seen.body()).isEqualTo(BODY);
        assertThat(List.of(rsaCert, ecCert)).contains(seen.leaf());
        if (opts.contains("ECDHE-RSA-AES128-GCM-SHA256")) {
          assertThat(seen.leaf()).isEqualTo(rsaCert);
        } else if (opts.contains("ECDHE-ECDSA-AES128-GCM-SHA256")) {
          assertThat(seen.leaf()).isEqualTo(ecCert);
        }
      }
      // openssl forced to each signature scheme: the peer's certificate is the token's.
      List<String[]> sclient = new ArrayList<>(List.of(
          new String[] {"-tls1_3 -sigalgs rsa_pss_rsae_sha256", "RSA-PSS"},
          new String[] {"-tls1_3 -sigalgs ecdsa_secp256r1_sha256", "ECDSA"},
          new String[] {"-tls1_2 -sigalgs rsa_pss_rsae_sha256 -cipher ECDHE-RSA-AES128-GCM-SHA256", "RSA-PSS"},
          new String[] {"-tls1_2 -sigalgs ecdsa_secp256r1_sha256 -cipher ECDHE-ECDSA-AES128-GCM-SHA256", "ECDSA"}));
      if (placement == Placement.LAST) {
        sclient.add(new String[] {"-tls1_3 -groups P-256 -sigalgs rsa_pss_rsae_sha256", "RSA-PSS"});
        sclient.add(new String[] {"-tls1_2 -groups P-256 -sigalgs ecdsa_secp256r1_sha256 -cipher ECDHE-ECDSA-AES128-GCM-SHA256", "ECDSA"});
      }
      for (String[] c : sclient) {
        TlsClients.Seen seen = TlsClients.opensslSClient(port, caPem, Arrays.asList(c[0].split(" ")), BODY);
        assertThat(seen.signatureType()).as(c[0]).isEqualTo(c[1]);
        assertThat(seen.leaf()).as(c[0]).isEqualTo(c[1].equals("ECDSA") ? ecCert : rsaCert);
      }
      // Java's HttpClient.
      HttpClient client = HttpClient.newBuilder().sslContext(TlsClients.clientContext(TlsClients.trusting(rsaCert, ecCert)))
          .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/")).timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo(BODY);
      assertThat(List.of(rsaCert, ecCert)).contains((X509Certificate) r.sslSession().orElseThrow().getPeerCertificates()[0]);
    } finally {
      try (OutputStream stdin = tomcat.getOutputStream()) {
        stdin.flush(); // closing stdin stops Tomcat
      } catch (IOException ignored) {
        // already gone
      }
      if (!tomcat.waitFor(30, TimeUnit.SECONDS)) {
        tomcat.destroyForcibly();
        tomcat.waitFor(10, TimeUnit.SECONDS);
      }
      reader.join(5_000);
      lines.drainTo(out);
    }
    assertThat(tomcat.exitValue()).as(out + "\n" + Files.readString(base.resolve("logs/catalina.err"))).isZero();
    String pool = out.stream().filter(l -> l.startsWith("HSMKIT-POOL ")).findFirst().orElse("(no pool line) " + out);
    assertThat(pool).as("the provider's pool in the Tomcat JVM after stop").contains("borrowed=0").contains("leaked=0");
  }
}
