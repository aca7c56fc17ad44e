package io.hsmkit.it.tomcat;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;

/**
 * Embedded Tomcat 11 with one HTTPS connector (NIO, JSSE) on 127.0.0.1 and a free port, whose
 * certificates are keys of the HsmKit KeyStore: the same settings as the {@code <Connector>},
 * {@code <SSLHostConfig>} and {@code <Certificate>} elements of a standalone server.xml.
 */
final class EmbeddedTomcat implements AutoCloseable {
  /** The body every request gets. */
  static final String BODY = "hello from the token";

  /**
   * One {@code <Certificate>}: its type, its alias in the token, the keystore "file" (for a token,
   * {@code NONE} or empty: Tomcat then loads the KeyStore with a null stream) and the password
   * (the PIN; null leaves it to the provider's configured {@code pin}).
   */
  record Cert(SSLHostConfigCertificate.Type type, String alias, String keystoreFile, String password) {}

  private final Tomcat tomcat;
  private final Connector connector;

  private EmbeddedTomcat(Tomcat tomcat, Connector connector) {
    this.tomcat = tomcat;
    this.connector = connector;
  }

  /** Starts Tomcat in {@code baseDir}; throws if the connector did not start (a key it could not load). */
  static EmbeddedTomcat start(Path baseDir, String providerName, List<Cert> certs) throws Exception {
    Files.createDirectories(baseDir.resolve("webapps"));
    Tomcat tomcat = new Tomcat();
    tomcat.setBaseDir(baseDir.toString());

    Connector c = new Connector("org.apache.coyote.http11.Http11NioProtocol");
    c.setPort(0);
    c.setProperty("address", "127.0.0.1");
    c.setScheme("https");
    c.setSecure(true);
    c.setProperty("SSLEnabled", "true");
    c.setProperty("acceptCount", "256"); // 200 clients connect at once

    SSLHostConfig host = new SSLHostConfig();
    host.setHostName("_default_");
    host.setProtocols("TLSv1.2+TLSv1.3");
    for (Cert spec : certs) {
      SSLHostConfigCertificate cert = new SSLHostConfigCertificate(host, spec.type());
      cert.setCertificateKeystoreType("HsmKit");
      cert.setCertificateKeystoreProvider(providerName);
      cert.setCertificateKeystoreFile(spec.keystoreFile());
      if (spec.password() != null) {
        cert.setCertificateKeystorePassword(spec.password());
      }
      cert.setCertificateKeyAlias(spec.alias());
      host.addCertificate(cert);
    }
    c.addSslHostConfig(host);
    tomcat.getService().addConnector(c);
    tomcat.setConnector(c);

    Context ctx = tomcat.addContext("", baseDir.resolve("webapps").toString());
    Tomcat.addServlet(ctx, "hello", new Hello()).addMapping("/");

    EmbeddedTomcat t = new EmbeddedTomcat(tomcat, c);
    try {
      tomcat.start();
      if (!c.getState().isAvailable() || c.getLocalPort() <= 0) {
        throw new IllegalStateException("the HTTPS connector did not start (state " + c.getState() + "): see the Tomcat log above");
      }
      return t;
    } catch (Exception | Error e) {
      t.close();
      throw e;
    }
  }

  int port() {
    return connector.getLocalPort();
  }

  @Override
  public void close() {
    try {
      tomcat.stop();
    } catch (LifecycleException e) {
      throw new IllegalStateException("stopping Tomcat", e);
    } finally {
      try {
        tomcat.destroy();
      } catch (LifecycleException ignored) {
        // already reported by stop
      }
    }
  }

  /** Answers every GET with {@link #BODY}. */
  static final class Hello extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      resp.setContentType("text/plain;charset=UTF-8");
      resp.getWriter().write(BODY);
    }
  }
}
