package io.hsmkit.provider.testing;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.Slot;
import io.hsmkit.pkcs11.cluster.ClusterAdmin;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.constants.CKU;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.session.TokenSelector;
import io.hsmkit.pkcs11.testing.ClusterTokens;
import io.hsmkit.pkcs11.testing.FaultShim;
import io.hsmkit.pkcs11.testing.TestToken;
import io.hsmkit.provider.HsmKitProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Three fresh SoftHSM2 tokens in one token directory (SoftHSM2 reads one SOFTHSM2_CONF per
 * process) made into a cluster, and an HsmKit configuration {@code cluster = <cluster file>} for
 * them: members "a" and "b" through libsofthsm2.so, member "c" through the fault shim. The cluster
 * wrapping key is made on a and given to b and c by {@link ClusterAdmin} (SO sessions, ECDH)
 * before any user logs in ({@link ClusterTokens}, shared with the binding's cluster tests). The user PIN is in a 0600 file the cluster file names.
 */
public final class ClusterProviderFixture implements AutoCloseable {
  public static final String[] MEMBERS = {"a", "b", "c"};

  private final ClusterTokens tokens;
  public final TestToken token;
  public final String[] labels;
  public final FaultShim shim;
  public final Path clusterFile;
  public final Path configFile;
  private final Pkcs11Module direct;

  /** {@code members}: how many of a, b, c the cluster file lists (c, behind the shim, is the last). */
  private ClusterProviderFixture(String name, String[] memberNames, String clusterExtra, String... extra) {
    tokens = new ClusterTokens(name);
    token = tokens.token;
    labels = tokens.labels;
    shim = tokens.shim;
    direct = tokens.direct;
    Path dir = TestToken.buildDir().resolve("tokens").resolve(name);
    try {
      Files.createDirectories(dir);
      Path pinFile = dir.resolve("user.pin");
      Files.writeString(pinFile, new String(token.userPin()));
      pinFile.toFile().setReadable(false, false);
      pinFile.toFile().setReadable(true, true);
      StringBuilder cf = new StringBuilder("cluster.members = " + String.join(", ", memberNames) + "\n" + clusterExtra);
      for (String m : memberNames) {
        int i = m.charAt(0) - 'a';
        cf.append("member.").append(m).append(".library = ").append(i == 2 ? FaultShim.path() : token.library()).append('\n');
        cf.append("member.").append(m).append(".tokenLabel = ").append(labels[i]).append('\n');
        cf.append("member.").append(m).append(".pin = file:").append(pinFile).append('\n');
      }
      clusterFile = dir.resolve("cluster.cfg");
      Files.writeString(clusterFile, cf.toString());
      StringBuilder cfg = new StringBuilder("name = cluster\ncluster = " + clusterFile + "\nmaxSessions = 8\n");
      for (String e : extra) {
        cfg.append(e).append('\n');
      }
      configFile = dir.resolve("hsmkit.cfg");
      Files.writeString(configFile, cfg.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Members a, b and c, minReplicas 2. */
  public static ClusterProviderFixture create(String name, String... extra) {
    return new ClusterProviderFixture(name, MEMBERS, "cluster.minReplicas = 2\n", extra);
  }

  /** Only member c (behind the shim): for failures of the whole cluster. */
  public static ClusterProviderFixture onlyC(String name) {
    return new ClusterProviderFixture(name, new String[] {"c"}, "cluster.minReplicas = 1\n");
  }

  /** A provider over the cluster (logged in on every member with the cluster file's PIN). */
  public HsmKitProvider provider() {
    return new HsmKitProvider(configFile.toString());
  }

  /**
   * The number of objects with CKA_ID {@code id} on member {@code i} (0 = a), read directly from
   * its token, not through the cluster. Logs the user in when the application is not (the login
   * is per application and token, so a running cluster's sessions already see private objects),
   * and then logs out again.
   */
  public int objectsWithId(int i, byte[] id) {
    return onMember(i, s -> s.findObjects(Attribute.bytes(CKA.ID, id)).length);
  }

  /**
   * Runs {@code work} in a session of member {@code i} (0 = a) opened directly on its token, not
   * through the cluster (nor the shim), logged in as {@link #objectsWithId} says.
   */
  public <T> T onMember(int i, java.util.function.Function<Session, T> work) {
    Slot slot = TokenSelector.label(labels[i]).find(direct).orElseThrow();
    try (Session s = slot.openSession(true)) {
      boolean loggedIn = false;
      try {
        s.raw().C_Login(s.handle(), CKU.USER, token.userPin());
        loggedIn = true;
      } catch (Pkcs11Exception e) {
        if (!e.is(CKR.USER_ALREADY_LOGGED_IN)) {
          throw e;
        }
      }
      try {
        return work.apply(s);
      } finally {
        if (loggedIn) {
          s.raw().C_Logout(s.handle());
        }
      }
    }
  }

  public static void await(String what, Duration limit, BooleanSupplier cond) throws InterruptedException {
    ClusterTokens.await(what, limit, cond);
  }

  @Override
  public void close() {
    tokens.close();
  }
}
