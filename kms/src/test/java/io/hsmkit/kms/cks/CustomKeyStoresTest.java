package io.hsmkit.kms.cks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.backing.KeyBacking;
import io.hsmkit.kms.store.Database;
import io.hsmkit.kms.testing.TestDatabases;
import io.hsmkit.kms.testing.TestDatabases.Kind;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.provider.keys.HsmKey;
import java.security.Key;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import javax.crypto.Cipher;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * CustomKeyStores on real SoftHSM2 tokens, every test on H2 and on PostgreSQL: the operations and
 * their errors, every state rule, the kmsuser PIN (rotation, wrong PIN, lock-out), the key
 * material of a connected store, and state kept across instances.
 */
class CustomKeyStoresTest {
  private static final String[] CLUSTERS = {"c1", "c2", "c3"};
  private static CksFixture fx;

  private final CksFixture.TestClock clock = new CksFixture.TestClock();
  private final Map<String, Integer> keyCounts = new ConcurrentHashMap<>();
  private final List<CustomKeyStores> opened = new ArrayList<>();

  @BeforeAll
  static void tokens() {
    fx = CksFixture.create("cks-stores", CLUSTERS);
    fx.sealer(); // loads the library and makes the sealing key before any test
  }

  @AfterEach
  void closeAndResetTokens() {
    opened.forEach(CustomKeyStores::close);
    for (String c : CLUSTERS) {
      fx.resetKmsUser(c, CksFixture.initialPin(c));
    }
  }

  private CustomKeyStores stores(Database db) {
    return stores(db, fx.clusters());
  }

  private CustomKeyStores stores(Database db, Map<String, String> clusters) {
    CustomKeyStores s = new CustomKeyStores(db, clusters, clock, id -> keyCounts.getOrDefault(id, 0), fx.sealer());
    opened.add(s);
    return s;
  }

  private static String create(CustomKeyStores s, String name, String label) {
    return create(s, name, label, CksFixture.initialPin(label));
  }

  private static String create(CustomKeyStores s, String name, String label, String pin) {
    return s.create(new CreateCustomKeyStoreRequest(name, CksFixture.clusterId(label), CksFixture.trustAnchor(), pin, null)).customKeyStoreId();
  }

  private static CustomKeyStoresListEntry entry(CustomKeyStores s, String id) {
    List<CustomKeyStoresListEntry> l = s.describe(DescribeCustomKeyStoresRequest.byId(id)).customKeyStores();
    assertThat(l).hasSize(1);
    return l.get(0);
  }

  private static void connect(CustomKeyStores s, String id) {
    s.connect(new ConnectCustomKeyStoreRequest(id));
  }

  private static void disconnect(CustomKeyStores s, String id) {
    s.disconnect(new DisconnectCustomKeyStoreRequest(id));
  }

