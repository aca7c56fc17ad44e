package io.hsmkit.kms.access;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A parsed, validated policy document in IAM's grammar: a key policy (every statement names a
 * Principal) or an identity policy (no Principal; it is the caller's own). Immutable.
 *
 * <p>Grammar accepted (AWS's, minus what a KMS has no use for):
 * <ul>
 *   <li>{@code Version} "2012-10-17" or "2008-10-17" (optional), {@code Id} (optional),
 *       {@code Statement} an object or a non-empty array. Unknown elements are errors.
 *   <li>Statement: {@code Sid}, {@code Effect} Allow|Deny, {@code Principal} or {@code NotPrincipal}
 *       ({@code "*"}, or {@code {"AWS": arn | [arns]}} with principal ARNs or bare 12-digit account
 *       ids; {@code Service}/{@code Federated} entries are kept but match no caller here),
 *       {@code Action} or {@code NotAction} (a string or list, wildcards {@code *} and {@code ?},
 *       {@code kms:} actions in key policies), {@code Resource} or {@code NotResource}, {@code Condition}.
 *   <li>Condition operators: StringEquals, StringNotEquals, StringEqualsIgnoreCase,
 *       StringNotEqualsIgnoreCase, StringLike, StringNotLike, ArnEquals, ArnNotEquals, ArnLike,
 *       ArnNotLike, Bool, Null; each may carry the {@code ForAnyValue:} or {@code ForAllValues:}
 *       qualifier and the {@code IfExists} suffix (not Null). Keys such as
 *       {@code kms:EncryptionContext:<key>}, {@code kms:EncryptionContextKeys},
 *       {@code kms:CallerAccount}, {@code aws:PrincipalArn}, {@code kms:GrantIsForAWSResource},
 *       {@code kms:GrantOperations} (see {@link RequestContext}).
 * </ul>
 * Every violation is a {@link KmsException} with {@link KmsError#MALFORMED_POLICY_DOCUMENT} whose
 * message names the statement and the element at fault.
 */
public final class KeyPolicy {
  /** AWS's key policy size quota, in bytes of the document. */
  public static final int MAX_BYTES = 32 * 1024;

  private static final ObjectMapper JSON = JsonMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();
  private static final Set<String> TOP = Set.of("Version", "Id", "Statement");
  private static final Set<String> STATEMENT = Set.of("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
      "NotResource", "Condition");
  private static final Pattern ACTION = Pattern.compile("\\*|[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+");
  private static final Pattern KMS_ACTION = Pattern.compile("\\*|kms:[a-zA-Z*?]+", Pattern.CASE_INSENSITIVE);

  /** Allow or Deny. */
  public enum Effect { ALLOW, DENY }

  /** The principals a statement names: everyone ({@code *}), or a set of normalized ARNs. */
  public record Principals(boolean anyone, List<String> aws, List<String> others) {
    public Principals {
      aws = List.copyOf(aws);
      others = List.copyOf(others);
    }
  }

  /** One condition: operator (without qualifier and IfExists), qualifier, IfExists, key, values. */
  public record Condition(String operator, Qualifier qualifier, boolean ifExists, String key, List<String> values) {
    public Condition {
      values = List.copyOf(values);
    }
  }

  /** How a condition treats a key with several values. */
  public enum Qualifier { NONE, FOR_ANY_VALUE, FOR_ALL_VALUES }

  /**
   * One statement. Exactly one of {@code principal}/{@code notPrincipal} is set in a key policy and
   * neither in an identity policy; exactly one of each of the action and resource pairs.
   */
  public record Statement(String sid, Effect effect, Principals principal, Principals notPrincipal, List<String> actions,
      List<String> notActions, List<String> resources, List<String> notResources, List<Condition> conditions) {
    public Statement {
      actions = actions == null ? null : List.copyOf(actions);
      notActions = notActions == null ? null : List.copyOf(notActions);
      resources = resources == null ? null : List.copyOf(resources);
      notResources = notResources == null ? null : List.copyOf(notResources);
      conditions = List.copyOf(conditions);
    }

    /** Whether the statement covers {@code action} (IAM action names compare case-insensitively). */
    public boolean coversAction(String action) {
      if (actions != null) {
        return actions.stream().anyMatch(p -> Wildcards.matches(p, action, true));
      }
      return notActions.stream().noneMatch(p -> Wildcards.matches(p, action, true));
    }

    /** Whether the statement covers {@code resource} (a key ARN, or {@code *}). */
    public boolean coversResource(String resource) {
      if (resources != null) {
        return resources.stream().anyMatch(p -> p.equals("*") || Wildcards.matches(p, resource, false));
      }
      return notResources.stream().noneMatch(p -> p.equals("*") || Wildcards.matches(p, resource, false));
    }

    /** Whether every condition holds for {@code ctx} (conditions are ANDed). */
    public boolean conditionsHold(RequestContext ctx) {
      for (Condition c : conditions) {
        if (!Conditions.holds(c, ctx)) {
          return false;
        }
      }
      return true;
    }

    String label(int index) {
      return sid != null && !sid.isEmpty() ? "statement \"" + sid + "\"" : "statement " + (index + 1);
    }
  }

  private final String version;
  private final String id;
  private final List<Statement> statements;
  private final boolean identityPolicy;

  private KeyPolicy(String version, String id, List<Statement> statements, boolean identityPolicy) {
    this.version = version;
    this.id = id;
    this.statements = List.copyOf(statements);
    this.identityPolicy = identityPolicy;
  }

  /** Parses and validates a key policy (every statement names its principals). */
  public static KeyPolicy parse(String json) {
    return parse(json, false);
  }

  /** Parses and validates an identity policy (statements name no principal: the policy is the caller's). */
  public static KeyPolicy parseIdentityPolicy(String json) {
    return parse(json, true);
  }

  public String version() {
    return version;
  }

  public String id() {
    return id;
  }

  public List<Statement> statements() {
    return statements;
  }

  public boolean isIdentityPolicy() {
    return identityPolicy;
  }

  private static KmsException malformed(String message) {
    return new KmsException(KmsError.MALFORMED_POLICY_DOCUMENT, message);
  }

  private static KeyPolicy parse(String json, boolean identity) {
    String what = identity ? "identity policy" : "key policy";
    if (json == null || json.isBlank()) {
      throw malformed("The " + what + " is empty");
    }
    int size = json.getBytes(StandardCharsets.UTF_8).length;
    if (size > MAX_BYTES) {
      throw malformed("The " + what + " is " + size + " bytes; the limit is " + MAX_BYTES + " bytes (32 KiB)");
    }
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      // Jackson's message quotes the document; only the position is repeated.
      throw malformed("The " + what + " is not valid JSON (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
    }
    if (root == null || !root.isObject()) {
      throw malformed("The " + what + " must be a JSON object");
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!TOP.contains(f)) {
        throw malformed("The " + what + " has an unknown element \"" + f + "\" (allowed: Version, Id, Statement)");
      }
    }
    String version = null;
    if (root.has("Version")) {
      version = text(root.get("Version"), "Version");
      if (!version.equals("2012-10-17") && !version.equals("2008-10-17")) {
        throw malformed("The " + what + " has an unsupported Version \"" + version + "\" (use 2012-10-17)");
      }
    }
    String id = root.has("Id") ? text(root.get("Id"), "Id") : null;
    JsonNode st = root.get("Statement");
    if (st == null || st.isNull()) {
      throw malformed("The " + what + " has no Statement");
    }
    List<JsonNode> nodes = new ArrayList<>();
    if (st.isArray()) {
      st.forEach(nodes::add);
    } else if (st.isObject()) {
      nodes.add(st);
    } else {
      throw malformed("The " + what + "'s Statement must be an object or an array of objects");
    }
    if (nodes.isEmpty()) {
      throw malformed("The " + what + " has an empty Statement list");
    }
    List<Statement> out = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      out.add(statement(nodes.get(i), i, identity));
    }
    return new KeyPolicy(version, id, out, identity);
  }

  private static String text(JsonNode n, String element) {
    if (!n.isTextual()) {
      throw malformed("Policy element " + element + " must be a string");
    }
    return n.asText();
  }

  private static Statement statement(JsonNode n, int index, boolean identity) {
    String where = "statement " + (index + 1);
    if (!n.isObject()) {
      throw malformed("Policy " + where + " must be a JSON object");
    }
    String sid = n.has("Sid") ? text(n.get("Sid"), "Sid") : null;
    if (sid != null) {
      where = "statement \"" + sid + "\"";
    }
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!STATEMENT.contains(f)) {
        throw malformed("Policy " + where + " has an unknown element \"" + f + "\"");
      }
    }
    JsonNode e = n.get("Effect");
    if (e == null || !e.isTextual()) {
      throw malformed("Policy " + where + " has no Effect (Allow or Deny)");
    }
    Effect effect = switch (e.asText()) {
      case "Allow" -> Effect.ALLOW;
      case "Deny" -> Effect.DENY;
      default -> throw malformed("Policy " + where + " has an unknown Effect \"" + e.asText() + "\" (Allow or Deny)");
    };
    Principals principal = null;
    Principals notPrincipal = null;
    if (identity) {
      if (n.has("Principal") || n.has("NotPrincipal")) {
        throw malformed("Identity policy " + where + " must not name a Principal (the policy is the caller's own)");
      }
    } else {
      if (n.has("Principal") == n.has("NotPrincipal")) {
        throw malformed("Policy " + where + " must have exactly one of Principal and NotPrincipal");
      }
      if (n.has("Principal")) {
        principal = principals(n.get("Principal"), where);
      } else {
        notPrincipal = principals(n.get("NotPrincipal"), where);
      }
    }
    if (n.has("Action") == n.has("NotAction")) {
      throw malformed("Policy " + where + " must have exactly one of Action and NotAction");
    }
    Pattern actionSyntax = identity ? ACTION : KMS_ACTION;
    List<String> actions = n.has("Action") ? strings(n.get("Action"), where, "Action") : null;
    List<String> notActions = n.has("NotAction") ? strings(n.get("NotAction"), where, "NotAction") : null;
    for (String a : actions != null ? actions : notActions) {
      if (!actionSyntax.matcher(a).matches()) {
        throw malformed("Policy " + where + " has an invalid action \"" + a + "\"" + (identity ? "" : " (key policies name kms: actions, e.g. kms:Encrypt or kms:Get*)"));
      }
    }
    if (n.has("Resource") == n.has("NotResource")) {
      throw malformed("Policy " + where + " must have exactly one of Resource and NotResource");
    }
    List<String> resources = n.has("Resource") ? strings(n.get("Resource"), where, "Resource") : null;
    List<String> notResources = n.has("NotResource") ? strings(n.get("NotResource"), where, "NotResource") : null;
    for (String r : resources != null ? resources : notResources) {
      if (!r.equals("*") && !r.startsWith("arn:")) {
        throw malformed("Policy " + where + " has an invalid resource \"" + r + "\" (\"*\" or an ARN)");
      }
    }
    List<Condition> conditions = n.has("Condition") ? Conditions.parse(n.get("Condition"), where) : List.of();
    return new Statement(sid, effect, principal, notPrincipal, actions, notActions, resources, notResources, conditions);
  }

  static List<String> strings(JsonNode n, String where, String element) {
    List<String> out = new ArrayList<>();
    if (n.isTextual()) {
      out.add(n.asText());
    } else if (n.isArray() && !n.isEmpty()) {
      for (JsonNode x : n) {
        if (!x.isTextual()) {
          throw malformed("Policy " + where + ": every " + element + " entry must be a string");
        }
        out.add(x.asText());
      }
    } else {
      throw malformed("Policy " + where + ": " + element + " must be a string or a non-empty list of strings");
    }
    return out;
  }

  private static Principals principals(JsonNode n, String where) {
    if (n.isTextual()) {
      if (!n.asText().equals("*")) {
        throw malformed("Policy " + where + " has an invalid Principal \"" + n.asText() + "\" (\"*\" or {\"AWS\": ...})");
      }
      return new Principals(true, List.of(), List.of());
    }
    if (!n.isObject() || n.isEmpty()) {
      throw malformed("Policy " + where + ": Principal must be \"*\" or an object such as {\"AWS\": \"arn:aws:iam::111122223333:root\"}");
    }
    boolean anyone = false;
    List<String> aws = new ArrayList<>();
    List<String> others = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      List<String> values = strings(f.getValue(), where, "Principal " + f.getKey());
      switch (f.getKey()) {
        case "AWS" -> {
          for (String v : values) {
            if (v.equals("*")) {
              anyone = true;
            } else if (PrincipalArns.isValid(v)) {
              aws.add(PrincipalArns.normalize(v));
            } else {
              throw malformed("Policy " + where + " contains one or more invalid principals: \"" + v + "\"");
            }
          }
        }
        case "Service", "Federated", "CanonicalUser" -> others.addAll(values);
        default -> throw malformed("Policy " + where + " has an unknown principal type \"" + f.getKey() + "\" (AWS, Service, Federated)");
      }
    }
    return new Principals(anyone, aws, others);
  }

  /** Condition parsing and evaluation, apart so that the statement grammar stays readable. */
  static final class Conditions {
    private Conditions() {}

    private static final Set<String> OPERATORS = Set.of("StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
        "StringLike", "StringNotLike", "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike", "Bool", "Null");

    static List<Condition> parse(JsonNode n, String where) {
      if (!n.isObject()) {
        throw malformed("Policy " + where + ": Condition must be an object of operators");
      }
      List<Condition> out = new ArrayList<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> op = it.next();
        String name = op.getKey();
        Qualifier q = Qualifier.NONE;
        if (name.startsWith("ForAnyValue:")) {
          q = Qualifier.FOR_ANY_VALUE;
          name = name.substring("ForAnyValue:".length());
        } else if (name.startsWith("ForAllValues:")) {
          q = Qualifier.FOR_ALL_VALUES;
          name = name.substring("ForAllValues:".length());
        }
        boolean ifExists = name.endsWith("IfExists") && !name.equals("IfExists");
        String base = ifExists ? name.substring(0, name.length() - "IfExists".length()) : name;
        if (!OPERATORS.contains(base) || (ifExists && base.equals("Null"))) {
          throw malformed("Policy " + where + " has an unsupported condition operator \"" + op.getKey() + "\" (supported: "
              + String.join(", ", new java.util.TreeSet<>(OPERATORS)) + ", with ForAnyValue:/ForAllValues: and ...IfExists)");
        }
        if (!op.getValue().isObject() || op.getValue().isEmpty()) {
          throw malformed("Policy " + where + ": condition " + op.getKey() + " must map condition keys to values");
        }
        for (Iterator<Map.Entry<String, JsonNode>> keys = op.getValue().fields(); keys.hasNext(); ) {
          Map.Entry<String, JsonNode> k = keys.next();
          if (!k.getKey().contains(":")) {
            throw malformed("Policy " + where + " has an invalid condition key \"" + k.getKey() + "\" (e.g. kms:EncryptionContext:Department)");
          }
          List<String> values = scalars(k.getValue(), where, op.getKey() + " " + k.getKey());
          if (base.equals("Bool") || base.equals("Null")) {
            for (String v : values) {
              if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) {
                throw malformed("Policy " + where + ": " + base + " takes true or false, not \"" + v + "\"");
              }
            }
          }
          out.add(new Condition(base, q, ifExists, k.getKey(), values));
        }
      }
      return out;
    }

    private static List<String> scalars(JsonNode n, String where, String element) {
      List<String> out = new ArrayList<>();
      if (n.isValueNode() && !n.isNull()) {
        out.add(n.asText());
        return out;
      }
      if (n.isArray() && !n.isEmpty()) {
        for (JsonNode x : n) {
          if (!x.isValueNode() || x.isNull()) {
            throw malformed("Policy " + where + ": the values of " + element + " must be strings, numbers or booleans");
          }
          out.add(x.asText());
        }
        return out;
      }
      throw malformed("Policy " + where + ": " + element + " needs a value or a non-empty list of values");
    }

    static boolean negated(String op) {
      return op.contains("Not");
    }

    /** One request value against one policy value under the operator's base comparison. */
    private static boolean compare(String op, String policyValue, String requestValue) {
      return switch (op) {
        case "StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals" -> policyValue.equals(requestValue);
        case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase" -> policyValue.equalsIgnoreCase(requestValue);
        case "StringLike", "StringNotLike", "ArnLike", "ArnNotLike" -> Wildcards.matches(policyValue, requestValue, false);
        case "Bool" -> policyValue.equalsIgnoreCase(requestValue);
        default -> throw new IllegalStateException(op);
      };
    }

    /** Whether {@code v} satisfies the operator: matches some policy value, or (negated) none. */
    private static boolean valueSatisfies(Condition c, String v) {
      boolean any = false;
      for (String p : c.values()) {
        if (compare(c.operator(), p, v)) {
          any = true;
          break;
        }
      }
      return negated(c.operator()) != any;
    }

    /**
     * IAM's rules: a missing key fails a positive operator and passes a negated one (and passes
     * with IfExists); ForAnyValue needs one request value to satisfy the operator (false when the
     * key is missing), ForAllValues needs all (true when missing); Null "true" means absent.
     */
    static boolean holds(Condition c, RequestContext ctx) {
      List<String> values = ctx.values(c.key());
      boolean absent = values == null || values.isEmpty();
      if (c.operator().equals("Null")) {
        boolean wantAbsent = c.values().stream().anyMatch(v -> v.equalsIgnoreCase("true"));
        boolean wantPresent = c.values().stream().anyMatch(v -> v.equalsIgnoreCase("false"));
        return absent ? wantAbsent : wantPresent;
      }
      if (absent) {
        return switch (c.qualifier()) {
          case FOR_ALL_VALUES -> true;
          case FOR_ANY_VALUE -> c.ifExists();
          case NONE -> c.ifExists() || negated(c.operator());
        };
      }
      return switch (c.qualifier()) {
        case FOR_ALL_VALUES -> values.stream().allMatch(v -> valueSatisfies(c, v));
        case FOR_ANY_VALUE -> values.stream().anyMatch(v -> valueSatisfies(c, v));
        // Without a qualifier a positive operator needs some value to match, a negated one needs
        // no value to match any policy value.
        case NONE -> negated(c.operator())
            ? values.stream().allMatch(v -> valueSatisfies(c, v))
            : values.stream().anyMatch(v -> valueSatisfies(c, v));
      };
    }
  }

  // ------------------------------------------------------------------ evaluation

  /** What a key policy says about a caller: nothing, an Allow for the caller itself, or an Allow for its account. */
  public enum Grants { NONE, CALLER, ACCOUNT }

  /**
   * Whether a statement's Principal (or NotPrincipal) applies to the caller. For an Allow, a root
   * principal ({@code arn:aws:iam::A:root}) applies as {@link Grants#ACCOUNT} to every caller of
   * account A (the account delegates to its identity policies) and as {@link Grants#CALLER} to the
   * root itself; for a Deny, a root principal applies to every caller of that account.
   */
  static Grants principalApplies(Statement s, RequestContext ctx) {
    if (s.principal() == null && s.notPrincipal() == null) {
      return Grants.CALLER; // identity policy: the caller's own
    }
    if (s.principal() != null) {
      return match(s.principal(), ctx);
    }
    return match(s.notPrincipal(), ctx) == Grants.NONE ? Grants.CALLER : Grants.NONE;
  }

  private static Grants match(Principals p, RequestContext ctx) {
    if (p.anyone()) {
      return Grants.CALLER;
    }
    Grants best = Grants.NONE;
    for (String arn : p.aws()) {
      if (PrincipalArns.sameIdentity(arn, ctx.principalArn())) {
        return Grants.CALLER;
      }
      String acct = PrincipalArns.rootAccount(arn);
      if (acct != null && acct.equals(ctx.accountId())) {
        best = Grants.ACCOUNT;
      }
    }
    return best;
  }

  /** Whether a statement with {@code effect} applies in full (principal, action, resource, conditions). */
  private Grants applies(Statement s, RequestContext ctx) {
    Grants g = principalApplies(s, ctx);
    if (g == Grants.NONE || !s.coversAction(ctx.action()) || !s.coversResource(ctx.resource()) || !s.conditionsHold(ctx)) {
      return Grants.NONE;
    }
    return g;
  }

  /** Whether some Deny statement applies to the request (a root principal denies its whole account). */
  public boolean denies(RequestContext ctx) {
    return statements.stream().anyMatch(s -> s.effect() == Effect.DENY && applies(s, ctx) != Grants.NONE);
  }

  /**
   * The strongest Allow for the request: {@link Grants#CALLER} when a statement names the caller
   * (or everyone), {@link Grants#ACCOUNT} when one names the caller's account root, else NONE.
   */
  public Grants allows(RequestContext ctx) {
    Grants best = Grants.NONE;
    for (Statement s : statements) {
      if (s.effect() == Effect.ALLOW) {
        Grants g = applies(s, ctx);
        if (g == Grants.CALLER) {
          return g;
        }
        if (g == Grants.ACCOUNT) {
          best = g;
        }
      }
    }
    return best;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KeyPolicy k && Objects.equals(version, k.version) && Objects.equals(id, k.id) && statements.equals(k.statements)
        && identityPolicy == k.identityPolicy;
  }

  @Override
  public int hashCode() {
    return Objects.hash(version, id, statements, identityPolicy);
  }

  @Override
  public String toString() {
    return (identityPolicy ? "IdentityPolicy" : "KeyPolicy") + "[" + statements.size() + " statement(s)]";
  }

  static String lower(String s) {
    return s.toLowerCase(Locale.ROOT);
  }
}
