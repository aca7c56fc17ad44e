package io.hsmkit.kms.server;

import io.hsmkit.kms.KmsService;
import io.hsmkit.kms.audit.AuditSeal;
import io.hsmkit.kms.audit.AuditTrail;
import io.hsmkit.kms.access.PolicyAccessControl;
import io.hsmkit.kms.access.Principals;
import io.hsmkit.kms.backing.KeyBacking;
import io.hsmkit.kms.backing.cluster.ClusterKeyBacking;
import io.hsmkit.kms.backing.token.TokenKeyBacking;
import io.hsmkit.kms.cks.CustomKeyStoreBackings;
import io.hsmkit.kms.cks.CustomKeyStores;
import io.hsmkit.kms.cks.PinSealer;
import io.hsmkit.kms.http.AwsEnvironment;
import io.hsmkit.kms.http.EndpointCertificates;
import io.hsmkit.kms.http.KmsEndpoint;
import io.hsmkit.kms.http.ServiceOperations;
import io.hsmkit.kms.http.SigV4Verifier;
import io.hsmkit.kms.store.Database;
import io.hsmkit.provider.HsmKitProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The whole KMS in one object: the metadata database, the default store on the HsmKit token, the
 * custom key stores, principals, policies and grants, the KMS service with its audit trail and
 * background work, and the AWS JSON 1.1 endpoint with SigV4 and TLS whose key lives in the token.
 *
 * <pre>{@code
 * try (KmsServer server = KmsServer.start(KmsServerConfig.of("/etc/hsmkit.cfg", stateDir).withPort(0))) {
 *   server.firstPrincipal().ifPresent(p -> ...);   // only on the first start: the secret, once
 *   server.writeEnvironment(out, accessKeyId, secret); // export AWS_ENDPOINT_URL_KMS=... lines
 * }
 * }</pre>
 *
 * <p>Start-up order: provider (logged in) -> database (Flyway) -> default backing -> custom key
 * stores over it -> principals -> access control -> service, {@link KmsService#reconcile()}, background
 * work (deletion purge, rotation) -> certificates in the token -> endpoint. {@link #close()} stops
 * in reverse. The first principal is the account root ({@code arn:aws:iam::<account>:root}, which
 * AWS's default key policy lets do everything), created when the database holds no principal at
 * all: a fresh service has nothing yet for a quorum to protect, so this one creation is not
 * guarded; every later principal is ({@link #newAdmin}).
 */
public final class KmsServer implements AutoCloseable {
  /** Aliases of the endpoint's certificates in the token. */
  public static final String CA_ALIAS = "hsmkit-kms-ca";
  public static final String TLS_ALIAS = "hsmkit-kms-tls";
  /** The admin principal's identity policy: everything in KMS. */
  public static final String ADMIN_POLICY = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Resource\":\"*\"}]}";

  private final KmsServerConfig config;
  private final HsmKitProvider provider;
  private final Database db;
  private final KmsService service;
  private final CustomKeyStores stores;
  private final Principals principals;
  private final ServerAccessControl access;
  private final KmsEndpoint endpoint;
  private final Path caBundle;
  private final Principals.NewPrincipal firstPrincipal;

  private KmsServer(KmsServerConfig config, HsmKitProvider provider, Database db, KmsService service, CustomKeyStores stores,
      Principals principals, ServerAccessControl access, KmsEndpoint endpoint, Path caBundle, Principals.NewPrincipal firstPrincipal) {
    this.config = config;
    this.provider = provider;
    this.db = db;
    this.service = service;
    this.stores = stores;
    this.principals = principals;
    this.access = access;
    this.endpoint = endpoint;
    this.caBundle = caBundle;
    this.firstPrincipal = firstPrincipal;
  }

  /** Builds and starts everything; on failure, whatever was started is stopped again. */
  public static KmsServer start(KmsServerConfig config) {
    Objects.requireNonNull(config, "config");
    List<AutoCloseable> started = new ArrayList<>();
    try {
      Files.createDirectories(config.stateDir());
      HsmKitProvider provider = new HsmKitProvider(config.hsmkitConfig());
      Database db = Database.open(config.jdbcUrl(), config.dbUser(), config.dbPassword());
      // A provider over a cluster (cluster = FILE): every KMS key, and the KMS's own keys, replicated
      KeyBacking defaultStore = ClusterKeyBacking.isCluster(provider) ? new ClusterKeyBacking(provider) : new TokenKeyBacking(provider);
      CustomKeyStores stores = new CustomKeyStores(db, config.clusters(), config.clock(), id -> keysInStore(db, id),
          PinSealer.onBacking(defaultStore));
      started.add(stores);
      Principals principals = new Principals(db, provider, config.quorum(), config.clock());
      // Grants live in the core's table and count at once; a grant token must name an existing grant row.
      ServerAccessControl access = new ServerAccessControl(
          new PolicyAccessControl(ServerAccessControl.grantTokensIn(db)), db, config.quorum());
      // The audit trail is MACed in the token; a key made just now means a trail never sealed
      // (a fresh one, or one from before sealing existed): its records are sealed as they are.
      AuditSeal seal = AuditSeal.onToken(provider);
      AuditTrail trail = new AuditTrail(db, seal);
      if (seal.createdNow()) {
        trail.sealExisting();
      }
      KmsService service = new KmsService(db, new CustomKeyStoreBackings(defaultStore, stores), access, config.clock(),
          config.region(), config.accountId(), trail);
      started.add(service);
      service.reconcile();
      service.startBackgroundWork(Duration.ofMinutes(1));
      CustomKeyStoreOperations cks = new CustomKeyStoreOperations(stores, access, service.auditTrail(), config.clock(),
          config.region(), config.accountId());

      Principals.NewPrincipal first = null;
      if (principals.list().isEmpty()) {
        try {
          first = new Principals(db, provider, null, config.clock()).createAccountRoot(config.accountId(), null);
        } catch (io.hsmkit.kms.KmsException e) {
          // Another node on the same database made it first: its start printed the secret.
          if (e.error() != io.hsmkit.kms.KmsError.ALREADY_EXISTS) {
            throw e;
          }
        }
      }

      SigV4Verifier verifier = new SigV4Verifier(principals, config.region(), config.clock());
      // Each request's audit record carries the x-amzn-RequestId the client got.
      ServiceOperations operations = ServiceOperations.of(service, cks)
          .withRequestScope(KmsService::withRequestId);
      KmsEndpoint.Builder b = KmsEndpoint.builder(operations, verifier)
          .address(config.bindAddress()).port(config.port());
      Path caBundle = null;
      if (config.https()) {
        KeyStore ks = KeyStore.getInstance("HsmKit", provider);
        ks.load(null, null); // logged in by the configured PIN
        List<InetAddress> addresses = new ArrayList<>(List.of(InetAddress.getByName("127.0.0.1")));
        if (!config.bindAddress().isAnyLocalAddress() && !addresses.contains(config.bindAddress())) {
          addresses.add(config.bindAddress());
        }
        EndpointCertificates.Issued certs = EndpointCertificates.ensure(ks, provider, CA_ALIAS, TLS_ALIAS, List.of("localhost"),
            addresses, Duration.ofDays(365));
        caBundle = Files.writeString(config.stateDir().resolve("ca.pem"), certs.caPem());
        b.https(ks, TLS_ALIAS);
      } else {
        b.plainHttp();
      }
      KmsEndpoint endpoint = b.start();
      return new KmsServer(config, provider, db, service, stores, principals, access, endpoint, caBundle, first);
    } catch (IOException e) {
      closeAll(started);
      throw new UncheckedIOException("starting the KMS server in " + config.stateDir(), e);
    } catch (GeneralSecurityException e) {
      closeAll(started);
      throw new IllegalStateException("the endpoint's certificates in the token: " + e.getMessage(), e);
    } catch (RuntimeException | Error e) {
      closeAll(started);
      throw e;
    }
  }

  private static void closeAll(List<AutoCloseable> started) {
    for (int i = started.size() - 1; i >= 0; i--) {
      try {
        started.get(i).close();
      } catch (Exception ignored) {
        // already failing: the first error is the one to report
      }
    }
  }

  /** How many KMS keys (any state) the core holds in a custom key store: DeleteCustomKeyStore needs 0. */
  static int keysInStore(Database db, String customKeyStoreId) {
    return db.inTransaction(c -> {
      try (PreparedStatement st = c.prepareStatement("SELECT COUNT(*) FROM kms_key WHERE custom_key_store_id = ?")) {
        st.setString(1, customKeyStoreId);
        try (ResultSet rs = st.executeQuery()) {
          rs.next();
          return rs.getInt(1);
        }
      }
    });
  }

  /** The endpoint, for {@code AWS_ENDPOINT_URL_KMS}. */
  public URI uri() {
    return endpoint.uri();
  }

  public String region() {
    return config.region();
  }

  public String accountId() {
    return config.accountId();
  }

  /** The CA certificate (PEM file) clients trust, for {@code AWS_CA_BUNDLE}; empty on plain HTTP. */
  public Optional<Path> caBundle() {
    return Optional.ofNullable(caBundle);
  }

  /** The in-process service (the same one the endpoint serves). */
  public KmsService service() {
    return service;
  }

  public CustomKeyStores customKeyStores() {
    return stores;
  }

  public Principals principals() {
    return principals;
  }

  public ServerAccessControl accessControl() {
    return access;
  }

  public Database database() {
    return db;
  }

  public HsmKitProvider provider() {
    return provider;
  }

  /**
   * The principal this start created (the account root), with its secret: only on the first
   * start of a database. The caller prints it once and closes it.
   */
  public Optional<Principals.NewPrincipal> firstPrincipal() {
    return Optional.ofNullable(firstPrincipal);
  }

  /** The account root's access key id, if it has one. */
  public Optional<String> rootAccessKeyId() {
    String rootArn = "arn:aws:iam::" + config.accountId() + ":root";
    return principals.list().stream().filter(p -> p.arn().equals(rootArn) && p.active()).map(Principals.Principal::accessKeyId).findFirst();
  }

  /**
   * A new admin user ({@code arn:aws:iam::<account>:user/<name>}, identity policy {@code kms:*}),
   * with its secret, once. Guarded by the {@code user} quorum when one is configured.
   */
  public Principals.NewPrincipal newAdmin(String name) {
    return principals.create(name, config.accountId(), ADMIN_POLICY, null);
  }

  /** The SDK's environment, one {@code export NAME=value} line each ({@link AwsEnvironment}). */
  public void writeEnvironment(Writer out, String accessKeyId, char[] secretAccessKey) throws IOException {
    AwsEnvironment.write(out, uri(), config.region(), accessKeyId, secretAccessKey, caBundle);
  }

  /** Stops the endpoint, the background work and the custom key stores' sessions. */
  @Override
  public void close() {
    try {
      endpoint.close();
    } finally {
      try {
        service.close();
      } finally {
        stores.close();
        if (firstPrincipal != null) {
          firstPrincipal.close();
        }
      }
    }
  }
}
