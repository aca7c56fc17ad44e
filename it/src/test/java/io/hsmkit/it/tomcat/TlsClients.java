package io.hsmkit.it.tomcat;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/** curl, openssl s_client and JDK clients against a Tomcat whose certificates live in the token. */
final class TlsClients {
  private TlsClients() {}

  static final Duration TIMEOUT = Duration.ofSeconds(30);

  /** What a client saw: protocol, the server's leaf certificate, and (openssl) the signature type. */
  record Seen(String protocol, X509Certificate leaf, String signatureType, String body, int status) {}

  /** Trust managers that trust exactly {@code certs} (self-signed server certificates). */
  static TrustManager[] trusting(X509Certificate... certs) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    for (int i = 0; i < certs.length; i++) {
      trust.setCertificateEntry("server" + i, certs[i]);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    return tmf.getTrustManagers();
  }

  static SSLContext clientContext(TrustManager[] tms) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tms, null);
    return ctx;
  }

  private static final Pattern CURL_PROTOCOL = Pattern.compile("SSL connection using (TLSv1\\.[23])");
  private static final Pattern CURL_STATUS = Pattern.compile("@@HTTP (\\d{3}) VERIFY (\\d+)@@");

  /**
   * {@code curl -v --cacert ca.pem [options] https://localhost:port/}, localhost resolved to
   * 127.0.0.1; the certificate comes from {@code -w %{certs}}.
   */
  static Seen curl(int port, Path caPem, List<String> options) {
    String curl = Proc.require("curl", "curl");
    List<String> cmd = new ArrayList<>(List.of(curl, "-sS", "-v", "--max-time", "20", "--cacert", caPem.toString(),
        "--resolve", "localhost:" + port + ":127.0.0.1", "-w", "\n@@HTTP %{http_code} VERIFY %{ssl_verify_result}@@\n%{certs}"));
    cmd.addAll(options);
    cmd.add("https://localhost:" + port + "/");
    Proc.Result r = Proc.run(TIMEOUT, Map.of(), cmd);
    assertThat(r.exit()).as(r.describe()).isZero();
    Matcher st = CURL_STATUS.matcher(r.out());
    assertThat(st.find()).as(r.describe()).isTrue();
    assertThat(st.group(2)).as("curl's ssl_verify_result\n" + r.describe()).isEqualTo("0");
    Matcher pr = CURL_PROTOCOL.matcher(r.err());
    assertThat(pr.find()).as(r.describe()).isTrue();
    List<X509Certificate> certs = Pem.certificates(r.out().substring(st.end()));
    assertThat(certs).as("curl -w %{certs}\n" + r.describe()).isNotEmpty();
    return new Seen(pr.group(1), certs.get(0), null, r.out().substring(0, st.start()).strip(), Integer.parseInt(st.group(1)));
  }

  private static final Pattern SSL_PROTOCOL = Pattern.compile("New, (TLSv1\\.[23]), Cipher is ");
  private static final Pattern SIG_TYPE = Pattern.compile("Peer signature type: (\\S+)");

  /**
   * {@code openssl s_client -connect 127.0.0.1:port -servername localhost -showcerts -CAfile ca.pem
   * -verify_return_error -verify_hostname localhost -ign_eof [options]} sending one request with
   * {@code Connection: close}: it ends when Tomcat has answered and closed the connection, and
   * exits 0 only if the handshake and the exchange both succeeded.
   */
  static Seen opensslSClient(int port, Path caPem, List<String> options, String expectedBody) {
    String openssl = Proc.require("openssl", "openssl");
    List<String> cmd = new ArrayList<>(List.of(openssl, "s_client", "-connect", "127.0.0.1:" + port, "-servername", "localhost",
        "-showcerts", "-CAfile", caPem.toString(), "-verify_return_error", "-verify_hostname", "localhost", "-ign_eof"));
    cmd.addAll(options);
    Proc.Result r = Proc.run(TIMEOUT, Map.of(), cmd, "GET / HTTP/1.1\r\nHost: localhost:" + port + "\r\nConnection: close\r\n\r\n");
    assertThat(r.exit()).as(r.describe()).isZero();
    assertThat(r.out()).as(r.describe()).contains("Verification: OK").contains("Verify return code: 0 (ok)")
        .contains("HTTP/1.1 200").contains(expectedBody);
    Matcher pr = SSL_PROTOCOL.matcher(r.out());
    assertThat(pr.find()).as(r.describe()).isTrue();
    Matcher sig = SIG_TYPE.matcher(r.out());
    assertThat(sig.find()).as(r.describe()).isTrue();
    List<X509Certificate> certs = Pem.certificates(r.out());
    assertThat(certs).as(r.describe()).isNotEmpty();
    return new Seen(pr.group(1), certs.get(0), sig.group(1), null, 0);
  }
}
