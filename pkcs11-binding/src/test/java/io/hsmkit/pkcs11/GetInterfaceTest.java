package io.hsmkit.pkcs11;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.raw.Info;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A PKCS#11 v3.0 library, whose function table comes from C_GetInterface: OpenSC's, installed by
 * softhsm-config/install.sh with the opensc package (with no reader it has no slots, which is all
 * this test needs).
 */
class GetInterfaceTest {
  static final Path OPENSC = Path.of("/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so");

  @Test
  void aV3LibraryIsBoundThroughCGetInterface() {
    if (!Files.exists(OPENSC)) {
      throw new AssertionError(OPENSC + " is missing: run bash softhsm-config/install.sh (Debian package opensc)");
    }
    try (Pkcs11Module m = Pkcs11Module.open(OPENSC.toString())) {
      assertThat(m.raw().functionTableVersion().major()).isEqualTo(3);
      assertThat(m.raw().supports("C_SessionCancel")).isTrue();
      assertThat(m.raw().supports("C_LoginUser")).isTrue();
      assertThat(m.raw().C_GetInterfaceList()).contains("PKCS 11");
      Info info = m.info();
      assertThat(info.cryptokiVersion().major()).isEqualTo(3);
      assertThat(info.manufacturerId()).containsIgnoringCase("OpenSC");
      assertThat(m.slots(false)).isNotNull();
    }
  }
}
