package io.hsmkit.provider.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.provider.testing.ProviderFixture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An ordinary JCE program ({@link PlainJceProgram}, which names no HsmKit class) runs in a child JVM
 * twice: once registering the provider by name through {@code Security.addProvider}, once with
 * HsmKit configured only by a {@code -Djava.security.properties} file.
 */
class UnchangedJceTest {
  static String run(List<String> jvmArgs, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(PlainJceProgram.class.getName());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  @Test
  void addProviderInCode() throws Exception {
    ProviderFixture fx = ProviderFixture.create("UnchangedJceTest");
    String out = run(List.of(), "addProvider", fx.configFile.toString());
    assertThat(out).contains("AES/GCM/NoPadding with a token key: HsmKit")
        .contains("AES/GCM/NoPadding with a software key: SunJCE")
        .contains("SHA256withECDSA: HsmKit")
        .contains("HmacSHA256: HsmKit")
        .contains("OK");
  }

  @Test
  void javaSecurityPropertiesOnly() throws Exception {
    ProviderFixture fx = ProviderFixture.create("UnchangedJceTest2");
    Path props = fx.configFile.resolveSibling("java.security.extra");
    // Insert HsmKit first and keep the JDK's providers after it.
    StringBuilder b = new StringBuilder("security.provider.1=HsmKit " + fx.configFile + "\n");
    String[] jdk = {"SUN", "SunRsaSign", "SunEC", "SunJSSE", "SunJCE", "SunJGSS", "SunSASL", "XMLDSig", "SunPCSC", "JdkLDAP", "JdkSASL", "SunPKCS11"};
    for (int i = 0; i < jdk.length; i++) {
      b.append("security.provider.").append(i + 2).append('=').append(jdk[i]).append('\n');
    }
    Files.writeString(props, b.toString());
    String out = run(List.of("-Djava.security.properties=" + props), "configured");
    assertThat(out).contains("AES/GCM/NoPadding with a token key: HsmKit")
        .contains("AES/GCM/NoPadding with a software key: SunJCE")
        .contains("OK");
  }
}
