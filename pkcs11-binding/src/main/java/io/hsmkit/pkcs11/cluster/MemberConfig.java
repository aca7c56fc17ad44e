package io.hsmkit.pkcs11.cluster;

import io.hsmkit.pkcs11.session.TokenSelector;
import java.util.Objects;

/**
 * One member of a cluster: a PKCS#11 library and the token in it (by label or slot), with the
 * user PIN's source. The name is how the member appears in status and errors.
 */
public record MemberConfig(String name, String library, TokenSelector token, PinSource userPin) {
  public MemberConfig {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(library, "library");
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(userPin, "userPin");
    if (name.isBlank()) {
      throw new IllegalArgumentException("a member needs a name");
    }
  }

  @Override
  public String toString() {
    return name + " (" + library + ", " + token + ")";
  }
}
