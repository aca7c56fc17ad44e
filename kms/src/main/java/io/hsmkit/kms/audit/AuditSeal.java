package io.hsmkit.kms.audit;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.access.TokenKeys;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Provider;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.SecretKey;

/**
 * Anchors the {@link AuditTrail} in the HSM: an HMAC-SHA256, computed in the token under a
 * dedicated sensitive, non-extractable token key ({@link #KEY_LABEL}), over each record's chain hash
 * and over the head. Someone who can write the database can still recompute every SHA-256 of the
 * chain, but not these MACs, so {@link AuditTrail#verify()} finds a record rewritten with correct
 * hashes.
 *
 * <p>MAC inputs (UTF-8, no trailing newline), hex in the database:
 * <pre>
 *   record: "hsmkit-kms-audit-record-v1\n" + seq_no + "\n" + record_hash
 *   head:   "hsmkit-kms-audit-head-v1\n"   + record_count + "\n" + head_hash
 * </pre>
 * The two prefixes differ so that a record's MAC can never stand in for the head's (which would
 * let a writer cut records off the end and point the head at an earlier record).
 *
 * <p>What it does not do: a writer may put back an older state of the whole trail (an earlier head
 * with its MAC, the records up to it); only a copy of the head kept elsewhere shows that.
 */
public final class AuditSeal {
  /** The MAC key's label in the token. */
  public static final String KEY_LABEL = "hsmkit-kms-audit-mac";
  /** SoftHSM2 refuses HMAC keys shorter than the hash; 256 bits for HMAC-SHA256. */
  private static final int KEY_BITS = 256;

  private final Provider provider;
  private final SecretKey key;
  private final boolean createdNow;

  private AuditSeal(Provider provider, SecretKey key, boolean createdNow) {
    this.provider = provider;
    this.key = Objects.requireNonNull(key, "key");
    this.createdNow = createdNow;
  }

  /** The seal of the provider's token: its key {@link #KEY_LABEL}, made there on first use. */
  public static AuditSeal onToken(Provider hsmkit) {
    boolean existed = TokenKeys.find(hsmkit, KEY_LABEL).isPresent();
    return new AuditSeal(hsmkit, TokenKeys.getOrCreate(hsmkit, KEY_LABEL, "HmacSHA256", KEY_BITS), !existed);
  }

  /** The seal of the provider's token if the token holds the key already (for verification: never makes one). */
  public static Optional<AuditSeal> existing(Provider hsmkit) {
    return TokenKeys.find(hsmkit, KEY_LABEL).map(k -> new AuditSeal(hsmkit, k, false));
  }

  /**
   * A seal with a key of any provider (null: the JDK's): for tests of the trail's logic only; the
   * service always uses {@link #onToken}.
   */
  public static AuditSeal withKey(Provider provider, SecretKey key) {
    return new AuditSeal(provider, key, false);
  }

  /**
   * Whether {@link #onToken} made the key just now: the trail then has never been sealed, and its
   * earlier records may be sealed as they are ({@link AuditTrail#sealExisting()}). Once the key exists,
   * a record without a MAC is a finding, never something to seal.
   */
  public boolean createdNow() {
    return createdNow;
  }

  String recordMac(long seq, String recordHash) {
    return mac("hsmkit-kms-audit-record-v1\n" + seq + "\n" + recordHash);
  }

  String headMac(long count, String headHash) {
    return mac("hsmkit-kms-audit-head-v1\n" + count + "\n" + headHash);
  }

  /** Constant-time comparison of a stored MAC (hex, may be null) with the expected one. */
  static boolean matches(String stored, String expected) {
    return stored != null && MessageDigest.isEqual(stored.getBytes(StandardCharsets.US_ASCII), expected.getBytes(StandardCharsets.US_ASCII));
  }

  private String mac(String input) {
    try {
      Mac m = provider == null ? Mac.getInstance("HmacSHA256") : Mac.getInstance("HmacSHA256", provider);
      m.init(key);
      return HexFormat.of().formatHex(m.doFinal(input.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new KmsException(KmsError.KMS_INTERNAL, "the audit trail's MAC in the token failed: " + e.getMessage(), e);
    }
  }
}
