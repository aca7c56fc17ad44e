package io.hsmkit.provider.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.testing.ProviderFixture;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The provider and the binding as named modules: ServiceLoader finds HsmKit through module-info, and it works. */
class ModulePathTest {
  static String location(Class<?> c) throws Exception {
    return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }

  @Test
  void providerWorksFromTheModulePath() throws Exception {
    ProviderFixture fx = ProviderFixture.create("ModulePathTest");
    String modulePath = String.join(File.pathSeparator, location(HsmKitProvider.class), location(io.hsmkit.pkcs11.Pkcs11Module.class),
        location(com.sun.jna.Native.class));
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--module-path", modulePath, "--add-modules", "io.hsmkit.provider",
        "-cp", location(ModulePathMain.class), ModulePathMain.class.getName(), fx.configFile.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("module: io.hsmkit.provider").contains("ciphertext bytes: 48");
  }
}
