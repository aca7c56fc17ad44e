package io.hsmkit.kms.access;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Provider;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.crypto.Mac;
import javax.crypto.SecretKey;

/**
 * Grant tokens: what CreateGrant returns so that a grantee can use a grant at once, before the
 * grant shows in the key's grant list (AWS's eventual consistency). A token carries the whole
 * grant and the time it was issued, authenticated with HMAC-SHA256 under a key that never leaves
 * the token, so any service node that shares the token can check it without the database.
 *
 * <p>Format (version 1), base64url without padding of:
 * <pre>
 *   0x01                               version
 *   int64  issuedAt (epoch millis)
 *   str    grantId, keyArn, name, granteePrincipal, retiringPrincipal, issuingAccount
 *   int32  n, then n × str             operations, sorted
 *   byte   0 none | 1 EncryptionContextEquals | 2 EncryptionContextSubset
 *   int32  m, then m × (str, str)      the constraint's pairs, sorted by key (absent for 0)
 *   int64  creationDate (epoch millis, -1 for none)
 *   32 bytes                           HMAC-SHA256 over everything before it
 * </pre>
 * where {@code str} is a 1-byte presence flag, then a 4-byte length and the UTF-8 bytes. The
 * encoding is unambiguous (every field is length-prefixed), so two grants never share a MAC input.
 * Any token that does not decode, or whose MAC does not verify, is {@code InvalidGrantTokenException}.
 */
public final class GrantTokens {
  /** The MAC key's label in the token. */
  public static final String MAC_KEY_LABEL = "hsmkit-kms-grant-token-mac";
  /** AWS's limit on the length of a grant token. */
  public static final int MAX_TOKEN_CHARS = 8192;

  private static final byte VERSION = 1;
  private static final int MAC_BYTES = 32;

  private final Provider provider;
  private final SecretKey macKey;

  /** Tokens MACed with {@code macKey} (an HmacSHA256 key) through {@code provider} (null: the JDK's). */
  public GrantTokens(Provider provider, SecretKey macKey) {
    this.provider = provider;
    this.macKey = Objects.requireNonNull(macKey, "macKey");
  }

  /** Tokens MACed under the token key {@link #MAC_KEY_LABEL} of an HsmKit provider, made on first use. */
  public static GrantTokens onToken(Provider hsmkit) {
    return new GrantTokens(hsmkit, TokenKeys.getOrCreate(hsmkit, MAC_KEY_LABEL, "HmacSHA256", 256));
  }

  /** A grant as a token carried it, with the time the token was issued. */
  public record Verified(Grant grant, Instant issuedAt) {}

