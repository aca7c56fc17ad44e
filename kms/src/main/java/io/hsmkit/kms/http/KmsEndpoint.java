package io.hsmkit.kms.http;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.Security;
import java.security.UnrecoverableKeyException;
import java.util.Comparator;
import java.util.Objects;
import java.util.stream.Stream;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;

/**
 * The AWS KMS endpoint: AWS JSON 1.1 over HTTPS on embedded Tomcat, SigV4 on every request,
 * dispatching to a {@link KmsOperations}. The real AWS SDKs talk to it unchanged (an endpoint
 * override, a region, an access key pair, and the CA certificate to trust).
 *
 * <h2>The wire</h2>
 * <ul>
 *   <li>{@code POST /} with {@code X-Amz-Target: TrentService.<Operation>} and
 *       {@code Content-Type: application/x-amz-json-1.1}; the body is a JSON object whose members
 *       are AWS's (see {@link KmsJson}: base64 blobs, epoch-second timestamps).
 *   <li>Every response has {@code x-amzn-RequestId} (a fresh UUID, also handed to
 *       {@link KmsOperations#invoke(String, com.fasterxml.jackson.databind.JsonNode, io.hsmkit.kms.Caller, String)}
 *       for the audit trail).
 *   <li>Errors are {@code {"__type":"<AwsName>","message":"..."}} with the status of
 *       {@link io.hsmkit.kms.KmsError#httpStatus()}; KMSInternal, DependencyTimeout and
 *       KeyUnavailable are 5xx, which the SDKs retry. An unexpected exception is logged with the
 *       request id and answered as KMSInternalException without detail: never a stack trace.
 *   <li>Checks in order: method and path (else UnknownOperationException); body size (a
 *       Content-Length above {@link Builder#maxRequestBytes} is refused with 413
 *       RequestEntityTooLargeException before the body is read, a chunked body as soon as it
 *       passes the bound); SigV4 ({@link SigV4Verifier}); the target (UnknownOperationException);
 *       the content type and JSON (SerializationException); then the operation.
 * </ul>
 *
 * <h2>TLS</h2>
 * HTTPS is the default: {@link Builder#https(KeyStore, String)} takes an HsmKit KeyStore (loaded,
 * logged in) and the alias of a private key entry whose chain is the server certificate and its
 * CA; the private key stays in the token, and Tomcat's JSSE signs handshakes with it through the
 * HsmKit provider (which the endpoint registers after the JDK's providers if it is not
 * registered yet, and removes again when the last endpoint that registered it closes). {@link EndpointCertificates} makes such an entry:
 * a CA whose key is generated in the token, and a server certificate for {@code localhost} and
 * {@code 127.0.0.1} signed by it; its PEM is what clients trust ({@code AWS_CA_BUNDLE}).
 * Plain HTTP ({@link Builder#plainHttp()}) is only served on a loopback address and only when
 * asked for: any other address is refused when the endpoint starts.
 *
 * <h2>Example</h2>
 * <pre>{@code
 * KeyStore ks = KeyStore.getInstance("HsmKit", hsmkit);
 * ks.load(null, null);                       // the provider's configured PIN logged in
 * EndpointCertificates.Issued certs = EndpointCertificates.ensure(ks, hsmkit, "kms-ca", "kms-tls",
 *     List.of("localhost"), List.of(InetAddress.getLoopbackAddress()), Duration.ofDays(365));
 * try (KmsEndpoint endpoint = KmsEndpoint.builder(operations, new SigV4Verifier(lookup, "us-east-1", Clock.systemUTC()))
 *     .address(InetAddress.getLoopbackAddress()).port(8443).https(ks, "kms-tls").start()) {
 *   System.out.println("export AWS_ENDPOINT_URL_KMS=" + endpoint.uri());
 *   ...
 * }
 * }</pre>
 *
 * <p>An SDK then needs {@code AWS_ENDPOINT_URL_KMS}, {@code AWS_REGION} (the verifier's region),
 * {@code AWS_ACCESS_KEY_ID}, {@code AWS_SECRET_ACCESS_KEY} and {@code AWS_CA_BUNDLE} (a file
 * holding {@link EndpointCertificates.Issued#caPem()}).
 */
public final class KmsEndpoint implements AutoCloseable {
  /** The default bound of a request body: 1 MiB, far above KMS's largest request. */
  public static final int DEFAULT_MAX_REQUEST_BYTES = 1 << 20;

  private final Tomcat tomcat;
  private final Connector connector;
  private final Path baseDir;
  private final boolean https;
  private final String host;
  private final Provider addedProvider;

  private KmsEndpoint(Tomcat tomcat, Connector connector, Path baseDir, boolean https, String host, Provider addedProvider) {
    this.tomcat = tomcat;
    this.connector = connector;
    this.baseDir = baseDir;
    this.https = https;
    this.host = host;
    this.addedProvider = addedProvider;
  }

