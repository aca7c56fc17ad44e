package io.hsmkit.kms;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hsmkit.kms.access.AccessControl;
import io.hsmkit.kms.access.AccessRequest;
import io.hsmkit.kms.access.Grant;
import io.hsmkit.kms.api.*;
import io.hsmkit.kms.audit.AuditEvents;
import io.hsmkit.kms.audit.AuditTrail;
import io.hsmkit.kms.backing.KeyBacking;
import io.hsmkit.kms.backing.KeyBackings;
import io.hsmkit.kms.backing.HsmKeyBacking;
import io.hsmkit.kms.backing.token.TokenKeyBacking;
import io.hsmkit.kms.blob.CiphertextBlob;
import io.hsmkit.kms.store.Database;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Pattern;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;

/**
 * The KMS service: one method per AWS KMS operation, each taking the {@link Caller} and the
 * operation's request record and returning its response record (or nothing where AWS returns an
 * empty body). Errors are {@link KmsException}s carrying AWS's error names.
 *
 * <p>Contract of every operation, in this order: the key is resolved (key id, key ARN, alias name
 * or alias ARN where AWS accepts each; {@code NotFoundException} otherwise); the caller is
 * authorised by {@link AccessControl#check} with the key's policy and grants; the key state is
 * checked as AWS's key-state table says ({@code DisabledException} for a disabled key in a crypto
 * call, {@code KMSInvalidStateException} for the others); then the operation acts, state changes in
 * one database transaction. Every call, successful or not, leaves one audit record
 * ({@link #auditTrail()}).
 *
 * <p>Key material stays in the token: a symmetric key's backing keys are AES-256 token objects and
 * ciphertexts are made by the HsmKit provider's AES-GCM in the token, in the {@link CiphertextBlob}
 * format. Crash safety: a token object is only ever made after a database row naming its label is
 * committed, and destroyed before the row goes, so {@link #reconcile()} at start-up can finish or
 * undo whatever a killed process left half done.
 *
 * <p>Thread-safe; several instances (on several nodes) may share one PostgreSQL database.
 */
public final class KmsService implements AutoCloseable {
  /** The operations that answer without responseElements in the audit trail (CloudTrail's crypto calls). */
  private static final Set<String> CRYPTO_OPS = Set.of("Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey",
      "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateRandom",
      "Sign", "Verify", "GenerateMac", "VerifyMac", "GetPublicKey");
  private static final Set<String> GRANT_OPERATIONS = Set.of("Decrypt", "Encrypt", "GenerateDataKey",
      "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo", "Sign", "Verify", "GetPublicKey", "CreateGrant",
      "RetireGrant", "DescribeKey", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac",
      "DeriveSharedSecret");
  private static final Pattern ALIAS = Pattern.compile("alias/[a-zA-Z0-9/_-]{1,250}");
  private static final Pattern UUID_TEXT = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  private static final int MAX_PLAINTEXT = 4096;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Database db;
  private final KeyBackings backings;
  private final AccessControl access;
  private final Clock clock;
  private final String region;
  private final String accountId;
  private final AuditTrail audit;
  private final SecureRandom random = new SecureRandom();
  private volatile ScheduledExecutorService scheduler;

  /**
   * A service over {@code db} (migrated), the key stores of {@code backings}, deciding access with
   * {@code access}, telling time by {@code clock} (deletion windows, rotation, the audit trail),
   * in {@code region} for the account {@code accountId} (both appear in every ARN).
   */
  public KmsService(Database db, KeyBackings backings, AccessControl access, Clock clock, String region, String accountId) {
    this(db, backings, access, clock, region, accountId, new AuditTrail(db));
  }

  /**
   * As above, writing its audit records to {@code audit} (a trail on the same database; the server
   * gives one sealed in the HSM, {@link io.hsmkit.kms.audit.AuditSeal}).
   */
  public KmsService(Database db, KeyBackings backings, AccessControl access, Clock clock, String region, String accountId, AuditTrail audit) {
    this.db = Objects.requireNonNull(db, "db");
    this.backings = Objects.requireNonNull(backings, "backings");
    this.access = Objects.requireNonNull(access, "access");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.region = Objects.requireNonNull(region, "region");
    this.accountId = Objects.requireNonNull(accountId, "accountId");
    this.audit = Objects.requireNonNull(audit, "audit");
  }

  public AuditTrail auditTrail() {
    return audit;
  }

  public String region() {
    return region;
  }

  public String accountId() {
    return accountId;
  }

  /** The ARN prefix of every key of this service: {@code arn:aws:kms:<region>:<account>:key/}. */
  public String keyArnPrefix() {
    return "arn:aws:kms:" + region + ":" + accountId + ":key/";
  }

  /** AWS's default key policy: the account's root (and so its IAM policies) may do everything. */
  public String defaultKeyPolicy() {
    return "{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {\n"
        + "    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n"
        + "    \"Principal\" : {\n      \"AWS\" : \"arn:aws:iam::" + accountId + ":root\"\n    },\n"
        + "    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  } ]\n}";
  }

  // ---------------------------------------------------------------- the call frame and audit

  /** What one call found out, for its audit record. */
  private static final class Ctx {
    final List<AuditEvents.Resource> resources = new ArrayList<>();

    void key(KeyRow k) {
      if (k != null && resources.stream().noneMatch(r -> r.arn().equals(k.arn()))) {
        resources.add(new AuditEvents.Resource(k.arn()));
      }
    }
  }

  private <T> T call(Caller caller, String op, Object request, Function<Ctx, T> body) {
    Objects.requireNonNull(caller, "caller");
    Ctx ctx = new Ctx();
    T result;
    try {
      if (request == null) {
        throw new KmsException(KmsError.VALIDATION, "the " + op + " request is missing");
      }
      result = body.apply(ctx);
    } catch (KmsException e) {
      record(caller, op, request, null, e.error().awsName(), e.getMessage(), ctx);
      throw e;
    } catch (RuntimeException e) {
      KmsException k = new KmsException(KmsError.KMS_INTERNAL, op + " failed inside the service (" + e.getClass().getSimpleName() + ")", e);
      record(caller, op, request, null, k.error().awsName(), k.getMessage(), ctx);
      throw k;
    }
    record(caller, op, request, CRYPTO_OPS.contains(op) ? null : result, null, null, ctx);
    return result;
  }

  private void record(Caller caller, String op, Object request, Object response, String errorCode, String errorMessage, Ctx ctx) {
    audit.append(AuditEvents.event(clock.instant(), region, caller, op, request, response, errorCode, errorMessage, ctx.resources, accountId,
        REQUEST_ID.get()));
  }

  private static final ThreadLocal<String> REQUEST_ID = new ThreadLocal<>();

  /**
   * Runs {@code work} (calls of this service) on this thread with {@code requestId} as the audit
   * records' {@code requestID}, so that the trail shows the {@code x-amzn-RequestId} the client got.
   * The endpoint plugs it in as {@code ServiceOperations.of(kms).withRequestScope(KmsService::withRequestId)}.
   */
  public static <T> T withRequestId(String requestId, java.util.function.Supplier<T> work) {
    String before = REQUEST_ID.get();
    REQUEST_ID.set(requestId);
    try {
      return work.get();
    } finally {
      if (before == null) {
        REQUEST_ID.remove();
      } else {
        REQUEST_ID.set(before);
      }
    }
  }

  /**
   * The request id {@link #withRequestId} set on this thread, or null: the one scope that every
   * audit record of a request (this service's, and the custom key store operations') takes it from.
   */
  public static String currentRequestId() {
    return REQUEST_ID.get();
  }

  private void authorize(Caller caller, String action, KeyRow k, List<Grant> grants, Map<String, String> context, List<String> grantTokens) {
    access.check(new AccessRequest(caller, action, k == null ? null : k.arn(), k == null ? null : k.policyJson(), grants, context, grantTokens));
  }

  /**
   * A management call's authorization with the arguments a quorum approval must name
   * ({@link AccessRequest#approvalParameters()}): the quorum-guarded calls pass theirs here.
   */
  private KeyRow resolveAuthorized(Connection c, Caller caller, String action, String keyId, Ctx ctx, Map<String, String> approvalParameters)
      throws SQLException {
    KeyRow k = resolve(c, keyId, false, ctx);
    access.check(new AccessRequest(caller, action, k.arn(), k.policyJson(), grants(c, k.keyId()), Map.of(), List.of(), approvalParameters));
    return k;
  }

  /** Hex SHA-256 of {@code bytes}: how an approval names a document or key material without carrying it. */
  static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /**
   * The key a management call acts on, with the caller's right to {@code action} checked (no
   * encryption context, no grant tokens: AWS takes neither for these calls).
   */
  private KeyRow resolveAuthorized(Connection c, Caller caller, String action, String keyId, Ctx ctx) throws SQLException {
    KeyRow k = resolve(c, keyId, false, ctx);
    authorize(caller, action, k, grants(c, k.keyId()), Map.of(), List.of());
    return k;
  }

  /**
   * The key a crypto call uses: resolved (aliases too), {@code action} authorized, then Enabled and
   * of {@code usage}; in this order, so a caller without the right learns nothing of the key's state.
   */
  private KeyRow usableKey(Caller caller, String action, String keyId, Map<String, String> context, List<String> grantTokens, String usage, Ctx ctx) {
    KeyView v = view(keyId, true, ctx);
    authorize(caller, action, v.key, v.grants, context, grantTokens);
    usable(v.key, usage);
    return v.key;
  }

  // ---------------------------------------------------------------- key lifecycle

  public CreateKeyResponse createKey(Caller caller, CreateKeyRequest r) {
    return call(caller, "CreateKey", r, ctx -> {
      if (r.keySpec() != null && r.customerMasterKeySpec() != null) {
        throw validation("specify either KeySpec or CustomerMasterKeySpec, not both");
      }
      KeySpec spec = KeySpec.parse(r.keySpec() != null ? r.keySpec() : r.customerMasterKeySpec() != null ? r.customerMasterKeySpec() : "SYMMETRIC_DEFAULT");
      String usage = r.keyUsage() == null ? spec.defaultUsage() : r.keyUsage();
      if (!Set.of("ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT").contains(usage)) {
        throw validation("KeyUsage " + usage + " is not one of ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC, KEY_AGREEMENT");
      }
      if (!spec.usages().contains(usage)) {
        throw validation("KeyUsage " + usage + " is not valid for KeySpec " + spec + " (valid: " + new java.util.TreeSet<>(spec.usages()) + ")");
      }
      String origin = r.origin() == null ? "AWS_KMS" : r.origin();
      if (!Set.of("AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE").contains(origin)) {
        throw validation("Origin " + origin + " is not one of AWS_KMS, EXTERNAL, AWS_CLOUDHSM, EXTERNAL_KEY_STORE");
      }
      if ("EXTERNAL_KEY_STORE".equals(origin)) {
        throw new KmsException(KmsError.UNSUPPORTED_OPERATION, "external key stores are not supported by this service");
      }
      String cks = r.customKeyStoreId();
      if ("AWS_CLOUDHSM".equals(origin) != (cks != null)) {
        throw validation("a key in a custom key store needs both Origin AWS_CLOUDHSM and a CustomKeyStoreId");
      }
      if ((cks != null || "EXTERNAL".equals(origin)) && spec != KeySpec.SYMMETRIC_DEFAULT) {
        throw new KmsException(KmsError.UNSUPPORTED_OPERATION, "keys in a custom key store and keys for imported material must be SYMMETRIC_DEFAULT, not " + spec);
      }
      if (Boolean.TRUE.equals(r.multiRegion())) {
        throw new KmsException(KmsError.UNSUPPORTED_OPERATION, "multi-Region keys are not supported by this service");
      }
      String description = r.description() == null ? "" : r.description();
      if (description.length() > 8192) {
        throw validation("Description is longer than 8192 characters");
      }
      String policy = r.policy() == null ? defaultKeyPolicy() : checkPolicy(r.policy());
      Map<String, String> tags = checkTags(r.tags());
      authorize(caller, "kms:CreateKey", null, List.of(), Map.of(), List.of());
      KeyBacking backing = null;
      if (!"EXTERNAL".equals(origin)) {
        try {
          backing = backings.forStore(cks);
        } catch (KmsException e) {
          // AWS: CreateKey in a custom key store that is not connected.
          throw e.error() == KmsError.KEY_UNAVAILABLE ? new KmsException(KmsError.CUSTOM_KEY_STORE_INVALID_STATE, e.getMessage(), e) : e;
        }
        if (spec == KeySpec.ECC_SECG_P256K1) {
          // SoftHSM2 can make secp256k1 keys, but the provider's curve table and JDK 17 (whose
          // SunEC dropped the curve) cannot read or verify them: refused rather than half served.
          throw new KmsException(KmsError.UNSUPPORTED_OPERATION, "KeySpec ECC_SECG_P256K1 is not supported by this key store");
        }
      }
      String keyId = UUID.randomUUID().toString();
      long now = clock.millis();
      KeyRow k = new KeyRow(keyId, keyArnPrefix() + keyId, accountId, description, usage, spec, origin, cks, KeyRow.CREATING,
          now, null, null, 1, policy, false, null, null);
      ctx.key(k);
      // Step 1: the row (internal state Creating) and the label, committed before the token acts.
      db.inTransaction(c -> {
        insertKey(c, k);
        if (!"EXTERNAL".equals(origin)) {
          insertVersion(c, keyId, 1, k.label(1), "Creating", now);
        }
        for (Map.Entry<String, String> t : tags.entrySet()) {
          putTag(c, keyId, t.getKey(), t.getValue());
        }
        return null;
      });
      // Step 2: the token object. Step 3: the key becomes visible.
      if (backing != null) {
        try {
          createBackingKey(backing, k, k.label(1));
        } catch (RuntimeException e) {
          backing.destroy(k.label(1));
          db.inTransaction(c -> deleteKeyRows(c, keyId));
          throw e;
        }
      }
      String state = "EXTERNAL".equals(origin) ? KeyRow.PENDING_IMPORT : KeyRow.ENABLED;
      db.inTransaction(c -> {
        exec(c, "UPDATE kms_key SET key_state = ? WHERE key_id = ?", state, keyId);
        exec(c, "UPDATE kms_key_version SET version_status = 'Active' WHERE key_id = ?", keyId);
        return null;
      });
      return new CreateKeyResponse(metadata(withState(k, state)));
    });
  }