  /** The token for {@code grant}, issued at {@code issuedAt}. */
  public String issue(Grant grant, Instant issuedAt) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      DataOutputStream out = new DataOutputStream(bytes);
      out.writeByte(VERSION);
      out.writeLong(issuedAt.toEpochMilli());
      for (String s : new String[] {grant.grantId(), grant.keyArn(), grant.name(), grant.granteePrincipal(), grant.retiringPrincipal(),
          grant.issuingAccount()}) {
        str(out, s);
      }
      Set<String> ops = new TreeSet<>(grant.operations());
      out.writeInt(ops.size());
      for (String op : ops) {
        str(out, op);
      }
      Grant.Constraints c = grant.constraints();
      Map<String, String> pairs = null;
      if (c != null && c.encryptionContextEquals() != null) {
        out.writeByte(1);
        pairs = c.encryptionContextEquals();
      } else if (c != null && c.encryptionContextSubset() != null) {
        out.writeByte(2);
        pairs = c.encryptionContextSubset();
      } else {
        out.writeByte(0);
      }
      if (pairs != null) {
        out.writeInt(pairs.size());
        for (Map.Entry<String, String> e : new TreeMap<>(pairs).entrySet()) {
          str(out, e.getKey());
          str(out, e.getValue());
        }
      }
      out.writeLong(grant.creationDate() == null ? -1 : grant.creationDate().toEpochMilli());
      out.write(mac(bytes.toByteArray()));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.toByteArray());
    } catch (IOException e) {
      throw new IllegalStateException(e); // a ByteArrayOutputStream does not fail
    }
  }

  /**
   * The grant a token carries.
   *
   * @throws KmsException {@code INVALID_GRANT_TOKEN} for a token that does not decode or verify
   */
  public Verified verify(String token) {
    if (token == null || token.isEmpty() || token.length() > MAX_TOKEN_CHARS) {
      throw invalid();
    }
    byte[] raw;
    try {
      raw = Base64.getUrlDecoder().decode(token);
    } catch (IllegalArgumentException e) {
      throw invalid();
    }
    if (raw.length < 1 + 8 + MAC_BYTES || raw[0] != VERSION) {
      throw invalid();
    }
    byte[] body = java.util.Arrays.copyOf(raw, raw.length - MAC_BYTES);
    byte[] tag = java.util.Arrays.copyOfRange(raw, raw.length - MAC_BYTES, raw.length);
    // The MAC is checked before anything in the body is trusted.
    if (!MessageDigest.isEqual(tag, mac(body))) {
      throw invalid();
    }
    try {
      DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(body));
      in.readByte();
      Instant issued = Instant.ofEpochMilli(in.readLong());
      String grantId = str(in);
      String keyArn = str(in);
      String name = str(in);
      String grantee = str(in);
      String retiring = str(in);
      String issuing = str(in);
      int n = in.readInt();
      if (n < 0 || n > 64) {
        throw invalid();
      }
      List<String> ops = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        ops.add(str(in));
      }
      int kind = in.readByte();
      Grant.Constraints constraints = null;
      if (kind == 1 || kind == 2) {
        int m = in.readInt();
        if (m < 0 || m > 64) {
          throw invalid();
        }
        Map<String, String> pairs = new TreeMap<>();
        for (int i = 0; i < m; i++) {
          pairs.put(str(in), str(in));
        }
        constraints = kind == 1 ? new Grant.Constraints(pairs, null) : new Grant.Constraints(null, pairs);
      } else if (kind != 0) {
        throw invalid();
      }
      long created = in.readLong();
      if (in.available() != 0 || grantId == null || keyArn == null || grantee == null) {
        throw invalid();
      }
      Grant g = new Grant(grantId, keyArn, name, grantee, retiring, issuing, Set.copyOf(ops), constraints,
          created < 0 ? null : Instant.ofEpochMilli(created));
      return new Verified(g, issued);
    } catch (IOException | RuntimeException e) {
      if (e instanceof KmsException k) {
        throw k;
      }
      throw invalid();
    }
  }

  private static KmsException invalid() {
    return new KmsException(KmsError.INVALID_GRANT_TOKEN, "The grant token is not valid");
  }

  private byte[] mac(byte[] data) {
    try {
      Mac m = provider == null ? Mac.getInstance("HmacSHA256") : Mac.getInstance("HmacSHA256", provider);
      m.init(macKey);
      return m.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new KmsException(KmsError.KMS_INTERNAL, "grant token MAC failed: " + e.getMessage(), e);
    }
  }

  private static void str(DataOutputStream out, String s) throws IOException {
    if (s == null) {
      out.writeByte(0);
      return;
    }
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeByte(1);
    out.writeInt(b.length);
    out.write(b);
  }

  private static String str(DataInputStream in) throws IOException {
    int present = in.readByte();
    if (present == 0) {
      return null;
    }
    if (present != 1) {
      throw new IOException("bad flag");
    }
    int len = in.readInt();
    if (len < 0 || len > in.available()) {
      throw new IOException("bad length");
    }
    byte[] b = new byte[len];
    in.readFully(b);
    return new String(b, StandardCharsets.UTF_8);
  }
}
