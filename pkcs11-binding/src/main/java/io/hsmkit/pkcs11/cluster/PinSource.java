package io.hsmkit.pkcs11.cluster;

import io.hsmkit.pkcs11.session.Pin;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Where a member's PIN comes from. Asked for a fresh {@link Pin} each time a pool (re)opens, since
 * a pool owns and wipes the PIN it is given; the source itself never appears in a message.
 */
@FunctionalInterface
public interface PinSource {
  Pin get();

  /** A copy of {@code pin}, kept in memory by this source (tests; prefer env or file). */
  static PinSource of(char[] pin) {
    char[] kept = pin.clone();
    return () -> Pin.of(kept.clone());
  }

  static PinSource env(String variable) {
    return () -> Pin.fromEnv(variable);
  }

  static PinSource file(Path file) {
    return () -> {
      try {
        return Pin.fromFile(file);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the PIN file " + file, e);
      }
    };
  }
}
