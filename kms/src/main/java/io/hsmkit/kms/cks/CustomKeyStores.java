package io.hsmkit.kms.cks;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.backing.KeyBacking;
import io.hsmkit.kms.store.Database;
import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.Slot;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.constants.CKU;
import io.hsmkit.pkcs11.session.TokenSelector;
import io.hsmkit.provider.HsmKitConfig;
import io.hsmkit.provider.HsmKitProvider;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToIntFunction;

/**
 * The custom key stores of the KMS service: AWS's CreateCustomKeyStore, DescribeCustomKeyStores,
 * UpdateCustomKeyStore, DeleteCustomKeyStore, ConnectCustomKeyStore and DisconnectCustomKeyStore,
 * for stores of type {@code AWS_CLOUDHSM} whose "cluster" is a PKCS#11 token.
 *
 * <p><b>Clusters.</b> The constructor's {@code clusters} map a cluster id to an HsmKit provider
 * configuration (a file path, or inline text starting with {@code --}, as {@link HsmKitProvider}
 * takes it) naming the token's library and the token. The configuration must not carry a
 * {@code pin}: the kmsuser PIN is the store's, kept (sealed) in the database.
 *
 * <p><b>States</b> ({@link ConnectionState}), as AWS: a new store is DISCONNECTED; Connect takes
 * it through CONNECTING to CONNECTED, or to FAILED with a {@link ConnectionErrorCode}; Connect is
 * refused (CustomKeyStoreInvalidStateException) from FAILED, which needs a Disconnect first, and
 * from DISCONNECTING, and does nothing when the store is already CONNECTED or CONNECTING;
 * Disconnect is refused from DISCONNECTED and DISCONNECTING; Update and Delete need DISCONNECTED;
 * Delete also needs the store to hold no KMS key (CustomKeyStoreHasCMKsException). Connect works
 * synchronously: when it returns, DescribeCustomKeyStores shows CONNECTED or FAILED. A CONNECTING
 * or DISCONNECTING left behind by a process that died is shown as FAILED (INTERNAL_ERROR) or
 * DISCONNECTED once older than {@link #STALE_TRANSITION}; Disconnect is valid from CONNECTING at
 * any time.
 *
 * <p><b>The kmsuser PIN.</b> Create takes the PIN of the token's user (KeyStorePassword). Every
 * Connect logs in with the stored PIN and rotates it: a fresh random 32-character PIN is sealed
 * and written as <em>pending</em> (committed) before C_SetPIN, and becomes the current PIN after
 * it (committed), so a process killed at any point leaves a PIN that works among the two: the
 * next connect tries the current one, then the pending one. PINs are sealed by the {@link
 * PinSealer} (AES-GCM under a key of the default store's token), never stored in the clear.
 * A wrong PIN gives FAILED/INVALID_CREDENTIALS; CKR_PIN_LOCKED from the token, or
 * {@link #MAX_FAILED_CONNECTS} failed connects in a row, give USER_LOCKED_OUT, after which the
 * adapter does not try the token again until UpdateCustomKeyStore sets a new KeyStorePassword.
 *
 * <p><b>Key material.</b> {@link #backing(String)} gives the {@link StoreKeyBacking} of a
 * CONNECTED store (opened on first use by any instance sharing the database, so several service
 * nodes can serve one store); {@link CustomKeyStoreBackings} puts the default store beside them.
 *
 * <p>Authorisation and the audit trail are the KMS service's: these methods take the request
 * only. Thread-safe; every state change is one database transaction.
 */
