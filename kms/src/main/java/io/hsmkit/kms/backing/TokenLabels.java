package io.hsmkit.kms.backing;

import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.provider.internal.TokenContext;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The label scan both default-store backings use for reconciliation: one token
 * ({@link io.hsmkit.kms.backing.token.TokenKeyBacking}) or one member of a cluster
 * ({@link io.hsmkit.kms.backing.cluster.ClusterKeyBacking}, whose members hold the same replicated
 * keys). Public only because the backings live in subpackages.
 */
public final class TokenLabels {
  private TokenLabels() {}

  /**
   * The labels of every token object on {@code token} whose label starts with {@code prefix}, in
   * the order the token finds them. Failures are the caller's to map: Pkcs11Exception from one
   * token, ClusterOperationException from a cluster.
   */
  public static Set<String> startingWith(TokenContext token, String prefix) {
    return token.execute(s -> {
      Set<String> out = new LinkedHashSet<>();
      for (long h : s.findObjects(Attribute.bool(CKA.TOKEN, true))) {
        Attribute a = s.getAttribute(h, CKA.LABEL);
        if (a.present() && a.asString().startsWith(prefix)) {
          out.add(a.asString());
        }
      }
      return out;
    });
  }
}
