package io.hsmkit.kms.access;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A KMS grant as AWS defines it: the key it is on, who receives it, who may retire it, the
 * operations it allows (AWS names: "Encrypt", "Decrypt", "GenerateDataKey", ...) and its
 * constraints. Immutable. The service stores grants; {@link AccessControl} evaluates them.
 */
public record Grant(
    String grantId,
    String keyArn,
    String name,
    String granteePrincipal,
    String retiringPrincipal,
    String issuingAccount,
    Set<String> operations,
    Constraints constraints,
    Instant creationDate) {

  public Grant {
    Objects.requireNonNull(grantId, "grantId");
    Objects.requireNonNull(keyArn, "keyArn");
    Objects.requireNonNull(granteePrincipal, "granteePrincipal");
    operations = Set.copyOf(operations);
  }

  /**
   * AWS's grant constraints: at most one of the two maps is set. With {@code equals} the request's
   * encryption context must be exactly that map; with {@code subset} it must contain every pair
   * of it (and may have more). Keys and values compare case-sensitively.
   */
  public record Constraints(Map<String, String> encryptionContextEquals, Map<String, String> encryptionContextSubset) {
    public Constraints {
      encryptionContextEquals = encryptionContextEquals == null ? null : Map.copyOf(encryptionContextEquals);
      encryptionContextSubset = encryptionContextSubset == null ? null : Map.copyOf(encryptionContextSubset);
    }
  }
}
