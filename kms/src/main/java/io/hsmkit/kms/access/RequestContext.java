package io.hsmkit.kms.access;

import io.hsmkit.kms.Caller;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The request as a policy sees it: who asks ({@code principalArn}, {@code accountId}), for what
 * ({@code action}, an IAM action such as {@code kms:Encrypt}), on what ({@code resource}: the key
 * ARN, or {@code *} for actions not on a key), and the condition keys with their values. Condition
 * key names are kept lower-cased, because IAM compares them case-insensitively
 * ({@code kms:EncryptionContext:Dept} and {@code kms:encryptioncontext:dept} are one key). Immutable.
 */
public record RequestContext(String principalArn, String accountId, String action, String resource, Map<String, List<String>> keys) {
  public RequestContext {
    Objects.requireNonNull(principalArn, "principalArn");
    Objects.requireNonNull(accountId, "accountId");
    Objects.requireNonNull(action, "action");
    resource = resource == null ? "*" : resource;
    Map<String, List<String>> copy = new HashMap<>();
    if (keys != null) {
      keys.forEach((k, v) -> copy.merge(k.toLowerCase(Locale.ROOT), List.copyOf(v), RequestContext::concat));
    }
    keys = Map.copyOf(copy);
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> l = new ArrayList<>(a);
    l.addAll(b);
    return List.copyOf(l);
  }

  /** Actions whose request context carries {@code kms:GrantIsForAWSResource} (as AWS lists them). */
  private static final java.util.Set<String> GRANT_ACTIONS = java.util.Set.of("kms:creategrant", "kms:listgrants", "kms:revokegrant");

  /**
   * The context of an {@link AccessRequest}: {@code aws:PrincipalArn}, {@code aws:PrincipalAccount},
   * {@code kms:CallerAccount}, {@code aws:SourceIp} and {@code aws:UserAgent} when known,
   * {@code kms:EncryptionContextKeys} and one {@code kms:EncryptionContext:<key>} per pair of a
   * non-empty encryption context, {@code kms:GrantIsForAWSResource} ("false": no AWS service calls
   * this KMS) on CreateGrant, ListGrants and RevokeGrant, plus {@code extra} (for instance
   * {@code kms:GrantOperations} of a CreateGrant request).
   */
  public static RequestContext of(AccessRequest r, Map<String, List<String>> extra) {
    Caller c = r.caller();
    Map<String, List<String>> k = new HashMap<>();
    k.put("aws:principalarn", List.of(c.principalArn()));
    k.put("aws:principalaccount", List.of(c.accountId()));
    k.put("kms:calleraccount", List.of(c.accountId()));
    if (c.sourceIp() != null) {
      k.put("aws:sourceip", List.of(c.sourceIp()));
    }
    if (c.userAgent() != null) {
      k.put("aws:useragent", List.of(c.userAgent()));
    }
    if (!r.encryptionContext().isEmpty()) {
      k.put("kms:encryptioncontextkeys", List.copyOf(r.encryptionContext().keySet()));
      // Two context keys that differ only in case are one condition key with two values.
      r.encryptionContext().forEach((ck, cv) -> k.merge("kms:encryptioncontext:" + ck.toLowerCase(Locale.ROOT), List.of(cv), RequestContext::concat));
    }
    if (GRANT_ACTIONS.contains(r.action().toLowerCase(Locale.ROOT))) {
      k.put("kms:grantisforawsresource", List.of("false"));
    }
    if (extra != null) {
      extra.forEach((ek, ev) -> k.put(ek.toLowerCase(Locale.ROOT), List.copyOf(ev)));
    }
    return new RequestContext(c.principalArn(), c.accountId(), r.action(), r.keyArn(), k);
  }

  /** The values of a condition key (any case), or null when the request does not carry it. */
  public List<String> values(String conditionKey) {
    return keys.get(conditionKey.toLowerCase(Locale.ROOT));
  }
}