  public static Builder builder(KmsOperations operations, SigV4Verifier verifier) {
    return new Builder(operations, verifier);
  }

  /** The port the endpoint listens on (the real one when 0 was asked for). */
  public int port() {
    return connector.getLocalPort();
  }

  /**
   * The endpoint's URI for {@code AWS_ENDPOINT_URL_KMS}: {@code https://localhost:<port>} on a
   * loopback or wildcard address (the name the certificate carries), else the address itself.
   */
  public URI uri() {
    return URI.create((https ? "https" : "http") + "://" + host + ":" + port());
  }

  public boolean isHttps() {
    return https;
  }

  /** Stops Tomcat, removes its work directory and the provider the endpoint registered. */
  @Override
  public void close() {
    try {
      tomcat.stop();
      tomcat.destroy();
    } catch (LifecycleException e) {
      throw new IllegalStateException("stopping the KMS endpoint", e);
    } finally {
      if (addedProvider != null) {
        unregister(addedProvider);
      }
      deleteTree(baseDir);
    }
  }

  /** How the endpoint is set up; {@link #start()} starts it. */
  public static final class Builder {
    private final KmsOperations operations;
    private final SigV4Verifier verifier;
    private InetAddress address = InetAddress.getLoopbackAddress();
    private int port;
    private KeyStore keyStore;
    private String keyAlias;
    private boolean plainHttp;
    private int maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES;
    private int maxThreads = 64;

    private Builder(KmsOperations operations, SigV4Verifier verifier) {
      this.operations = Objects.requireNonNull(operations, "operations");
      this.verifier = Objects.requireNonNull(verifier, "verifier");
    }

    /** The address to listen on; default the loopback address. */
    public Builder address(InetAddress address) {
      this.address = Objects.requireNonNull(address, "address");
      return this;
    }

