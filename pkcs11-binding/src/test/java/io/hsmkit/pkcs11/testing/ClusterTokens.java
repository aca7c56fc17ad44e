package io.hsmkit.pkcs11.testing;

import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.cluster.ClusterAdmin;
import io.hsmkit.pkcs11.session.Pin;
import io.hsmkit.pkcs11.session.TokenSelector;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Three fresh SoftHSM2 tokens in one token directory (SoftHSM2 reads one SOFTHSM2_CONF per
 * process), made into a cluster: the cluster wrapping key is made on the first and given to the
 * second and from there to the third by {@link ClusterAdmin} (SO sessions, ECDH), before any user
 * logs in. Member "c" (index 2) is meant to be used through the {@link FaultShim}, which points at
 * this library. Shared by the binding's and the provider's cluster fixtures.
 */
public final class ClusterTokens implements AutoCloseable {
  public final TestToken token;
  public final String[] labels;
  public final FaultShim shim;
  /** The library itself (not the shim): for SO work and for reading a member's objects directly. */
  public final Pkcs11Module direct;

  public ClusterTokens(String name) {
    token = TestToken.create(name, name + "-a");
    labels = new String[] {name + "-a", name + "-b", name + "-c"};
    for (int i = 1; i < 3; i++) {
      initToken(labels[i]);
    }
    shim = FaultShim.forLibrary(token.library());
    direct = Pkcs11Module.open(token.library());
    try (ClusterAdmin.SoToken a = so(0); ClusterAdmin.SoToken b = so(1); ClusterAdmin.SoToken c = so(2)) {
      ClusterAdmin.initialize(a);
      ClusterAdmin.join(a, b);
      ClusterAdmin.join(b, c); // the second member passes the key on: any member can
    }
  }

  /** A further token in the same directory, with the same PINs (softhsm2-util, as make-token.sh does). */
  private void initToken(String label) {
    ProcessBuilder pb = new ProcessBuilder("softhsm2-util", "--init-token", "--free", "--label", label,
        "--so-pin", new String(token.soPin()), "--pin", new String(token.userPin()));
    pb.environment().put("SOFTHSM2_CONF", token.conf());
    pb.redirectErrorStream(true);
    try {
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("softhsm2-util --init-token failed: " + out);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run softhsm2-util: run `bash softhsm-config/install.sh`", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** An SO session on member {@code i} (0 = a), through the library itself. */
  public ClusterAdmin.SoToken so(int i) {
    return new ClusterAdmin.SoToken(direct, TokenSelector.label(labels[i]), Pin.of(token.soPin()));
  }

  /** Polls {@code cond} every 10 ms until it holds; an AssertionError naming {@code what} after {@code limit}. */
  public static void await(String what, Duration limit, BooleanSupplier cond) throws InterruptedException {
    long end = System.nanoTime() + limit.toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out after " + limit.toMillis() + " ms waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  /** Clears the shim's rules and closes the library. */
  @Override
  public void close() {
    shim.clear();
    direct.close();
  }
}