  private void createBackingKey(KeyBacking backing, KeyRow k, String label) {
    KeySpec s = k.keySpec();
    if (s.isSymmetric()) {
      backing.createAes256(label);
      return;
    }
    if (!(backing instanceof HsmKeyBacking t)) {
      throw new KmsException(KmsError.UNSUPPORTED_OPERATION, "this key store makes SYMMETRIC_DEFAULT keys only");
    }
    switch (s) {
      case RSA_2048 -> t.createRsa(label, 2048, "SIGN_VERIFY".equals(k.keyUsage()));
      case RSA_3072 -> t.createRsa(label, 3072, "SIGN_VERIFY".equals(k.keyUsage()));
      case RSA_4096 -> t.createRsa(label, 4096, "SIGN_VERIFY".equals(k.keyUsage()));
      case ECC_NIST_P256 -> t.createEc(label, io.hsmkit.kms.backing.token.TokenKeyBacking.P256);
      case ECC_NIST_P384 -> t.createEc(label, io.hsmkit.kms.backing.token.TokenKeyBacking.P384);
      case ECC_NIST_P521 -> t.createEc(label, io.hsmkit.kms.backing.token.TokenKeyBacking.P521);
      case ECC_SECG_P256K1 -> t.createEc(label, io.hsmkit.kms.backing.token.TokenKeyBacking.SECP256K1);
      case HMAC_224 -> t.createHmac(label, 28);
      case HMAC_256 -> t.createHmac(label, 32);
      case HMAC_384 -> t.createHmac(label, 48);
      case HMAC_512 -> t.createHmac(label, 64);
      default -> throw new IllegalStateException("unhandled key spec " + s);
    }
  }

  public DescribeKeyResponse describeKey(Caller caller, DescribeKeyRequest r) {
    return call(caller, "DescribeKey", r, ctx -> {
      KeyView v = view(r.keyId(), true, ctx);
      authorize(caller, "kms:DescribeKey", v.key, v.grants, Map.of(), r.grantTokens());
      return new DescribeKeyResponse(metadata(v.key));
    });
  }

  public ListKeysResponse listKeys(Caller caller, ListKeysRequest r) {
    return call(caller, "ListKeys", r, ctx -> {
      int limit = limit(r.limit(), 1000);
      String after = r.marker() == null ? "" : unmarker(r.marker());
      authorize(caller, "kms:ListKeys", null, List.of(), Map.of(), List.of());
      return db.inTransaction(c -> {
        try (PreparedStatement st = c.prepareStatement("SELECT key_id, key_arn FROM kms_key WHERE key_id > ? AND key_state NOT IN ('Creating', 'Deleting') ORDER BY key_id")) {
          st.setString(1, after);
          st.setMaxRows(limit + 1);
          Page<KeyListEntry> p = page(st, limit, rs -> new KeyListEntry(rs.getString(1), rs.getString(2)));
          return new ListKeysResponse(p.items(), p.nextMarker(KeyListEntry::keyId), p.more());
        }
      });
    });
  }

  public void enableKey(Caller caller, EnableKeyRequest r) {
    setEnabled(caller, "EnableKey", r == null ? null : r.keyId(), r, KeyRow.ENABLED);
  }

  public void disableKey(Caller caller, DisableKeyRequest r) {
    setEnabled(caller, "DisableKey", r == null ? null : r.keyId(), r, KeyRow.DISABLED);
  }

  private void setEnabled(Caller caller, String op, String keyId, Object r, String target) {
    call(caller, op, r, ctx -> db.inTransaction(c -> {
      KeyRow k = resolveAuthorized(c, caller, "kms:" + op, keyId, ctx);
      String s = effectiveState(k);
      if (!KeyRow.ENABLED.equals(s) && !KeyRow.DISABLED.equals(s)) {
        throw invalidState(k, s);
      }
      exec(c, "UPDATE kms_key SET key_state = ? WHERE key_id = ?", target, k.keyId());
      return null;
    }));
  }

  public ScheduleKeyDeletionResponse scheduleKeyDeletion(Caller caller, ScheduleKeyDeletionRequest r) {
    return call(caller, "ScheduleKeyDeletion", r, ctx -> {
      int days = r.pendingWindowInDays() == null ? 30 : r.pendingWindowInDays();
      if (days < 7 || days > 30) {
        throw validation("PendingWindowInDays must be between 7 and 30 (inclusive), not " + days);
      }
      return db.inTransaction(c -> {
        KeyRow k = resolveAuthorized(c, caller, "kms:ScheduleKeyDeletion", r.keyId(), ctx, Map.of("days", Integer.toString(days)));
        if (KeyRow.PENDING_DELETION.equals(k.state())) {
          throw invalidState(k, k.state());
        }
        Instant when = clock.instant().plus(Duration.ofDays(days));
        try (PreparedStatement st = c.prepareStatement("UPDATE kms_key SET key_state = 'PendingDeletion', deletion_ms = ?, pending_window_days = ? WHERE key_id = ?")) {
          st.setLong(1, when.toEpochMilli());
          st.setInt(2, days);
          st.setString(3, k.keyId());
          st.executeUpdate();
        }
        return new ScheduleKeyDeletionResponse(k.arn(), Instant.ofEpochMilli(when.toEpochMilli()), KeyRow.PENDING_DELETION, days);
      });
    });
  }

  public CancelKeyDeletionResponse cancelKeyDeletion(Caller caller, CancelKeyDeletionRequest r) {
    return call(caller, "CancelKeyDeletion", r, ctx -> db.inTransaction(c -> {
      KeyRow k = resolveAuthorized(c, caller, "kms:CancelKeyDeletion", r.keyId(), ctx);
      if (!KeyRow.PENDING_DELETION.equals(k.state())) {
        throw invalidState(k, effectiveState(k));
      }
      exec(c, "UPDATE kms_key SET key_state = 'Disabled', deletion_ms = NULL, pending_window_days = NULL WHERE key_id = ?", k.keyId());
      return new CancelKeyDeletionResponse(k.arn());
    }));
  }

  public void updateKeyDescription(Caller caller, UpdateKeyDescriptionRequest r) {
    call(caller, "UpdateKeyDescription", r, ctx -> {
      if (r.description() == null || r.description().length() > 8192) {
        throw validation("Description is required and at most 8192 characters");
      }
      return db.inTransaction(c -> {
        KeyRow k = resolveAuthorized(c, caller, "kms:UpdateKeyDescription", r.keyId(), ctx);
        refusePendingDeletion(k);
        exec(c, "UPDATE kms_key SET key_description = ? WHERE key_id = ?", r.description(), k.keyId());
        return null;
      });
    });
  }

  public void tagResource(Caller caller, TagResourceRequest r) {
    call(caller, "TagResource", r, ctx -> {
      Map<String, String> tags = checkTags(r.tags());
      return db.inTransaction(c -> {
        KeyRow k = resolveAuthorized(c, caller, "kms:TagResource", r.keyId(), ctx);
        refusePendingDeletion(k);
        for (Map.Entry<String, String> t : tags.entrySet()) {
          exec(c, "DELETE FROM kms_tag WHERE key_id = ? AND tag_key = ?", k.keyId(), t.getKey());
          putTag(c, k.keyId(), t.getKey(), t.getValue());
        }
        if (count(c, "SELECT COUNT(*) FROM kms_tag WHERE key_id = ?", k.keyId()) > 50) {
          throw new KmsException(KmsError.LIMIT_EXCEEDED, "a key has at most 50 tags");
        }
        return null;
      });
    });
  }

  public void untagResource(Caller caller, UntagResourceRequest r) {
    call(caller, "UntagResource", r, ctx -> {
      if (r.tagKeys() == null || r.tagKeys().isEmpty()) {
        throw validation("TagKeys is required");
      }
      return db.inTransaction(c -> {
        KeyRow k = resolveAuthorized(c, caller, "kms:UntagResource", r.keyId(), ctx);
        refusePendingDeletion(k);
        for (String t : r.tagKeys()) {
          exec(c, "DELETE FROM kms_tag WHERE key_id = ? AND tag_key = ?", k.keyId(), t);
        }
        return null;
      });
    });
  }

  public ListResourceTagsResponse listResourceTags(Caller caller, ListResourceTagsRequest r) {
    return call(caller, "ListResourceTags", r, ctx -> {
      int limit = limit(r.limit(), 50);
      String after = r.marker() == null ? "" : unmarker(r.marker());
      return db.inTransaction(c -> {
        KeyRow k = resolveAuthorized(c, caller, "kms:ListResourceTags", r.keyId(), ctx);
        try (PreparedStatement st = c.prepareStatement("SELECT tag_key, tag_value FROM kms_tag WHERE key_id = ? AND tag_key > ? ORDER BY tag_key")) {
          st.setString(1, k.keyId());
          st.setString(2, after);
          Page<Tag> p = page(st, limit, rs -> new Tag(rs.getString(1), rs.getString(2)));
          return new ListResourceTagsResponse(p.items(), p.nextMarker(Tag::tagKey), p.more());
        }
      });
    });
  }

  // ---------------------------------------------------------------- policies

  public void putKeyPolicy(Caller caller, PutKeyPolicyRequest r) {
    call(caller, "PutKeyPolicy", r, ctx -> {
      String policy = checkPolicy(r.policy());
      return db.inTransaction(c -> {
        KeyRow k = resolve(c, r.keyId(), false, ctx);
        checkPolicyName(r.policyName());
        // The approval names the exact document (its UTF-8 bytes' SHA-256), so it cannot install another one.
        access.check(new AccessRequest(caller, "kms:PutKeyPolicy", k.arn(), k.policyJson(), grants(c, k.keyId()), Map.of(), List.of(),
            Map.of("policy-name", r.policyName() == null ? "default" : r.policyName(),
                "policy-sha256", sha256Hex(policy.getBytes(StandardCharsets.UTF_8)))));
        exec(c, "UPDATE kms_key SET policy_json = ? WHERE key_id = ?", policy, k.keyId());
        return null;
      });
    });
  }

  public GetKeyPolicyResponse getKeyPolicy(Caller caller, GetKeyPolicyRequest r) {
    return call(caller, "GetKeyPolicy", r, ctx -> db.inTransaction(c -> {
      KeyRow k = resolve(c, r.keyId(), false, ctx);
      checkPolicyName(r.policyName());
      authorize(caller, "kms:GetKeyPolicy", k, grants(c, k.keyId()), Map.of(), List.of());
      return new GetKeyPolicyResponse(k.policyJson(), "default");
    }));
  }

  public ListKeyPoliciesResponse listKeyPolicies(Caller caller, ListKeyPoliciesRequest r) {
    return call(caller, "ListKeyPolicies", r, ctx -> {
      limit(r.limit(), 1000);
      return db.inTransaction(c -> {
        KeyRow k = resolveAuthorized(c, caller, "kms:ListKeyPolicies", r.keyId(), ctx);
        return new ListKeyPoliciesResponse(List.of("default"), null, false);
      });
    });
  }

  private static void checkPolicyName(String name) {
    // AWS: a KMS key has one policy, named "default"; GetKeyPolicy of another name is NotFound.
    if (name != null && !"default".equals(name)) {
      throw new KmsException(KmsError.NOT_FOUND, "Policy " + name + " does not exist (a key's only policy is named default)");
    }
  }

  private static String checkPolicy(String policy) {
    if (policy == null || policy.isEmpty() || policy.length() > 32768) {
      throw new KmsException(KmsError.MALFORMED_POLICY_DOCUMENT, "the key policy must be 1 to 32768 characters of JSON");
    }
    try {
      JsonNode n = JSON.readTree(policy);
      if (n == null || !n.isObject() || !n.has("Statement")) {
        throw new KmsException(KmsError.MALFORMED_POLICY_DOCUMENT, "the key policy is not a JSON object with a Statement");
      }
    } catch (JsonProcessingException e) {
      throw new KmsException(KmsError.MALFORMED_POLICY_DOCUMENT, "the key policy is not valid JSON (line " + e.getLocation().getLineNr() + ")");
    }
    return policy;
  }

