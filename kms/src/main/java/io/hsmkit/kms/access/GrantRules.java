package io.hsmkit.kms.access;

import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import java.security.SecureRandom;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The rules around grants that are not "does this grant allow this call" (that is
 * {@link PolicyAccessControl}): which operations a grant may list, its constraints and name, who
 * may create, retire and revoke grants. Pure functions; each rule quotes AWS's documentation.
 */
public final class GrantRules {
  private GrantRules() {}

  /** Every operation a grant may list (AWS's GrantOperation enum). */
  public static final Set<String> OPERATIONS = Set.copyOf(new LinkedHashSet<>(List.of("Decrypt", "Encrypt", "GenerateDataKey",
      "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo",
      "Sign", "Verify", "GetPublicKey", "GenerateMac", "VerifyMac", "DeriveSharedSecret", "CreateGrant", "RetireGrant", "DescribeKey")));

  /** Operations any KMS key accepts in a grant. */
  private static final Set<String> ANY_KEY = Set.of("CreateGrant", "RetireGrant", "DescribeKey");

  /** AWS: "Each constraint value can include up to 8 encryption context pairs"; values up to 384 characters. */
  public static final int MAX_CONSTRAINT_PAIRS = 8;
  public static final int MAX_CONSTRAINT_VALUE = 384;

