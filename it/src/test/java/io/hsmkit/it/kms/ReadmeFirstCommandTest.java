package io.hsmkit.it.kms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.hsmkit.pkcs11.testing.TestToken;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 7: "a fresh clone on a fresh machine: the README's first command serves, and {@code eval}
 * of its output lets a plain SDK program call it". The project's committed HEAD is cloned into
 * target/, and the first two lines of the README's first code block are run there, as written, by
 * bash, with a HOME of their own (so the launcher makes the embedded token, and serve its CA and
 * database, from nothing); then {@link PlainSdkProgram} runs in the environment they eval'd,
 * trusting the printed CA's PKCS#12 twin as the README says, and creates a key, encrypts and
 * decrypts. Then serve is stopped with SIGTERM.
 *
 * <p>The launcher builds the command in the clone (its jar is not committed), with one change from a
 * fresh machine: {@code MAVEN_OPTS=-Dmaven.install.skip=true}, so that the launcher's
 * {@code mvn install} does not put this clone's snapshots into the shared local repository
 * (the build itself, to the shaded jar, is the same). The README's port, 4599, must be free.
 */
class ReadmeFirstCommandTest {
  static final int README_PORT = 4599;

  @Test
  void aFreshCloneServesAndEvalOfItsOutputLetsAPlainSdkProgramCallIt() throws Exception {
    Path root = TestToken.rootDir();
    Path work = TestToken.buildDir().resolve("fresh-clone");
    KmsServerFixture.deleteTree(work);
    Files.createDirectories(work);
    Path clone = work.resolve("hsmkit");
    String head = run(root, "git", "rev-parse", "HEAD").trim();
    run(work, "git", "clone", "--quiet", "--no-checkout", root.toString(), clone.toString());
    run(clone, "git", "checkout", "--quiet", head);
    assertThat(clone.resolve("cli/target")).as("a clone has no build output").doesNotExist();

    List<String> readme = firstCommandLines(Files.readString(clone.resolve("README.md")));
    assertThat(readme.get(0)).startsWith("./hsmkit serve > kms.env &");
    assertThat(readme.get(1)).contains("until grep -q AWS_CA_BUNDLE kms.env").contains("eval \"$(cat kms.env)\"");
    assertPortFree();

    Path home = Files.createDirectories(work.resolve("home"));
    Path out = work.resolve("program.out");
    Path err = work.resolve("stderr.txt");
    // The README's lines verbatim, then the plain program where the README has `aws kms ...`.
    String script = String.join("\n",
        "cd \"$1\"",
        readme.get(0),
        "echo $! > serve.pid",
        readme.get(1),
        "exec \"$2\" -Djavax.net.ssl.trustStore=\"$HOME/.hsmkit/kms/ca.p12\" -Djavax.net.ssl.trustStorePassword=changeit"
            + " -cp \"$3\" io.hsmkit.it.kms.PlainSdkProgram",
        "");
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", script, "readme", clone.toString(),
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), System.getProperty("java.class.path"))
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    // A fresh machine's environment: nothing of AWS, of hsmkit or of SoftHSM2 set, a new HOME.
    pb.environment().keySet().removeIf(k -> k.startsWith("AWS_") || k.startsWith("HSMKIT_") || k.equals("SOFTHSM2_CONF"));
    pb.environment().put("HOME", home.toString());
    pb.environment().put("AWS_CONFIG_FILE", home.resolve("no-aws-config").toString());
    pb.environment().put("AWS_SHARED_CREDENTIALS_FILE", home.resolve("no-aws-credentials").toString());
    pb.environment().merge("MAVEN_OPTS", "-Dmaven.install.skip=true", (a, b) -> a + " " + b);

    long t0 = System.nanoTime();
    Process p = pb.start();
    Optional<ProcessHandle> serve = Optional.empty();
    try {
      // Poll, so that a serve that died (the until loop would wait for ever) fails the test at once.
      while (!p.waitFor(1, TimeUnit.SECONDS)) {
        if (serve.isEmpty()) {
          serve = servePid(clone).flatMap(ProcessHandle::of);
        }
        if (serve.isPresent() && !serve.get().isAlive()) {
          fail("./hsmkit serve exited before printing AWS_CA_BUNDLE; stderr:%n%s", Files.readString(err));
        }
        if (System.nanoTime() - t0 > TimeUnit.MINUTES.toNanos(10)) {
          fail("no result after 10 minutes; stderr:%n%s", Files.readString(err));
        }
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      String program = Files.readString(out);
      String stderr = Files.readString(err);
      assertThat(p.exitValue()).as("the plain program; stdout:%n%s%nstderr:%n%s", program, stderr).isZero();
      System.out.printf("fresh clone: build, token, serve and the plain program in %.1f s%n", seconds);

      assertThat(program).containsPattern("key: arn:aws:kms:us-east-1:111122223333:key/[0-9a-f-]{36}")
          .contains("decrypted: hello under arn:aws:kms:us-east-1:111122223333:key/");
      List<String> env = Files.readAllLines(clone.resolve("kms.env"));
      assertThat(env.stream().map(l -> l.substring(0, l.indexOf('=') + 1)).toList()).containsExactly("export AWS_ENDPOINT_URL_KMS=",
          "export AWS_REGION=", "export AWS_DEFAULT_REGION=", "export AWS_ACCESS_KEY_ID=", "export AWS_SECRET_ACCESS_KEY=",
          "export AWS_CA_BUNDLE=");
      assertThat(env.get(0)).contains("https://localhost:" + README_PORT);
      assertThat(env.get(5)).contains(home.resolve(".hsmkit/kms/ca.pem").toString());
      assertThat(stderr).contains("hsmkit: building hsmkit", "hsmkit: creating the embedded SoftHSM2 token 'hsmkit' in " + home.resolve(".hsmkit"),
          "first start");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(home.resolve(".hsmkit")))).isEqualTo("rwx------");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(home.resolve(".hsmkit/token.env")))).isEqualTo("rw-------");

      ProcessHandle s = serve.or(() -> servePid(clone).flatMap(ProcessHandle::of)).orElseThrow();
      assertThat(s.isAlive()).as("serve keeps serving after the program").isTrue();
      s.destroy(); // SIGTERM, as an operator stops it: the shutdown hook closes the server
      s.onExit().get(60, TimeUnit.SECONDS);
      String all = Files.readString(err);
      assertThat(all).as("stderr of the whole run").doesNotContain("\tat ", "Exception");
      assertThat(all).doesNotContain(env.get(4).substring(env.get(4).indexOf('=') + 1).replace("'", ""));
    } finally {
      // Whatever is left of what this test started, by process id.
      serve.ifPresent(ProcessHandle::destroyForcibly);
      servePid(clone).flatMap(ProcessHandle::of).ifPresent(ProcessHandle::destroyForcibly);
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
  }

  /** The first two lines of the first code block under "### 1. `./hsmkit serve`". */
  static List<String> firstCommandLines(String readme) {
    int section = readme.indexOf("### 1. `./hsmkit serve`");
    assertThat(section).as("the README's first command section").isNotNegative();
    int open = readme.indexOf("```\n", section);
    int close = readme.indexOf("```", open + 4);
    List<String> lines = new ArrayList<>();
    for (String l : readme.substring(open + 4, close).split("\n")) {
      if (!l.isBlank()) {
        lines.add(l);
      }
    }
    assertThat(lines).hasSizeGreaterThanOrEqualTo(2);
    return lines.subList(0, 2);
  }

  static void assertPortFree() {
    try (ServerSocket s = new ServerSocket(README_PORT, 1, InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
    } catch (IOException e) {
      fail("port %d on loopback is in use (another `hsmkit serve`?): the README's first command serves there; stop it", README_PORT);
    }
  }

  static Optional<Long> servePid(Path clone) {
    try {
      Path f = clone.resolve("serve.pid");
      String s = Files.exists(f) ? Files.readString(f).trim() : "";
      return s.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(s));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  static String run(Path dir, String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed in " + dir + ": " + out);
    }
    return out;
  }
}