  // ---------------------------------------------------------------- grants

  public CreateGrantResponse createGrant(Caller caller, CreateGrantRequest r) {
    return call(caller, "CreateGrant", r, ctx -> {
      if (r.granteePrincipal() == null || r.granteePrincipal().isBlank()) {
        throw validation("GranteePrincipal is required");
      }
      if (r.operations() == null || r.operations().isEmpty()) {
        throw validation("Operations is required");
      }
      for (String op : r.operations()) {
        if (!GRANT_OPERATIONS.contains(op)) {
          throw validation("Operations: " + op + " is not a grant operation");
        }
      }
      if (r.constraints() != null && r.constraints().encryptionContextEquals() != null && r.constraints().encryptionContextSubset() != null) {
        throw validation("a grant has either EncryptionContextEquals or EncryptionContextSubset, not both");
      }
      return db.inTransaction(c -> {
        KeyRow k = resolve(c, r.keyId(), false, ctx);
        List<Grant> gs = grants(c, k.keyId());
        authorize(caller, "kms:CreateGrant", k, gs, Map.of(), r.grantTokens());
        refusePendingDeletion(k);
        // AWS: a grant with the same name and parameters returns the existing grant id.
        if (r.name() != null) {
          for (Grant g : gs) {
            if (r.name().equals(g.name()) && g.granteePrincipal().equals(r.granteePrincipal())
                && g.operations().equals(Set.copyOf(r.operations())) && Objects.equals(g.retiringPrincipal(), r.retiringPrincipal())) {
              return new CreateGrantResponse(tokenOf(c, g.grantId()), g.grantId());
            }
          }
        }
        byte[] idBytes = new byte[32];
        random.nextBytes(idBytes);
        String grantId = HexFormat.of().formatHex(idBytes);
        byte[] tok = new byte[48];
        random.nextBytes(tok);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(tok);
        try (PreparedStatement st = c.prepareStatement("INSERT INTO kms_grant (grant_id, key_id, grant_name, grantee_principal, retiring_principal, "
            + "issuing_account, grant_operations, constraints_json, grant_token, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
          st.setString(1, grantId);
          st.setString(2, k.keyId());
          st.setString(3, r.name());
          st.setString(4, r.granteePrincipal());
          st.setString(5, r.retiringPrincipal());
          st.setString(6, "arn:aws:iam::" + caller.accountId() + ":root");
          st.setString(7, String.join(",", new LinkedHashSet<>(r.operations())));
          st.setString(8, r.constraints() == null ? null : json(r.constraints()));
          st.setString(9, token);
          st.setLong(10, clock.millis());
          st.executeUpdate();
        }
        return new CreateGrantResponse(token, grantId);
      });
    });
  }

  public ListGrantsResponse listGrants(Caller caller, ListGrantsRequest r) {
    return call(caller, "ListGrants", r, ctx -> {
      int limit = limit(r.limit(), 100);
      String after = r.marker() == null ? "" : unmarker(r.marker());
      return db.inTransaction(c -> {
        KeyRow k = resolve(c, r.keyId(), false, ctx);
        List<Grant> gs = grants(c, k.keyId());
        authorize(caller, "kms:ListGrants", k, gs, Map.of(), List.of());
        List<GrantListEntry> out = new ArrayList<>();
        boolean more = false;
        for (Grant g : gs) {
          if (g.grantId().compareTo(after) <= 0 || (r.grantId() != null && !r.grantId().equals(g.grantId()))
              || (r.granteePrincipal() != null && !r.granteePrincipal().equals(g.granteePrincipal()))) {
            continue;
          }
          if (out.size() == limit) {
            more = true;
            break;
          }
          out.add(entry(k.keyId(), g));
        }
        return new ListGrantsResponse(out, more ? marker(out.get(out.size() - 1).grantId()) : null, more);
      });
    });
  }

  public ListGrantsResponse listRetirableGrants(Caller caller, ListRetirableGrantsRequest r) {
    return call(caller, "ListRetirableGrants", r, ctx -> {
      int limit = limit(r.limit(), 100);
      String after = r.marker() == null ? "" : unmarker(r.marker());
      if (r.retiringPrincipal() == null) {
        throw validation("RetiringPrincipal is required");
      }
      authorize(caller, "kms:ListRetirableGrants", null, List.of(), Map.of(), List.of());
      return db.inTransaction(c -> {
        try (PreparedStatement st = c.prepareStatement("SELECT g.*, k.key_arn FROM kms_grant g JOIN kms_key k ON k.key_id = g.key_id "
            + "WHERE g.retiring_principal = ? AND g.grant_id > ? ORDER BY g.grant_id")) {
          st.setString(1, r.retiringPrincipal());
          st.setString(2, after);
          Page<GrantListEntry> p = page(st, limit, rs -> entry(rs.getString("key_id"), grant(rs, rs.getString("key_arn"))));
          return new ListGrantsResponse(p.items(), p.nextMarker(GrantListEntry::grantId), p.more());
        }
      });
    });
  }

  /**
   * RetireGrant: by grant token, or by key and grant id. The retiring principal and the grantee of
   * a grant that includes RetireGrant may retire it without any key policy (AWS's rule); anyone
   * else needs kms:RetireGrant from {@link AccessControl}.
   */
  public void retireGrant(Caller caller, RetireGrantRequest r) {
    call(caller, "RetireGrant", r, ctx -> db.inTransaction(c -> {
      String grantId;
      KeyRow k;
      if (r.grantToken() != null) {
        grantId = one(c, "SELECT grant_id FROM kms_grant WHERE grant_token = ?", r.grantToken());
        if (grantId == null) {
          throw new KmsException(KmsError.INVALID_GRANT_TOKEN, "the grant token is not valid");
        }
        k = resolve(c, one(c, "SELECT key_id FROM kms_grant WHERE grant_id = ?", grantId), false, ctx);
      } else {
        if (r.keyId() == null || r.grantId() == null) {
          throw validation("RetireGrant needs a GrantToken, or both KeyId and GrantId");
        }
        k = resolve(c, r.keyId(), false, ctx);
        grantId = r.grantId();
      }
      List<Grant> gs = grants(c, k.keyId());
      Grant g = gs.stream().filter(x -> x.grantId().equals(grantId)).findFirst()
          .orElseThrow(() -> new KmsException(KmsError.NOT_FOUND, "Grant ID " + grantId + " not found on key " + k.arn()));
      boolean own = caller.principalArn().equals(g.retiringPrincipal())
          || (caller.principalArn().equals(g.granteePrincipal()) && g.operations().contains("RetireGrant"));
      if (!own) {
        authorize(caller, "kms:RetireGrant", k, gs, Map.of(), List.of());
      }
      exec(c, "DELETE FROM kms_grant WHERE grant_id = ?", grantId);
      return null;
    }));
  }

  public void revokeGrant(Caller caller, RevokeGrantRequest r) {
    call(caller, "RevokeGrant", r, ctx -> db.inTransaction(c -> {
      KeyRow k = resolve(c, r.keyId(), false, ctx);
      List<Grant> gs = grants(c, k.keyId());
      authorize(caller, "kms:RevokeGrant", k, gs, Map.of(), List.of());
      if (r.grantId() == null || gs.stream().noneMatch(g -> g.grantId().equals(r.grantId()))) {
        throw new KmsException(KmsError.INVALID_GRANT_ID, "grant " + r.grantId() + " is not a grant of key " + k.arn());
      }
      exec(c, "DELETE FROM kms_grant WHERE grant_id = ?", r.grantId());
      return null;
    }));
  }

  private static GrantListEntry entry(String keyId, Grant g) {
    GrantConstraints gc = g.constraints() == null ? null
        : new GrantConstraints(g.constraints().encryptionContextSubset(), g.constraints().encryptionContextEquals());
    return new GrantListEntry(keyId, g.grantId(), g.name(), g.creationDate(), g.granteePrincipal(), g.retiringPrincipal(),
        g.issuingAccount(), List.copyOf(new java.util.TreeSet<>(g.operations())), gc);
  }

  // ---------------------------------------------------------------- symmetric crypto

  public EncryptResponse encrypt(Caller caller, EncryptRequest r) {
    return call(caller, "Encrypt", r, ctx -> {
      byte[] pt = r.plaintext();
      if (pt == null || pt.length < 1 || pt.length > MAX_PLAINTEXT) {
        throw validation("Plaintext must be 1 to 4096 bytes");
      }
      KeyRow key = usableKey(caller, "kms:Encrypt", r.keyId(), r.encryptionContext(), r.grantTokens(), "ENCRYPT_DECRYPT", ctx);
      if (key.keySpec().isRsa()) {
        return rsaEncrypt(key, r);
      }
      String alg = symmetricAlgorithm(key, r.encryptionAlgorithm());
      return new EncryptResponse(seal(key, pt, r.encryptionContext()), key.arn(), alg);
    });
  }

  public DecryptResponse decrypt(Caller caller, DecryptRequest r) {
    return call(caller, "Decrypt", r, ctx -> {
      if (r.keyId() != null) {
        KeyView named = view(r.keyId(), true, ctx);
        if (named.key.keySpec().isRsa()) {
          return rsaDecrypt(caller, named, r);
        }
      }
      CiphertextBlob blob = CiphertextBlob.parse(r.ciphertextBlob());
      KeyView v = blobKey(blob, r.keyId(), ctx);
      authorize(caller, "kms:Decrypt", v.key, v.grants, r.encryptionContext(), r.grantTokens());
      usable(v.key, "ENCRYPT_DECRYPT");
      String alg = symmetricAlgorithm(v.key, r.encryptionAlgorithm());
      return new DecryptResponse(v.key.arn(), open(v.key, blob, r.encryptionContext()), alg);
    });
  }

  public ReEncryptResponse reEncrypt(Caller caller, ReEncryptRequest r) {
    return call(caller, "ReEncrypt", r, ctx -> {
      CiphertextBlob blob = CiphertextBlob.parse(r.ciphertextBlob());
      KeyView src = blobKey(blob, r.sourceKeyId(), ctx);
      KeyView dst = view(r.destinationKeyId(), true, ctx);
      authorize(caller, "kms:ReEncryptFrom", src.key, src.grants, r.sourceEncryptionContext(), r.grantTokens());
      authorize(caller, "kms:ReEncryptTo", dst.key, dst.grants, r.destinationEncryptionContext(), r.grantTokens());
      usable(src.key, "ENCRYPT_DECRYPT");
      usable(dst.key, "ENCRYPT_DECRYPT");
      String sAlg = symmetricAlgorithm(src.key, r.sourceEncryptionAlgorithm());
      String dAlg = symmetricAlgorithm(dst.key, r.destinationEncryptionAlgorithm());
      byte[] pt = open(src.key, blob, r.sourceEncryptionContext());
      try {
        return new ReEncryptResponse(seal(dst.key, pt, r.destinationEncryptionContext()), src.key.arn(), dst.key.arn(), sAlg, dAlg);
      } finally {
        Arrays.fill(pt, (byte) 0);
      }
    });
  }

  public GenerateDataKeyResponse generateDataKey(Caller caller, GenerateDataKeyRequest r) {
    return call(caller, "GenerateDataKey", r, ctx -> {
      int n = dataKeyBytes(r.keySpec(), r.numberOfBytes());
      KeyRow key = usableKey(caller, "kms:GenerateDataKey", r.keyId(), r.encryptionContext(), r.grantTokens(), "ENCRYPT_DECRYPT", ctx);
      symmetricAlgorithm(key, null);
      byte[] dk = randomBytes(key.customKeyStoreId(), n);
      return new GenerateDataKeyResponse(seal(key, dk, r.encryptionContext()), dk, key.arn());
    });
  }

  public GenerateDataKeyWithoutPlaintextResponse generateDataKeyWithoutPlaintext(Caller caller, GenerateDataKeyWithoutPlaintextRequest r) {
    return call(caller, "GenerateDataKeyWithoutPlaintext", r, ctx -> {
      int n = dataKeyBytes(r.keySpec(), r.numberOfBytes());
      KeyRow key = usableKey(caller, "kms:GenerateDataKeyWithoutPlaintext", r.keyId(), r.encryptionContext(), r.grantTokens(), "ENCRYPT_DECRYPT", ctx);
      symmetricAlgorithm(key, null);
      byte[] dk = randomBytes(key.customKeyStoreId(), n);
      try {
        return new GenerateDataKeyWithoutPlaintextResponse(seal(key, dk, r.encryptionContext()), key.arn());
      } finally {
        Arrays.fill(dk, (byte) 0); // the plaintext data key is never returned: wipe it
      }
    });
  }

  public GenerateRandomResponse generateRandom(Caller caller, GenerateRandomRequest r) {
    return call(caller, "GenerateRandom", r, ctx -> {
      if (r.numberOfBytes() == null || r.numberOfBytes() < 1 || r.numberOfBytes() > 1024) {
        throw validation("NumberOfBytes must be between 1 and 1024");
      }
      authorize(caller, "kms:GenerateRandom", null, List.of(), Map.of(), List.of());
      if (r.customKeyStoreId() != null && !backings.isAvailable(r.customKeyStoreId())) {
        backings.forStore(r.customKeyStoreId()); // throws NOT_FOUND for an unknown store
        throw new KmsException(KmsError.CUSTOM_KEY_STORE_INVALID_STATE, "custom key store " + r.customKeyStoreId() + " is not connected");
      }
      return new GenerateRandomResponse(randomBytes(r.customKeyStoreId(), r.numberOfBytes()));
    });
  }

  private EncryptResponse rsaEncrypt(KeyRow k, EncryptRequest r) {
    String alg = rsaAlgorithm(k, r.encryptionAlgorithm(), r.encryptionContext());
    int bits = rsaBits(k.keySpec());
    if (r.plaintext().length > AsymmetricOps.maxRsaPlaintext(bits, alg)) {
      throw validation("Plaintext is longer than " + AsymmetricOps.maxRsaPlaintext(bits, alg) + " bytes, the most " + alg + " takes with " + k.keySpec());
    }
    HsmKeyBacking t = tokenBacking(k);
    Key pub = t.findPublic(k.label(k.currentVersion()));
    if (pub == null) {
      throw new KmsException(KmsError.KMS_INVALID_STATE, "the public key of " + k.arn() + " is missing from the token");
    }
    try {
      return new EncryptResponse(AsymmetricOps.rsaEncrypt(pub, alg, r.plaintext()), k.arn(), alg);
    } catch (GeneralSecurityException e) {
      throw tokenFailure(k, "encrypting", e);
    }
  }

  private DecryptResponse rsaDecrypt(Caller caller, KeyView v, DecryptRequest r) {
    authorize(caller, "kms:Decrypt", v.key, v.grants, r.encryptionContext(), r.grantTokens());
    usable(v.key, "ENCRYPT_DECRYPT");
    String alg = rsaAlgorithm(v.key, r.encryptionAlgorithm(), r.encryptionContext());
    if (r.ciphertextBlob() == null || r.ciphertextBlob().length != rsaBits(v.key.keySpec()) / 8) {
      throw CiphertextBlob.invalid();
    }
    HsmKeyBacking t = tokenBacking(v.key);
    Key priv = backingKey(t, v.key, v.key.currentVersion());
    try {
      return new DecryptResponse(v.key.arn(), AsymmetricOps.rsaDecrypt(t, priv, alg, r.ciphertextBlob()), alg);
    } catch (GeneralSecurityException e) {
      // Every padding or length failure is the same error: no oracle on the decoding.
      throw CiphertextBlob.invalid();
    }
  }

  private static String rsaAlgorithm(KeyRow k, String alg, Map<String, String> context) {
    if (context != null && !context.isEmpty()) {
      throw validation("an encryption context is not supported with asymmetric keys");
    }
    if (alg == null || !k.keySpec().encryptionAlgorithms(k.keyUsage()).contains(alg)) {
      throw new KmsException(KmsError.INVALID_KEY_USAGE, "EncryptionAlgorithm " + alg + " is not valid for key " + k.arn()
          + " (valid: " + k.keySpec().encryptionAlgorithms(k.keyUsage()) + ")");
    }
    return alg;
  }

  private static int rsaBits(KeySpec s) {
    return Integer.parseInt(s.name().substring("RSA_".length()));
  }

  private HsmKeyBacking tokenBacking(KeyRow k) {
    if (backing(k) instanceof HsmKeyBacking t) {
      return t;
    }
    throw new KmsException(KmsError.UNSUPPORTED_OPERATION, "the key store of " + k.arn() + " holds symmetric keys only");
  }

  // ---------------------------------------------------------------- asymmetric and HMAC

  public SignResponse sign(Caller caller, SignRequest r) {
    return call(caller, "Sign", r, ctx -> {
      KeyRow key = usableKey(caller, "kms:Sign", r.keyId(), Map.of(), r.grantTokens(), "SIGN_VERIFY", ctx);
      String alg = signingAlgorithm(key, r.signingAlgorithm());
      byte[] digest = AsymmetricOps.digest(r.messageType(), r.message(), AsymmetricOps.signingHash(alg));
      HsmKeyBacking t = tokenBacking(key);
      try {
        return new SignResponse(key.arn(), AsymmetricOps.sign(t, backingKey(t, key, key.currentVersion()), alg, digest), alg);
      } catch (GeneralSecurityException e) {
        throw tokenFailure(key, "signing", e);
      }
    });
  }

  public VerifyResponse verify(Caller caller, VerifyRequest r) {
    return call(caller, "Verify", r, ctx -> {
      KeyRow key = usableKey(caller, "kms:Verify", r.keyId(), Map.of(), r.grantTokens(), "SIGN_VERIFY", ctx);
      String alg = signingAlgorithm(key, r.signingAlgorithm());
      if (r.signature() == null || r.signature().length == 0 || r.signature().length > 6144) {
        throw validation("Signature must be 1 to 6144 bytes");
      }
      byte[] digest = AsymmetricOps.digest(r.messageType(), r.message(), AsymmetricOps.signingHash(alg));
      HsmKeyBacking t = tokenBacking(key);
      Key pub = t.findPublic(key.label(key.currentVersion()));
      boolean ok;
      try {
        ok = pub != null && AsymmetricOps.verify(t, pub, alg, digest, r.signature());
      } catch (GeneralSecurityException e) {
        throw tokenFailure(key, "verifying", e);
      }
      if (!ok) {
        throw new KmsException(KmsError.KMS_INVALID_SIGNATURE, "the signature is not valid for this message, key and algorithm");
      }
      return new VerifyResponse(key.arn(), true, alg);
    });
  }

  public GetPublicKeyResponse getPublicKey(Caller caller, GetPublicKeyRequest r) {
    return call(caller, "GetPublicKey", r, ctx -> {
      KeyView v = view(r.keyId(), true, ctx);
      authorize(caller, "kms:GetPublicKey", v.key, v.grants, Map.of(), r.grantTokens());
      KeyRow k = v.key;
      if (!k.keySpec().isRsa() && !k.keySpec().isEc()) {
        throw new KmsException(KmsError.UNSUPPORTED_OPERATION, k.arn() + " is " + k.keySpec() + ": it has no public key");
      }
      usable(k, k.keyUsage());
      Key pub = tokenBacking(k).findPublic(k.label(k.currentVersion()));
      if (pub == null) {
        throw new KmsException(KmsError.KMS_INVALID_STATE, "the public key of " + k.arn() + " is missing from the token");
      }
      return new GetPublicKeyResponse(k.arn(), pub.getEncoded(), k.keySpec().name(), k.keySpec().name(), k.keyUsage(),
          nullIfEmpty(k.keySpec().encryptionAlgorithms(k.keyUsage())), nullIfEmpty(k.keySpec().signingAlgorithms(k.keyUsage())));
    });
  }

  public GenerateMacResponse generateMac(Caller caller, GenerateMacRequest r) {
    return call(caller, "GenerateMac", r, ctx -> {
      KeyRow key = usableKey(caller, "kms:GenerateMac", r.keyId(), Map.of(), r.grantTokens(), "GENERATE_VERIFY_MAC", ctx);
      String alg = macAlgorithm(key, r.macAlgorithm());
      checkMessage(r.message());
      return new GenerateMacResponse(mac(key, alg, r.message()), alg, key.arn());
    });
  }

  public VerifyMacResponse verifyMac(Caller caller, VerifyMacRequest r) {
    return call(caller, "VerifyMac", r, ctx -> {
      KeyRow key = usableKey(caller, "kms:VerifyMac", r.keyId(), Map.of(), r.grantTokens(), "GENERATE_VERIFY_MAC", ctx);
      String alg = macAlgorithm(key, r.macAlgorithm());
      checkMessage(r.message());
      if (r.mac() == null || r.mac().length == 0 || r.mac().length > 6144) {
        throw validation("Mac must be 1 to 6144 bytes");
      }
      byte[] expected = mac(key, alg, r.message());
      // Constant-time comparison: the time taken says nothing about how much of the MAC matched.
      if (!java.security.MessageDigest.isEqual(expected, r.mac())) {
        throw new KmsException(KmsError.KMS_INVALID_MAC, "the MAC is not valid for this message, key and algorithm");
      }
      return new VerifyMacResponse(key.arn(), true, alg);
    });
  }

  /** The MAC of {@code message} under the key's current version, on the key's backing. */
  private byte[] mac(KeyRow key, String alg, byte[] message) {
    KeyBacking b = backing(key);
    try {
      return AsymmetricOps.mac(b, backingKey(b, key, key.currentVersion()), alg, message);
    } catch (GeneralSecurityException e) {
      throw tokenFailure(key, "computing a MAC", e);
    }
  }

  public GenerateDataKeyPairResponse generateDataKeyPair(Caller caller, GenerateDataKeyPairRequest r) {
    return call(caller, "GenerateDataKeyPair", r, ctx -> {
      java.security.KeyPair kp = dataKeyPair(r.keyPairSpec());
      KeyRow key = usableKey(caller, "kms:GenerateDataKeyPair", r.keyId(), r.encryptionContext(), r.grantTokens(), "ENCRYPT_DECRYPT", ctx);
      symmetricAlgorithm(key, null);
      byte[] pkcs8 = kp.getPrivate().getEncoded();
      return new GenerateDataKeyPairResponse(seal(key, pkcs8, r.encryptionContext()), pkcs8, kp.getPublic().getEncoded(), key.arn(), r.keyPairSpec());
    });
  }

  public GenerateDataKeyPairWithoutPlaintextResponse generateDataKeyPairWithoutPlaintext(Caller caller, GenerateDataKeyPairWithoutPlaintextRequest r) {
    return call(caller, "GenerateDataKeyPairWithoutPlaintext", r, ctx -> {
      java.security.KeyPair kp = dataKeyPair(r.keyPairSpec());
      KeyRow key = usableKey(caller, "kms:GenerateDataKeyPairWithoutPlaintext", r.keyId(), r.encryptionContext(), r.grantTokens(), "ENCRYPT_DECRYPT", ctx);
      symmetricAlgorithm(key, null);
      byte[] pkcs8 = kp.getPrivate().getEncoded();
      try {
        return new GenerateDataKeyPairWithoutPlaintextResponse(seal(key, pkcs8, r.encryptionContext()), kp.getPublic().getEncoded(), key.arn(), r.keyPairSpec());
      } finally {
        Arrays.fill(pkcs8, (byte) 0);
      }
    });
  }

  /** A data key pair made in software, as AWS does (its private half is returned, so it is not an HSM key). */
  private static java.security.KeyPair dataKeyPair(String spec) {
    if (spec == null) {
      throw validation("KeyPairSpec is required");
    }
    try {
      java.security.KeyPairGenerator g;
      switch (spec) {
        case "RSA_2048", "RSA_3072", "RSA_4096" -> {
          g = java.security.KeyPairGenerator.getInstance("RSA");
          g.initialize(Integer.parseInt(spec.substring(4)));
        }
        case "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521" -> {
          g = java.security.KeyPairGenerator.getInstance("EC");
          g.initialize(new java.security.spec.ECGenParameterSpec("secp" + spec.substring("ECC_NIST_P".length()) + "r1"));
        }
        case "ECC_SECG_P256K1", "SM2" -> throw new KmsException(KmsError.UNSUPPORTED_OPERATION, "KeyPairSpec " + spec + " is not supported by this service (the JDK 17 has no secp256k1)");
        default -> throw validation("KeyPairSpec " + spec + " is not one of RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1, SM2");
      }
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new KmsException(KmsError.KMS_INTERNAL, "cannot make a " + spec + " key pair", e);
    }
  }

  private static String signingAlgorithm(KeyRow k, String alg) {
    if (alg == null) {
      throw validation("SigningAlgorithm is required");
    }
    AsymmetricOps.signingHash(alg);
    if (!k.keySpec().signingAlgorithms(k.keyUsage()).contains(alg)) {
      throw new KmsException(KmsError.INVALID_KEY_USAGE, "SigningAlgorithm " + alg + " is not valid for key " + k.arn()
          + " (valid: " + k.keySpec().signingAlgorithms(k.keyUsage()) + ")");
    }
    return alg;
  }

  private static String macAlgorithm(KeyRow k, String alg) {
    if (alg == null) {
      throw validation("MacAlgorithm is required");
    }
    AsymmetricOps.hmacName(alg);
    if (!k.keySpec().macAlgorithms(k.keyUsage()).contains(alg)) {
      throw new KmsException(KmsError.INVALID_KEY_USAGE, "MacAlgorithm " + alg + " is not valid for key " + k.arn()
          + " (valid: " + k.keySpec().macAlgorithms(k.keyUsage()) + ")");
    }
    return alg;
  }

  private static void checkMessage(byte[] m) {
    if (m == null || m.length < 1 || m.length > 4096) {
      throw validation("Message must be 1 to 4096 bytes");
    }
  }

  private static int dataKeyBytes(String keySpec, Integer numberOfBytes) {
    if ((keySpec == null) == (numberOfBytes == null)) {
      throw validation("specify either KeySpec or NumberOfBytes, exactly one");
    }
    if (keySpec != null) {
      return switch (keySpec) {
        case "AES_128" -> 16;
        case "AES_256" -> 32;
        default -> throw validation("KeySpec must be AES_128 or AES_256, not " + keySpec);
      };
    }
    if (numberOfBytes < 1 || numberOfBytes > 1024) {
      throw validation("NumberOfBytes must be between 1 and 1024");
    }
    return numberOfBytes;
  }

  /** Random bytes from the store's token generator. */
  private byte[] randomBytes(String customKeyStoreId, int n) {
    KeyBacking b = backings.forStore(customKeyStoreId);
    byte[] out = new byte[n];
    try {
      SecureRandom.getInstance("PKCS11", b.provider()).nextBytes(out);
    } catch (GeneralSecurityException e) {
      // A provider without a token RNG service: the JDK's generator is as strong for data keys.
      random.nextBytes(out);
    }
    return out;
  }

  private static String symmetricAlgorithm(KeyRow k, String alg) {
    if (!k.keySpec().isSymmetric()) {
      throw new KmsException(KmsError.INVALID_KEY_USAGE, "key " + k.arn() + " is " + k.keySpec() + ", not a symmetric encryption key");
    }
    if (alg != null && !"SYMMETRIC_DEFAULT".equals(alg)) {
      throw new KmsException(KmsError.INVALID_KEY_USAGE, "EncryptionAlgorithm " + alg + " is not valid for key " + k.arn() + " (SYMMETRIC_DEFAULT only)");
    }
    return "SYMMETRIC_DEFAULT";
  }

  /** AES-256-GCM in the token under the key's current backing key; returns the blob. */
  private byte[] seal(KeyRow k, byte[] plaintext, Map<String, String> context) {
    checkContext(context);
    KeyBacking b = backing(k);
    int version = k.currentVersion();
    Key key = backingKey(b, k, version);
    UUID id = UUID.fromString(k.keyId());
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding", b.provider());
      c.init(Cipher.ENCRYPT_MODE, key); // the token draws the 12-byte IV: no IV is ever chosen twice here
      byte[] iv = c.getIV();
      if (iv == null || iv.length != CiphertextBlob.IV_BYTES) {
        throw new KmsException(KmsError.KMS_INTERNAL, "the token's AES-GCM gave an IV of an unexpected length");
      }
      c.updateAAD(CiphertextBlob.aad(id, version, context));
      return new CiphertextBlob(id, version, iv, c.doFinal(plaintext)).toBytes();
    } catch (GeneralSecurityException e) {
      throw tokenFailure(k, "encrypting", e);
    }
  }

