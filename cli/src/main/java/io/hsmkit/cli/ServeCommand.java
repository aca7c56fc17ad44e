package io.hsmkit.cli;

import io.hsmkit.kms.access.Principals;
import io.hsmkit.kms.audit.AuditSeal;
import io.hsmkit.kms.audit.AuditTrail;
import io.hsmkit.kms.store.Database;
import io.hsmkit.kms.http.EndpointCertificates;
import io.hsmkit.kms.server.KmsServer;
import io.hsmkit.kms.server.KmsServerConfig;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.quorum.QuorumPolicy;
import io.hsmkit.quorum.Service;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code hsmkit serve}: the AWS KMS-compatible service (KmsServer) on the embedded default token
 * (or {@code --config FILE}), until killed. Once it listens, stdout gets the AWS SDKs' environment,
 * one {@code export NAME=value} line each, and nothing else, so {@code eval} of it is safe; what
 * a person reads goes to stderr. The first start of a database creates the account root's key
 * pair and prints its secret that once; later starts print the access key id only (the secret
 * is not kept anywhere it could be read back), or a new admin key pair with {@code --new-principal}.
 * The quorum state {@code hsmkit quorum} keeps for the token guards the KMS once officers are
 * registered in it ({@link #openQuorum}).
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Serve the AWS KMS-compatible endpoint on the token until killed.",
      "Prints export lines for AWS_ENDPOINT_URL_KMS, AWS_REGION, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID,",
      "AWS_SECRET_ACCESS_KEY (first start, or --new-principal) and AWS_CA_BUNDLE on stdout.",
      "HTTPS by default, with a certificate whose key is in the token.",
      "With officers registered in the quorum state of `hsmkit quorum` (on the token, or --quorum-state DIR),",
      "its values guard the KMS; stderr says which quorum is in force."
    })
