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
 * <p>The chain alone detects changes made by anyone who cannot also rewrite every later record and
 * the head; a writer with full database access can rebuild it. With an {@link AuditSeal} (what the
 * server uses) each record also stores {@code record_mac}, an HMAC-SHA256 made in the HSM over its
 * sequence number and chain hash, and the head stores {@code head_mac} over the count and head hash;
 * {@link #verify()} then also checks every MAC, so a record rewritten with correctly recomputed hashes
 * is found (its MAC does not match), as is a record without a MAC. Without a seal (tests of other
 * parts) the MAC columns stay null and are not checked.
 */
public final class AuditTrail {
  static final String ZERO_HASH = "0".repeat(64);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Database db;
  private final AuditSeal seal;

  /** A trail chained by SHA-256 only (no MACs written or checked). */
  public AuditTrail(Database db) {
    this(db, null);
  }

  /** A trail whose records and head are MACed in the HSM by {@code seal} (null: none). */
  public AuditTrail(Database db, AuditSeal seal) {
    this.db = Objects.requireNonNull(db, "db");
    this.seal = seal;
  }

  /** Whether records are MACed and MACs checked. */
  public boolean sealed() {
    return seal != null;
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
      try (PreparedStatement st = c.prepareStatement(
          "INSERT INTO kms_audit (seq_no, record_json, prev_hash, record_hash, record_mac) VALUES (?, ?, ?, ?, ?)")) {
        st.setLong(1, seq);
        st.setString(2, json);
        st.setString(3, head);
        st.setString(4, hash);
        st.setString(5, seal == null ? null : seal.recordMac(seq, hash));
        st.executeUpdate();
      }
      try (PreparedStatement st = c.prepareStatement("UPDATE kms_audit_head SET record_count = ?, head_hash = ?, head_mac = ? WHERE single_row = 1")) {
        st.setLong(1, seq);
        st.setString(2, hash);
        st.setString(3, seal == null ? null : seal.headMac(seq, hash));
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

  /**
   * Walks the whole chain and reports the first record that is missing, altered or out of place;
   * with a seal, also the first record or head whose MAC is missing or does not match.
   */
  public Verification verify() {
    return db.inTransaction(c -> verify(c, seal));
  }

  /**
   * Seals the records and head written before this trail had a seal (their MAC columns null), after
   * checking their chain. Only for a trail whose seal key was just made ({@link AuditSeal#createdNow()}):
   * once the key exists, a record without a MAC is a finding of {@link #verify()}, not something to
   * seal. Returns how many records it sealed.
   *
   * @throws KmsException KMS_INTERNAL when the chain is broken (nothing is sealed then)
   */
  public long sealExisting() {
    if (seal == null) {
      throw new IllegalStateException("this audit trail has no seal");
    }
    return db.inTransaction(Connection.TRANSACTION_READ_COMMITTED, c -> {
      try (PreparedStatement st = c.prepareStatement("SELECT record_count FROM kms_audit_head WHERE single_row = 1 FOR UPDATE");
           ResultSet rs = st.executeQuery()) {
        rs.next(); // the head's lock keeps appends out while the records are sealed
      }
      Verification v = verify(c, null);
      if (!v.intact()) {
        throw new KmsException(KmsError.KMS_INTERNAL, "the audit trail cannot be sealed: record " + v.firstBadRecord() + ": " + v.problem());
      }
      long sealed = 0;
      List<Object[]> unsealed = new ArrayList<>();
      try (PreparedStatement st = c.prepareStatement("SELECT seq_no, record_hash FROM kms_audit WHERE record_mac IS NULL ORDER BY seq_no");
           ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          unsealed.add(new Object[] {rs.getLong(1), rs.getString(2)});
        }
      }
      try (PreparedStatement st = c.prepareStatement("UPDATE kms_audit SET record_mac = ? WHERE seq_no = ?")) {
        for (Object[] r : unsealed) {
          st.setString(1, seal.recordMac((Long) r[0], (String) r[1]));
          st.setLong(2, (Long) r[0]);
          sealed += st.executeUpdate();
        }
      }
      try (PreparedStatement st = c.prepareStatement("UPDATE kms_audit_head SET head_mac = ? WHERE single_row = 1")) {
        st.setString(1, seal.headMac(v.records(), headHash(c)));
        st.executeUpdate();
      }
      return sealed;
    });
  }

  private static String headHash(Connection c) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("SELECT head_hash FROM kms_audit_head WHERE single_row = 1"); ResultSet rs = st.executeQuery()) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static Verification verify(Connection c, AuditSeal seal) throws SQLException {
    long expected = 1;
    String running = ZERO_HASH;
    try (PreparedStatement st = c.prepareStatement("SELECT seq_no, record_json, prev_hash, record_hash, record_mac FROM kms_audit ORDER BY seq_no");
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
        if (seal != null && !AuditSeal.matches(rs.getString(5), seal.recordMac(seq, h))) {
          return Verification.broken(expected - 1, seq, "record " + seq + (rs.getString(5) == null ? " has no MAC" : " was rewritten")
              + ": its hashes match but its MAC made in the HSM does not (the chain was recomputed by someone without the token key)");
        }
        running = h;
        expected++;
      }
    }
    long n = expected - 1;
    try (PreparedStatement st = c.prepareStatement("SELECT record_count, head_hash, head_mac FROM kms_audit_head WHERE single_row = 1");
         ResultSet rs = st.executeQuery()) {
      if (!rs.next()) {
        return Verification.broken(n, 1, "the audit trail's head row is missing");
      }
      long count = rs.getLong(1);
      if (count != n || !running.equals(rs.getString(2))) {
        return Verification.broken(n, n + 1, "the trail ends at record " + n + " but the head says " + count + " records: records were removed from the end");
      }
      // An empty trail has no head MAC yet (nothing has been sealed).
      if (seal != null && n > 0 && !AuditSeal.matches(rs.getString(3), seal.headMac(count, running))) {
        return Verification.broken(n, n + 1, "the head's MAC made in the HSM does not match its count and hash: the head was rewritten");
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
