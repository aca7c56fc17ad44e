package io.hsmkit.kms.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The export lines, read back by a real shell with eval. */
class AwsEnvironmentTest {
  @ParameterizedTest
  @ValueSource(strings = {"plainSecret0123456789", "with'quote", "$(touch /tmp/never) `x` $HOME * ; & | \\ \" ''", "  spaces  ", "ünïcode/+="})
  void bashEvalReadsBackEveryValue(String secret) throws Exception {
    StringWriter w = new StringWriter();
    AwsEnvironment.write(w, URI.create("https://localhost:8443"), "us-east-1", "AKIAHSMKITTEST000001", secret.toCharArray(), Path.of("/tmp/a b/ca.pem"));
    String script = w.toString();
    assertThat(script.lines()).hasSize(6).allMatch(l -> l.startsWith("export AWS_"));
    Process p = new ProcessBuilder("bash", "-c", "set -eu; eval \"$(cat)\"; printf '%s\\n' \"$AWS_ENDPOINT_URL_KMS\" \"$AWS_REGION\" \"$AWS_DEFAULT_REGION\" "
        + "\"$AWS_ACCESS_KEY_ID\" \"$AWS_SECRET_ACCESS_KEY\" \"$AWS_CA_BUNDLE\"").redirectErrorStream(true).start();
    p.getOutputStream().write(script.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).isEqualTo(String.join("\n", "https://localhost:8443", "us-east-1", "us-east-1", "AKIAHSMKITTEST000001", secret, "/tmp/a b/ca.pem") + "\n");
  }

  @ParameterizedTest
  @ValueSource(strings = {"line\nbreak", "nul\0"})
  void valuesAnExportLineCannotCarryAreRefused(String secret) {
    StringWriter w = new StringWriter();
    assertThatThrownBy(() -> AwsEnvironment.write(w, URI.create("http://localhost:1"), "us-east-1", "AKID", secret.toCharArray(), null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining(secret);
    assertThat(w.toString()).as("nothing half-written").isEmpty();
  }
}