public final class CustomKeyStores implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(CustomKeyStores.class.getName());

  /** Failed connects in a row (wrong PIN) after which the store is USER_LOCKED_OUT. */
  public static final int MAX_FAILED_CONNECTS = 3;
  /** How long a CONNECTING or DISCONNECTING may last before it counts as abandoned. */
  public static final Duration STALE_TRANSITION = Duration.ofMinutes(5);
  /** The only store type offered. */
  public static final String AWS_CLOUDHSM = "AWS_CLOUDHSM";

  private static final int PIN_LENGTH = 32;
  private static final char[] PIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789".toCharArray();

  private final Database db;
  private final Map<String, String> clusters;
  private final Clock clock;
  private final ToIntFunction<String> keyCountInStore;
  private final PinSealer sealer;
  private final SecureRandom random = new SecureRandom();
  /** The stores open in this instance, with the connect epoch they were opened in. */
  private final ConcurrentHashMap<String, Open> live = new ConcurrentHashMap<>();

  /** A store open here: its backing and the database's connect epoch when it was opened. */
  private record Open(StoreKeyBacking backing, int epoch) {}
  private final Object attachLock = new Object();
  /** Test seam: called around C_SetPIN, to kill a process at those points. */
  volatile RotationProbe probe = RotationProbe.NONE;

  /** Points of the PIN rotation a test can stop at. */
  interface RotationProbe {
    RotationProbe NONE = new RotationProbe() {};

    /** The new PIN is committed as pending; C_SetPIN comes next. */
    default void pendingWritten(String storeId) {}

    /** C_SetPIN returned; the new PIN is not yet committed as current. */
    default void pinChanged(String storeId) {}
  }

  /**
   * @param db the metadata database (migrated, with {@code V3_1__custom_key_stores.sql})
   * @param clusters cluster id to HsmKit provider configuration of the cluster's token (copied)
   * @param clock for creation dates and stale transitions
   * @param keyCountInStore how many KMS keys (in any state) the service holds in a store; Delete
   *     refuses a store for which it is not 0
   * @param sealer seals the kmsuser PINs kept in the database, normally {@link
   *     PinSealer#onBacking} on the default store
   */
  public CustomKeyStores(Database db, Map<String, String> clusters, Clock clock, ToIntFunction<String> keyCountInStore, PinSealer sealer) {
    this.db = Objects.requireNonNull(db, "db");
    this.clusters = Map.copyOf(clusters);
    this.clock = Objects.requireNonNull(clock, "clock");
    this.keyCountInStore = Objects.requireNonNull(keyCountInStore, "keyCountInStore");
    this.sealer = Objects.requireNonNull(sealer, "sealer");
    for (Map.Entry<String, String> e : this.clusters.entrySet()) {
      if (HsmKitConfig.parse(e.getValue()).hasPin()) {
        throw new IllegalArgumentException("cluster " + e.getKey() + ": its HsmKit configuration must not have a pin (the kmsuser PIN is the custom key store's)");
      }
    }
  }

  // ------------------------------------------------------------------ operations

  /** CreateCustomKeyStore: a new DISCONNECTED store on a configured cluster. */
  public CreateCustomKeyStoreResponse create(CreateCustomKeyStoreRequest r) {
    Objects.requireNonNull(r, "request");
    String name = requireName(r.customKeyStoreName(), "CustomKeyStoreName");
    String type = r.customKeyStoreType() == null ? AWS_CLOUDHSM : r.customKeyStoreType();
    if (type.equals("EXTERNAL_KEY_STORE")) {
      throw new KmsException(KmsError.UNSUPPORTED_OPERATION, "CustomKeyStoreType EXTERNAL_KEY_STORE is not supported: only AWS_CLOUDHSM");
    }
    if (!type.equals(AWS_CLOUDHSM)) {
      throw new KmsException(KmsError.VALIDATION, "CustomKeyStoreType must be AWS_CLOUDHSM or EXTERNAL_KEY_STORE");
    }
    String cluster = requireCluster(r.cloudHsmClusterId());
    checkTrustAnchor(r.trustAnchorCertificate());
    char[] pin = requirePassword(r.keyStorePassword());
    String id = newId();
    byte[] sealed;
    try {
      sealed = sealer.seal(pin, id);
    } finally {
      Arrays.fill(pin, '\0');
    }
    long now = clock.millis();
    db.inTransaction(c -> {
      requireNameFree(c, name, null);
      requireClusterFree(c, cluster, null);
      try (PreparedStatement st = c.prepareStatement("INSERT INTO kms_custom_key_store (cks_id, cks_name, cluster_id, trust_anchor, store_type,"
          + " conn_state, conn_error, pin_current, pin_pending, failed_connects, created_ms, state_changed_ms) VALUES (?,?,?,?,?,?,NULL,?,NULL,0,?,?)")) {
        st.setString(1, id);
        st.setString(2, name);
        st.setString(3, cluster);
        st.setString(4, r.trustAnchorCertificate());
        st.setString(5, type);
        st.setString(6, ConnectionState.DISCONNECTED.name());
        st.setString(7, b64(sealed));
        st.setLong(8, now);
        st.setLong(9, now);
        st.executeUpdate();
      } catch (SQLException e) {
        if ("23505".equals(e.getSQLState())) { // a concurrent create took the name
          throw new KmsException(KmsError.CUSTOM_KEY_STORE_NAME_IN_USE, "the custom key store name " + name + " is in use");
        }
        throw e;
      }
      return null;
    });
    return new CreateCustomKeyStoreResponse(id);
  }

  /** DescribeCustomKeyStores: one store by id or name, or a page of all (oldest first). */
  public DescribeCustomKeyStoresResponse describe(DescribeCustomKeyStoresRequest r) {
    Objects.requireNonNull(r, "request");
    if (r.customKeyStoreId() != null && r.customKeyStoreName() != null) {
      throw new KmsException(KmsError.VALIDATION, "give CustomKeyStoreId or CustomKeyStoreName, not both");
    }
    int limit = r.limit() == null ? 1000 : r.limit();
    if (limit < 1 || limit > 1000) {
      throw new KmsException(KmsError.VALIDATION, "Limit must be between 1 and 1000");
    }
    long afterMs = Long.MIN_VALUE;
    String afterId = "";
    if (r.marker() != null) {
      try {
        String m = new String(Base64.getUrlDecoder().decode(r.marker()), StandardCharsets.UTF_8);
        int colon = m.indexOf(':');
        afterMs = Long.parseLong(m.substring(0, colon));
        afterId = m.substring(colon + 1);
      } catch (RuntimeException e) {
        throw new KmsException(KmsError.INVALID_MARKER, "the Marker is not one this service returned");
      }
    }
    long fAfterMs = afterMs;
    String fAfterId = afterId;
    List<StoreRow> rows = db.inTransaction(c -> {
      String where;
      String arg;
      if (r.customKeyStoreId() != null) {
        where = "cks_id = ?";
        arg = r.customKeyStoreId();
      } else if (r.customKeyStoreName() != null) {
        where = "cks_name = ?";
        arg = r.customKeyStoreName();
      } else {
        where = "(created_ms > ? OR (created_ms = ? AND cks_id > ?))";
        arg = null;
      }
      try (PreparedStatement st = c.prepareStatement("SELECT " + COLUMNS + " FROM kms_custom_key_store WHERE " + where
          + " ORDER BY created_ms, cks_id")) {
        if (arg != null) {
          st.setString(1, arg);
        } else {
          st.setLong(1, fAfterMs);
          st.setLong(2, fAfterMs);
          st.setString(3, fAfterId);
        }
        st.setMaxRows(limit + 1);
        List<StoreRow> out = new ArrayList<>();
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            out.add(StoreRow.of(rs));
          }
        }
        return out;
      }
    });
    if (rows.isEmpty() && (r.customKeyStoreId() != null || r.customKeyStoreName() != null)) {
      throw notFound(r.customKeyStoreId() != null ? r.customKeyStoreId() : "named " + r.customKeyStoreName());
    }
    boolean truncated = rows.size() > limit;
    List<StoreRow> page = truncated ? rows.subList(0, limit) : rows;
    List<CustomKeyStoresListEntry> entries = new ArrayList<>();
    for (StoreRow s : page) {
      StoreRow v = s.viewAt(clock.millis());
      entries.add(new CustomKeyStoresListEntry(v.id, v.name, v.clusterId, v.trustAnchor, v.state,
          v.state == ConnectionState.FAILED ? v.error : null, Instant.ofEpochMilli(v.createdMs), v.type));
    }
    String next = null;
    if (truncated) {
      StoreRow last = page.get(page.size() - 1);
      next = Base64.getUrlEncoder().withoutPadding().encodeToString((last.createdMs + ":" + last.id).getBytes(StandardCharsets.UTF_8));
    }
    return new DescribeCustomKeyStoresResponse(entries, next, truncated);
  }

  /**
   * UpdateCustomKeyStore: a new name, kmsuser password and/or cluster for a DISCONNECTED store. A
   * new password replaces the stored PIN (and any pending one) and clears the failure count, so a
   * USER_LOCKED_OUT store can connect again once its kmsuser has that PIN on the token.
   */
  public UpdateCustomKeyStoreResponse update(UpdateCustomKeyStoreRequest r) {
    Objects.requireNonNull(r, "request");
    String id = requireId(r.customKeyStoreId());
    if (r.newCustomKeyStoreName() == null && r.keyStorePassword() == null && r.cloudHsmClusterId() == null) {
      throw new KmsException(KmsError.VALIDATION, "give NewCustomKeyStoreName, KeyStorePassword or CloudHsmClusterId");
    }
    String name = r.newCustomKeyStoreName() == null ? null : requireName(r.newCustomKeyStoreName(), "NewCustomKeyStoreName");
    String cluster = r.cloudHsmClusterId() == null ? null : requireCluster(r.cloudHsmClusterId());
    byte[] sealed = null;
    if (r.keyStorePassword() != null) {
      char[] pin = requirePassword(r.keyStorePassword());
      try {
        sealed = sealer.seal(pin, id);
      } finally {
        Arrays.fill(pin, '\0');
      }
    }
    byte[] fSealed = sealed;
    db.inTransaction(c -> {
      StoreRow s = lock(c, id);
      requireState(s, "UpdateCustomKeyStore", ConnectionState.DISCONNECTED);
      if (name != null && !name.equals(s.name)) {
        requireNameFree(c, name, id);
        exec(c, "UPDATE kms_custom_key_store SET cks_name = ? WHERE cks_id = ?", name, id);
      }
      if (cluster != null && !cluster.equals(s.clusterId)) {
        requireClusterFree(c, cluster, id);
        exec(c, "UPDATE kms_custom_key_store SET cluster_id = ? WHERE cks_id = ?", cluster, id);
      }
      if (fSealed != null) {
        exec(c, "UPDATE kms_custom_key_store SET pin_current = ?, pin_pending = NULL, failed_connects = 0 WHERE cks_id = ?", b64(fSealed), id);
      }
      return null;
    });
    return new UpdateCustomKeyStoreResponse();
  }

  /** DeleteCustomKeyStore: only a DISCONNECTED store that holds no KMS key. Token objects are not touched. */
  public DeleteCustomKeyStoreResponse delete(DeleteCustomKeyStoreRequest r) {
    Objects.requireNonNull(r, "request");
    String id = requireId(r.customKeyStoreId());
    db.inTransaction(c -> {
      StoreRow s = lock(c, id);
      requireState(s, "DeleteCustomKeyStore", ConnectionState.DISCONNECTED);
      int keys = keyCountInStore.applyAsInt(id);
      if (keys > 0) {
        throw new KmsException(KmsError.CUSTOM_KEY_STORE_HAS_CMKS, "custom key store " + id + " holds " + keys
            + " KMS key(s): delete them (ScheduleKeyDeletion) and wait until they are gone");
      }
      exec(c, "DELETE FROM kms_custom_key_store WHERE cks_id = ?", id);
      return null;
    });
    return new DeleteCustomKeyStoreResponse();
  }

  /**
   * ConnectCustomKeyStore: logs in to the cluster's token as kmsuser, rotates the kmsuser PIN and
   * opens the store's {@link StoreKeyBacking}; ends CONNECTED, or FAILED with the reason in
   * DescribeCustomKeyStores (the call itself succeeds then, as AWS's, which connects
   * asynchronously). Nothing to do when the store is CONNECTED or CONNECTING.
   */
  public ConnectCustomKeyStoreResponse connect(ConnectCustomKeyStoreRequest r) {
    Objects.requireNonNull(r, "request");
    String id = requireId(r.customKeyStoreId());
    StoreRow row = db.inTransaction(c -> {
      StoreRow s = lock(c, id);
      switch (s.state) {
        case CONNECTED, CONNECTING -> {
          return null;
        }
        case FAILED -> throw new KmsException(KmsError.CUSTOM_KEY_STORE_INVALID_STATE, "custom key store " + id
            + " is FAILED" + (s.error == null ? "" : " (" + s.error + ")") + ": disconnect it (DisconnectCustomKeyStore), then connect it");
        case DISCONNECTING -> throw invalidState(s, "ConnectCustomKeyStore");
        default -> {
          setState(c, id, ConnectionState.CONNECTING, null);
          return s;
        }
      }
    });
    if (row == null) {
      return new ConnectCustomKeyStoreResponse();
    }
    StoreKeyBacking backing = null;
    ConnectFailure failure = null;
    try {
      backing = establish(row);
    } catch (ConnectFailure f) {
      failure = f;
    } catch (RuntimeException e) {
      // Never leave the store CONNECTING: anything unforeseen is FAILED/INTERNAL_ERROR, as AWS
      // reports its own internal errors. The message names no secret (none is in our exceptions).
      LOG.log(System.Logger.Level.WARNING, "connecting custom key store {0} failed: {1}", id, e.toString());
      failure = new ConnectFailure(ConnectionErrorCode.INTERNAL_ERROR, false);
    }
    if (failure != null) {
      ConnectFailure f = failure;
      db.inTransaction(c -> {
        StoreRow s = lock(c, id);
        if (s.state != ConnectionState.CONNECTING) {
          return null; // disconnected meanwhile: nothing to report
        }
        ConnectionErrorCode code = f.code;
        int failed = s.failedConnects;
        if (f.countsAsFailedLogin) {
          failed++;
          if (failed >= MAX_FAILED_CONNECTS) {
            code = ConnectionErrorCode.USER_LOCKED_OUT;
          }
        }
        try (PreparedStatement st = c.prepareStatement("UPDATE kms_custom_key_store SET conn_state = ?, conn_error = ?, failed_connects = ?,"
            + " state_changed_ms = ? WHERE cks_id = ?")) {
          st.setString(1, ConnectionState.FAILED.name());
          st.setString(2, code.name());
          st.setInt(3, failed);
          st.setLong(4, clock.millis());
          st.setString(5, id);
          st.executeUpdate();
        }
        return null;
      });
      return new ConnectCustomKeyStoreResponse();
    }
    Integer epoch = db.inTransaction(c -> {
      StoreRow s = lock(c, id);
      if (s.state != ConnectionState.CONNECTING) {
        return null;
      }
      exec(c, "UPDATE kms_custom_key_store SET failed_connects = 0, conn_epoch = conn_epoch + 1 WHERE cks_id = ?", id);
      setState(c, id, ConnectionState.CONNECTED, null);
      return s.epoch + 1;
    });
    if (epoch != null) {
      Open old = live.put(id, new Open(backing, epoch));
      if (old != null) {
        old.backing.close();
      }
    } else {
      backing.close();
    }
    return new ConnectCustomKeyStoreResponse();
  }

  /** DisconnectCustomKeyStore: from CONNECTED (through DISCONNECTING), CONNECTING or FAILED to DISCONNECTED. */
  public DisconnectCustomKeyStoreResponse disconnect(DisconnectCustomKeyStoreRequest r) {
    Objects.requireNonNull(r, "request");
    String id = requireId(r.customKeyStoreId());
    ConnectionState was = db.inTransaction(c -> {
      StoreRow s = lock(c, id);
      switch (s.state) {
        case DISCONNECTED, DISCONNECTING -> throw invalidState(s, "DisconnectCustomKeyStore");
        case CONNECTED -> setState(c, id, ConnectionState.DISCONNECTING, null);
        default -> setState(c, id, ConnectionState.DISCONNECTED, null);
      }
      return s.state;
    });
    Open o = live.remove(id);
    if (o != null) {
      o.backing.close();
    }
    if (was == ConnectionState.CONNECTED) {
      db.inTransaction(c -> {
        StoreRow s = lock(c, id);
        if (s.state == ConnectionState.DISCONNECTING) {
          setState(c, id, ConnectionState.DISCONNECTED, null);
        }
        return null;
      });
    }
    return new DisconnectCustomKeyStoreResponse();
  }

  // ------------------------------------------------------------------ key material

  /** The store's connection state (after {@link #STALE_TRANSITION} is applied), or empty for an unknown id. */
  public Optional<ConnectionState> state(String customKeyStoreId) {
    if (customKeyStoreId == null) {
      return Optional.empty();
    }
    StoreRow s = db.inTransaction(c -> find(c, customKeyStoreId, false));
    return s == null ? Optional.empty() : Optional.of(s.viewAt(clock.millis()).state);
  }

  /**
   * The key material of a CONNECTED store. In this instance the store may not be open yet (it was
   * connected by another node sharing the database, or before a restart): it is then opened with
   * the stored kmsuser PIN, without a rotation.
   *
   * @throws KmsException CUSTOM_KEY_STORE_NOT_FOUND for an unknown id; KEY_UNAVAILABLE naming the
   *     state when the store is not CONNECTED; KMS_INVALID_STATE when it is CONNECTED but its token
   *     cannot be reached or does not take the stored PIN
   */
  public KeyBacking backing(String customKeyStoreId) {
    String id = requireId(customKeyStoreId);
    StoreRow s = db.inTransaction(c -> find(c, id, false));
    if (s == null) {
      throw notFound(id);
    }
    s = s.viewAt(clock.millis());
    if (s.state != ConnectionState.CONNECTED) {
      Open stale = live.remove(id); // disconnected by another node
      if (stale != null) {
        stale.backing.close();
      }
      throw new KmsException(KmsError.KEY_UNAVAILABLE, "custom key store " + id + " is " + s.state
          + (s.state == ConnectionState.FAILED && s.error != null ? " (" + s.error + ")" : "") + ": its keys are unavailable until it is connected");
    }
    Open o = live.get(id);
    if (o != null && o.epoch == s.epoch && !o.backing.isClosed()) {
      return o.backing;
    }
    synchronized (attachLock) {
      o = live.get(id);
      if (o != null && o.epoch == s.epoch && !o.backing.isClosed()) {
        return o.backing;
      }
      if (o != null) {
        // Reconnected (so the PIN rotated) by another node since this one opened it: reopen.
        live.remove(id);
        o.backing.close();
      }
      StoreKeyBacking b = attach(s);
      live.put(id, new Open(b, s.epoch));
      return b;
    }
  }

  /** Closes this instance's open stores (logs their tokens out) without changing any state. */
  @Override
  public void close() {
    for (String id : List.copyOf(live.keySet())) {
      Open o = live.remove(id);
      if (o != null) {
        o.backing.close();
      }
    }
  }

  // ------------------------------------------------------------------ connecting

  /** Why a connect failed; {@code countsAsFailedLogin} when the PIN was refused. */
  private static final class ConnectFailure extends Exception {
    private static final long serialVersionUID = 1L;
    final transient ConnectionErrorCode code;
    final boolean countsAsFailedLogin;

    ConnectFailure(ConnectionErrorCode code, boolean countsAsFailedLogin) {
      super(code.name(), null, false, false);
      this.code = code;
      this.countsAsFailedLogin = countsAsFailedLogin;
    }
  }

  /** How long a call waits for a session of a store's token, unless the cluster's configuration says otherwise. */
  static final int SESSION_WAIT_MILLIS = 5_000;

  /**
   * The provider configuration for a cluster: inline configurations get a {@code sessionWaitMillis}
   * of {@value #SESSION_WAIT_MILLIS} when they have none, because the provider's default (30 s)
   * would hold every KMS call to a vanished token for longer than the AWS SDKs wait for an answer.
   */
  static String providerConfig(String configText) {
    if (configText.startsWith("--") && !configText.contains("sessionWaitMillis")) {
      return configText + " sessionWaitMillis=" + SESSION_WAIT_MILLIS;
    }
    return configText;
  }

  /** Logs in as kmsuser, rotates the PIN (kill-safe, see the class comment) and opens the provider. */
  private StoreKeyBacking establish(StoreRow row) throws ConnectFailure {
    String id = row.id;
    if (row.failedConnects >= MAX_FAILED_CONNECTS) {
      throw new ConnectFailure(ConnectionErrorCode.USER_LOCKED_OUT, false);
    }
    String configText = clusters.get(row.clusterId);
    if (configText == null) {
      throw new ConnectFailure(ConnectionErrorCode.CLUSTER_NOT_FOUND, false);
    }
    HsmKitConfig config = HsmKitConfig.parse(configText);
    Pkcs11Module module;
    try {
      module = Pkcs11Module.open(config.library());
    } catch (RuntimeException | LinkageError e) {
      throw new ConnectFailure(ConnectionErrorCode.NETWORK_ERRORS, false);
    }
    char[] current = null;
    char[] pending = null;
    char[] next = null;
    try {
      Slot slot = findSlot(module, config);
      current = sealer.open(row.pinCurrent, id);
      pending = row.pinPending == null ? null : sealer.open(row.pinPending, id);
      next = newPin();
      Session s;
      try {
        s = slot.openSession(true);
      } catch (Pkcs11Exception e) {
        throw new ConnectFailure(StoreKeyBacking.unreachable(e) ? ConnectionErrorCode.NETWORK_ERRORS : ConnectionErrorCode.INTERNAL_ERROR, false);
      }
      try {
        // The login is per application and token: end any left over so that C_Login checks the PIN.
        logoutQuietly(s);
        char[] good = login(s, current);
        if (good == null && pending != null) {
          good = login(s, pending);
          if (good != null) {
            // The last rotation changed the PIN but died before recording it: record it now.
            commitPins(id, row.pinPending, null);
          }
        }
        if (good == null) {
          throw new ConnectFailure(ConnectionErrorCode.INVALID_CREDENTIALS, true);
        }
        byte[] sealedNext = sealer.seal(next, id);
        commitPins(id, null, sealedNext); // pending first: a kill after C_SetPIN still knows the PIN
        probe.pendingWritten(id);
        try {
          s.raw().C_SetPIN(s.handle(), good, next);
        } catch (Pkcs11Exception e) {
          throw new ConnectFailure(StoreKeyBacking.unreachable(e) ? ConnectionErrorCode.NETWORK_ERRORS : ConnectionErrorCode.INTERNAL_ERROR, false);
        }
        probe.pinChanged(id);
        commitPins(id, sealedNext, null);
        logoutQuietly(s);
      } finally {
        s.close();
      }
      HsmKitProvider provider;
      try {
        provider = new HsmKitProvider(providerConfig(configText));
      } catch (RuntimeException e) {
        throw new ConnectFailure(ConnectionErrorCode.NETWORK_ERRORS, false);
      }
      try {
        // A real login with the new PIN: also proves the rotation took.
        provider.login(next);
      } catch (javax.security.auth.login.LoginException | RuntimeException e) {
        provider.tokenContext().close();
        throw new ConnectFailure(ConnectionErrorCode.INTERNAL_ERROR, false);
      }
      return StoreKeyBacking.on(id, provider);
    } catch (KmsException e) {
      throw new ConnectFailure(ConnectionErrorCode.INTERNAL_ERROR, false); // a sealed PIN that does not open
    } finally {
      wipe(current);
      wipe(pending);
      wipe(next);
      module.close(); // the provider holds its own reference to the library
    }
  }

  /** The configured token; NETWORK_ERRORS when no slot has a token, INSUFFICIENT_CLOUDHSM_HSMS when others do. */
  private static Slot findSlot(Pkcs11Module module, HsmKitConfig config) throws ConnectFailure {
    TokenSelector selector = switch (config.slotChoice()) {
      case LABEL -> TokenSelector.label(config.tokenLabel());
      case SLOT_ID -> TokenSelector.slotId(config.slot());
      case SLOT_LIST_INDEX -> TokenSelector.slotListIndex(config.slotListIndex());
    };
    try {
      Optional<Slot> slot = selector.find(module);
      if (slot.isPresent()) {
        return slot.get();
      }
      throw new ConnectFailure(module.slots(true).isEmpty() ? ConnectionErrorCode.NETWORK_ERRORS : ConnectionErrorCode.INSUFFICIENT_CLOUDHSM_HSMS, false);
    } catch (Pkcs11Exception | IllegalArgumentException e) {
      throw new ConnectFailure(ConnectionErrorCode.NETWORK_ERRORS, false);
    }
  }

  /** {@code pin} when it logs in, null when the token says it is wrong. */
  private static char[] login(Session s, char[] pin) throws ConnectFailure {
    try {
      // The raw C_Login: Session.login takes CKR_USER_ALREADY_LOGGED_IN as success, which checks no PIN.
      s.raw().C_Login(s.handle(), CKU.USER, pin);
      return pin;
    } catch (Pkcs11Exception e) {
      if (e.is(CKR.USER_ALREADY_LOGGED_IN)) {
        // Someone else in this process logged the token in after our logout: the PIN cannot be checked.
        throw new ConnectFailure(ConnectionErrorCode.USER_LOGGED_IN, false);
      }
      if (e.isAny(CKR.PIN_INCORRECT, CKR.PIN_LEN_RANGE, CKR.PIN_INVALID)) {
        return null;
      }
      if (e.is(CKR.PIN_LOCKED)) {
        throw new ConnectFailure(ConnectionErrorCode.USER_LOCKED_OUT, false);
      }
      throw new ConnectFailure(StoreKeyBacking.unreachable(e) ? ConnectionErrorCode.NETWORK_ERRORS : ConnectionErrorCode.INTERNAL_ERROR, false);
    }
  }

  private static void logoutQuietly(Session s) {
    try {
      s.logout();
    } catch (Pkcs11Exception e) {
      // CKR_USER_NOT_LOGGED_IN: nothing to end
    }
  }

  /** Opens a CONNECTED store in this instance with the stored PIN (the pending one if that is what works). */
  private StoreKeyBacking attach(StoreRow row) {
    String id = row.id;
    String configText = clusters.get(row.clusterId);
    if (configText == null) {
      throw new KmsException(KmsError.KMS_INVALID_STATE, "custom key store " + id + " cannot reach its token: cluster " + row.clusterId + " is not configured here");
    }
    HsmKitProvider provider;
    try {
      provider = new HsmKitProvider(providerConfig(configText));
    } catch (RuntimeException e) {
      throw new KmsException(KmsError.KMS_INVALID_STATE, "custom key store " + id + " cannot reach its token", e);
    }
    for (byte[] sealed : new byte[][] {row.pinCurrent, row.pinPending}) {
      if (sealed == null) {
        continue;
      }
      char[] pin = sealer.open(sealed, id);
      try {
        provider.login(pin);
        return StoreKeyBacking.on(id, provider);
      } catch (javax.security.auth.login.FailedLoginException e) {
        // try the next one
      } catch (javax.security.auth.login.LoginException | RuntimeException e) {
        provider.tokenContext().close();
        throw new KmsException(KmsError.KMS_INVALID_STATE, "custom key store " + id + " cannot reach its token", e);
      } finally {
        wipe(pin);
      }
    }
    provider.tokenContext().close();
    throw new KmsException(KmsError.KMS_INVALID_STATE, "custom key store " + id + " cannot log in to its token as kmsuser: disconnect it and update its KeyStorePassword");
  }

  /** Records the current and/or pending sealed PIN in its own committed transaction (null leaves current as is). */
  private void commitPins(String id, byte[] current, byte[] pending) {
    db.inTransaction(c -> {
      if (current != null) {
        exec(c, "UPDATE kms_custom_key_store SET pin_current = ?, pin_pending = ? WHERE cks_id = ?", b64(current), pending == null ? null : b64(pending), id);
      } else {
        exec(c, "UPDATE kms_custom_key_store SET pin_pending = ? WHERE cks_id = ?", pending == null ? null : b64(pending), id);
      }
      return null;
    });
  }

  private char[] newPin() {
    char[] pin = new char[PIN_LENGTH];
    for (int i = 0; i < pin.length; i++) {
      pin[i] = PIN_ALPHABET[random.nextInt(PIN_ALPHABET.length)];
    }
    return pin;
  }

  private static void wipe(char[] a) {
    if (a != null) {
      Arrays.fill(a, '\0');
    }
  }

  // ------------------------------------------------------------------ validation

  private String newId() {
    byte[] b = new byte[9];
    random.nextBytes(b);
    return "cks-" + HexFormat.of().formatHex(b).substring(0, 17);
  }

  private static String requireId(String id) {
    if (id == null || id.isEmpty() || id.length() > 64) {
      throw new KmsException(KmsError.VALIDATION, "CustomKeyStoreId must have 1 to 64 characters");
    }
    return id;
  }

  private static String requireName(String name, String member) {
    if (name == null || name.isBlank() || name.length() > 256) {
      throw new KmsException(KmsError.VALIDATION, member + " must have 1 to 256 characters");
    }
    return name;
  }

  private String requireCluster(String cluster) {
    if (cluster == null || cluster.isEmpty()) {
      throw new KmsException(KmsError.VALIDATION, "CloudHsmClusterId is required");
    }
    if (!clusters.containsKey(cluster)) {
      throw new KmsException(KmsError.CLOUDHSM_CLUSTER_NOT_FOUND, "no cluster " + cluster + " is configured");
    }
    return cluster;
  }

  /** KeyStorePassword: 7 to 32 characters, as AWS; returned as a char[] the caller wipes. */
  private static char[] requirePassword(String password) {
    if (password == null || password.length() < 7 || password.length() > 32) {
      throw new KmsException(KmsError.VALIDATION, "KeyStorePassword must have 7 to 32 characters");
    }
    return password.toCharArray();
  }

  /**
   * The trust anchor must be one PEM X.509 certificate. (AWS also checks that it issued the
   * cluster's certificate; a token has no such certificate, so that part is not checked.)
   */
  private static void checkTrustAnchor(String pem) {
    if (pem == null || pem.isBlank()) {
      throw new KmsException(KmsError.VALIDATION, "TrustAnchorCertificate is required for an AWS_CLOUDHSM key store");
    }
    if (pem.length() > 5000 || !pem.contains("-----BEGIN CERTIFICATE-----")) {
      throw new KmsException(KmsError.INCORRECT_TRUST_ANCHOR, "TrustAnchorCertificate is not a PEM X.509 certificate");
    }
    try {
      CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    } catch (CertificateException e) {
      throw new KmsException(KmsError.INCORRECT_TRUST_ANCHOR, "TrustAnchorCertificate is not a PEM X.509 certificate");
    }
  }

  private static void requireNameFree(Connection c, String name, String exceptId) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("SELECT cks_id FROM kms_custom_key_store WHERE cks_name = ?")) {
      st.setString(1, name);
      try (ResultSet rs = st.executeQuery()) {
        if (rs.next() && !rs.getString(1).equals(exceptId)) {
          throw new KmsException(KmsError.CUSTOM_KEY_STORE_NAME_IN_USE, "the custom key store name " + name + " is in use");
        }
      }
    }
  }

  private static void requireClusterFree(Connection c, String cluster, String exceptId) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("SELECT cks_id FROM kms_custom_key_store WHERE cluster_id = ?")) {
      st.setString(1, cluster);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          if (!rs.getString(1).equals(exceptId)) {
            throw new KmsException(KmsError.CLOUDHSM_CLUSTER_IN_USE, "cluster " + cluster + " is the cluster of custom key store " + rs.getString(1));
          }
        }
      }
    }
  }

  private static void requireState(StoreRow s, String op, ConnectionState wanted) {
    if (s.state != wanted) {
      throw new KmsException(KmsError.CUSTOM_KEY_STORE_INVALID_STATE, op + " needs custom key store " + s.id + " to be " + wanted + "; it is " + s.state
          + (wanted == ConnectionState.DISCONNECTED ? " (DisconnectCustomKeyStore first)" : ""));
    }
  }

  private static KmsException invalidState(StoreRow s, String op) {
    return new KmsException(KmsError.CUSTOM_KEY_STORE_INVALID_STATE, op + " is not valid while custom key store " + s.id + " is " + s.state);
  }

  private static KmsException notFound(String what) {
    return new KmsException(KmsError.CUSTOM_KEY_STORE_NOT_FOUND, "no custom key store " + what);
  }

  // ------------------------------------------------------------------ rows

  private static final String COLUMNS = "cks_id, cks_name, cluster_id, trust_anchor, store_type, conn_state, conn_error, pin_current,"
      + " pin_pending, failed_connects, created_ms, state_changed_ms, conn_epoch";

  /** One row of kms_custom_key_store. */
  private record StoreRow(String id, String name, String clusterId, String trustAnchor, String type, ConnectionState state,
      ConnectionErrorCode error, byte[] pinCurrent, byte[] pinPending, int failedConnects, long createdMs, long stateChangedMs, int epoch) {
    static StoreRow of(ResultSet rs) throws SQLException {
      String err = rs.getString(7);
      String pend = rs.getString(9);
      return new StoreRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
          ConnectionState.valueOf(rs.getString(6)), err == null ? null : ConnectionErrorCode.valueOf(err), unb64(rs.getString(8)),
          pend == null ? null : unb64(pend), rs.getInt(10), rs.getLong(11), rs.getLong(12), rs.getInt(13));
    }

    /** The row as it counts at {@code nowMs}: a transition older than STALE_TRANSITION was abandoned. */
    StoreRow viewAt(long nowMs) {
      if (nowMs - stateChangedMs <= STALE_TRANSITION.toMillis()) {
        return this;
      }
      if (state == ConnectionState.CONNECTING) {
        return with(ConnectionState.FAILED, ConnectionErrorCode.INTERNAL_ERROR);
      }
      if (state == ConnectionState.DISCONNECTING) {
        return with(ConnectionState.DISCONNECTED, null);
      }
      return this;
    }

    StoreRow with(ConnectionState s, ConnectionErrorCode e) {
      return new StoreRow(id, name, clusterId, trustAnchor, type, s, e, pinCurrent, pinPending, failedConnects, createdMs, stateChangedMs, epoch);
    }

    @Override
    public String toString() {
      return "StoreRow[" + id + ", " + state + "]"; // never the sealed PINs
    }
  }

  private static StoreRow find(Connection c, String id, boolean forUpdate) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("SELECT " + COLUMNS + " FROM kms_custom_key_store WHERE cks_id = ?" + (forUpdate ? " FOR UPDATE" : ""))) {
      st.setString(1, id);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? StoreRow.of(rs) : null;
      }
    }
  }

  /** The row locked for this transaction, with an abandoned transition settled (and written). */
  private StoreRow lock(Connection c, String id) throws SQLException {
    StoreRow s = find(c, id, true);
    if (s == null) {
      throw notFound(id);
    }
    StoreRow v = s.viewAt(clock.millis());
    if (v.state != s.state) {
      setState(c, id, v.state, v.error);
    }
    return v;
  }

  private void setState(Connection c, String id, ConnectionState state, ConnectionErrorCode error) throws SQLException {
    try (PreparedStatement st = c.prepareStatement("UPDATE kms_custom_key_store SET conn_state = ?, conn_error = ?, state_changed_ms = ? WHERE cks_id = ?")) {
      st.setString(1, state.name());
      st.setString(2, error == null ? null : error.name());
      st.setLong(3, clock.millis());
      st.setString(4, id);
      st.executeUpdate();
    }
  }

  private static void exec(Connection c, String sql, String... args) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        st.setString(i + 1, args[i]);
      }
      st.executeUpdate();
    }
  }

  private static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  private static byte[] unb64(String s) {
    return Base64.getDecoder().decode(s);
  }
}
