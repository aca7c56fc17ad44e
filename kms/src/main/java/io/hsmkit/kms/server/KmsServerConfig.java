package io.hsmkit.kms.server;

import io.hsmkit.quorum.QuorumAuthorizer;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What {@link KmsServer} is built from. Immutable; start from {@link #of} and change with the
 * {@code with...} methods.
 *
 * @param hsmkitConfig the default store's token: an HsmKit provider configuration (a file path, or
 *     inline text starting with {@code --}) with a PIN, so that the provider logs in
 * @param stateDir     a directory of the server's own: the H2 database by default, and the CA
 *     certificate clients trust ({@code ca.pem})
 * @param jdbcUrl      H2 ({@code jdbc:h2:file:...}) or PostgreSQL ({@code jdbc:postgresql://...})
 * @param clusters     cluster id to HsmKit configuration (without PIN) of that cluster's token, for
 *     custom key stores
 * @param quorum       guards principals ({@code user}), ScheduleKeyDeletion, PutKeyPolicy and
 *     ImportKeyMaterial ({@code key-management}) and custom key store changes ({@code token});
 *     null for none
 */
public record KmsServerConfig(
    String hsmkitConfig,
    Path stateDir,
    String jdbcUrl,
    String dbUser,
    String dbPassword,
    String region,
    String accountId,
    InetAddress bindAddress,
    int port,
    boolean https,
    Map<String, String> clusters,
    QuorumAuthorizer quorum,
    Clock clock) {
  /** The account of a fresh server unless another is configured (AWS's documentation example account). */
  public static final String DEFAULT_ACCOUNT = "111122223333";
  public static final String DEFAULT_REGION = "us-east-1";
  public static final int DEFAULT_PORT = 4599;
  private static final Pattern REGION = Pattern.compile("[a-z]{2}(-[a-z]+)+-\\d{1,2}");

  public KmsServerConfig {
    Objects.requireNonNull(hsmkitConfig, "hsmkitConfig");
    Objects.requireNonNull(stateDir, "stateDir");
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    Objects.requireNonNull(bindAddress, "bindAddress");
    Objects.requireNonNull(clock, "clock");
    if (region == null || !REGION.matcher(region).matches()) {
      throw new IllegalArgumentException("a region looks like us-east-1 (got " + region + ")");
    }
    if (accountId == null || !accountId.matches("\\d{12}")) {
      throw new IllegalArgumentException("an account id is 12 digits");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is not 0..65535");
    }
    if (!https && !bindAddress.isLoopbackAddress()) {
      // The endpoint refuses it too; said here so that a configuration error shows before any token work.
      throw new IllegalArgumentException("plain HTTP is served on a loopback address only (not " + bindAddress.getHostAddress() + ")");
    }
    clusters = clusters == null ? Map.of() : Map.copyOf(clusters);
  }

  /** HTTPS on 127.0.0.1:{@value #DEFAULT_PORT}, H2 in {@code stateDir/kms}, us-east-1, account {@value #DEFAULT_ACCOUNT}. */
  public static KmsServerConfig of(String hsmkitConfig, Path stateDir) {
    return new KmsServerConfig(hsmkitConfig, stateDir, h2Url(stateDir), "sa", "", DEFAULT_REGION, DEFAULT_ACCOUNT,
        InetAddress.getLoopbackAddress(), DEFAULT_PORT, true, Map.of(), null, Clock.systemUTC());
  }

  /** The embedded database's URL in {@code stateDir}. */
  public static String h2Url(Path stateDir) {
    return "jdbc:h2:file:" + stateDir.toAbsolutePath().resolve("kms");
  }

  public KmsServerConfig withDatabase(String url, String user, String password) {
    return new KmsServerConfig(hsmkitConfig, stateDir, url, user, password, region, accountId, bindAddress, port, https, clusters, quorum, clock);
  }

  public KmsServerConfig withRegion(String newRegion) {
    return new KmsServerConfig(hsmkitConfig, stateDir, jdbcUrl, dbUser, dbPassword, newRegion, accountId, bindAddress, port, https, clusters, quorum, clock);
  }

  public KmsServerConfig withAccountId(String account) {
    return new KmsServerConfig(hsmkitConfig, stateDir, jdbcUrl, dbUser, dbPassword, region, account, bindAddress, port, https, clusters, quorum, clock);
  }

  /** Port 0 takes a free port ({@link KmsServer#uri()} tells which). */
  public KmsServerConfig withPort(int newPort) {
    return new KmsServerConfig(hsmkitConfig, stateDir, jdbcUrl, dbUser, dbPassword, region, accountId, bindAddress, newPort, https, clusters, quorum, clock);
  }

  public KmsServerConfig withBindAddress(InetAddress address) {
    return new KmsServerConfig(hsmkitConfig, stateDir, jdbcUrl, dbUser, dbPassword, region, accountId, address, port, https, clusters, quorum, clock);
  }

  /** Plain HTTP (loopback only) instead of HTTPS. */
  public KmsServerConfig withPlainHttp() {
    return new KmsServerConfig(hsmkitConfig, stateDir, jdbcUrl, dbUser, dbPassword, region, accountId, bindAddress, port, false, clusters, quorum, clock);
  }

  public KmsServerConfig withClusters(Map<String, String> newClusters) {
    return new KmsServerConfig(hsmkitConfig, stateDir, jdbcUrl, dbUser, dbPassword, region, accountId, bindAddress, port, https, newClusters, quorum, clock);
  }

  public KmsServerConfig withQuorum(QuorumAuthorizer newQuorum) {
    return new KmsServerConfig(hsmkitConfig, stateDir, jdbcUrl, dbUser, dbPassword, region, accountId, bindAddress, port, https, clusters, newQuorum, clock);
  }

  public KmsServerConfig withClock(Clock newClock) {
    return new KmsServerConfig(hsmkitConfig, stateDir, jdbcUrl, dbUser, dbPassword, region, accountId, bindAddress, port, https, clusters, quorum, newClock);
  }

  @Override
  public String toString() {
    // The database password stays out of logs and messages.
    return "KmsServerConfig[token=" + hsmkitConfig + ", stateDir=" + stateDir + ", jdbcUrl=" + jdbcUrl + ", region=" + region
        + ", account=" + accountId + ", bind=" + bindAddress.getHostAddress() + ":" + port + ", https=" + https + ", clusters="
        + clusters.keySet() + ", quorum=" + (quorum != null) + "]";
  }
}
