package io.hsmkit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.testing.TestToken;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Three fresh SoftHSM2 tokens in one token directory ({@code <prefix>a}, {@code <prefix>b},
 * {@code <prefix>c}, same PINs) for a test that makes them a cluster through the CLI, with the user
 * and SO PINs in files ({@code pin = file:...}: no PIN on a command line or in a config file).
 */
record ClusterTokenDir(TestToken token, Path dir, String labelPrefix, Path pin, Path so) {
  static ClusterTokenDir create(String name, String labelPrefix) {
    TestToken token = TestToken.create(name, labelPrefix + "a");
    Path dir = TestToken.buildDir().resolve("tokens").resolve(name);
    try {
      for (String m : new String[] {"b", "c"}) {
        initToken(token, labelPrefix + m);
      }
      Path pin = Files.writeString(dir.resolve("user.pin"), new String(token.userPin()));
      Path so = Files.writeString(dir.resolve("so.pin"), new String(token.soPin()));
      return new ClusterTokenDir(token, dir, labelPrefix, pin, so);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * A further token in {@code token}'s directory with the same PINs (softhsm2-util, as
   * make-token.sh does). ClusterTokens in the binding's test-jar has its own; it is not made public
   * for this because a module build of cli (-pl cli -am test) reads that test-jar from the local
   * repository, not from the reactor.
   */
  private static void initToken(TestToken token, String label) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder("softhsm2-util", "--init-token", "--free", "--label", label,
        "--so-pin", new String(token.soPin()), "--pin", new String(token.userPin()));
    pb.environment().put("SOFTHSM2_CONF", token.conf());
    pb.redirectErrorStream(true);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as(out).isTrue();
  }

  /** The library, tokenLabel and pin lines of member {@code m} ("a", "b" or "c") of a cluster file. */
  String memberLines(String m) {
    return "member." + m + ".library = " + token.library() + "\nmember." + m + ".tokenLabel = " + labelPrefix + m
        + "\nmember." + m + ".pin = file:" + pin + "\n";
  }

  /** The soPin line of member {@code m}. */
  String soPinLine(String m) {
    return "member." + m + ".soPin = file:" + so + "\n";
  }
}
