package io.hsmkit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hsmkit.pkcs11.testing.TestToken;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/** A token for one test class, configuration files for it, and a way to run hsmkit commands. */
final class Cli {
  static final ObjectMapper JSON = new ObjectMapper();

  final TestToken token;
  final Path dir;
  /** The configuration with the right PIN (pin = file:...). */
  final Path config;

  Cli(String name, String label) {
    token = TestToken.create(name, label);
    dir = TestToken.buildDir().resolve("tokens").resolve(name);
    config = writeConfig("hsmkit.cfg", new String(token.userPin()));
  }

  /** A configuration file for this token whose pin file holds {@code pin}. */
  Path writeConfig(String fileName, String pin) {
    try {
      Path pinFile = dir.resolve(fileName + ".pin");
      Files.writeString(pinFile, pin);
      Files.setPosixFilePermissions(pinFile, PosixFilePermissions.fromString("rw-------"));
      Path cfg = dir.resolve(fileName);
      Files.writeString(cfg, "library = " + token.library() + "\ntokenLabel = \"" + token.label() + "\"\npin = file:" + pinFile + "\n");
      return cfg;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Exit code, stdout and stderr of one command. */
  record Run(int exit, String out, String err) {
    JsonNode json() {
      try {
        return JSON.readTree(out);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + out, e);
      }
    }

    /** Exit 1 with exactly one error line that contains {@code text}, nothing on stdout. */
    Run fails(String text) {
      assertThat(exit).as("exit code; out=%s err=%s", out, err).isEqualTo(1);
      assertThat(err.lines()).as(err).hasSize(1);
      assertThat(err).startsWith("hsmkit: error: ").contains(text).doesNotContain("\tat ");
      assertThat(out).isEmpty();
      return this;
    }

    Run ok() {
      assertThat(exit).as("exit code; out=%s err=%s", out, err).isZero();
      assertThat(err).isEmpty();
      return this;
    }
  }

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = HsmkitCommand.commandLine()
        .setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true))
        .execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  /** Runs {@code args} followed by --config with this token's configuration. */
  Run on(String... args) {
    List<String> a = new ArrayList<>(List.of(args));
    a.add("--config");
    a.add(config.toString());
    return run(a.toArray(new String[0]));
  }

  /** {@code keys list --json}: what the token holds, to compare before and after. */
  JsonNode state() {
    Run r = on("keys", "list", "--json").ok();
    return r.json();
  }

  /** The leaf certificate's sha256 of alias, from keys show --json. */
  String leafFingerprint(String alias) {
    return on("keys", "show", alias, "--json").ok().json().at("/chain/0/sha256").asText();
  }
}
