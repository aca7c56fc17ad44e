package io.hsmkit.kms.access;

import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * AWS KMS's authorization, enforced on every call: key policy, the caller's identity policy and
 * the key's grants.
 *
 * <p>For an action on a key, in this order:
 * <ol>
 *   <li>an explicit Deny in the key policy, or in the caller's identity policy, denies;
 *   <li>a key-policy Allow naming the caller (or {@code *}) allows (a caller of another account
 *       also needs its own identity policy to allow, as AWS requires for cross-account use);
 *   <li>a key-policy Allow naming the caller's account root ({@code arn:aws:iam::A:root}) allows
 *       when the caller is that root, or when the caller's identity policy allows the action on
 *       the key's ARN (the account delegates to IAM, as the default key policy does);
 *   <li>a grant on the key allows when its grantee is the caller, it lists the operation, and its
 *       constraints hold (constraints apply only to operations that take an encryption context);
 *       grants arrive in {@link AccessRequest#grants()} (the core's list, trusted as active) or in
 *       a valid grant token of the request (counted for {@link #DEFAULT_TOKEN_WINDOW} after it was
 *       issued unless {@link RetiredGrants} says it is gone);
 *   <li>anything else is denied.
 * </ol>
 * Actions not on a key ({@code keyArn} null: CreateKey, ListKeys, ListAliases, GenerateRandom,
 * CreateCustomKeyStore ...) are decided by the identity policy alone; an account root may do them.
 *
 * <p>Denials are {@code AccessDeniedException} with AWS's wording, e.g. "User: arn:... is not
 * authorized to perform: kms:Encrypt on resource: arn:aws:kms:... because no resource-based policy
 * allows the kms:Encrypt action". Parsed policies are cached by their text. Thread-safe; no I/O
 * except the {@link GrantTokenLookup} of a request's grant tokens.
 */
public final class PolicyAccessControl implements AccessControl {
  /** AWS's limit on grant tokens in one request. */
  public static final int MAX_GRANT_TOKENS = 10;
  /** AWS's limit on the length of a grant token. */
  public static final int MAX_TOKEN_CHARS = 8192;

  /** Grant operations whose requests take an encryption context, so that grant constraints apply to them. */
  static final Set<String> CONTEXT_OPERATIONS = Set.of("Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey",
      "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext");

  private static final int CACHE_LIMIT = 4096;

  private final GrantTokenLookup tokens;
  private final Map<String, KeyPolicy> keyPolicies = new ConcurrentHashMap<>();
  private final Map<String, KeyPolicy> identityPolicies = new ConcurrentHashMap<>();

  /** @param tokens the grant tokens the service issued ({@link GrantTokenLookup#NONE} when it issues none) */
  public PolicyAccessControl(GrantTokenLookup tokens) {
    this.tokens = Objects.requireNonNull(tokens, "tokens");
  }

  /** Policies and listed grants only; every grant token is invalid. */
  public PolicyAccessControl() {
    this(GrantTokenLookup.NONE);
  }

  /**
   * The former constructor, from when a grant token carried a grant of its own (a MACed token, and
   * {@code retired} for grants known only through one); kept so callers compile. {@code retired} is
   * ignored: a grant now counts only while the core lists it.
   *
   * @deprecated use {@link #PolicyAccessControl(GrantTokenLookup)}
   */
  @Deprecated(forRemoval = true)
  public PolicyAccessControl(GrantTokenLookup tokens, RetiredGrants retired) {
    this(tokens == null ? GrantTokenLookup.NONE : tokens);
  }

  /** Why a request was allowed or denied. */
  public enum Basis {
    KEY_POLICY,
    IDENTITY_POLICY,
    ACCOUNT_ROOT,
    GRANT,
    EXPLICIT_DENY_KEY_POLICY,
    EXPLICIT_DENY_IDENTITY_POLICY,
    NO_KEY_POLICY_ALLOW,
    NO_IDENTITY_POLICY_ALLOW
  }

  /** The decision on one request; {@code grantId} names the grant that allowed it. */
  public record Decision(boolean allowed, Basis basis, String grantId, String message) {}

  @Override
  public void check(AccessRequest request) {
    check(request, Map.of());
  }

  /** {@link #check(AccessRequest)} with extra condition keys (e.g. {@code kms:GrantOperations} of a CreateGrant). */
  public void check(AccessRequest request, Map<String, List<String>> extraConditionKeys) {
    Decision d = decide(request, extraConditionKeys, null);
    if (!d.allowed()) {
      throw new KmsException(KmsError.ACCESS_DENIED, d.message());
    }
  }

  /**
   * Decides a request. {@code proposed} is the grant a CreateGrant request would create: a grant
   * that carries CreateGrant then allows it only for the same or fewer operations and an equally
   * strict or stricter constraint (null for other actions).
   *
   * @throws KmsException {@code INVALID_GRANT_TOKEN} for a grant token the service did not issue,
   *     {@code VALIDATION} for more than {@value #MAX_GRANT_TOKENS} tokens
   */
  public Decision decide(AccessRequest r, Map<String, List<String>> extraConditionKeys, Grant proposed) {
    Objects.requireNonNull(r.action(), "action");
    Caller caller = r.caller();
    RequestContext ctx = RequestContext.of(r, extraConditionKeys);
    KeyPolicy identity = caller.identityPolicyJson() == null ? null : cached(identityPolicies, caller.identityPolicyJson(), true);
    boolean root = PrincipalArns.rootAccount(caller.principalArn()) != null;
    String who = "User: " + caller.principalArn() + " is not authorized to perform: " + r.action();

    checkGrantTokens(r);
    if (r.keyArn() == null) {
      return identityOnly(identity, root, ctx, who);
    }

    String onKey = who + " on resource: " + r.keyArn();
    KeyPolicy keyPolicy = r.keyPolicyJson() == null ? null : cached(keyPolicies, r.keyPolicyJson(), false);
    if (keyPolicy != null && keyPolicy.denies(ctx)) {
      return deny(Basis.EXPLICIT_DENY_KEY_POLICY, onKey + " with an explicit deny in a resource-based policy");
    }
    if (identity != null && identity.denies(ctx)) {
      return deny(Basis.EXPLICIT_DENY_IDENTITY_POLICY, onKey + " with an explicit deny in an identity-based policy");
    }
    String keyAccount = keyAccount(r.keyArn());
    boolean sameAccount = keyAccount == null || keyAccount.equals(caller.accountId());
    // The caller's own IAM side: a root may do anything in its account; others need their policy.
    boolean identityAllows = root || (identity != null && identity.allows(ctx) != KeyPolicy.Grants.NONE);
    KeyPolicy.Grants kp = keyPolicy == null ? KeyPolicy.Grants.NONE : keyPolicy.allows(ctx);
    if (kp == KeyPolicy.Grants.CALLER && (sameAccount || identityAllows)) {
      return new Decision(true, Basis.KEY_POLICY, null, null);
    }
    if (kp == KeyPolicy.Grants.ACCOUNT && identityAllows) {
      return new Decision(true, root ? Basis.ACCOUNT_ROOT : Basis.IDENTITY_POLICY, null, null);
    }
    for (Grant g : r.grants()) {
      if (grantAllows(g, r, identityAllows, proposed)) {
        return new Decision(true, Basis.GRANT, g.grantId(), null);
      }
    }
    if (kp == KeyPolicy.Grants.CALLER) {
      return deny(Basis.NO_IDENTITY_POLICY_ALLOW, onKey + " because no identity-based policy allows the " + r.action() + " action");
    }
    return deny(Basis.NO_KEY_POLICY_ALLOW, onKey + " because no resource-based policy allows the " + r.action() + " action");
  }

  /**
   * Decides by the caller's identity policy alone, on a resource that has no key policy: an alias
   * ARN ({@code arn:aws:kms:<region>:<account>:alias/<name>}, which CreateAlias, UpdateAlias and
   * DeleteAlias need besides the key's own permission, as AWS documents), or null for {@code *}.
   * An account root is allowed in its own account.
   */
  public Decision decideIdentityOnly(Caller caller, String action, String resourceArn) {
    AccessRequest r = new AccessRequest(caller, action, resourceArn, null, List.of(), Map.of(), List.of());
    RequestContext ctx = RequestContext.of(r, Map.of());
    KeyPolicy identity = caller.identityPolicyJson() == null ? null : cached(identityPolicies, caller.identityPolicyJson(), true);
    String rootAccount = PrincipalArns.rootAccount(caller.principalArn());
    String resourceAccount = resourceArn == null ? null : keyAccount(resourceArn);
    boolean root = rootAccount != null && (resourceAccount == null || resourceAccount.equals(rootAccount));
    String who = "User: " + caller.principalArn() + " is not authorized to perform: " + action + (resourceArn == null ? "" : " on resource: " + resourceArn);
    return identityOnly(identity, root, ctx, who);
  }

  /** {@link #decideIdentityOnly} as a check: ACCESS_DENIED when not allowed. */
  public void checkIdentityOnly(Caller caller, String action, String resourceArn) {
    Decision d = decideIdentityOnly(caller, action, resourceArn);
    if (!d.allowed()) {
      throw new KmsException(KmsError.ACCESS_DENIED, d.message());
    }
  }

  private static Decision identityOnly(KeyPolicy identity, boolean root, RequestContext ctx, String who) {
    if (identity != null && identity.denies(ctx)) {
      return deny(Basis.EXPLICIT_DENY_IDENTITY_POLICY, who + " with an explicit deny in an identity-based policy");
    }
    if (root) {
      return new Decision(true, Basis.ACCOUNT_ROOT, null, null);
    }
    if (identity != null && identity.allows(ctx) != KeyPolicy.Grants.NONE) {
      return new Decision(true, Basis.IDENTITY_POLICY, null, null);
    }
    return deny(Basis.NO_IDENTITY_POLICY_ALLOW, who + " because no identity-based policy allows the " + ctx.action() + " action");
  }

  private static Decision deny(Basis b, String message) {
    return new Decision(false, b, null, message);
  }

  /**
   * Every grant token of the request must name a grant the service holds; the grant itself comes
   * from the key's list, so a token adds nothing to the decision (AWS: a grant token lets a grantee
   * use a grant before it is listed; here a grant is listed once CreateGrant returns).
   */
  private void checkGrantTokens(AccessRequest r) {
    if (r.grantTokens().size() > MAX_GRANT_TOKENS) {
      throw new KmsException(KmsError.VALIDATION, "1 validation error detected: Value at 'grantTokens' failed to satisfy constraint: Member must have length less than or equal to " + MAX_GRANT_TOKENS);
    }
    for (String t : r.grantTokens()) {
      if (t == null || t.isEmpty() || t.length() > MAX_TOKEN_CHARS || !tokens.isIssued(t)) {
        throw new KmsException(KmsError.INVALID_GRANT_TOKEN, "The grant token is not valid");
      }
    }
  }

  /** Whether grant {@code g} allows the request (see the class comment). */
  static boolean grantAllows(Grant g, AccessRequest r, boolean identityAllows, Grant proposed) {
    if (!g.keyArn().equals(r.keyArn())) {
      return false;
    }
    Caller c = r.caller();
    String grantee = PrincipalArns.normalize(g.granteePrincipal());
    boolean isGrantee = PrincipalArns.sameIdentity(grantee, c.principalArn());
    if (!isGrantee) {
      // A grant to an account root delegates to the account's identity policies.
      String acct = PrincipalArns.rootAccount(grantee);
      isGrantee = acct != null && acct.equals(c.accountId()) && identityAllows;
    }
    if (!isGrantee) {
      return false;
    }
    String op = operation(r.action());
    if (op == null || g.operations().stream().noneMatch(op::equals)) {
      return false;
    }
    if (CONTEXT_OPERATIONS.contains(op) && !constraintsHold(g.constraints(), r.encryptionContext())) {
      return false;
    }
    if (op.equals("CreateGrant") && proposed != null) {
      return g.operations().containsAll(proposed.operations()) && GrantRules.atLeastAsStrict(proposed.constraints(), g.constraints());
    }
    return true;
  }

  /** "kms:Encrypt" -> "Encrypt"; null for an action of another service. */
  static String operation(String action) {
    return action.regionMatches(true, 0, "kms:", 0, 4) ? action.substring(4) : null;
  }

  /**
   * AWS's constraint semantics: keys compare case-insensitively, values case-sensitively;
   * EncryptionContextEquals needs exactly those pairs, EncryptionContextSubset at least them.
   */
  static boolean constraintsHold(Grant.Constraints c, Map<String, String> context) {
    if (c == null) {
      return true;
    }
    if (c.encryptionContextEquals() != null) {
      Map<String, String> req = folded(context);
      return req != null && req.size() == context.size() && req.equals(folded(c.encryptionContextEquals()));
    }
    if (c.encryptionContextSubset() != null) {
      for (Map.Entry<String, String> e : c.encryptionContextSubset().entrySet()) {
        boolean found = context.entrySet().stream().anyMatch(x -> x.getKey().equalsIgnoreCase(e.getKey()) && x.getValue().equals(e.getValue()));
        if (!found) {
          return false;
        }
      }
    }
    return true;
  }

  /** Keys lower-cased; null when two keys differ only in case (such a context matches no Equals constraint). */
  static Map<String, String> folded(Map<String, String> m) {
    Map<String, String> out = new HashMap<>();
    for (Map.Entry<String, String> e : m.entrySet()) {
      if (out.put(e.getKey().toLowerCase(Locale.ROOT), e.getValue()) != null) {
        return null;
      }
    }
    return out;
  }

  /** The account of a key ARN ({@code arn:aws:kms:region:account:key/id}), or null when it is not one. */
  static String keyAccount(String keyArn) {
    String[] p = keyArn.split(":", 6);
    return p.length == 6 && p[0].equals("arn") && PrincipalArns.ACCOUNT.matcher(p[4]).matches() ? p[4] : null;
  }

  private static KeyPolicy cached(Map<String, KeyPolicy> cache, String json, boolean identity) {
    KeyPolicy p = cache.get(json);
    if (p != null) {
      return p;
    }
    try {
      p = identity ? KeyPolicy.parseIdentityPolicy(json) : KeyPolicy.parse(json);
    } catch (KmsException e) {
      // Policies are validated when stored: one that does not parse now is the service's fault.
      throw new KmsException(KmsError.KMS_INTERNAL, "a stored " + (identity ? "identity" : "key") + " policy does not parse: " + e.getMessage(), e);
    }
    if (cache.size() >= CACHE_LIMIT) {
      cache.clear();
    }
    cache.put(json, p);
    return p;
  }
}
