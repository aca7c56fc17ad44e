package io.hsmkit.pkcs11.cluster;

import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.session.Pin;
import io.hsmkit.pkcs11.session.TokenSelector;
import io.hsmkit.pkcs11.testing.FaultShim;
import io.hsmkit.pkcs11.testing.TestToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Three fresh SoftHSM2 tokens in one token directory (SoftHSM2 reads one SOFTHSM2_CONF per
 * process): members "a" and "b" through libsofthsm2.so, member "c" through the fault shim. The
 * cluster wrapping key is made on a and given to b and c by {@link ClusterAdmin} (SO sessions,
 * ECDH), before any user logs in.
 */
final class ClusterFixture implements AutoCloseable {
  static final byte[] P256 = ClusterAdmin.P256;

  final TestToken token;
  final String[] labels;
  final FaultShim shim;
  final Pkcs11Module direct;
  final Pkcs11Module shimmed;

  ClusterFixture(String name) {
    token = TestToken.create(name, name + "-a");
    labels = new String[] {name + "-a", name + "-b", name + "-c"};
    for (int i = 1; i < 3; i++) {
      initToken(labels[i]);
    }
    shim = FaultShim.forLibrary(token.library());
    direct = Pkcs11Module.open(token.library());
    shimmed = Pkcs11Module.open(FaultShim.path());
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

  ClusterAdmin.SoToken so(int i) {
    return new ClusterAdmin.SoToken(direct, TokenSelector.label(labels[i]), Pin.of(token.soPin()));
  }

  MemberConfig member(int i) {
    String lib = i == 2 ? FaultShim.path() : token.library();
    return new MemberConfig(String.valueOf((char) ('a' + i)), lib, TokenSelector.label(labels[i]), PinSource.of(token.userPin()));
  }

  List<MemberConfig> members() {
    List<MemberConfig> m = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      m.add(member(i));
    }
    return m;
  }

  ClusterConfig config() {
    return ClusterConfig.of(members()).withHealthInterval(Duration.ofMillis(100)).withSessionsPerMember(8);
  }

  static void await(String what, Duration limit, BooleanSupplier cond) throws InterruptedException {
    long end = System.nanoTime() + limit.toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out after " + limit.toMillis() + " ms waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  @Override
  public void close() {
    shim.clear();
    shimmed.close();
    direct.close();
  }
}
