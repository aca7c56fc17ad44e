package io.hsmkit.kms.access;

import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.store.Database;
import io.hsmkit.quorum.Action;
import io.hsmkit.quorum.QuorumAuthorizer;
import io.hsmkit.quorum.QuorumException;
import io.hsmkit.quorum.QuorumRules;
import io.hsmkit.quorum.Service;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Provider;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * The principals of the KMS service: IAM-style users ({@code arn:aws:iam::<account>:user/<name>})
 * with one access key pair each and an identity policy, stored in the metadata {@link Database}
 * (table {@code kms_principal}, migration {@code V2_1}).
 *
 * <p>Secrets: {@link #create} makes an access key id ({@code AKIA} and 16 characters of
 * {@code A-Z2-7}, 20 in all, as AWS's) and a 40-character secret access key, and returns the
 * secret once. The database holds it only wrapped: AES-256-GCM under the token key
 * {@value #WRAP_KEY_LABEL} (made sensitive and non-extractable on first use), with a 12-byte IV
 * from the token and the AAD {@code "hsmkit-kms-principal-secret-v1:" + accessKeyId}, so a
 * wrapped secret moved to another row does not unwrap. Stored value: base64 of
 * {@code 0x01 || IV || ciphertext+tag}. {@link #find} (SigV4's {@link CredentialLookup}) unwraps it
 * into a fresh char[] the caller wipes; an inactive or unknown key finds nothing.
 *
 * <p>Creating and deleting a principal are {@code user} quorum actions
 * ({@link #createAction}, {@link #deleteAction}) when a {@link QuorumAuthorizer} is given and the
 * {@code user} quorum value is above 1: without a quorum-approved token the change is refused
 * with ACCESS_DENIED naming what is missing. Thread-safe.
 */
public final class Principals implements CredentialLookup {
  /** The label of the wrapping key in the token. */
  public static final String WRAP_KEY_LABEL = "hsmkit-kms-principal-wrap";

  private static final Pattern NAME = Pattern.compile("[\\w+=,.@-]{1,64}");
  private static final char[] KEY_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();
  private static final char[] SECRET_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".toCharArray();
  private static final byte WRAP_VERSION = 1;
  private static final int IV_BYTES = 12;

  private final Database db;
  private final Provider provider;
  private final QuorumAuthorizer quorum;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private volatile SecretKey wrapKey;

  /**
   * @param provider an HsmKit provider on the token that holds (or will hold) the wrapping key
   * @param quorum   guards creating and deleting principals; null when no quorum is configured
   */
  public Principals(Database db, Provider provider, QuorumAuthorizer quorum, Clock clock) {
    this.db = Objects.requireNonNull(db, "db");
    this.provider = Objects.requireNonNull(provider, "provider");
    this.quorum = quorum;
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  public Principals(Database db, Provider provider, QuorumAuthorizer quorum) {
    this(db, provider, quorum, Clock.systemUTC());
  }

  /** A stored principal, without its secret. */
  public record Principal(String accessKeyId, String name, String accountId, String arn, String identityPolicyJson, boolean active, Instant created) {
    /** The principal as the service sees a caller (no wire details). */
    public Caller caller() {
      return new Caller(arn, accountId, identityPolicyJson, accessKeyId, null, null);
    }
  }

  /** What {@link #create} returns: the principal and its secret, once. Wipe it with {@link #close()}. */
  public static final class NewPrincipal implements AutoCloseable {
    private final Principal principal;
    private final char[] secretAccessKey;

    NewPrincipal(Principal principal, char[] secretAccessKey) {
      this.principal = principal;
      this.secretAccessKey = secretAccessKey;
    }

    public Principal principal() {
      return principal;
    }

    /** The secret itself (not a copy): valid until {@link #close()}. */
    public char[] secretAccessKey() {
      return secretAccessKey;
    }

    @Override
    public void close() {
      Arrays.fill(secretAccessKey, '\0');
    }

    @Override
    public String toString() {
      return "NewPrincipal[" + principal.arn() + ", " + principal.accessKeyId() + ", secret=***]";
    }
  }

  /** The quorum action creating principal {@code name} in {@code accountId} is approved as. */
  public static Action createAction(String name, String accountId) {
    return Action.of(Service.USER, "create-principal", Map.of("name", name, "account", accountId));
  }

  /** The quorum action deleting the principal with {@code accessKeyId} is approved as. */
  public static Action deleteAction(Principal p) {
    return Action.of(Service.USER, "delete-principal", Map.of("name", p.name(), "account", p.accountId(), "access-key-id", p.accessKeyId()));
  }

  /**
   * Creates a principal with a fresh access key pair.
   *
   * @param identityPolicyJson its identity policy (validated), or null for none
   * @param approval           the quorum approval for {@link #createAction}, or null
   * @throws KmsException VALIDATION (name, account), MALFORMED_POLICY_DOCUMENT, ALREADY_EXISTS,
   *     ACCESS_DENIED (quorum)
   */
  public NewPrincipal create(String name, String accountId, String identityPolicyJson, QuorumAuthorizer.Authorization approval) {
    if (name == null || !NAME.matcher(name).matches() || name.equals(ROOT_NAME)) {
      throw new KmsException(KmsError.VALIDATION, "A principal name is 1 to 64 of letters, digits and +=,.@_- (and not \"" + ROOT_NAME + "\")");
    }
    return insert(name, accountId, "arn:aws:iam::" + accountId + ":user/" + name, identityPolicyJson, approval);
  }

  /** The name under which an account's root principal is stored. */
  public static final String ROOT_NAME = "root";

  /**
   * Creates the access key of an account's root ({@code arn:aws:iam::<account>:root}): the
   * principal AWS's default key policy names, which may do everything in its account (the first
   * principal a fresh service hands out). Same checks and quorum action as {@link #create} with
   * the name {@value #ROOT_NAME}; one per account.
   */
  public NewPrincipal createAccountRoot(String accountId, QuorumAuthorizer.Authorization approval) {
    return insert(ROOT_NAME, accountId, "arn:aws:iam::" + accountId + ":root", null, approval);
  }

  private NewPrincipal insert(String name, String accountId, String arn, String identityPolicyJson, QuorumAuthorizer.Authorization approval) {
    if (accountId == null || !PrincipalArns.ACCOUNT.matcher(accountId).matches()) {
      throw new KmsException(KmsError.VALIDATION, "An account id is 12 digits");
    }
    if (identityPolicyJson != null) {
      KeyPolicy.parseIdentityPolicy(identityPolicyJson);
    }
    if (byName(name, accountId).isPresent()) {
      throw alreadyExists(name, accountId);
    }
    guard(createAction(name, accountId), approval);
    String accessKeyId = newAccessKeyId();
    char[] secret = newSecret();
    String wrapped;
    try {
      wrapped = wrap(accessKeyId, secret);
    } catch (RuntimeException e) {
      Arrays.fill(secret, '\0');
      throw e;
    }
    Principal p = new Principal(accessKeyId, name, accountId, arn, identityPolicyJson, true,
        Instant.ofEpochMilli(clock.millis()));
    try {
      db.inTransaction(c -> {
        try (PreparedStatement st = c.prepareStatement("INSERT INTO kms_principal (access_key_id, principal_name, account_id, principal_arn, "
            + "identity_policy, wrapped_secret, wrap_key_label, active, created_millis) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
          st.setString(1, p.accessKeyId());
          st.setString(2, p.name());
          st.setString(3, p.accountId());
          st.setString(4, p.arn());
          st.setString(5, p.identityPolicyJson());
          st.setString(6, wrapped);
          st.setString(7, WRAP_KEY_LABEL);
          st.setBoolean(8, true);
          st.setLong(9, p.created().toEpochMilli());
          st.executeUpdate();
        }
        return null;
      });
    } catch (KmsException e) {
      Arrays.fill(secret, '\0');
      // A concurrent create of the same name loses on the unique constraint.
      if (byName(name, accountId).isPresent()) {
        throw alreadyExists(name, accountId);
      }
      throw e;
    }
    return new NewPrincipal(p, secret);
  }

  private static KmsException alreadyExists(String name, String accountId) {
    return new KmsException(KmsError.ALREADY_EXISTS, "A principal named " + name + " already exists in account " + accountId);
  }

  /** Every principal, by account and name. */
  public List<Principal> list() {
    return db.inTransaction(c -> query(c, "SELECT * FROM kms_principal ORDER BY account_id, principal_name"));
  }

  /** The principal with this access key id, active or not. */
  public Optional<Principal> get(String accessKeyId) {
    return db.inTransaction(c -> query(c, "SELECT * FROM kms_principal WHERE access_key_id = ?", accessKeyId)).stream().findFirst();
  }

  private Optional<Principal> byName(String name, String accountId) {
    return db.inTransaction(c -> query(c, "SELECT * FROM kms_principal WHERE account_id = ? AND principal_name = ?", accountId, name)).stream().findFirst();
  }

  /** Deactivates (or reactivates) an access key: an inactive key authenticates nothing. */
  public void setActive(String accessKeyId, boolean active) {
    update("UPDATE kms_principal SET active = ? WHERE access_key_id = ?", accessKeyId, st -> {
      st.setBoolean(1, active);
      st.setString(2, accessKeyId);
    });
  }

  /** Replaces the principal's identity policy (validated; null removes it). */
  public void setIdentityPolicy(String accessKeyId, String identityPolicyJson) {
    if (identityPolicyJson != null) {
      KeyPolicy.parseIdentityPolicy(identityPolicyJson);
    }
    update("UPDATE kms_principal SET identity_policy = ? WHERE access_key_id = ?", accessKeyId, st -> {
      st.setString(1, identityPolicyJson);
      st.setString(2, accessKeyId);
    });
  }

  /**
   * Deletes a principal and its wrapped secret.
   *
   * @param approval the quorum approval for {@link #deleteAction}, or null
   * @throws KmsException NOT_FOUND, ACCESS_DENIED (quorum)
   */
  public void delete(String accessKeyId, QuorumAuthorizer.Authorization approval) {
    Principal p = get(accessKeyId).orElseThrow(() -> notFound(accessKeyId));
    guard(deleteAction(p), approval);
    update("DELETE FROM kms_principal WHERE access_key_id = ?", accessKeyId, st -> st.setString(1, accessKeyId));
  }

  private static KmsException notFound(String accessKeyId) {
    return new KmsException(KmsError.NOT_FOUND, "No principal has access key id " + accessKeyId);
  }

  @FunctionalInterface
  private interface Binder {
    void bind(PreparedStatement st) throws SQLException;
  }

  private void update(String sql, String accessKeyId, Binder binder) {
    int n = db.inTransaction(c -> {
      try (PreparedStatement st = c.prepareStatement(sql)) {
        binder.bind(st);
        return st.executeUpdate();
      }
    });
    if (n == 0) {
      throw notFound(accessKeyId);
    }
  }

  /**
   * SigV4's look-up: the active principal and its unwrapped secret, or empty for an unknown or
   * inactive access key id.
   *
   * @throws KmsException KMS_INTERNAL when the stored secret does not unwrap (tampered, moved to
   *     another row, or wrapped under another token's key)
   */
  @Override
  public Optional<Credential> find(String accessKeyId) {
    if (accessKeyId == null) {
      return Optional.empty();
    }
    String[] wrapped = new String[1];
    Optional<Principal> p = db.inTransaction(c -> {
      try (PreparedStatement st = c.prepareStatement("SELECT * FROM kms_principal WHERE access_key_id = ? AND active = ?")) {
        st.setString(1, accessKeyId);
        st.setBoolean(2, true);
        try (ResultSet rs = st.executeQuery()) {
          if (!rs.next()) {
            return Optional.empty();
          }
          wrapped[0] = rs.getString("wrapped_secret");
          return Optional.of(row(rs));
        }
      }
    });
    return p.map(x -> new Credential(x.caller(), unwrap(accessKeyId, wrapped[0])));
  }

  private static List<Principal> query(Connection c, String sql, String... args) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        st.setString(i + 1, args[i]);
      }
      List<Principal> out = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          out.add(row(rs));
        }
      }
      return out;
    }
  }

  private static Principal row(ResultSet rs) throws SQLException {
    return new Principal(rs.getString("access_key_id"), rs.getString("principal_name"), rs.getString("account_id"), rs.getString("principal_arn"),
        rs.getString("identity_policy"), rs.getBoolean("active"), Instant.ofEpochMilli(rs.getLong("created_millis")));
  }

  // ------------------------------------------------------------------ quorum

  private void guard(Action action, QuorumAuthorizer.Authorization approval) {
    if (quorum == null) {
      return;
    }
    if (approval == null) {
      if (QuorumRules.approvalOptional(action, quorum.policy())) {
        return;
      }
      throw new KmsException(KmsError.ACCESS_DENIED, action.service().wireName() + "/" + action.operation() + " needs a quorum approval: "
          + quorum.policy().value(action.service()) + " of " + quorum.officers().size() + " officers must approve " + action
          + "; request its token with: " + QuorumApprovals.tokenCommand(action));
    }
    try {
      quorum.authorize(action, approval.token(), approval.approvals());
    } catch (QuorumException e) {
      throw new KmsException(KmsError.ACCESS_DENIED, "quorum refused " + action + ": " + e.getMessage()
          + "; request a token for this action with: " + QuorumApprovals.tokenCommand(action), e);
    }
  }

  // ------------------------------------------------------------------ secrets

  private String newAccessKeyId() {
    StringBuilder sb = new StringBuilder("AKIA");
    for (int i = 0; i < 16; i++) {
      sb.append(KEY_ID_CHARS[random.nextInt(KEY_ID_CHARS.length)]);
    }
    return sb.toString();
  }

  private char[] newSecret() {
    char[] s = new char[40];
    for (int i = 0; i < s.length; i++) {
      s[i] = SECRET_CHARS[random.nextInt(SECRET_CHARS.length)];
    }
    return s;
  }

  private SecretKey wrapKey() {
    SecretKey k = wrapKey;
    if (k == null) {
      k = TokenKeys.getOrCreate(provider, WRAP_KEY_LABEL, "AES", 256);
      wrapKey = k;
    }
    return k;
  }

  private static byte[] aad(String accessKeyId) {
    return ("hsmkit-kms-principal-secret-v1:" + accessKeyId).getBytes(StandardCharsets.US_ASCII);
  }

  private String wrap(String accessKeyId, char[] secret) {
    ByteBuffer bb = StandardCharsets.US_ASCII.encode(CharBuffer.wrap(secret));
    byte[] plain = new byte[bb.remaining()];
    bb.get(plain);
    Arrays.fill(bb.array(), (byte) 0);
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding", provider);
      c.init(Cipher.ENCRYPT_MODE, wrapKey()); // the IV comes from the token
      c.updateAAD(aad(accessKeyId));
      byte[] ct = c.doFinal(plain);
      byte[] iv = c.getIV();
      if (iv == null || iv.length != IV_BYTES) {
        throw new KmsException(KmsError.KMS_INTERNAL, "the token gave no 12-byte GCM IV");
      }
      ByteBuffer out = ByteBuffer.allocate(1 + IV_BYTES + ct.length).put(WRAP_VERSION).put(iv).put(ct);
      return Base64.getEncoder().encodeToString(out.array());
    } catch (GeneralSecurityException e) {
      throw new KmsException(KmsError.KMS_INTERNAL, "wrapping a principal secret failed: " + e.getClass().getSimpleName(), e);
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
  }

  private char[] unwrap(String accessKeyId, String stored) {
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(stored);
    } catch (IllegalArgumentException e) {
      throw new KmsException(KmsError.KMS_INTERNAL, "the wrapped secret of " + accessKeyId + " is damaged");
    }
    if (raw.length < 1 + IV_BYTES + 16 || raw[0] != WRAP_VERSION) {
      throw new KmsException(KmsError.KMS_INTERNAL, "the wrapped secret of " + accessKeyId + " is damaged");
    }
    byte[] plain = null;
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding", provider);
      c.init(Cipher.DECRYPT_MODE, wrapKey(), new GCMParameterSpec(128, raw, 1, IV_BYTES));
      c.updateAAD(aad(accessKeyId));
      plain = c.doFinal(raw, 1 + IV_BYTES, raw.length - 1 - IV_BYTES);
      char[] out = new char[plain.length];
      for (int i = 0; i < plain.length; i++) {
        out[i] = (char) (plain[i] & 0xff);
      }
      return out;
    } catch (GeneralSecurityException e) {
      // Tampered, moved to another row, or wrapped under another token's key.
      throw new KmsException(KmsError.KMS_INTERNAL, "the wrapped secret of " + accessKeyId + " does not unwrap (" + e.getClass().getSimpleName() + ")", e);
    } finally {
      if (plain != null) {
        Arrays.fill(plain, (byte) 0);
      }
    }
  }
}
