package io.hsmkit.kms.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.store.Database;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * The KMS audit trail: one CloudTrail-shaped JSON record per call, stored in the metadata database
 * and chained by SHA-256.
 *
 * <p>Record {@code n} (numbered from 1) stores {@code prev_hash} = the hash of record {@code n-1}
 * (64 zeros before the first) and {@code record_hash} = hex(SHA-256(prev_hash as ASCII hex || 0x0A
 * || the record's JSON as UTF-8)). The single head row holds the record count and the last hash,
 * updated in the same transaction as the insert, so {@link #verify()} finds an edited record (its
 * hash no longer matches), a removed record (a gap in the numbers, or a broken link) and records cut
 * off the end (the count and head hash no longer match). Appends serialise on the head row
 * ({@code SELECT ... FOR UPDATE}), so several nodes sharing a PostgreSQL database keep one chain.
 *
 * <p>The chain detects changes made by anyone who cannot also rewrite every later record and the
 * head; a writer with full database access can rebuild it. Anchoring the head hash outside the
 * database (or MACing it with a token key) closes that gap; it is not done here.
 */
public final class AuditTrail {
  static final String ZERO_HASH = "0".repeat(64);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Database db;

  public AuditTrail(Database db) {
    this.db = Objects.requireNonNull(db, "db");
  }

  /** Appends one record (its JSON is taken as given) and returns its sequence number. */
  public long append(ObjectNode record) {
    String json;
    try {
      json = JSON.writeValueAsString(record);
    } catch (JsonProcessingException e) {
      throw new KmsException(KmsError.KMS_INTERNAL, "an audit record cannot be written as JSON", e);
    }
    // READ COMMITTED: the head row's lock serialises appends; see Database.inTransaction(int, ...).
    return db.inTransaction(Connection.TRANSACTION_READ_COMMITTED, c -> {
      long count;
      String head;
      try (PreparedStatement st = c.prepareStatement("SELECT record_count, head_hash FROM kms_audit_head WHERE single_row = 1 FOR UPDATE");
           ResultSet rs = st.executeQuery()) {
        if (!rs.next()) {
          throw new KmsException(KmsError.KMS_INTERNAL, "the audit trail's head row is missing");
        }
        count = rs.getLong(1);
        head = rs.getString(2);
      }
      long seq = count + 1;
      String hash = hash(head, json);
      try (PreparedStatement st = c.prepareStatement("INSERT INTO kms_audit (seq_no, record_json, prev_hash, record_hash) VALUES (?, ?, ?, ?)")) {
        st.setLong(1, seq);
        st.setString(2, json);
        st.setString(3, head);
        st.setString(4, hash);
        st.executeUpdate();
      }
      try (PreparedStatement st = c.prepareStatement("UPDATE kms_audit_head SET record_count = ?, head_hash = ? WHERE single_row = 1")) {
        st.setLong(1, seq);
        st.setString(2, hash);
        st.executeUpdate();
      }
      return seq;
    });
  }

  /** The records, oldest first, parsed. */
  public List<JsonNode> records() {
    return db.inTransaction(c -> {
      List<JsonNode> out = new ArrayList<>();
      try (PreparedStatement st = c.prepareStatement("SELECT record_json FROM kms_audit ORDER BY seq_no");
           ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          out.add(parse(rs.getString(1)));
        }
      }
      return out;
    });
  }

  /** The outcome of {@link #verify()}: intact, or the first record found broken and why. */
  public record Verification(boolean intact, long records, long firstBadRecord, String problem) {
    static Verification ok(long n) {
      return new Verification(true, n, 0, null);
    }

    static Verification broken(long n, long at, String problem) {
      return new Verification(false, n, at, problem);
    }
  }

  /** Walks the whole chain and reports the first record that is missing, altered or out of place. */
  public Verification verify() {
    return db.inTransaction(c -> verify(c));
  }

  private static Verification verify(Connection c) throws SQLException {
    long expected = 1;
    String running = ZERO_HASH;
    try (PreparedStatement st = c.prepareStatement("SELECT seq_no, record_json, prev_hash, record_hash FROM kms_audit ORDER BY seq_no");
         ResultSet rs = st.executeQuery()) {
      while (rs.next()) {
        long seq = rs.getLong(1);
        if (seq != expected) {
          return Verification.broken(expected - 1, expected, "record " + expected + " is missing (the next one is " + seq + ")");
        }
        if (!running.equals(rs.getString(3))) {
          return Verification.broken(expected - 1, seq, "record " + seq + " does not link to the record before it");
        }
        String h = hash(running, rs.getString(2));
        if (!h.equals(rs.getString(4))) {
          return Verification.broken(expected - 1, seq, "record " + seq + " was altered (its hash does not match its content)");
        }
        running = h;
        expected++;
      }
    }
    long n = expected - 1;
    try (PreparedStatement st = c.prepareStatement("SELECT record_count, head_hash FROM kms_audit_head WHERE single_row = 1");
         ResultSet rs = st.executeQuery()) {
      if (!rs.next()) {
        return Verification.broken(n, 1, "the audit trail's head row is missing");
      }
      long count = rs.getLong(1);
      if (count != n || !running.equals(rs.getString(2))) {
        return Verification.broken(n, n + 1, "the trail ends at record " + n + " but the head says " + count + " records: records were removed from the end");
      }
    }
    return Verification.ok(n);
  }

  static String hash(String prev, String json) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(prev.getBytes(StandardCharsets.US_ASCII));
      d.update((byte) '\n');
      d.update(json.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  private static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new KmsException(KmsError.KMS_INTERNAL, "an audit record is not JSON", e);
    }
  }
}