  private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9:/_-]{1,256}");
  private static final SecureRandom RANDOM = new SecureRandom();

  /** A fresh grant id: 64 hex digits, as AWS's. */
  public static String newGrantId() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private static KmsException validation(String message) {
    return new KmsException(KmsError.VALIDATION, message);
  }

  /**
   * Checks a grant's operations for a key of {@code keySpec} / {@code keyUsage} (AWS names:
   * SYMMETRIC_DEFAULT, RSA_2048, ECC_NIST_P256, HMAC_256 ...; ENCRYPT_DECRYPT, SIGN_VERIFY,
   * GENERATE_VERIFY_MAC, KEY_AGREEMENT). AWS: the operations must be valid for the key's type
   * ("Grant operations ... must be compatible with the KMS key"); otherwise ValidationException.
   */
  public static void validateOperations(Collection<String> operations, String keySpec, String keyUsage) {
    if (operations == null || operations.isEmpty()) {
      throw validation("1 validation error detected: Value at 'operations' failed to satisfy constraint: Member must have length greater than or equal to 1");
    }
    Set<String> allowed = allowedFor(keySpec, keyUsage);
    for (String op : operations) {
      if (!OPERATIONS.contains(op)) {
        throw validation("1 validation error detected: Value '" + op + "' at 'operations' failed to satisfy constraint: Member must satisfy enum value set: "
            + OPERATIONS.stream().sorted().toList());
      }
      if (!allowed.contains(op)) {
        throw validation("Grant operation " + op + " is not valid for a KMS key with KeySpec " + keySpec + " and KeyUsage " + keyUsage);
      }
    }
  }

  /** The grant operations a key of this spec and usage supports. */
  static Set<String> allowedFor(String keySpec, String keyUsage) {
    Set<String> s = new LinkedHashSet<>(ANY_KEY);
    boolean symmetric = "SYMMETRIC_DEFAULT".equals(keySpec);
    switch (keyUsage == null ? "ENCRYPT_DECRYPT" : keyUsage) {
      case "ENCRYPT_DECRYPT" -> {
        s.addAll(List.of("Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo"));
        if (symmetric) {
          s.addAll(List.of("GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext"));
        } else {
          s.add("GetPublicKey");
        }
      }
      case "SIGN_VERIFY" -> s.addAll(List.of("Sign", "Verify", "GetPublicKey"));
      case "GENERATE_VERIFY_MAC" -> s.addAll(List.of("GenerateMac", "VerifyMac"));
      case "KEY_AGREEMENT" -> s.addAll(List.of("DeriveSharedSecret", "GetPublicKey"));
      default -> throw validation("unknown KeyUsage " + keyUsage);
    }
    return s;
  }

  /**
   * Checks constraints: at most one of the two maps (this service's rule, stated in
   * {@link Grant.Constraints}), each non-empty with up to {@value #MAX_CONSTRAINT_PAIRS} pairs and
   * values up to {@value #MAX_CONSTRAINT_VALUE} characters, and only on symmetric encryption keys
   * (AWS: "You cannot use an encryption context grant constraint for cryptographic operations
   * with asymmetric KMS keys or HMAC KMS keys").
   */
  public static void validateConstraints(Grant.Constraints c, String keySpec) {
    if (c == null || (c.encryptionContextEquals() == null && c.encryptionContextSubset() == null)) {
      return;
    }
    if (c.encryptionContextEquals() != null && c.encryptionContextSubset() != null) {
      throw validation("Grant constraints take EncryptionContextEquals or EncryptionContextSubset, not both");
    }
    if (!"SYMMETRIC_DEFAULT".equals(keySpec)) {
      throw validation("Encryption context grant constraints are not supported for KMS keys with KeySpec " + keySpec
          + ": operations with asymmetric and HMAC keys take no encryption context");
    }
    Map<String, String> m = c.encryptionContextEquals() != null ? c.encryptionContextEquals() : c.encryptionContextSubset();
    if (m.isEmpty() || m.size() > MAX_CONSTRAINT_PAIRS) {
      throw validation("A grant constraint needs 1 to " + MAX_CONSTRAINT_PAIRS + " encryption context pairs, not " + m.size());
    }
    for (Map.Entry<String, String> e : m.entrySet()) {
      if (e.getKey().isEmpty() || e.getValue().length() > MAX_CONSTRAINT_VALUE) {
        throw validation("Grant constraint pair \"" + e.getKey() + "\" has an empty key or a value longer than " + MAX_CONSTRAINT_VALUE + " characters");
      }
    }
  }

  /** AWS: a grant name is 1 to 256 of {@code [a-zA-Z0-9:/_-]}; null means no name. */
  public static void validateName(String name) {
    if (name != null && !NAME.matcher(name).matches()) {
      throw validation("1 validation error detected: Value at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$ (1 to 256 characters)");
    }
  }

  /** AWS: grantee and retiring principals are principal ARNs (or account ids). */
  public static void validatePrincipal(String what, String principal) {
    if (principal != null && !PrincipalArns.isValid(principal)) {
      throw validation("Invalid " + what + " \"" + principal + "\": give the ARN of an AWS principal (account, IAM user or role)");
    }
  }

  /**
   * Whether constraint {@code child} is as strict as {@code parent} or stricter, which AWS demands
   * of a grant made through another grant's CreateGrant permission: no parent constraint allows
   * anything; a parent Equals needs the same Equals; a parent Subset needs a Subset or Equals that
   * includes every pair of it.
   */
  public static boolean atLeastAsStrict(Grant.Constraints child, Grant.Constraints parent) {
    if (parent == null || (parent.encryptionContextEquals() == null && parent.encryptionContextSubset() == null)) {
      return true;
    }
    if (child == null) {
      return false;
    }
    if (parent.encryptionContextEquals() != null) {
      Map<String, String> p = PolicyAccessControl.folded(parent.encryptionContextEquals());
      return child.encryptionContextEquals() != null && p != null && p.equals(PolicyAccessControl.folded(child.encryptionContextEquals()));
    }
    Map<String, String> c = child.encryptionContextEquals() != null ? child.encryptionContextEquals() : child.encryptionContextSubset();
    return c != null && PolicyAccessControl.constraintsHold(new Grant.Constraints(null, parent.encryptionContextSubset()), c);
  }

  /**
   * Authorizes CreateGrant for {@code proposed}: validates it, then asks the access control with
   * the condition keys AWS sets on CreateGrant ({@code kms:GrantOperations},
   * {@code kms:GranteePrincipal}, {@code kms:RetiringPrincipal}, {@code kms:GrantConstraintType},
   * {@code kms:GrantIsForAWSResource}). AWS: the caller needs kms:CreateGrant on the key (policy or
   * a grant that lists CreateGrant, which then only passes on its own operations and constraints).
   * {@code request.action()} must be {@code kms:CreateGrant}.
   */
  public static void authorizeCreateGrant(PolicyAccessControl access, AccessRequest request, Grant proposed, String keySpec, String keyUsage) {
    if (!"kms:CreateGrant".equals(request.action())) {
      throw new IllegalArgumentException("not a CreateGrant request: " + request.action());
    }
    validateName(proposed.name());
    validatePrincipal("GranteePrincipal", proposed.granteePrincipal());
    validatePrincipal("RetiringPrincipal", proposed.retiringPrincipal());
    validateOperations(proposed.operations(), keySpec, keyUsage);
    validateConstraints(proposed.constraints(), keySpec);
    Map<String, List<String>> extra = new java.util.HashMap<>();
    extra.put("kms:GrantOperations", List.copyOf(proposed.operations()));
    extra.put("kms:GranteePrincipal", List.of(proposed.granteePrincipal()));
    if (proposed.retiringPrincipal() != null) {
      extra.put("kms:RetiringPrincipal", List.of(proposed.retiringPrincipal()));
    }
    Grant.Constraints c = proposed.constraints();
    Map<String, String> pairs = null;
    if (c != null && c.encryptionContextEquals() != null) {
      extra.put("kms:GrantConstraintType", List.of("EncryptionContextEquals"));
      pairs = c.encryptionContextEquals();
    } else if (c != null && c.encryptionContextSubset() != null) {
      extra.put("kms:GrantConstraintType", List.of("EncryptionContextSubset"));
      pairs = c.encryptionContextSubset();
    }
    // AWS: in a CreateGrant request, kms:EncryptionContext:<key> and kms:EncryptionContextKeys
    // are the pairs of the grant's constraint, so a policy can demand constrained grants.
    if (pairs != null) {
      extra.put("kms:EncryptionContextKeys", List.copyOf(pairs.keySet()));
      for (Map.Entry<String, String> e : pairs.entrySet()) {
        extra.merge("kms:EncryptionContext:" + e.getKey().toLowerCase(java.util.Locale.ROOT), List.of(e.getValue()), (a, b) -> {
          List<String> l = new java.util.ArrayList<>(a);
          l.addAll(b);
          return l;
        });
      }
    }
    PolicyAccessControl.Decision d = access.decide(request, extra, proposed);
    if (!d.allowed()) {
      throw new KmsException(KmsError.ACCESS_DENIED, d.message());
    }
  }

  /**
   * Who may retire a grant. AWS: "This operation can be called by the retiring principal for a
   * grant, by the grantee principal if the grant allows the RetireGrant operation, and by the
   * Amazon Web Services account in which the grant is created. It can also be called by
   * principals to whom permission for retiring a grant is delegated": here the issuing account's
   * root, and a principal of that account whose identity policy allows kms:RetireGrant on the key.
   *
   * @throws KmsException ACCESS_DENIED otherwise
   */
  public static void authorizeRetire(Caller caller, Grant grant) {
    if (mayRetire(caller, grant)) {
      return;
    }
    throw new KmsException(KmsError.ACCESS_DENIED, "User: " + caller.principalArn() + " is not authorized to perform: kms:RetireGrant on resource: "
        + grant.keyArn() + " because it is neither the grant's retiring principal, nor its grantee with RetireGrant, nor its account");
  }

  /** See {@link #authorizeRetire}. */
  public static boolean mayRetire(Caller caller, Grant grant) {
    String me = caller.principalArn();
    if (grant.retiringPrincipal() != null && PrincipalArns.sameIdentity(PrincipalArns.normalize(grant.retiringPrincipal()), me)) {
      return true;
    }
    if (grant.operations().contains("RetireGrant") && PrincipalArns.sameIdentity(PrincipalArns.normalize(grant.granteePrincipal()), me)) {
      return true;
    }
    String issuing = grant.issuingAccount() == null ? PolicyAccessControl.keyAccount(grant.keyArn()) : accountOf(grant.issuingAccount());
    if (issuing == null || !issuing.equals(caller.accountId())) {
      return false;
    }
    if (PrincipalArns.rootAccount(me) != null) {
      return true;
    }
    if (caller.identityPolicyJson() == null) {
      return false;
    }
    KeyPolicy identity = KeyPolicy.parseIdentityPolicy(caller.identityPolicyJson());
    RequestContext ctx = new RequestContext(me, caller.accountId(), "kms:RetireGrant", grant.keyArn(), Map.of());
    return !identity.denies(ctx) && identity.allows(ctx) != KeyPolicy.Grants.NONE;
  }

  /** AWS's IssuingAccount is the account root ARN; a bare id is accepted too. */
  private static String accountOf(String issuingAccount) {
    String root = PrincipalArns.rootAccount(issuingAccount);
    return root != null ? root : PrincipalArns.ACCOUNT.matcher(issuingAccount).matches() ? issuingAccount : null;
  }

  /**
   * Who may revoke a grant. AWS: RevokeGrant needs kms:RevokeGrant on the key from the key policy
   * (or an identity policy the key policy delegates to); no grant operation conveys it.
   * {@code request.action()} must be {@code kms:RevokeGrant}.
   */
  public static void authorizeRevoke(AccessControl access, AccessRequest request) {
    if (!"kms:RevokeGrant".equals(request.action())) {
      throw new IllegalArgumentException("not a RevokeGrant request: " + request.action());
    }
    access.check(request);
  }

  /** Grants {@code caller} may retire as their retiring principal (ListRetirableGrants). */
  public static List<Grant> retirableBy(String retiringPrincipalArn, Collection<Grant> grants) {
    return grants.stream()
        .filter(g -> g.retiringPrincipal() != null && PrincipalArns.sameIdentity(PrincipalArns.normalize(g.retiringPrincipal()), retiringPrincipalArn))
        .toList();
  }
}
