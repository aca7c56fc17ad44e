package io.hsmkit.it.tomcat;

import io.hsmkit.pkcs11.testing.TestToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A fresh token and the files a Tomcat administrator writes for it: the PIN in a file of mode
 * 0600 and the HsmKit configuration ({@code library}, {@code tokenLabel}, {@code pin =
 * file:...}, {@code maxSessions}).
 */
record TokenFiles(TestToken token, Path dir, Path pinFile, Path config) {

  static TokenFiles create(String name, String label, int maxSessions) throws IOException {
    Path dir = TestToken.buildDir().resolve("tomcat").resolve(name);
    deleteTree(dir);
    Files.createDirectories(dir);
    TestToken token = TestToken.create(name, label);
    Path pin = dir.resolve("user.pin");
    Files.createFile(pin, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(pin, new String(token.userPin()), StandardCharsets.UTF_8);
    Path cfg = dir.resolve("hsmkit.cfg");
    Files.writeString(cfg, String.join("\n",
        "# HsmKit provider for Tomcat (written by " + name + ")",
        "library = " + token.library(),
        "tokenLabel = \"" + token.label() + "\"",
        "pin = file:" + pin,
        "maxSessions = " + maxSessions,
        ""), StandardCharsets.UTF_8);
    return new TokenFiles(token, dir, pin, cfg);
  }

  String pin() {
    return new String(token.userPin());
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
