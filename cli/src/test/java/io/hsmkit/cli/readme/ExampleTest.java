package io.hsmkit.cli.readme;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.session.Pin;
import io.hsmkit.pkcs11.testing.TestToken;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's binding example compiles (it is Example.java) and runs against a real token. */
class ExampleTest {
  @Test
  void theReadmeExampleRuns() throws Exception {
    TestToken t = TestToken.create("ExampleTest", "readme");

    byte[] sealed = Example.seal(t.library(), t.label(), Pin.of(t.userPin()), "hello".getBytes());

    assertThat(sealed).hasSize(12 + 5 + 16);
  }

  @Test
  void theReadmeShowsExactlyThisExample() throws Exception {
    Path root = TestToken.rootDir();
    String source = Files.readString(root.resolve("cli/src/test/java/io/hsmkit/cli/readme/Example.java"));
    String readme = Files.readString(root.resolve("README.md"));

    String block = javaBlock(readme);
    // The README leaves out only the package line.
    assertThat(block).isEqualTo(source.replaceFirst("package io\\.hsmkit\\.cli\\.readme;\n\n", ""));
  }

  @Test
  void ciRunsTheReadmeTestCommand() throws Exception {
    Path root = TestToken.rootDir();
    String readme = Files.readString(root.resolve("README.md"));
    String ci = Files.readString(root.resolve(".ci/run"));
    String command = "bash softhsm-config/install.sh && mvn -B verify";

    assertThat(readme).contains("\n" + command + "\n");
    assertThat(ci.lines().filter(l -> !l.isBlank() && !l.startsWith("#") && !l.startsWith("set ") && !l.startsWith("cd ")))
        .containsExactly(command);
  }

  /** The first ```java block of the README. */
  static String javaBlock(String markdown) {
    int start = markdown.indexOf("```java\n");
    assertThat(start).as("a ```java block in README.md").isNotNegative();
    start += "```java\n".length();
    int end = markdown.indexOf("\n```", start);
    return markdown.substring(start, end + 1);
  }
}