  private static void fails(KmsError error, String messagePart, ThrowingCallable call) {
    assertThatThrownBy(call).isInstanceOfSatisfying(KmsException.class, e -> {
      assertThat(e.error()).as(e.toString()).isEqualTo(error);
      assertThat(e.getMessage()).contains(messagePart);
    });
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void createDescribeUpdateDelete(Kind kind) {
    CustomKeyStores s = stores(TestDatabases.fresh(kind));
    String id = create(s, "store one", "c1");
    assertThat(id).matches("cks-[0-9a-f]{17}");
    CustomKeyStoresListEntry e = entry(s, id);
    assertThat(e.customKeyStoreName()).isEqualTo("store one");
    assertThat(e.cloudHsmClusterId()).isEqualTo("cluster-c1");
    assertThat(e.connectionState()).isEqualTo(ConnectionState.DISCONNECTED);
    assertThat(e.connectionErrorCode()).isNull();
    assertThat(e.creationDate()).isEqualTo(clock.instant());
    assertThat(e.customKeyStoreType()).isEqualTo("AWS_CLOUDHSM");
    assertThat(e.trustAnchorCertificate()).isEqualTo(CksFixture.trustAnchor());
    assertThat(e.toString()).doesNotContain(CksFixture.initialPin("c1"));

    s.update(new UpdateCustomKeyStoreRequest(id, "store 1", null, "cluster-c2"));
    e = entry(s, id);
    assertThat(e.customKeyStoreName()).isEqualTo("store 1");
    assertThat(e.cloudHsmClusterId()).isEqualTo("cluster-c2");
    assertThat(s.describe(DescribeCustomKeyStoresRequest.byName("store 1")).customKeyStores()).extracting(CustomKeyStoresListEntry::customKeyStoreId)
        .containsExactly(id);
    // The old name and cluster are free again.
    String other = create(s, "store one", "c1");
    assertThat(other).isNotEqualTo(id);

    s.delete(new DeleteCustomKeyStoreRequest(id));
    fails(KmsError.CUSTOM_KEY_STORE_NOT_FOUND, id, () -> s.describe(DescribeCustomKeyStoresRequest.byId(id)));
    assertThat(s.describe(DescribeCustomKeyStoresRequest.all()).customKeyStores()).extracting(CustomKeyStoresListEntry::customKeyStoreId)
        .containsExactly(other);
  }

  /** One invalid CreateCustomKeyStore, and the error it must give. */
  record BadCreate(String why, CreateCustomKeyStoreRequest request, KmsError error) {}

  @ParameterizedTest
  @EnumSource(Kind.class)
  void createRefusesBadRequests(Kind kind) {
    CustomKeyStores s = stores(TestDatabases.fresh(kind));
    create(s, "taken", "c1");
    String ta = CksFixture.trustAnchor();
    String pin = "seven77";
    List<BadCreate> cases = List.of(
        new BadCreate("name in use", new CreateCustomKeyStoreRequest("taken", "cluster-c2", ta, pin, null), KmsError.CUSTOM_KEY_STORE_NAME_IN_USE),
        new BadCreate("cluster in use", new CreateCustomKeyStoreRequest("other", "cluster-c1", ta, pin, null), KmsError.CLOUDHSM_CLUSTER_IN_USE),
        new BadCreate("unknown cluster", new CreateCustomKeyStoreRequest("other", "cluster-nope", ta, pin, null), KmsError.CLOUDHSM_CLUSTER_NOT_FOUND),
        new BadCreate("no cluster", new CreateCustomKeyStoreRequest("other", null, ta, pin, null), KmsError.VALIDATION),
        new BadCreate("blank name", new CreateCustomKeyStoreRequest(" ", "cluster-c2", ta, pin, null), KmsError.VALIDATION),
        new BadCreate("name of 257", new CreateCustomKeyStoreRequest("n".repeat(257), "cluster-c2", ta, pin, null), KmsError.VALIDATION),
        new BadCreate("password of 6", new CreateCustomKeyStoreRequest("other", "cluster-c2", ta, "six666", null), KmsError.VALIDATION),
        new BadCreate("password of 33", new CreateCustomKeyStoreRequest("other", "cluster-c2", ta, "p".repeat(33), null), KmsError.VALIDATION),
        new BadCreate("no password", new CreateCustomKeyStoreRequest("other", "cluster-c2", ta, null, null), KmsError.VALIDATION),
        new BadCreate("no trust anchor", new CreateCustomKeyStoreRequest("other", "cluster-c2", null, pin, null), KmsError.VALIDATION),
        new BadCreate("trust anchor not PEM", new CreateCustomKeyStoreRequest("other", "cluster-c2", "hello", pin, null), KmsError.INCORRECT_TRUST_ANCHOR),
        new BadCreate("trust anchor damaged", new CreateCustomKeyStoreRequest("other", "cluster-c2", ta.replace("M", "Q"), pin, null),
            KmsError.INCORRECT_TRUST_ANCHOR),
        new BadCreate("external key store", new CreateCustomKeyStoreRequest("other", "cluster-c2", ta, pin, "EXTERNAL_KEY_STORE"),
            KmsError.UNSUPPORTED_OPERATION),
        new BadCreate("unknown type", new CreateCustomKeyStoreRequest("other", "cluster-c2", ta, pin, "HSM"), KmsError.VALIDATION));
    List<String> wrong = new ArrayList<>();
    for (BadCreate c : cases) {
      try {
        s.create(c.request());
        wrong.add(c.why() + ": accepted");
      } catch (KmsException e) {
        if (e.error() != c.error()) {
          wrong.add(c.why() + ": " + e);
        }
        if (e.getMessage().contains(pin)) {
          wrong.add(c.why() + ": the message shows the password");
        }
      }
    }
    assertThat(wrong).isEmpty();
    assertThat(s.describe(DescribeCustomKeyStoresRequest.all()).customKeyStores()).hasSize(1);
    // A valid password of 32 characters and an explicit AWS_CLOUDHSM are fine.
    s.create(new CreateCustomKeyStoreRequest("other", "cluster-c2", ta, "p".repeat(32), "AWS_CLOUDHSM"));
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void describeFiltersAndPages(Kind kind) {
    CustomKeyStores s = stores(TestDatabases.fresh(kind));
    List<String> ids = new ArrayList<>();
    for (String c : CLUSTERS) {
      ids.add(create(s, "store " + c, c));
      clock.advance(Duration.ofSeconds(1));
    }
    DescribeCustomKeyStoresResponse p1 = s.describe(new DescribeCustomKeyStoresRequest(null, null, 2, null));
    assertThat(p1.truncated()).isTrue();
    assertThat(p1.customKeyStores()).extracting(CustomKeyStoresListEntry::customKeyStoreId).containsExactly(ids.get(0), ids.get(1));
    DescribeCustomKeyStoresResponse p2 = s.describe(new DescribeCustomKeyStoresRequest(null, null, 2, p1.nextMarker()));
    assertThat(p2.truncated()).isFalse();
    assertThat(p2.nextMarker()).isNull();
    assertThat(p2.customKeyStores()).extracting(CustomKeyStoresListEntry::customKeyStoreId).containsExactly(ids.get(2));
    assertThat(s.describe(DescribeCustomKeyStoresRequest.all()).customKeyStores()).hasSize(3);
    assertThat(s.describe(DescribeCustomKeyStoresRequest.byName("store c2")).customKeyStores())
        .extracting(CustomKeyStoresListEntry::customKeyStoreId).containsExactly(ids.get(1));

    fails(KmsError.CUSTOM_KEY_STORE_NOT_FOUND, "cks-00000000000000000", () -> s.describe(DescribeCustomKeyStoresRequest.byId("cks-00000000000000000")));
    fails(KmsError.CUSTOM_KEY_STORE_NOT_FOUND, "nobody", () -> s.describe(DescribeCustomKeyStoresRequest.byName("nobody")));
    fails(KmsError.VALIDATION, "not both", () -> s.describe(new DescribeCustomKeyStoresRequest(ids.get(0), "store c1", null, null)));
    fails(KmsError.VALIDATION, "Limit", () -> s.describe(new DescribeCustomKeyStoresRequest(null, null, 0, null)));
    fails(KmsError.VALIDATION, "Limit", () -> s.describe(new DescribeCustomKeyStoresRequest(null, null, 1001, null)));
    fails(KmsError.INVALID_MARKER, "Marker", () -> s.describe(new DescribeCustomKeyStoresRequest(null, null, 2, "not-a-marker")));
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void everyStateRule(Kind kind) {
    CustomKeyStores s = stores(TestDatabases.fresh(kind));
    String id = create(s, "rules", "c1");
    String unknown = "cks-0123456789abcdef0";
    // Unknown stores, for every operation.
    fails(KmsError.CUSTOM_KEY_STORE_NOT_FOUND, unknown, () -> connect(s, unknown));
    fails(KmsError.CUSTOM_KEY_STORE_NOT_FOUND, unknown, () -> disconnect(s, unknown));
    fails(KmsError.CUSTOM_KEY_STORE_NOT_FOUND, unknown, () -> s.update(new UpdateCustomKeyStoreRequest(unknown, "x", null, null)));
    fails(KmsError.CUSTOM_KEY_STORE_NOT_FOUND, unknown, () -> s.delete(new DeleteCustomKeyStoreRequest(unknown)));
    // DISCONNECTED: disconnect is refused; an update with nothing in it too.
    fails(KmsError.CUSTOM_KEY_STORE_INVALID_STATE, "DISCONNECTED", () -> disconnect(s, id));
    fails(KmsError.VALIDATION, "NewCustomKeyStoreName", () -> s.update(new UpdateCustomKeyStoreRequest(id, null, null, null)));

    connect(s, id);
    assertThat(entry(s, id).connectionState()).isEqualTo(ConnectionState.CONNECTED);
    connect(s, id); // a second connect is valid and changes nothing
    assertThat(entry(s, id).connectionState()).isEqualTo(ConnectionState.CONNECTED);
    // CONNECTED: no update of any property, no delete.
    fails(KmsError.CUSTOM_KEY_STORE_INVALID_STATE, "CONNECTED", () -> s.update(new UpdateCustomKeyStoreRequest(id, "new name", null, null)));
    fails(KmsError.CUSTOM_KEY_STORE_INVALID_STATE, "CONNECTED", () -> s.update(new UpdateCustomKeyStoreRequest(id, null, "password", null)));
    fails(KmsError.CUSTOM_KEY_STORE_INVALID_STATE, "CONNECTED", () -> s.update(new UpdateCustomKeyStoreRequest(id, null, null, "cluster-c2")));
    fails(KmsError.CUSTOM_KEY_STORE_INVALID_STATE, "CONNECTED", () -> s.delete(new DeleteCustomKeyStoreRequest(id)));
    assertThat(entry(s, id).customKeyStoreName()).isEqualTo("rules");

    disconnect(s, id);
    assertThat(entry(s, id).connectionState()).isEqualTo(ConnectionState.DISCONNECTED);
    fails(KmsError.CUSTOM_KEY_STORE_INVALID_STATE, "DISCONNECTED", () -> disconnect(s, id));
    // Update errors while DISCONNECTED.
    String second = create(s, "second", "c2");
    fails(KmsError.CUSTOM_KEY_STORE_NAME_IN_USE, "second", () -> s.update(new UpdateCustomKeyStoreRequest(id, "second", null, null)));
    fails(KmsError.CLOUDHSM_CLUSTER_IN_USE, "cluster-c2", () -> s.update(new UpdateCustomKeyStoreRequest(id, null, null, "cluster-c2")));
    fails(KmsError.CLOUDHSM_CLUSTER_NOT_FOUND, "cluster-zz", () -> s.update(new UpdateCustomKeyStoreRequest(id, null, null, "cluster-zz")));
    fails(KmsError.VALIDATION, "KeyStorePassword", () -> s.update(new UpdateCustomKeyStoreRequest(id, null, "short", null)));
    // A store that holds keys cannot be deleted; without keys it can.
    keyCounts.put(id, 2);
    fails(KmsError.CUSTOM_KEY_STORE_HAS_CMKS, "2 KMS key(s)", () -> s.delete(new DeleteCustomKeyStoreRequest(id)));
    assertThat(entry(s, id).connectionState()).isEqualTo(ConnectionState.DISCONNECTED);
    keyCounts.put(id, 0);
    s.delete(new DeleteCustomKeyStoreRequest(id));
    s.delete(new DeleteCustomKeyStoreRequest(second));
    assertThat(s.describe(DescribeCustomKeyStoresRequest.all()).customKeyStores()).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void connectRotatesTheKmsuserPin(Kind kind) {
    CustomKeyStores s = stores(TestDatabases.fresh(kind));
    String id = create(s, "rotating", "c1");
    assertThat(fx.tryLogin("c1", CksFixture.initialPin("c1"))).isZero();
    connect(s, id);
    assertThat(entry(s, id).connectionState()).isEqualTo(ConnectionState.CONNECTED);
    Key k = s.backing(id).createAes256("arn:aws:kms:eu-west-1:111122223333:key/rotating");
    disconnect(s, id);
    // The PIN given at create no longer logs in: the adapter changed it.
    assertThat(fx.tryLogin("c1", CksFixture.initialPin("c1"))).isEqualTo(CKR.PIN_INCORRECT);
    // The adapter knows the new one: it connects again (and rotates again), and the key is there.
    connect(s, id);
    assertThat(entry(s, id).connectionState()).isEqualTo(ConnectionState.CONNECTED);
    Key again = s.backing(id).find("arn:aws:kms:eu-west-1:111122223333:key/rotating");
    assertThat(again).isNotNull();
    assertThat(((HsmKey) again).id()).isEqualTo(((HsmKey) k).id());
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void wrongPinFailsAndRepeatedFailuresLockOut(Kind kind) {
    CustomKeyStores s = stores(TestDatabases.fresh(kind));
    String id = create(s, "wrong pin", "c1", "not-the-pin");
    for (int attempt = 1; attempt <= CustomKeyStores.MAX_FAILED_CONNECTS; attempt++) {
      connect(s, id);
      CustomKeyStoresListEntry e = entry(s, id);
      assertThat(e.connectionState()).isEqualTo(ConnectionState.FAILED);
      assertThat(e.connectionErrorCode()).as("attempt %d", attempt)
          .isEqualTo(attempt < CustomKeyStores.MAX_FAILED_CONNECTS ? ConnectionErrorCode.INVALID_CREDENTIALS : ConnectionErrorCode.USER_LOCKED_OUT);
      // From FAILED, connect is refused until a disconnect.
      fails(KmsError.CUSTOM_KEY_STORE_INVALID_STATE, "FAILED", () -> connect(s, id));
      fails(KmsError.KEY_UNAVAILABLE, "FAILED", () -> s.backing(id));
      disconnect(s, id);
      assertThat(entry(s, id).connectionState()).isEqualTo(ConnectionState.DISCONNECTED);
      assertThat(entry(s, id).connectionErrorCode()).isNull();
    }
    // Locked out: the adapter does not try again, even though the PIN would now be right...
    fx.resetKmsUser("c1", "not-the-pin");
    connect(s, id);
    assertThat(entry(s, id).connectionErrorCode()).isEqualTo(ConnectionErrorCode.USER_LOCKED_OUT);
    disconnect(s, id);
    // ... until UpdateCustomKeyStore tells it the kmsuser password.
    s.update(new UpdateCustomKeyStoreRequest(id, null, "not-the-pin", null));
    connect(s, id);
    assertThat(entry(s, id).connectionState()).isEqualTo(ConnectionState.CONNECTED);
    assertThat(entry(s, id).connectionErrorCode()).isNull();
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void connectFailuresNameTheCause(Kind kind) throws Exception {
    Map<String, String> clusters = new HashMap<>(fx.clusters());
    clusters.put("cluster-gone", CksFixture.config(fx.library, "no-such-token"));
    clusters.put("cluster-nolib", CksFixture.config("/nonexistent/libpkcs11.so", "c3"));
    java.nio.file.Path file = java.nio.file.Path.of(fx.token.conf()).resolveSibling("cluster-" + kind + ".cfg");
    java.nio.file.Files.writeString(file, "library = " + fx.library + "\ntokenLabel = c3\n");
    clusters.put("cluster-file", file.toString());
    Database db = TestDatabases.fresh(kind);
    CustomKeyStores s = stores(db, clusters);
    // A configuration file that disappears after start: FAILED/INTERNAL_ERROR, never stuck in CONNECTING.
    java.nio.file.Files.delete(file);
    Function<String, String> make = cluster -> s.create(new CreateCustomKeyStoreRequest("store " + cluster, cluster, CksFixture.trustAnchor(),
        "password", null)).customKeyStoreId();
    String gone = make.apply("cluster-gone");
    String nolib = make.apply("cluster-nolib");
    String c2 = make.apply("cluster-c2");
    String fileGone = make.apply("cluster-file");
    connect(s, fileGone);
    assertThat(entry(s, fileGone).connectionState()).isEqualTo(ConnectionState.FAILED);
    assertThat(entry(s, fileGone).connectionErrorCode()).isEqualTo(ConnectionErrorCode.INTERNAL_ERROR);
    connect(s, gone);
    connect(s, nolib);
    assertThat(entry(s, gone).connectionErrorCode()).isEqualTo(ConnectionErrorCode.INSUFFICIENT_CLOUDHSM_HSMS);
    assertThat(entry(s, nolib).connectionErrorCode()).isEqualTo(ConnectionErrorCode.NETWORK_ERRORS);
    // A node whose configuration no longer has the cluster.
    Map<String, String> fewer = new HashMap<>(clusters);
    fewer.remove("cluster-c2");
    fewer.remove("cluster-file");
    CustomKeyStores other = stores(db, fewer);
    connect(other, c2);
    assertThat(entry(other, c2).connectionErrorCode()).isEqualTo(ConnectionErrorCode.CLUSTER_NOT_FOUND);
    // Not a PIN failure: no step towards a lock-out.
    disconnect(other, c2);
    connect(s, c2);
    assertThat(entry(s, c2).connectionErrorCode()).isEqualTo(ConnectionErrorCode.INVALID_CREDENTIALS);
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void keyMaterialOnlyWhileConnected(Kind kind) throws Exception {
    CustomKeyStores s = stores(TestDatabases.fresh(kind));
    StoreKeyBacking defaultStore = StoreKeyBacking.on(null, fx.defaultProvider());
    CustomKeyStoreBackings backings = new CustomKeyStoreBackings(defaultStore, s);
    String id = create(s, "material", "c2");
    String unknown = "cks-0123456789abcdef0";

    assertThat(backings.forStore(null)).isSameAs(defaultStore);
    assertThat(backings.isAvailable(null)).isTrue();
    assertThat(backings.isAvailable(unknown)).isFalse();
    fails(KmsError.CUSTOM_KEY_STORE_NOT_FOUND, unknown, () -> backings.forStore(unknown));
    assertThat(backings.isAvailable(id)).isFalse();
    fails(KmsError.KEY_UNAVAILABLE, "DISCONNECTED", () -> backings.forStore(id));

    connect(s, id);
    assertThat(backings.isAvailable(id)).isTrue();
    KeyBacking b = backings.forStore(id);
    assertThat(b.customKeyStoreId()).isEqualTo(id);
    String label = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    assertThat(b.find(label)).isNull();
    Key k = b.createAes256(label);
    HsmKey hk = (HsmKey) k;
    assertThat(hk.isTokenObject()).isTrue();
    assertThat(hk.isSensitive()).isTrue();
    assertThat(hk.isExtractable()).isFalse();
    assertThat(hk.label()).isEqualTo(label);
    assertThat(k.getAlgorithm()).isEqualTo("AES");
    assertThat(k.getEncoded()).isNull();
    // Creating again returns the same key, not a second one.
    assertThat(((HsmKey) b.createAes256(label)).id()).isEqualTo(hk.id());
    // The key works with the store's provider.
    Cipher enc = Cipher.getInstance("AES/GCM/NoPadding", b.provider());
    enc.init(Cipher.ENCRYPT_MODE, k);
    byte[] ct = enc.doFinal(new byte[] {1, 2, 3});
    Cipher dec = Cipher.getInstance("AES/GCM/NoPadding", b.provider());
    dec.init(Cipher.DECRYPT_MODE, b.find(label), new javax.crypto.spec.GCMParameterSpec(128, enc.getIV()));
    assertThat(dec.doFinal(ct)).containsExactly(1, 2, 3);
    // The key is in the store's token, not in the default one.
    assertThat(defaultStore.find(label)).isNull();

    disconnect(s, id);
    assertThat(backings.isAvailable(id)).isFalse();
    fails(KmsError.KEY_UNAVAILABLE, "DISCONNECTED", () -> backings.forStore(id));
    fails(KmsError.KEY_UNAVAILABLE, id, () -> b.find(label)); // a backing held across the disconnect

    connect(s, id);
    KeyBacking b2 = backings.forStore(id);
    assertThat(b2.find(label)).isNotNull();
    b2.destroy(label);
    assertThat(b2.find(label)).isNull();
    b2.destroy(label); // nothing left: no error
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void stateAndPinsSurviveANewInstance(Kind kind) {
    Database db = TestDatabases.fresh(kind);
    CustomKeyStores first = stores(db);
    String connected = create(first, "connected", "c1");
    String failed = create(first, "failed", "c2", "wrong-pin");
    String idle = create(first, "idle", "c3");
    connect(first, connected);
    connect(first, failed);
    String label = "arn:aws:kms:eu-west-1:111122223333:key/kept";
    first.backing(connected).createAes256(label);
    first.close(); // this node goes away; the state stays

    CustomKeyStores second = stores(db);
    assertThat(entry(second, connected).connectionState()).isEqualTo(ConnectionState.CONNECTED);
    assertThat(entry(second, failed).connectionState()).isEqualTo(ConnectionState.FAILED);
    assertThat(entry(second, failed).connectionErrorCode()).isEqualTo(ConnectionErrorCode.INVALID_CREDENTIALS);
    assertThat(entry(second, idle).connectionState()).isEqualTo(ConnectionState.DISCONNECTED);
    // The connected store opens here with the PIN the first instance rotated to.
    assertThat(second.backing(connected).find(label)).isNotNull();
    disconnect(second, connected);
    connect(second, connected);
    assertThat(entry(second, connected).connectionState()).isEqualTo(ConnectionState.CONNECTED);
    assertThat(second.backing(connected).find(label)).isNotNull();
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void anAbandonedConnectingCountsAsFailed(Kind kind) {
    Database db = TestDatabases.fresh(kind);
    CustomKeyStores s = stores(db);
    String id = create(s, "abandoned", "c1");
    db.inTransaction(c -> {
      try (var st = c.prepareStatement("UPDATE kms_custom_key_store SET conn_state = 'CONNECTING', state_changed_ms = ? WHERE cks_id = ?")) {
        st.setLong(1, clock.millis());
        st.setString(2, id);
        st.executeUpdate();
      }
      return null;
    });
    assertThat(entry(s, id).connectionState()).isEqualTo(ConnectionState.CONNECTING);
    connect(s, id); // another node is connecting: nothing to do
    assertThat(entry(s, id).connectionState()).isEqualTo(ConnectionState.CONNECTING);
    fails(KmsError.KEY_UNAVAILABLE, "CONNECTING", () -> s.backing(id));
    clock.advance(CustomKeyStores.STALE_TRANSITION.plusSeconds(1));
    assertThat(entry(s, id).connectionState()).isEqualTo(ConnectionState.FAILED);
    assertThat(entry(s, id).connectionErrorCode()).isEqualTo(ConnectionErrorCode.INTERNAL_ERROR);
    fails(KmsError.CUSTOM_KEY_STORE_INVALID_STATE, "FAILED", () -> connect(s, id));
    disconnect(s, id);
    connect(s, id);
    assertThat(entry(s, id).connectionState()).isEqualTo(ConnectionState.CONNECTED);
  }
  @ParameterizedTest
  @EnumSource(Kind.class)
  void aSecondNodeFollowsDisconnectsAndReconnects(Kind kind) {
    Database db = TestDatabases.fresh(kind);
    CustomKeyStores a = stores(db);
    CustomKeyStores b = stores(db);
    String id = create(a, "two nodes", "c3");
    String label = "arn:aws:kms:eu-west-1:111122223333:key/two-nodes";
    connect(a, id);
    a.backing(id).createAes256(label);
    KeyBacking onB = b.backing(id);
    assertThat(onB.find(label)).isNotNull();
    assertThat(b.backing(id)).isSameAs(onB);
    // A disconnects: B's keys are unavailable too.
    disconnect(a, id);
    fails(KmsError.KEY_UNAVAILABLE, "DISCONNECTED", () -> b.backing(id));
    fails(KmsError.KEY_UNAVAILABLE, id, () -> onB.find(label));
    // A reconnects (the PIN rotates again): B opens the store anew with the new PIN.
    connect(a, id);
    KeyBacking again = b.backing(id);
    assertThat(again).isNotSameAs(onB);
    assertThat(again.find(label)).isNotNull();
    // Even when B did not look in between.
    disconnect(a, id);
    connect(a, id);
    KeyBacking third = b.backing(id);
    assertThat(third).isNotSameAs(again);
    assertThat(third.find(label)).isNotNull();
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void concurrentConnectsConnectOnce(Kind kind) throws Exception {
    Database db = TestDatabases.fresh(kind);
    CustomKeyStores a = stores(db);
    CustomKeyStores b = stores(db);
    String id = create(a, "racing", "c2");
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<?>> fs = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        CustomKeyStores node = i % 2 == 0 ? a : b;
        fs.add(pool.submit(() -> connect(node, id)));
      }
      for (var f : fs) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
    assertThat(entry(a, id).connectionState()).isEqualTo(ConnectionState.CONNECTED);
    String label = "arn:aws:kms:eu-west-1:111122223333:key/racing";
    a.backing(id).createAes256(label);
    assertThat(b.backing(id).find(label)).isNotNull();
    // One rotation happened and was recorded: the store connects again after a disconnect.
    disconnect(b, id);
    connect(b, id);
    assertThat(entry(b, id).connectionState()).isEqualTo(ConnectionState.CONNECTED);
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void pinsAreSealedAndBoundToTheirStore(Kind kind) {
    Database db = TestDatabases.fresh(kind);
    CustomKeyStores s = stores(db);
    String pin = CksFixture.initialPin("c1");
    String id = create(s, "sealed", "c1");
    String stored = db.inTransaction(c -> {
      try (var st = c.prepareStatement("SELECT pin_current FROM kms_custom_key_store WHERE cks_id = ?")) {
        st.setString(1, id);
        try (var rs = st.executeQuery()) {
          rs.next();
          return rs.getString(1);
        }
      }
    });
    byte[] sealed = java.util.Base64.getDecoder().decode(stored);
    assertThat(stored).doesNotContain(pin);
    assertThat(new String(sealed, java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain(pin);
    assertThat(sealed[0]).isEqualTo((byte) 1);
    assertThat(fx.sealer().open(sealed, id)).containsExactly(pin.toCharArray());
    fails(KmsError.KMS_INTERNAL, "does not open", () -> fx.sealer().open(sealed, "cks-00000000000000000"));
    byte[] flipped = sealed.clone();
    flipped[flipped.length - 1] ^= 1;
    fails(KmsError.KMS_INTERNAL, "does not open", () -> fx.sealer().open(flipped, id));
    fails(KmsError.KMS_INTERNAL, "malformed", () -> fx.sealer().open(java.util.Arrays.copyOf(sealed, 20), id));
    // Two seals of one PIN differ (a fresh IV each time).
    assertThat(fx.sealer().seal(pin.toCharArray(), id)).isNotEqualTo(fx.sealer().seal(pin.toCharArray(), id));
  }
}