    /** The port; default 0 (a free port, see {@link KmsEndpoint#port()}). */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port " + port + " is out of range");
      }
      this.port = port;
      return this;
    }

    /**
     * HTTPS with the private key entry {@code alias} of {@code hsmkitKeyStore}, a loaded HsmKit
     * KeyStore (its key stays in the token); its chain is what the server presents.
     */
    public Builder https(KeyStore hsmkitKeyStore, String alias) {
      this.keyStore = Objects.requireNonNull(hsmkitKeyStore, "hsmkitKeyStore");
      this.keyAlias = Objects.requireNonNull(alias, "alias");
      this.plainHttp = false;
      return this;
    }

    /** Plain HTTP instead of HTTPS: refused by {@link #start()} unless the address is a loopback one. */
    public Builder plainHttp() {
      this.plainHttp = true;
      this.keyStore = null;
      this.keyAlias = null;
      return this;
    }

    /** The largest request body accepted; default {@link #DEFAULT_MAX_REQUEST_BYTES}. */
    public Builder maxRequestBytes(int bytes) {
      if (bytes < 1024) {
        throw new IllegalArgumentException("maxRequestBytes must be at least 1024, not " + bytes);
      }
      this.maxRequestBytes = bytes;
      return this;
    }

    /** Tomcat's worker threads; default 64. */
    public Builder maxThreads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("maxThreads must be positive");
      }
      this.maxThreads = threads;
      return this;
    }

    /**
     * Starts Tomcat and returns once it listens.
     *
     * @throws IllegalStateException when plain HTTP is asked for on a non-loopback address, when
     *     neither HTTPS nor plain HTTP was chosen, when the key entry is missing, or when the
     *     connector does not start (port in use, unusable key)
     */
    public KmsEndpoint start() {
      if (plainHttp && !address.isLoopbackAddress()) {
        throw new IllegalStateException("plain HTTP is served only on a loopback address, not on " + address.getHostAddress()
            + ": use HTTPS (a certificate whose key is in the HSM) for any other address");
      }
      if (!plainHttp && keyStore == null) {
        throw new IllegalStateException("choose HTTPS (https(keyStore, alias)) or, on a loopback address only, plainHttp()");
      }
      SSLHostConfigCertificate.Type keyType = plainHttp ? null : keyType(keyStore, keyAlias);

      Path base;
      try {
        base = Files.createTempDirectory("hsmkit-kms-endpoint");
        Files.createDirectories(base.resolve("webapps"));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot make Tomcat's work directory", e);
      }
      Provider added = plainHttp ? null : register(keyStore.getProvider());
      Tomcat tomcat = new Tomcat();
      tomcat.setBaseDir(base.toString());
      Connector c = new Connector("org.apache.coyote.http11.Http11NioProtocol");
      c.setPort(port);
      c.setProperty("address", address.getHostAddress());
      c.setProperty("maxThreads", Integer.toString(maxThreads));
      c.setProperty("server", "hsmkit"); // no Tomcat version in responses
      c.setXpoweredBy(false);
      c.setMaxPostSize(maxRequestBytes);
      if (!plainHttp) {
        c.setScheme("https");
        c.setSecure(true);
        c.setProperty("SSLEnabled", "true");
        SSLHostConfig hostConfig = new SSLHostConfig();
        hostConfig.setHostName("_default_");
        hostConfig.setProtocols("TLSv1.2+TLSv1.3");
        SSLHostConfigCertificate cert = new SSLHostConfigCertificate(hostConfig, keyType);
        cert.setCertificateKeystore(keyStore);
        cert.setCertificateKeystoreType(keyStore.getType());
        cert.setCertificateKeyAlias(keyAlias);
        cert.setCertificateKeystorePassword(""); // the KeyStore is loaded; never Tomcat's "changeit" as a PIN
        hostConfig.addCertificate(cert);
        c.addSslHostConfig(hostConfig);
      }
      tomcat.getService().addConnector(c);
      tomcat.setConnector(c);

      // Errors Tomcat answers itself (a malformed HTTP request) show no report and no version.
      ErrorReportValve quiet = new ErrorReportValve();
      quiet.setShowReport(false);
      quiet.setShowServerInfo(false);
      tomcat.getHost().getPipeline().addValve(quiet);

      Context ctx = tomcat.addContext("", base.resolve("webapps").toString());
      if (ctx instanceof org.apache.catalina.core.StandardContext sc) {
        // No web application is loaded, so there is nothing for Tomcat's leak hunt to clear at
        // stop (and on Java 17 it would only warn that it cannot look without --add-opens).
        sc.setClearReferencesThreadLocals(false);
        sc.setClearReferencesRmiTargets(false);
      }
      Tomcat.addServlet(ctx, "kms", new KmsServlet(operations, verifier, maxRequestBytes)).addMapping("/*");

      String host = address.isLoopbackAddress() || address.isAnyLocalAddress() ? "localhost"
          : address instanceof Inet6Address ? "[" + address.getHostAddress() + "]" : address.getHostAddress();
      KmsEndpoint endpoint = new KmsEndpoint(tomcat, c, base, !plainHttp, host, added);
      try {
        tomcat.start();
        if (!c.getState().isAvailable() || c.getLocalPort() <= 0) {
          throw new IllegalStateException("the KMS endpoint's connector did not start on " + address.getHostAddress() + ":" + port
              + " (state " + c.getState() + "): see Tomcat's log");
        }
        return endpoint;
      } catch (LifecycleException | RuntimeException e) {
        try {
          endpoint.close();
        } catch (RuntimeException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw e instanceof RuntimeException r ? r : new IllegalStateException("the KMS endpoint did not start", e);
      }
    }

    private static SSLHostConfigCertificate.Type keyType(KeyStore ks, String alias) {
      Key k;
      try {
        k = ks.getKey(alias, null);
      } catch (KeyStoreException | NoSuchAlgorithmException | UnrecoverableKeyException e) {
        throw new IllegalStateException("cannot read the TLS key '" + alias + "' from the " + ks.getType() + " KeyStore: " + e.getMessage(), e);
      }
      if (k == null) {
        throw new IllegalStateException("the " + ks.getType() + " KeyStore has no private key '" + alias + "' for TLS: make one with EndpointCertificates");
      }
      return switch (k.getAlgorithm()) {
        case "RSA" -> SSLHostConfigCertificate.Type.RSA;
        case "EC" -> SSLHostConfigCertificate.Type.EC;
        default -> throw new IllegalStateException("a " + k.getAlgorithm() + " key cannot serve TLS here: use an RSA or EC key");
      };
    }
  }

  /** Endpoints that registered each provider: the last one to close removes it again. */
  private static final java.util.Map<String, Integer> REGISTERED = new java.util.HashMap<>();

  /**
   * JSSE finds the Signature for the token key through the provider list (delayed provider
   * selection), so the KeyStore's provider must be in it: appended after the JDK's providers, as
   * the README advises, unless it is registered already (then it is left alone, and returns null).
   */
  private static Provider register(Provider p) {
    synchronized (REGISTERED) {
      Integer n = REGISTERED.get(p.getName());
      if (n != null) {
        REGISTERED.put(p.getName(), n + 1);
        return p;
      }
      if (Security.getProvider(p.getName()) != null) {
        return null; // registered by the application: not ours to remove
      }
      Security.addProvider(p);
      REGISTERED.put(p.getName(), 1);
      return p;
    }
  }

  private static void unregister(Provider p) {
    synchronized (REGISTERED) {
      Integer n = REGISTERED.get(p.getName());
      if (n == null) {
        return;
      }
      if (n > 1) {
        REGISTERED.put(p.getName(), n - 1);
      } else {
        REGISTERED.remove(p.getName());
        Security.removeProvider(p.getName());
      }
    }
  }

  private static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // A leftover temporary directory is harmless; the endpoint is stopped either way.
    }
  }
}