public final class ServeCommand implements Callable<Integer> {
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./:@%+=,-]+");

  @Spec CommandSpec spec;

  @Option(names = "--config", paramLabel = "FILE",
      description = "HsmKit provider configuration of the default store: a token, or a cluster of tokens (cluster = FILE) on which every key is replicated (default: the embedded token ./hsmkit sets up).")
  Path config;

  @Option(names = "--port", paramLabel = "N", defaultValue = "" + KmsServerConfig.DEFAULT_PORT,
      description = "TCP port (default ${DEFAULT-VALUE}; 0 takes a free one).")
  int port;

  @Option(names = "--bind", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
      description = "Address to listen on (default ${DEFAULT-VALUE}).")
  String bind;

  @Option(names = "--http", description = "Plain HTTP instead of HTTPS (loopback addresses only).")
  boolean http;

  @Option(names = "--db-url", paramLabel = "JDBC_URL",
      description = {"Metadata database: jdbc:postgresql://HOST:PORT/DB for PostgreSQL (several nodes share it),",
          "default: embedded H2 in the state directory. The password comes from $HSMKIT_KMS_DB_PASSWORD."})
  String dbUrl;

  @Option(names = "--db-user", paramLabel = "USER", defaultValue = "${env:HSMKIT_KMS_DB_USER:-sa}",
      description = "Database user (default: $HSMKIT_KMS_DB_USER, else sa).")
  String dbUser;

  @Option(names = "--region", paramLabel = "REGION", defaultValue = KmsServerConfig.DEFAULT_REGION,
      description = "Region in ARNs and SigV4 (default ${DEFAULT-VALUE}).")
  String region;

  @Option(names = "--account-id", paramLabel = "ID", defaultValue = KmsServerConfig.DEFAULT_ACCOUNT,
      description = "12-digit account id in ARNs (default ${DEFAULT-VALUE}).")
  String accountId;

  @Option(names = "--cluster", paramLabel = "ID=CONFIG",
      description = "A cluster for custom key stores: its id and the HsmKit configuration (file or inline, without PIN) of its token. Repeatable.")
  Map<String, String> clusters = new LinkedHashMap<>();

  @Option(names = "--state-dir", paramLabel = "DIR",
      description = "Where the embedded database and the CA certificate live (default: kms/ beside the embedded token, ~/.hsmkit/kms).")
  Path stateDir;

  @Option(names = "--quorum-state", paramLabel = "DIR",
      description = {"The quorum state in this directory (as `hsmkit quorum --state DIR` keeps it) instead of on the token.",
          "With officers registered there, its values guard the KMS (key-management, token, user); with none, no quorum."})
  Path quorumState;

  @Option(names = "--new-principal", paramLabel = "NAME", arity = "0..1", fallbackValue = "",
      description = "Make a new admin user (identity policy kms:*) and print its key pair (default name admin-<time>).")
  String newPrincipal;

  @Option(names = "--verify-audit",
      description = "Do not serve: walk the audit trail of the database serve would open, print OK with its record count, or fail (exit 1) naming the first broken or missing record, or a record whose MAC (made in the token) does not match.")
  boolean verifyAudit;

  /**
   * Flyway's and Tomcat's INFO lines (migrations, connector start) would bury the few lines a person
   * needs on stderr; warnings still show. Held here so the configured loggers are not collected.
   */
  private static final java.util.List<java.util.logging.Logger> QUIET = java.util.List.of(
      java.util.logging.Logger.getLogger("org.flywaydb"), java.util.logging.Logger.getLogger("org.apache"));

  @Override
  public Integer call() {
    QUIET.forEach(l -> l.setLevel(java.util.logging.Level.WARNING));
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    String token = config != null ? readable(config).toString() : TokenOptions.defaultConfig(System.getenv());
    Path state = stateDir != null ? stateDir : defaultStateDir();
    KmsServerConfig c;
    try {
      c = KmsServerConfig.of(token, state).withPort(port).withBindAddress(address(bind)).withRegion(region).withAccountId(accountId)
          .withClusters(clusters);
      if (http) {
        c = c.withPlainHttp();
      }
      if (dbUrl != null) {
        c = c.withDatabase(dbUrl, dbUser, System.getenv("HSMKIT_KMS_DB_PASSWORD"));
      }
    } catch (IllegalArgumentException e) {
      throw new CliException(e.getMessage(), e);
    }
    if (verifyAudit) {
      return verifyAudit(c, out);
    }
    QuorumState quorum = openQuorum(token);
    KmsServer server;
    try {
      if (quorum != null) {
        c = c.withQuorum(quorum.authorizer);
      }
      server = KmsServer.start(c);
    } catch (RuntimeException e) {
      if (quorum != null) {
        quorum.close();
      }
      throw e;
    }
    CountDownLatch done = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      try {
        server.close();
      } finally {
        if (quorum != null) {
          quorum.close(); // after the server: no request can reach the authorizer any more
        }
        done.countDown();
      }
    }, "hsmkit-serve-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      server.caBundle().ifPresent(ServeCommand::writeTrustStore);
      printEnvironment(server, out, err);
      err.println("hsmkit: serving AWS KMS on " + server.uri() + " (region " + server.region() + ", account " + server.accountId()
          + "); stop with Ctrl-C or kill");
      err.println("hsmkit: " + quorumBanner);
      err.flush();
      done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return ExitCode.OK;
  }

  /** What serve's stderr says about the quorum in force; set by {@link #openQuorum}. */
  private String quorumBanner = "quorum: none";

  /**
   * The quorum state {@code hsmkit quorum} keeps for this token: on the token itself (the same
   * configuration serve uses), or in {@code --quorum-state DIR}. With officers registered it is
   * returned, open, for the server's whole life, so the guards read the values and approvals the
   * quorum verbs write (also while serving); with none there is nothing anyone could approve with,
   * so serve runs without a quorum and the state is closed again. Only counts are shown, never keys.
   */
  private QuorumState openQuorum(String token) {
    if (quorumState == null && io.hsmkit.provider.HsmKitConfig.parse(token).isCluster()) {
      // A cluster's members log in with the PINs of its cluster file, and no one member's token is
      // "the" token of the quorum verbs: its quorum state is a directory, named explicitly.
      quorumBanner = "quorum: none (the configuration is a cluster: its quorum state is not kept on a member's token;"
          + " give serve --quorum-state DIR, as `hsmkit quorum --state DIR` keeps it); KMS calls need no approvals";
      return null;
    }
    QuorumState st = quorumState != null ? QuorumState.openDirectory(quorumState) : QuorumState.openToken(token);
    try {
      int officers = st.authorizer.officers().size();
      if (officers == 0) {
        quorumBanner = "quorum: none (no officers registered in the quorum state on " + st.where
            + "); KMS calls need no approvals. Register officers with `hsmkit quorum officers register` and restart serve";
        st.close();
        return null;
      }
      QuorumPolicy policy = st.authorizer.policy();
      StringBuilder sb = new StringBuilder("quorum: ");
      for (Service s : List.of(Service.KEY_MANAGEMENT, Service.TOKEN, Service.USER)) {
        sb.append(s.wireName()).append(' ').append(policy.value(s)).append(" of ").append(officers).append(", ");
      }
      sb.setLength(sb.length() - 2);
      quorumBanner = sb.append(" (state on ").append(st.where).append("; 1 = no approval needed)").toString();
      return st;
    } catch (RuntimeException e) {
      st.close();
      throw e;
    }
  }

  /**
   * The core's chain check on the same database and token as serve (no listener): the SHA-256 chain
   * and the MACs the token's audit key made ({@code AuditSeal}); the key is looked for, never made.
   * An H2 database that is not there is an error rather than an empty, "intact" trail the open would
   * create; so is a trail with records on a token without the audit key (another token, or the key
   * destroyed), since its MACs cannot be checked.
   */
  private static int verifyAudit(KmsServerConfig c, PrintWriter out) {
    if (c.jdbcUrl().startsWith("jdbc:h2:file:") && !Files.exists(Path.of(c.jdbcUrl().substring("jdbc:h2:file:".length()) + ".mv.db"))) {
      throw new CliException("no KMS database in " + c.stateDir() + " (serve has not run there; --state-dir or --db-url?)");
    }
    java.util.Optional<AuditSeal> seal = AuditSeal.existing(new HsmKitProvider(c.hsmkitConfig()));
    try (Database db = Database.open(c.jdbcUrl(), c.dbUser(), c.dbPassword())) {
      AuditTrail.Verification v = new AuditTrail(db, seal.orElse(null)).verify();
      if (!v.intact()) {
        throw new CliException("audit trail broken at record " + v.firstBadRecord() + ": " + v.problem() + " (" + v.records()
            + " intact records before it)");
      }
      if (seal.isEmpty() && v.records() > 0) {
        throw new CliException("the token has no audit MAC key (" + AuditSeal.KEY_LABEL + "), so the " + v.records()
            + " records' MACs cannot be checked: is --config the token serve used?");
      }
      out.println("OK: audit trail intact, " + v.records() + " records, their MACs checked in the token");
      out.flush();
      return ExitCode.OK;
    }
  }

  private void printEnvironment(KmsServer server, PrintWriter out, PrintWriter err) throws InterruptedException {
    try {
      if (server.firstPrincipal().isPresent()) {
        Principals.NewPrincipal p = server.firstPrincipal().get();
        err.println("hsmkit: first start: made the key pair of " + p.principal().arn() + "; its secret is printed this once, keep it");
        server.writeEnvironment(out, p.principal().accessKeyId(), p.secretAccessKey());
      } else if (newPrincipal != null) {
        String name = newPrincipal.isEmpty() ? "admin-" + System.currentTimeMillis() / 1000 : newPrincipal;
        try (Principals.NewPrincipal p = server.newAdmin(name)) {
          err.println("hsmkit: made the key pair of " + p.principal().arn() + " (identity policy kms:*); its secret is printed this once");
          server.writeEnvironment(out, p.principal().accessKeyId(), p.secretAccessKey());
        }
      } else {
        String akid = server.rootAccessKeyId().orElse(null);
        line(out, "AWS_ENDPOINT_URL_KMS", server.uri().toString());
        line(out, "AWS_REGION", server.region());
        line(out, "AWS_DEFAULT_REGION", server.region());
        if (akid != null) {
          line(out, "AWS_ACCESS_KEY_ID", akid);
        }
        if (server.caBundle().isPresent()) {
          line(out, "AWS_CA_BUNDLE", server.caBundle().get().toAbsolutePath().toString());
        }
        err.println("hsmkit: AWS_SECRET_ACCESS_KEY " + (akid == null ? "" : "of " + akid + " ")
            + "was printed at the first start and is not kept readable; `hsmkit serve --new-principal` makes a new key pair");
      }
      server.caBundle().ifPresent(ca -> err.println("hsmkit: Java programs trust the CA with -Djavax.net.ssl.trustStore="
          + ca.resolveSibling("ca.p12").toAbsolutePath() + " -Djavax.net.ssl.trustStorePassword=changeit (the Java SDK ignores AWS_CA_BUNDLE)"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.flush();
    err.flush();
  }

  /** {@code export NAME=value}, the value single-quoted unless it is plainly safe for a shell. */
  static void line(PrintWriter out, String name, String value) {
    if (value.indexOf('\n') >= 0 || value.indexOf('\'') >= 0) {
      throw new CliException(name + " cannot be printed as one shell line");
    }
    out.println("export " + name + "=" + (PLAIN.matcher(value).matches() ? value : "'" + value + "'"));
  }

  /** ca.p12 beside ca.pem: a PKCS#12 trust store (password changeit) for Java clients. */
  private static void writeTrustStore(Path caPem) {
    try {
      X509Certificate ca = (X509Certificate) CertificateFactory.getInstance("X.509")
          .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(caPem)));
      EndpointCertificates.writeTrustStore(caPem.resolveSibling("ca.p12"), "changeit".toCharArray(), ca);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new CliException("cannot write the CA trust store beside " + caPem + ": " + e.getMessage(), e);
    }
  }

  /** kms/ beside the embedded token's directory (HSMKIT_TOKEN_DIR is HOME/tokens), else ~/.hsmkit/kms. */
  static Path defaultStateDir() {
    String tokenDir = System.getenv("HSMKIT_TOKEN_DIR");
    if (tokenDir != null && !tokenDir.isBlank()) {
      return Path.of(tokenDir).toAbsolutePath().getParent().resolve("kms");
    }
    String home = System.getenv("HSMKIT_HOME");
    return (home != null && !home.isBlank() ? Path.of(home) : Path.of(System.getProperty("user.home"), ".hsmkit")).resolve("kms");
  }

  private static Path readable(Path p) {
    if (!Files.isReadable(p)) {
      throw new CliException("cannot read the configuration " + p + ": no such file, or not readable");
    }
    return p;
  }

  private static InetAddress address(String text) {
    try {
      return InetAddress.getByName(text);
    } catch (UnknownHostException e) {
      throw new CliException("--bind " + text + ": not an address of this host", e);
    }
  }
}