  /** Authenticates and decrypts a blob of key {@code k}; any mismatch is InvalidCiphertext. */
  private byte[] open(KeyRow k, CiphertextBlob blob, Map<String, String> context) {
    checkContext(context);
    if (blob.keyVersion() > k.currentVersion()) {
      throw CiphertextBlob.invalid();
    }
    KeyBacking b = backing(k);
    Key key = backingKey(b, k, blob.keyVersion());
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding", b.provider());
      c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, blob.iv()));
      c.updateAAD(CiphertextBlob.aad(blob.keyId(), blob.keyVersion(), context));
      return c.doFinal(blob.ciphertextAndTag());
    } catch (AEADBadTagException e) {
      throw CiphertextBlob.invalid();
    } catch (GeneralSecurityException e) {
      throw tokenFailure(k, "decrypting", e);
    }
  }

  private static void checkContext(Map<String, String> context) {
    if (context == null) {
      return;
    }
    for (Map.Entry<String, String> e : context.entrySet()) {
      if (e.getKey() == null || e.getValue() == null || e.getKey().isEmpty()) {
        throw validation("encryption context keys must be non-empty and values non-null");
      }
    }
  }

  private Key backingKey(KeyBacking b, KeyRow k, int version) {
    Key key = b.find(k.label(version));
    if (key == null) {
      throw new KmsException(KmsError.KMS_INVALID_STATE, "the backing key of " + k.arn() + " (version " + version + ") is missing from its key store's token");
    }
    return key;
  }

  private KeyBacking backing(KeyRow k) {
    return backings.forStore(k.customKeyStoreId());
  }

  private static KmsException tokenFailure(KeyRow k, String what, GeneralSecurityException e) {
    return new KmsException(KmsError.KMS_INVALID_STATE, "the key store of " + k.arn() + " failed " + what + " (" + e.getClass().getSimpleName() + ")", e);
  }

  /** The key a blob names, checked against the KeyId the caller gave (IncorrectKey when another key). */
  private KeyView blobKey(CiphertextBlob blob, String keyId, Ctx ctx) {
    KeyView named = keyId == null ? null : view(keyId, true, ctx);
    KeyView v;
    try {
      v = view(blob.keyId().toString(), false, new Ctx());
    } catch (KmsException e) {
      if (e.error() == KmsError.NOT_FOUND) {
        if (named != null) {
          throw incorrectKey(named.key);
        }
        throw CiphertextBlob.invalid();
      }
      throw e;
    }
    if (named != null && !named.key.keyId().equals(v.key.keyId())) {
      throw incorrectKey(named.key);
    }
    ctx.key(v.key);
    return v;
  }

  private static KmsException incorrectKey(KeyRow k) {
    return new KmsException(KmsError.INCORRECT_KEY, "the ciphertext was not encrypted under the KMS key " + k.arn());
  }

  /** Crypto calls need the usage, and an Enabled key (Disabled gives DisabledException, AWS's rule). */
  private void usable(KeyRow k, String usage) {
    String s = effectiveState(k);
    if (KeyRow.DISABLED.equals(s)) {
      throw new KmsException(KmsError.DISABLED, k.arn() + " is disabled.");
    }
    if (!KeyRow.ENABLED.equals(s)) {
      throw invalidState(k, s);
    }
    if (!usage.equals(k.keyUsage())) {
      throw new KmsException(KmsError.INVALID_KEY_USAGE, "key " + k.arn() + " has KeyUsage " + k.keyUsage() + ", not " + usage);
    }
  }

  // ---------------------------------------------------------------- rotation

  /** Automatic rotation applies to symmetric AWS_KMS keys in the default store only (AWS's rule). */
  private static void rotatable(KeyRow k) {
    if (!k.keySpec().isSymmetric() || !"AWS_KMS".equals(k.origin()) || k.customKeyStoreId() != null) {
      throw new KmsException(KmsError.UNSUPPORTED_OPERATION, k.arn() + " cannot be rotated: only symmetric keys with KMS-made "
          + "material outside custom key stores rotate (this key is " + k.keySpec() + ", origin " + k.origin()
          + (k.customKeyStoreId() == null ? "" : ", in " + k.customKeyStoreId()) + ")");
    }
  }

  private void enabledForRotation(KeyRow k) {
    String st = effectiveState(k);
    if (KeyRow.DISABLED.equals(st)) {
      throw new KmsException(KmsError.DISABLED, k.arn() + " is disabled.");
    }
    if (!KeyRow.ENABLED.equals(st)) {
      throw invalidState(k, st);
    }
  }

  public void enableKeyRotation(Caller caller, EnableKeyRotationRequest r) {
    call(caller, "EnableKeyRotation", r, ctx -> {
      int days = r.rotationPeriodInDays() == null ? 365 : r.rotationPeriodInDays();
      if (days < 90 || days > 2560) {
        throw validation("RotationPeriodInDays must be between 90 and 2560, not " + days);
      }
      return db.inTransaction(c -> {
        KeyRow k = resolveAuthorized(c, caller, "kms:EnableKeyRotation", r.keyId(), ctx);
        rotatable(k);
        enabledForRotation(k);
        long next = clock.millis() + Duration.ofDays(days).toMillis();
        exec(c, "UPDATE kms_key SET rotation_enabled = TRUE, rotation_period_days = ?, next_rotation_ms = ? WHERE key_id = ?", days, next, k.keyId());
        return null;
      });
    });
  }

  public void disableKeyRotation(Caller caller, DisableKeyRotationRequest r) {
    call(caller, "DisableKeyRotation", r, ctx -> db.inTransaction(c -> {
      KeyRow k = resolveAuthorized(c, caller, "kms:DisableKeyRotation", r.keyId(), ctx);
      rotatable(k);
      enabledForRotation(k);
      exec(c, "UPDATE kms_key SET rotation_enabled = FALSE, next_rotation_ms = NULL WHERE key_id = ?", k.keyId());
      return null;
    }));
  }

  public GetKeyRotationStatusResponse getKeyRotationStatus(Caller caller, GetKeyRotationStatusRequest r) {
    return call(caller, "GetKeyRotationStatus", r, ctx -> db.inTransaction(c -> {
      KeyRow k = resolveAuthorized(c, caller, "kms:GetKeyRotationStatus", r.keyId(), ctx);
      rotatable(k);
      return new GetKeyRotationStatusResponse(k.rotationEnabled(), k.arn(), k.rotationEnabled() ? k.rotationPeriodDays() : null,
          k.rotationEnabled() && k.nextRotationMs() != null ? Instant.ofEpochMilli(k.nextRotationMs()) : null, null);
    }));
  }

  public RotateKeyOnDemandResponse rotateKeyOnDemand(Caller caller, RotateKeyOnDemandRequest r) {
    return call(caller, "RotateKeyOnDemand", r, ctx -> {
      KeyRow k = db.inTransaction(c -> {
        KeyRow row = resolveAuthorized(c, caller, "kms:RotateKeyOnDemand", r.keyId(), ctx);
        rotatable(row);
        enabledForRotation(row);
        if (count(c, "SELECT COUNT(*) FROM kms_key_version WHERE key_id = ? AND rotation_type = 'ON_DEMAND'", row.keyId()) >= 10) {
          throw new KmsException(KmsError.LIMIT_EXCEEDED, row.arn() + " has been rotated on demand 10 times, AWS's limit");
        }
        return row;
      });
      rotate(k, "ON_DEMAND");
      return new RotateKeyOnDemandResponse(k.arn());
    });
  }

  public ListKeyRotationsResponse listKeyRotations(Caller caller, ListKeyRotationsRequest r) {
    return call(caller, "ListKeyRotations", r, ctx -> {
      int limit = limit(r.limit(), 1000);
      String after = r.marker() == null ? "" : unmarker(r.marker());
      return db.inTransaction(c -> {
        KeyRow k = resolveAuthorized(c, caller, "kms:ListKeyRotations", r.keyId(), ctx);
        rotatable(k);
        List<RotationsListEntry> out = new ArrayList<>();
        boolean more = false;
        int from = after.isEmpty() ? 0 : Integer.parseInt(after);
        try (PreparedStatement st = c.prepareStatement("SELECT version_no, created_ms, rotation_type FROM kms_key_version "
            + "WHERE key_id = ? AND version_no > ? AND rotation_type IS NOT NULL AND version_status = 'Active' ORDER BY version_no")) {
          st.setString(1, k.keyId());
          st.setInt(2, from);
          try (ResultSet rs = st.executeQuery()) {
            int last = 0;
            while (rs.next()) {
              if (out.size() == limit) {
                more = true;
                break;
              }
              last = rs.getInt(1);
              out.add(new RotationsListEntry(k.arn(), Instant.ofEpochMilli(rs.getLong(2)), rs.getString(3)));
            }
            return new ListKeyRotationsResponse(out, more ? marker(String.valueOf(last)) : null, more);
          }
        }
      });
    });
  }

  /**
   * Adds backing-key version n+1 and makes it current: the version row (Creating) is committed,
   * then the token key is made, then the row becomes Active and the key's current version moves, in
   * one transaction. Old versions stay, so old ciphertexts still decrypt.
   */
  private void rotate(KeyRow k, String type) {
    int next = db.inTransaction(c -> {
      int n = Integer.parseInt(one(c, "SELECT MAX(version_no) FROM kms_key_version WHERE key_id = ?", k.keyId())) + 1;
      insertVersion(c, k.keyId(), n, k.label(n), "Creating", clock.millis());
      exec(c, "UPDATE kms_key_version SET rotation_type = ? WHERE key_id = ? AND version_no = " + n, type, k.keyId());
      return n;
    });
    KeyBacking b = backing(k);
    try {
      b.createAes256(k.label(next));
    } catch (RuntimeException e) {
      b.destroy(k.label(next));
      db.inTransaction(c -> exec(c, "DELETE FROM kms_key_version WHERE key_id = ? AND version_no = " + next, k.keyId()));
      throw e;
    }
    db.inTransaction(c -> {
      exec(c, "UPDATE kms_key_version SET version_status = 'Active' WHERE key_id = ? AND version_no = " + next, k.keyId());
      exec(c, "UPDATE kms_key SET current_version = " + next + " WHERE key_id = ? AND current_version < " + next, k.keyId());
      return null;
    });
  }

  /**
   * Rotates every Enabled key whose automatic rotation is due by the service's clock, and moves its
   * next rotation date on by its period. Returns the ARNs rotated. Also run by the background work.
   * Each rotation is one audit record, the service event RotateKey ({@link AuditEvents#serviceEvent}).
   */
  public List<String> rotateDue() {
    long now = clock.millis();
    List<KeyRow> due = db.inTransaction(c -> {
      List<KeyRow> l = new ArrayList<>();
      try (PreparedStatement st = c.prepareStatement("SELECT * FROM kms_key WHERE rotation_enabled = TRUE AND key_state = 'Enabled' AND next_rotation_ms <= ?")) {
        st.setLong(1, now);
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            l.add(row(rs));
          }
        }
      }
      return l;
    });
    List<String> done = new ArrayList<>();
    for (KeyRow k : due) {
      rotate(k, "AUTOMATIC");
      // AWS logs automatic rotation as the service event RotateKey, in the same trail as the calls.
      audit.append(AuditEvents.serviceEvent(clock.instant(), region, "RotateKey", k.arn(), accountId));
      long next = now + Duration.ofDays(k.rotationPeriodDays()).toMillis();
      db.inTransaction(c -> exec(c, "UPDATE kms_key SET next_rotation_ms = ? WHERE key_id = ?", next, k.keyId()));
      done.add(k.arn());
    }
    return done;
  }

  // ---------------------------------------------------------------- import (BYOK)

  private static final Duration IMPORT_TOKEN_LIFETIME = Duration.ofHours(24);

  private void importable(KeyRow k) {
    if (!"EXTERNAL".equals(k.origin())) {
      throw new KmsException(KmsError.UNSUPPORTED_OPERATION, k.arn() + " has origin " + k.origin() + ": only EXTERNAL keys take imported key material");
    }
    if (KeyRow.PENDING_DELETION.equals(k.state())) {
      throw invalidState(k, k.state());
    }
  }

  /**
   * GetParametersForImport: a fresh RSA_2048 wrapping key pair in the token (its private half only
   * unwraps) and an import token valid for 24 hours. Only RSAES_OAEP_SHA_1 wrapping is offered:
   * SoftHSM2's C_UnwrapKey does OAEP with SHA-1 only, and unwrapping must happen in the token.
   */
  public GetParametersForImportResponse getParametersForImport(Caller caller, GetParametersForImportRequest r) {
    return call(caller, "GetParametersForImport", r, ctx -> {
      String alg = r.wrappingAlgorithm();
      if (!"RSAES_OAEP_SHA_1".equals(alg)) {
        if (Set.of("RSAES_PKCS1_V1_5", "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256", "SM2PKE").contains(alg)) {
          throw new KmsException(KmsError.UNSUPPORTED_OPERATION, "WrappingAlgorithm " + alg + " is not supported here: the token unwraps RSAES_OAEP_SHA_1 only");
        }
        throw validation("WrappingAlgorithm is required: RSAES_OAEP_SHA_1");
      }
      if (!"RSA_2048".equals(r.wrappingKeySpec())) {
        if (Set.of("RSA_3072", "RSA_4096", "SM2").contains(r.wrappingKeySpec())) {
          throw new KmsException(KmsError.UNSUPPORTED_OPERATION, "WrappingKeySpec " + r.wrappingKeySpec() + " is not supported here (RSA_2048)");
        }
        throw validation("WrappingKeySpec is required: RSA_2048");
      }
      KeyRow k = db.inTransaction(c -> {
        KeyRow row = resolveAuthorized(c, caller, "kms:GetParametersForImport", r.keyId(), ctx);
        importable(row);
        return row;
      });
      byte[] idBytes = new byte[24];
      random.nextBytes(idBytes);
      String tokenId = Base64.getUrlEncoder().withoutPadding().encodeToString(idBytes);
      String label = k.arn() + "/import/" + tokenId;
      long validTo = clock.millis() + IMPORT_TOKEN_LIFETIME.toMillis();
      db.inTransaction(c -> exec(c, "INSERT INTO kms_import_token (token_id, key_id, wrapping_label, wrapping_algorithm, valid_to_ms) VALUES (?, ?, ?, ?, ?)",
          tokenId, k.keyId(), label, alg, validTo));
      HsmKeyBacking t = tokenBacking(k);
      Key pub = t.createUnwrappingRsa(label, 2048);
      return new GetParametersForImportResponse(k.arn(), ("hsmkit-import-v1:" + tokenId).getBytes(StandardCharsets.US_ASCII), pub.getEncoded(),
          Instant.ofEpochMilli(validTo));
    });
  }

  /**
   * ImportKeyMaterial: the wrapped material is unwrapped inside the token (C_UnwrapKey) into the
   * key's backing AES-256 key. A re-import must be the same material (compared by check value,
   * never by the bytes): IncorrectKeyMaterialException otherwise.
   */
  public void importKeyMaterial(Caller caller, ImportKeyMaterialRequest r) {
    call(caller, "ImportKeyMaterial", r, ctx -> {
      if (r.expirationModel() != null && !"KEY_MATERIAL_DOES_NOT_EXPIRE".equals(r.expirationModel())) {
        throw new KmsException(KmsError.UNSUPPORTED_OPERATION, "ExpirationModel " + r.expirationModel() + " is not supported here (KEY_MATERIAL_DOES_NOT_EXPIRE)");
      }
      if (r.encryptedKeyMaterial() == null || r.encryptedKeyMaterial().length == 0 || r.encryptedKeyMaterial().length > 6144) {
        throw validation("EncryptedKeyMaterial must be 1 to 6144 bytes");
      }
      String tokenText = r.importToken() == null ? "" : new String(r.importToken(), StandardCharsets.US_ASCII);
      Object[] found = db.inTransaction(c -> {
        // The approval names the exact wrapped material and its expiration model, never the bytes.
        KeyRow row = resolveAuthorized(c, caller, "kms:ImportKeyMaterial", r.keyId(), ctx, Map.of(
            "material-sha256", sha256Hex(r.encryptedKeyMaterial()),
            "expiration-model", r.expirationModel() == null ? "KEY_MATERIAL_DOES_NOT_EXPIRE" : r.expirationModel()));
        importable(row);
        if (!tokenText.startsWith("hsmkit-import-v1:")) {
          throw new KmsException(KmsError.INVALID_IMPORT_TOKEN, "the import token is not valid");
        }
        try (PreparedStatement st = c.prepareStatement("SELECT key_id, wrapping_label, valid_to_ms FROM kms_import_token WHERE token_id = ?")) {
          st.setString(1, tokenText.substring("hsmkit-import-v1:".length()));
          try (ResultSet rs = st.executeQuery()) {
            if (!rs.next() || !rs.getString(1).equals(row.keyId())) {
              throw new KmsException(KmsError.INVALID_IMPORT_TOKEN, "the import token is not valid for " + row.arn());
            }
            if (rs.getLong(3) <= clock.millis()) {
              throw new KmsException(KmsError.EXPIRED_IMPORT_TOKEN, "the import token expired at " + Instant.ofEpochMilli(rs.getLong(3)));
            }
            String kcv = one(c, "SELECT import_kcv FROM kms_key WHERE key_id = ?", row.keyId());
            return new Object[] {row, rs.getString(2), kcv};
          }
        }
      });
      KeyRow k = (KeyRow) found[0];
      String wrappingLabel = (String) found[1];
      String expectedKcv = (String) found[2];
      HsmKeyBacking t = tokenBacking(k);
      String label = k.label(1);
      String staging = k.arn() + "/importing";
      // The new material goes to a staging label first, so a mismatch never disturbs a key in use.
      t.destroy(staging);
      db.inTransaction(c -> {
        if (one(c, "SELECT token_label FROM kms_key_version WHERE key_id = ? AND version_no = 0", k.keyId()) == null) {
          insertVersion(c, k.keyId(), 0, staging, "Creating", clock.millis());
        }
        return null;
      });
      Key key = t.unwrapAes(wrappingLabel, r.encryptedKeyMaterial(), staging);
      if (key == null) {
        t.destroy(staging);
        db.inTransaction(c -> exec(c, "DELETE FROM kms_key_version WHERE key_id = ? AND version_no = 0", k.keyId()));
        throw new KmsException(KmsError.INVALID_CIPHERTEXT, "the encrypted key material does not unwrap to a 256-bit AES key under this import token's wrapping key");
      }
      String kcv = checkValue(t, key);
      if (expectedKcv != null && !expectedKcv.equals(kcv)) {
        t.destroy(staging);
        db.inTransaction(c -> exec(c, "DELETE FROM kms_key_version WHERE key_id = ? AND version_no = 0", k.keyId()));
        throw new KmsException(KmsError.INCORRECT_KEY_MATERIAL, "this key material differs from the material imported into " + k.arn() + " before");
      }
      if (t.find(label) != null) {
        // Re-import of the same material while it is present: nothing to replace.
        t.destroy(staging);
      } else {
        relabel(t, key, label);
      }
      db.inTransaction(c -> {
        exec(c, "DELETE FROM kms_key_version WHERE key_id = ? AND version_no = 0", k.keyId());
        if (one(c, "SELECT token_label FROM kms_key_version WHERE key_id = ? AND version_no = 1", k.keyId()) == null) {
          insertVersion(c, k.keyId(), 1, label, "Active", clock.millis());
        }
        exec(c, "UPDATE kms_key SET import_kcv = ?, key_state = CASE WHEN key_state = 'PendingImport' THEN 'Enabled' ELSE key_state END WHERE key_id = ?", kcv, k.keyId());
        return null;
      });
      return null;
    });
  }

  /** DeleteImportedKeyMaterial: the backing key is destroyed and the key goes back to PendingImport. */
  public void deleteImportedKeyMaterial(Caller caller, DeleteImportedKeyMaterialRequest r) {
    call(caller, "DeleteImportedKeyMaterial", r, ctx -> {
      KeyRow k = db.inTransaction(c -> {
        KeyRow row = resolveAuthorized(c, caller, "kms:DeleteImportedKeyMaterial", r.keyId(), ctx);
        importable(row);
        exec(c, "UPDATE kms_key SET key_state = 'PendingImport' WHERE key_id = ?", row.keyId());
        return row;
      });
      backing(k).destroy(k.label(1));
      db.inTransaction(c -> exec(c, "DELETE FROM kms_key_version WHERE key_id = ?", k.keyId()));
      return null;
    });
  }

  /** SHA-256 of AES-ECB(key, 16 zero bytes), hex: identifies material without revealing it. */
  private static String checkValue(HsmKeyBacking t, Key key) {
    try {
      Cipher c = Cipher.getInstance("AES/ECB/NoPadding", t.provider());
      c.init(Cipher.ENCRYPT_MODE, key);
      byte[] block = c.doFinal(new byte[16]);
      return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(block));
    } catch (GeneralSecurityException e) {
      throw new KmsException(KmsError.KMS_INTERNAL, "cannot compute the check value of imported material (" + e.getClass().getSimpleName() + ")", e);
    }
  }

  private static void relabel(HsmKeyBacking t, Key key, String label) {
    t.relabel(key, label);
  }

  // ---------------------------------------------------------------- aliases

  public void createAlias(Caller caller, CreateAliasRequest r) {
    call(caller, "CreateAlias", r, ctx -> {
      checkAliasName(r.aliasName(), true);
      return db.inTransaction(c -> {
        requireKeyIdOrArn(r.targetKeyId());
        KeyRow k = resolveAuthorized(c, caller, "kms:CreateAlias", r.targetKeyId(), ctx);
        refusePendingDeletion(k);
        if (one(c, "SELECT alias_name FROM kms_alias WHERE alias_name = ?", r.aliasName()) != null) {
          throw new KmsException(KmsError.ALREADY_EXISTS, "An alias with the name " + aliasArn(r.aliasName()) + " already exists");
        }
        long now = clock.millis();
        try (PreparedStatement st = c.prepareStatement("INSERT INTO kms_alias (alias_name, target_key_id, created_ms, updated_ms) VALUES (?, ?, ?, ?)")) {
          st.setString(1, r.aliasName());
          st.setString(2, k.keyId());
          st.setLong(3, now);
          st.setLong(4, now);
          st.executeUpdate();
        }
        return null;
      });
    });
  }

  public void updateAlias(Caller caller, UpdateAliasRequest r) {
    call(caller, "UpdateAlias", r, ctx -> {
      checkAliasName(r.aliasName(), true);
      return db.inTransaction(c -> {
        String current = one(c, "SELECT target_key_id FROM kms_alias WHERE alias_name = ?", r.aliasName());
        if (current == null) {
          throw new KmsException(KmsError.NOT_FOUND, "Alias " + aliasArn(r.aliasName()) + " is not found.");
        }
        KeyRow from = resolve(c, current, false, ctx);
        requireKeyIdOrArn(r.targetKeyId());
        KeyRow to = resolve(c, r.targetKeyId(), false, ctx);
        authorize(caller, "kms:UpdateAlias", from, grants(c, from.keyId()), Map.of(), List.of());
        authorize(caller, "kms:UpdateAlias", to, grants(c, to.keyId()), Map.of(), List.of());
        refusePendingDeletion(to);
        // AWS: the new target must have the same key type (symmetric, asymmetric or HMAC) and usage.
        if (keyType(from.keySpec()) != keyType(to.keySpec()) || !from.keyUsage().equals(to.keyUsage())) {
          throw validation("alias " + r.aliasName() + " points to a " + from.keySpec() + "/" + from.keyUsage()
              + " key; it can only move to a key of the same type and usage, not " + to.keySpec() + "/" + to.keyUsage());
        }
        exec(c, "UPDATE kms_alias SET target_key_id = ?, updated_ms = " + clock.millis() + " WHERE alias_name = ?", to.keyId(), r.aliasName());
        return null;
      });
    });
  }

  public void deleteAlias(Caller caller, DeleteAliasRequest r) {
    call(caller, "DeleteAlias", r, ctx -> {
      checkAliasName(r.aliasName(), true);
      return db.inTransaction(c -> {
        String target = one(c, "SELECT target_key_id FROM kms_alias WHERE alias_name = ?", r.aliasName());
        if (target == null) {
          throw new KmsException(KmsError.NOT_FOUND, "Alias " + aliasArn(r.aliasName()) + " is not found.");
        }
        KeyRow k = resolveAuthorized(c, caller, "kms:DeleteAlias", target, ctx);
        exec(c, "DELETE FROM kms_alias WHERE alias_name = ?", r.aliasName());
        return null;
      });
    });
  }

  public ListAliasesResponse listAliases(Caller caller, ListAliasesRequest r) {
    return call(caller, "ListAliases", r, ctx -> {
      int limit = limit(r.limit(), 100);
      String after = r.marker() == null ? "" : unmarker(r.marker());
      return db.inTransaction(c -> {
        String keyFilter = null;
        if (r.keyId() != null) {
          requireKeyIdOrArn(r.keyId());
          KeyRow k = resolve(c, r.keyId(), false, ctx);
          keyFilter = k.keyId();
        }
        authorize(caller, "kms:ListAliases", null, List.of(), Map.of(), List.of());
        try (PreparedStatement st = c.prepareStatement("SELECT alias_name, target_key_id, created_ms, updated_ms FROM kms_alias WHERE alias_name > ?"
            + (keyFilter == null ? "" : " AND target_key_id = ?") + " ORDER BY alias_name")) {
          st.setString(1, after);
          if (keyFilter != null) {
            st.setString(2, keyFilter);
          }
          Page<AliasListEntry> p = page(st, limit, rs -> new AliasListEntry(rs.getString(1), aliasArn(rs.getString(1)), rs.getString(2),
              Instant.ofEpochMilli(rs.getLong(3)), Instant.ofEpochMilli(rs.getLong(4))));
          return new ListAliasesResponse(p.items(), p.nextMarker(AliasListEntry::aliasName), p.more());
        }
      });
    });
  }

  /**
   * AWS's alias rules: {@code alias/} then 1 to 250 of {@code a-zA-Z0-9/_-}; {@code alias/aws/}
   * names belong to AWS managed keys: NotAuthorizedException, as AWS answers.
   */
  private static void checkAliasName(String name, boolean forChange) {
    if (name == null || !name.startsWith("alias/")) {
      throw validation("Alias must start with the prefix \"alias/\"");
    }
    if (!ALIAS.matcher(name).matches()) {
      throw validation("1 validation error detected: Value '" + name + "' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$");
    }
    if (forChange && name.startsWith("alias/aws/")) {
      throw new KmsException(KmsError.NOT_AUTHORIZED, "Alias names that begin with alias/aws/ are reserved for AWS managed keys: " + name);
    }
  }

  private static void requireKeyIdOrArn(String keyId) {
    if (keyId == null) {
      throw validation("TargetKeyId is required");
    }
    if (keyId.startsWith("alias/") || keyId.contains(":alias/")) {
      throw validation("this parameter takes a key id or key ARN, not an alias");
    }
  }

  private static int keyType(KeySpec s) {
    return s.isSymmetric() ? 0 : s.isHmac() ? 2 : 1;
  }

  private String aliasArn(String aliasName) {
    return "arn:aws:kms:" + region + ":" + accountId + ":" + aliasName;
  }

  // ---------------------------------------------------------------- deletion, background work, reconciliation

  /**
   * Destroys the keys whose deletion window has ended (by the service's clock): each is first
   * marked Deleting (invisible) in a transaction, then its token objects are destroyed, then its
   * rows go. A crash between the steps leaves a Deleting row that the next purge or
   * {@link #reconcile()} finishes. Returns the ARNs deleted. Each deletion is one audit record, the
   * service event DeleteKey as AWS logs it ({@link AuditEvents#serviceEvent}).
   */
  public List<String> purgeExpired() {
    long now = clock.millis();
    List<KeyRow> due = db.inTransaction(c -> {
      List<KeyRow> l = new ArrayList<>();
      try (PreparedStatement st = c.prepareStatement("SELECT * FROM kms_key WHERE (key_state = 'PendingDeletion' AND deletion_ms <= ?) OR key_state = 'Deleting'")) {
        st.setLong(1, now);
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            KeyRow k = row(rs);
            // A key of a store that is not connected stays PendingDeletion (visible, as on AWS)
            // until its store is back; only then can its token objects be destroyed.
            if (backings.isAvailable(k.customKeyStoreId())) {
              l.add(k);
            }
          }
        }
      }
      for (KeyRow k : l) {
        exec(c, "UPDATE kms_key SET key_state = 'Deleting' WHERE key_id = ?", k.keyId());
      }
      return l;
    });
    // Import tokens are kept a day past expiry, so a late ImportKeyMaterial hears "expired", not "invalid".
    purgeExpiredImportTokens(now - Duration.ofDays(1).toMillis());
    List<String> done = new ArrayList<>();
    for (KeyRow k : due) {
      if (destroyTokenObjects(k)) {
        // The service event DeleteKey, as AWS logs it, before the rows go: a crash between the two
        // leaves the key Deleting, and the next purge logs it again rather than never.
        audit.append(AuditEvents.serviceEvent(clock.instant(), region, "DeleteKey", k.arn(), accountId));
        db.inTransaction(c -> deleteKeyRows(c, k.keyId()));
        done.add(k.arn());
      }
    }
    return done;
  }

  /** Expired import tokens go, and their wrapping keys with them (token object first, then the row). */
  private void purgeExpiredImportTokens(long now) {
    List<String[]> expired = db.inTransaction(c -> {
      List<String[]> l = new ArrayList<>();
      try (PreparedStatement st = c.prepareStatement("SELECT t.token_id, t.wrapping_label, k.custom_key_store_id FROM kms_import_token t "
          + "JOIN kms_key k ON k.key_id = t.key_id WHERE t.valid_to_ms <= ?")) {
        st.setLong(1, now);
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            l.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3)});
          }
        }
      }
      return l;
    });
    for (String[] e : expired) {
      if (backings.isAvailable(e[2])) {
        backings.forStore(e[2]).destroy(e[1]);
        db.inTransaction(c -> exec(c, "DELETE FROM kms_import_token WHERE token_id = ?", e[0]));
      }
    }
  }

  /** Destroys every backing-key version of {@code k}; false when its store cannot be reached now. */
  private boolean destroyTokenObjects(KeyRow k) {
    if (!backings.isAvailable(k.customKeyStoreId())) {
      return false; // kept Deleting until its store connects again
    }
    KeyBacking b = backings.forStore(k.customKeyStoreId());
    for (String label : db.inTransaction(c -> labels(c, k.keyId()))) {
      b.destroy(label);
    }
    return true;
  }

  /** Runs {@link #purgeExpired()} and {@link #rotateDue()} every {@code period} on a daemon thread until {@link #close()}. */
  public synchronized void startBackgroundWork(Duration period) {
    if (scheduler != null) {
      return;
    }
    scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "hsmkit-kms-purge");
      t.setDaemon(true);
      return t;
    });
    scheduler.scheduleWithFixedDelay(() -> {
      try {
        purgeExpired();
        rotateDue();
      } catch (RuntimeException e) {
        // Next round retries; the rows stay as they were (Deleting rows are finished later).
        System.getLogger(KmsService.class.getName()).log(System.Logger.Level.WARNING, "purge of expired keys failed: " + e);
      }
    }, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public synchronized void close() {
    if (scheduler != null) {
      scheduler.shutdownNow();
      scheduler = null;
    }
  }

  /** What {@link #reconcile()} found and did. */
  public record ReconcileReport(List<String> undoneCreations, List<String> finishedDeletions, List<String> destroyedOrphans,
      List<String> missingBackingKeys) {}

  /**
   * Brings metadata and the default store's token back into agreement after a crash: keys left
   * Creating are undone (token object destroyed, rows removed: the caller never got an answer);
   * keys left Deleting are finished; a backing-key version left Creating is undone; token objects
   * with this service's ARN prefix that no row names are destroyed (they were never handed out);
   * active versions whose token object is missing are reported (a key lost: never silently).
   * Custom key stores that are not connected are skipped.
   */
  public ReconcileReport reconcile() {
    List<String> undone = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    List<KeyRow> all = db.inTransaction(c -> {
      List<KeyRow> l = new ArrayList<>();
      try (PreparedStatement st = c.prepareStatement("SELECT * FROM kms_key"); ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          l.add(row(rs));
        }
      }
      return l;
    });
    for (KeyRow k : all) {
      if (!backings.isAvailable(k.customKeyStoreId())) {
        continue;
      }
      KeyBacking b = backings.forStore(k.customKeyStoreId());
      if (KeyRow.CREATING.equals(k.state())) {
        for (String label : db.inTransaction(c -> labels(c, k.keyId()))) {
          b.destroy(label);
        }
        db.inTransaction(c -> deleteKeyRows(c, k.keyId()));
        undone.add(k.arn());
        continue;
      }
      if (KeyRow.DELETING.equals(k.state())) {
        continue; // purgeExpired below finishes it
      }
      List<String[]> versions = db.inTransaction(c -> {
        List<String[]> l = new ArrayList<>();
        try (PreparedStatement st = c.prepareStatement("SELECT version_no, token_label, version_status FROM kms_key_version WHERE key_id = ?")) {
          st.setString(1, k.keyId());
          try (ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
              l.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3)});
            }
          }
        }
        return l;
      });
      for (String[] v : versions) {
        if ("Creating".equals(v[2])) {
          b.destroy(v[1]);
          db.inTransaction(c -> exec(c, "DELETE FROM kms_key_version WHERE key_id = ? AND version_no = " + Integer.parseInt(v[0]), k.keyId()));
          undone.add(v[1]);
        } else if (b.find(v[1]) == null) {
          missing.add(v[1]);
        }
      }
    }
    List<String> finished = purgeExpiredDeleting();
    List<String> orphans = new ArrayList<>();
    KeyBacking def = backings.forStore(null);
    if (def instanceof HsmKeyBacking t) {
      Set<String> known = db.inTransaction(c -> {
        Set<String> s = new java.util.HashSet<>();
        for (String sql : List.of("SELECT token_label FROM kms_key_version", "SELECT wrapping_label FROM kms_import_token")) {
          try (PreparedStatement st = c.prepareStatement(sql); ResultSet rs = st.executeQuery()) {
            while (rs.next()) {
              s.add(rs.getString(1));
            }
          }
        }
        return s;
      });
      for (String label : t.labels(keyArnPrefix())) {
        if (!known.contains(label)) {
          t.destroy(label);
          orphans.add(label);
        }
      }
    }
    return new ReconcileReport(undone, finished, orphans, missing);
  }

  private List<String> purgeExpiredDeleting() {
    List<KeyRow> deleting = db.inTransaction(c -> {
      List<KeyRow> l = new ArrayList<>();
      try (PreparedStatement st = c.prepareStatement("SELECT * FROM kms_key WHERE key_state = 'Deleting'"); ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          l.add(row(rs));
        }
      }
      return l;
    });
    List<String> done = new ArrayList<>();
    for (KeyRow k : deleting) {
      if (destroyTokenObjects(k)) {
        // The service event DeleteKey, as AWS logs it, before the rows go: a crash between the two
        // leaves the key Deleting, and the next purge logs it again rather than never.
        audit.append(AuditEvents.serviceEvent(clock.instant(), region, "DeleteKey", k.arn(), accountId));
        db.inTransaction(c -> deleteKeyRows(c, k.keyId()));
        done.add(k.arn());
      }
    }
    return done;
  }

  // ---------------------------------------------------------------- key resolution and rows

  private record KeyView(KeyRow key, List<Grant> grants) {}

  private KeyView view(String keyId, boolean aliases, Ctx ctx) {
    return db.inTransaction(c -> {
      KeyRow k = resolve(c, keyId, aliases, ctx);
      return new KeyView(k, grants(c, k.keyId()));
    });
  }

  /**
   * The visible key that {@code keyId} names: a key id, a key ARN, and (when {@code aliases}) an
   * alias name or alias ARN. NotFound for anything else, as AWS says it.
   */
  private KeyRow resolve(Connection c, String keyId, boolean aliases, Ctx ctx) throws SQLException {
    if (keyId == null || keyId.isEmpty()) {
      throw validation("KeyId is required");
    }
    if (keyId.length() > 2048) {
      throw validation("KeyId is longer than 2048 characters");
    }
    String id = keyId;
    String aliasPrefix = "arn:aws:kms:" + region + ":" + accountId + ":alias/";
    if (keyId.startsWith("alias/") || keyId.startsWith(aliasPrefix)) {
      String name = keyId.startsWith("alias/") ? keyId : keyId.substring(aliasPrefix.length() - "alias/".length());
      String target = aliases ? one(c, "SELECT target_key_id FROM kms_alias WHERE alias_name = ?", name) : null;
      if (target == null) {
        throw new KmsException(KmsError.NOT_FOUND, "Alias " + aliasArn(name) + " is not found.");
      }
      id = target;
    } else if (keyId.startsWith("arn:")) {
      if (!keyId.startsWith(keyArnPrefix())) {
        throw new KmsException(KmsError.NOT_FOUND, "Key '" + keyId + "' does not exist");
      }
      id = keyId.substring(keyArnPrefix().length());
    }
    if (!UUID_TEXT.matcher(id).matches()) {
      throw new KmsException(KmsError.NOT_FOUND, "Invalid keyId " + keyId);
    }
    try (PreparedStatement st = c.prepareStatement("SELECT * FROM kms_key WHERE key_id = ?")) {
      st.setString(1, id.toLowerCase(Locale.ROOT));
      try (ResultSet rs = st.executeQuery()) {
        if (!rs.next()) {
          throw new KmsException(KmsError.NOT_FOUND, "Key '" + keyArnPrefix() + id + "' does not exist");
        }
        KeyRow k = row(rs);
        if (!k.visible()) {
          throw new KmsException(KmsError.NOT_FOUND, "Key '" + k.arn() + "' does not exist");
        }
        ctx.key(k);
        return k;
      }
    }
  }

  private static KeyRow row(ResultSet rs) throws SQLException {
    return new KeyRow(rs.getString("key_id"), rs.getString("key_arn"), rs.getString("account_id"), rs.getString("key_description"),
        rs.getString("key_usage"), KeySpec.valueOf(rs.getString("key_spec")), rs.getString("key_origin"), rs.getString("custom_key_store_id"),
        rs.getString("key_state"), rs.getLong("creation_ms"), (Long) rs.getObject("deletion_ms", Long.class),
        (Integer) rs.getObject("pending_window_days", Integer.class), rs.getInt("current_version"), rs.getString("policy_json"),
        rs.getBoolean("rotation_enabled"), (Integer) rs.getObject("rotation_period_days", Integer.class),
        (Long) rs.getObject("next_rotation_ms", Long.class));
  }

  private static void insertKey(Connection c, KeyRow k) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("INSERT INTO kms_key (key_id, key_arn, account_id, key_description, key_usage, key_spec, key_origin, "
        + "custom_key_store_id, key_state, creation_ms, deletion_ms, pending_window_days, current_version, policy_json, rotation_enabled, "
        + "rotation_period_days, next_rotation_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, FALSE, NULL, NULL)")) {
      st.setString(1, k.keyId());
      st.setString(2, k.arn());
      st.setString(3, k.accountId());
      st.setString(4, k.description());
      st.setString(5, k.keyUsage());
      st.setString(6, k.keySpec().name());
      st.setString(7, k.origin());
      if (k.customKeyStoreId() == null) {
        st.setNull(8, Types.VARCHAR);
      } else {
        st.setString(8, k.customKeyStoreId());
      }
      st.setString(9, k.state());
      st.setLong(10, k.creationMs());
      st.setInt(11, k.currentVersion());
      st.setString(12, k.policyJson());
      st.executeUpdate();
    }
  }

  private static void insertVersion(Connection c, String keyId, int version, String label, String status, long now) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("INSERT INTO kms_key_version (key_id, version_no, token_label, version_status, created_ms) VALUES (?, ?, ?, ?, ?)")) {
      st.setString(1, keyId);
      st.setInt(2, version);
      st.setString(3, label);
      st.setString(4, status);
      st.setLong(5, now);
      st.executeUpdate();
    }
  }

  /** Every token label of a key: its backing-key versions and the wrapping keys of its import tokens. */
  private static List<String> labels(Connection c, String keyId) throws SQLException {
    List<String> l = new ArrayList<>();
    for (String sql : List.of("SELECT token_label FROM kms_key_version WHERE key_id = ? ORDER BY version_no",
        "SELECT wrapping_label FROM kms_import_token WHERE key_id = ?")) {
      try (PreparedStatement st = c.prepareStatement(sql)) {
        st.setString(1, keyId);
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            l.add(rs.getString(1));
          }
        }
      }
    }
    return l;
  }

  private static Void deleteKeyRows(Connection c, String keyId) throws SQLException {
    for (String t : List.of("kms_key_version", "kms_tag", "kms_grant", "kms_import_token", "kms_key")) {
      exec(c, "DELETE FROM " + t + " WHERE key_id = ?", keyId);
    }
    exec(c, "DELETE FROM kms_alias WHERE target_key_id = ?", keyId);
    return null;
  }

  private static void putTag(Connection c, String keyId, String k, String v) throws SQLException {
    exec(c, "INSERT INTO kms_tag (key_id, tag_key, tag_value) VALUES (?, ?, ?)", keyId, k, v);
  }

  private List<Grant> grants(Connection c, String keyId) throws SQLException {
    List<Grant> l = new ArrayList<>();
    try (PreparedStatement st = c.prepareStatement("SELECT * FROM kms_grant WHERE key_id = ? ORDER BY grant_id")) {
      st.setString(1, keyId);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          l.add(grant(rs, keyArnPrefix() + keyId));
        }
      }
    }
    return l;
  }

  private static Grant grant(ResultSet rs, String keyArn) throws SQLException {
    String cj = rs.getString("constraints_json");
    Grant.Constraints gc = null;
    if (cj != null) {
      try {
        GrantConstraints g = JSON.readValue(cj, GrantConstraints.class);
        gc = new Grant.Constraints(g.encryptionContextEquals(), g.encryptionContextSubset());
      } catch (JsonProcessingException e) {
        throw new KmsException(KmsError.KMS_INTERNAL, "stored grant constraints are not JSON", e);
      }
    }
    return new Grant(rs.getString("grant_id"), keyArn, rs.getString("grant_name"), rs.getString("grantee_principal"),
        rs.getString("retiring_principal"), rs.getString("issuing_account"), Set.of(rs.getString("grant_operations").split(",")), gc,
        Instant.ofEpochMilli(rs.getLong("created_ms")));
  }

  private static String tokenOf(Connection c, String grantId) throws SQLException {
    return one(c, "SELECT grant_token FROM kms_grant WHERE grant_id = ?", grantId);
  }

  private KeyRow withState(KeyRow k, String state) {
    return new KeyRow(k.keyId(), k.arn(), k.accountId(), k.description(), k.keyUsage(), k.keySpec(), k.origin(), k.customKeyStoreId(),
        state, k.creationMs(), k.deletionMs(), k.pendingWindowDays(), k.currentVersion(), k.policyJson(), k.rotationEnabled(),
        k.rotationPeriodDays(), k.nextRotationMs());
  }

  /** The state callers see: keys of a custom key store that is not connected are Unavailable (PendingDeletion stays). */
  private String effectiveState(KeyRow k) {
    if (k.customKeyStoreId() != null && !KeyRow.PENDING_DELETION.equals(k.state()) && !backings.isAvailable(k.customKeyStoreId())) {
      return KeyRow.UNAVAILABLE;
    }
    return k.state();
  }

  private KeyMetadata metadata(KeyRow k) {
    String state = effectiveState(k);
    KeySpec s = k.keySpec();
    boolean pd = KeyRow.PENDING_DELETION.equals(state);
    return new KeyMetadata(k.accountId(), k.keyId(), k.arn(), Instant.ofEpochMilli(k.creationMs()), KeyRow.ENABLED.equals(state),
        k.description(), k.keyUsage(), state, pd && k.deletionMs() != null ? Instant.ofEpochMilli(k.deletionMs()) : null, k.origin(),
        k.customKeyStoreId(), "CUSTOMER", s.name(), s.name(), nullIfEmpty(s.encryptionAlgorithms(k.keyUsage())),
        nullIfEmpty(s.signingAlgorithms(k.keyUsage())), nullIfEmpty(s.macAlgorithms(k.keyUsage())), false,
        pd ? k.pendingWindowDays() : null);
  }

  private static List<String> nullIfEmpty(List<String> l) {
    return l.isEmpty() ? null : l;
  }

  private static KmsException invalidState(KeyRow k, String state) {
    return new KmsException(KmsError.KMS_INVALID_STATE, k.arn() + " is " + state);
  }

  private void refusePendingDeletion(KeyRow k) {
    if (KeyRow.PENDING_DELETION.equals(k.state())) {
      throw invalidState(k, k.state());
    }
  }

  private static Map<String, String> checkTags(List<Tag> tags) {
    Map<String, String> out = new LinkedHashMap<>();
    if (tags == null) {
      return out;
    }
    for (Tag t : tags) {
      if (t == null || t.tagKey() == null || t.tagKey().isEmpty() || t.tagKey().length() > 128 || t.tagValue() == null || t.tagValue().length() > 256) {
        throw new KmsException(KmsError.TAG, "a tag key is 1 to 128 characters and its value 0 to 256");
      }
      if (t.tagKey().startsWith("aws:")) {
        throw new KmsException(KmsError.TAG, "tag keys beginning with aws: are reserved");
      }
      if (out.put(t.tagKey(), t.tagValue()) != null) {
        throw new KmsException(KmsError.TAG, "duplicate tag key " + t.tagKey());
      }
    }
    if (out.size() > 50) {
      throw new KmsException(KmsError.LIMIT_EXCEEDED, "a key has at most 50 tags");
    }
    return out;
  }

  private static int limit(Integer limit, int max) {
    if (limit == null) {
      return Math.min(100, max);
    }
    if (limit < 1 || limit > max) {
      throw validation("Limit must be between 1 and " + max);
    }
    return limit;
  }

  @FunctionalInterface
  private interface RowReader<T> {
    T read(ResultSet rs) throws SQLException;
  }

  /** One page of a listing: its entries, and whether a further entry exists past them. */
  private record Page<T>(List<T> items, boolean more) {
    /** The marker of the next page (the last entry's sort key), or null when this is the last page. */
    String nextMarker(Function<T, String> sortKey) {
      return more ? marker(sortKey.apply(items.get(items.size() - 1))) : null;
    }
  }

  /**
   * Reads at most {@code limit} rows of {@code st}; one row more says there is a next page (the
   * queries are ordered by the marker's sort key, so the next page starts after the last entry).
   */
  private static <T> Page<T> page(PreparedStatement st, int limit, RowReader<T> reader) throws SQLException {
    List<T> out = new ArrayList<>();
    try (ResultSet rs = st.executeQuery()) {
      while (rs.next()) {
        if (out.size() == limit) {
          return new Page<>(out, true);
        }
        out.add(reader.read(rs));
      }
    }
    return new Page<>(out, false);
  }

  /** Markers are opaque to callers: the last key returned, base64url with a tag so a made-up one is refused. */
  private static String marker(String last) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(("m1:" + last).getBytes(StandardCharsets.UTF_8));
  }

  private static String unmarker(String marker) {
    try {
      String s = new String(Base64.getUrlDecoder().decode(marker), StandardCharsets.UTF_8);
      if (s.startsWith("m1:")) {
        return s.substring(3);
      }
    } catch (IllegalArgumentException e) {
      // fall through
    }
    throw new KmsException(KmsError.INVALID_MARKER, "the marker is not one this service returned");
  }

  private static KmsException validation(String message) {
    return new KmsException(KmsError.VALIDATION, message);
  }

  private static String json(Object o) {
    try {
      return JSON.writeValueAsString(o);
    } catch (JsonProcessingException e) {
      throw new KmsException(KmsError.KMS_INTERNAL, "cannot write JSON", e);
    }
  }

  static Map<String, String> readMap(String json) {
    try {
      return JSON.readValue(json, new TypeReference<Map<String, String>>() {});
    } catch (JsonProcessingException e) {
      throw new KmsException(KmsError.KMS_INTERNAL, "stored JSON is unreadable", e);
    }
  }

  private static Void exec(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        st.setObject(i + 1, args[i]);
      }
      st.executeUpdate();
    }
    return null;
  }

  private static String one(Connection c, String sql, String arg) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(sql)) {
      st.setString(1, arg);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  private static long count(Connection c, String sql, String arg) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(sql)) {
      st.setString(1, arg);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
