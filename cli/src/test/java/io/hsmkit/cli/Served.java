package io.hsmkit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A running {@code hsmkit serve} child JVM, as the serve tests start it: its process, the stdout
 * lines it printed until it listened, and its stderr so far. Shared by ServeCommandTest (one token)
 * and ServeOverClusterTest (a cluster).
 */
record Served(Process process, List<String> exports, String err) {

  /**
   * Starts {@code hsmkit serve --config config --port 0 --state-dir state extra...} with
   * SOFTHSM2_CONF {@code softhsmConf}, its stderr in {@code dir}/serve-N.err (N: the number started
   * before), adds the process to {@code started} and returns once it printed its CA bundle line.
   */
  static Served start(Path config, Path state, String softhsmConf, Path dir, List<Process> started, String... extra) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "io.hsmkit.cli.HsmkitCommand", "serve", "--config", config.toString(),
        "--port", "0", "--state-dir", state.toString()));
    cmd.addAll(List.of(extra));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("SOFTHSM2_CONF", softhsmConf);
    Path errFile = dir.resolve("serve-" + started.size() + ".err");
    pb.redirectError(errFile.toFile());
    Process p = pb.start();
    started.add(p);
    List<String> lines = new ArrayList<>();
    BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    // The CA bundle line comes last: when it is there, the server listens.
    while ((line = r.readLine()) != null) {
      lines.add(line);
      if (line.startsWith("export AWS_CA_BUNDLE=")) {
        break;
      }
    }
    String err = Files.readString(errFile);
    assertThat(line).as("serve printed %s, stderr %s", lines, err).isNotNull();
    return new Served(p, lines, err);
  }

  /** SIGTERM, and the process gone within a minute (the shutdown hook closes the server). */
  void stop() throws InterruptedException {
    process.destroy();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
  }

  /**
   * bash evals {@code exports} (written to {@code dir}/serve.env), then runs the plain SDK program
   * with {@code state}'s CA trust store, with no AWS_ variable or AWS config file of this machine;
   * returns its output (it must exit 0).
   */
  static String evalAndCall(Path dir, Path state, List<String> exports) throws Exception {
    Path env = Files.write(dir.resolve("serve.env"), exports);
    Path trust = state.resolve("ca.p12");
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", "eval \"$(cat \"$1\")\"; exec \"$2\" -Djavax.net.ssl.trustStore=\"$3\" "
        + "-Djavax.net.ssl.trustStorePassword=changeit -cp \"$4\" io.hsmkit.cli.PlainKmsProgram",
        "sh", env.toString(), Path.of(System.getProperty("java.home"), "bin", "java").toString(), trust.toString(),
        System.getProperty("java.class.path")).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("AWS_"));
    pb.environment().put("AWS_CONFIG_FILE", dir.resolve("no-aws-config").toString());
    pb.environment().put("AWS_SHARED_CREDENTIALS_FILE", dir.resolve("no-aws-credentials").toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }
}
