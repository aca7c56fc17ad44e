package io.hsmkit.kms.cks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.backing.KeyBacking;
import io.hsmkit.kms.store.Database;
import io.hsmkit.kms.testing.TestDatabases;
import io.hsmkit.kms.testing.TestDatabases.Kind;
import io.hsmkit.pkcs11.testing.FaultShim;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A custom key store whose token vanishes while it is CONNECTED (the binding's fault shim between
 * HsmKit and SoftHSM2, rule {@code absent}) and comes back: calls fail with KMSInvalidStateException
 * naming the store while it is gone and work again by themselves when it is back; the store stays
 * CONNECTED throughout. A connect while the token is gone fails with NETWORK_ERRORS. The shim also
 * plays a token that answers CKR_PIN_LOCKED (USER_LOCKED_OUT) and a C_SetPIN that fails (the old
 * PIN keeps working).
 */
class StoreTokenVanishTest {
  private static CksFixture fx;
  private static FaultShim shim;
  private static String shimPath;
  private final List<CustomKeyStores> opened = new ArrayList<>();

  @BeforeAll
  static void tokens() {
    fx = CksFixture.create("cks-vanish", "v1");
    shimPath = CksFixture.shimPath();
    shim = FaultShim.forLibrary(fx.library);
    fx.sealer();
  }

  @AfterEach
  void reset() {
    shim.clear();
    opened.forEach(CustomKeyStores::close);
    fx.resetKmsUser("v1", CksFixture.initialPin("v1"));
  }

  private CustomKeyStores stores(Database db) {
    CustomKeyStores s = new CustomKeyStores(db, fx.clusters(shimPath), new CksFixture.TestClock(), id -> 0, fx.sealer());
    opened.add(s);
    return s;
  }

  private static void unreachable(String id, ThrowingCallable call) {
    long t0 = System.nanoTime();
    assertThatThrownBy(call).isInstanceOfSatisfying(KmsException.class, e -> {
      assertThat(e.error()).as(e.toString()).isEqualTo(KmsError.KMS_INVALID_STATE);
      assertThat(e.getMessage()).contains("custom key store " + id + " cannot reach its token");
    });
    // The session pool waits its recovery time (10 s) or, for a new session, the store's session wait (5 s).
    assertThat((System.nanoTime() - t0) / 1_000_000_000L).isLessThan(25);
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void tokenVanishesWhileConnectedAndComesBack(Kind kind) {
    Database db = TestDatabases.fresh(kind);
    CustomKeyStores s = stores(db);
    CustomKeyStoreBackings backings = new CustomKeyStoreBackings(StoreKeyBacking.on(null, fx.defaultProvider()), s);
    String id = s.create(new CreateCustomKeyStoreRequest("vanishing", "cluster-v1", CksFixture.trustAnchor(), CksFixture.initialPin("v1"), null))
        .customKeyStoreId();
    s.connect(new ConnectCustomKeyStoreRequest(id));
    KeyBacking b = backings.forStore(id);
    String label = "arn:aws:kms:eu-west-1:111122223333:key/vanishing";
    b.createAes256(label);

    shim.rules("absent");
    unreachable(id, () -> b.find(label));
    unreachable(id, () -> b.createAes256(label + "-2"));
    // Still CONNECTED: the keys are not Unavailable, the token is just out of reach.
    assertThat(backings.isAvailable(id)).isTrue();
    assertThat(s.describe(DescribeCustomKeyStoresRequest.byId(id)).customKeyStores().get(0).connectionState()).isEqualTo(ConnectionState.CONNECTED);
    // Another node opening the store now cannot reach it either.
    CustomKeyStores other = stores(db);
    unreachable(id, () -> other.backing(id));

    shim.clear();
    assertThat(b.find(label)).isNotNull(); // healed by itself
    assertThat(backings.forStore(id).createAes256(label + "-2")).isNotNull();
    assertThat(other.backing(id).find(label + "-2")).isNotNull();
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void connectWhileTheTokenIsGoneIsANetworkError(Kind kind) {
    CustomKeyStores s = stores(TestDatabases.fresh(kind));
    String id = s.create(new CreateCustomKeyStoreRequest("gone", "cluster-v1", CksFixture.trustAnchor(), CksFixture.initialPin("v1"), null))
        .customKeyStoreId();
    shim.rules("absent");
    s.connect(new ConnectCustomKeyStoreRequest(id));
    CustomKeyStoresListEntry e = s.describe(DescribeCustomKeyStoresRequest.byId(id)).customKeyStores().get(0);
    assertThat(e.connectionState()).isEqualTo(ConnectionState.FAILED);
    assertThat(e.connectionErrorCode()).isEqualTo(ConnectionErrorCode.NETWORK_ERRORS);
    shim.clear();
    s.disconnect(new DisconnectCustomKeyStoreRequest(id));
    s.connect(new ConnectCustomKeyStoreRequest(id)); // the PIN was never tried: still the one given
    assertThat(s.describe(DescribeCustomKeyStoresRequest.byId(id)).customKeyStores().get(0).connectionState()).isEqualTo(ConnectionState.CONNECTED);
  }
  @ParameterizedTest
  @EnumSource(Kind.class)
  void aPinLockedByTheTokenIsUserLockedOut(Kind kind) {
    CustomKeyStores s = stores(TestDatabases.fresh(kind));
    String id = s.create(new CreateCustomKeyStoreRequest("locked", "cluster-v1", CksFixture.trustAnchor(), CksFixture.initialPin("v1"), null))
        .customKeyStoreId();
    shim.rules("C_Login:rv=CKR_PIN_LOCKED");
    s.connect(new ConnectCustomKeyStoreRequest(id));
    CustomKeyStoresListEntry e = s.describe(DescribeCustomKeyStoresRequest.byId(id)).customKeyStores().get(0);
    assertThat(e.connectionState()).isEqualTo(ConnectionState.FAILED);
    assertThat(e.connectionErrorCode()).isEqualTo(ConnectionErrorCode.USER_LOCKED_OUT);
    // Once the token's security officer unlocks the user, the store connects.
    shim.clear();
    s.disconnect(new DisconnectCustomKeyStoreRequest(id));
    s.connect(new ConnectCustomKeyStoreRequest(id));
    assertThat(s.state(id)).contains(ConnectionState.CONNECTED);
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void aFailedPinChangeKeepsTheOldPinWorking(Kind kind) {
    CustomKeyStores s = stores(TestDatabases.fresh(kind));
    String id = s.create(new CreateCustomKeyStoreRequest("setpin", "cluster-v1", CksFixture.trustAnchor(), CksFixture.initialPin("v1"), null))
        .customKeyStoreId();
    shim.rules("C_SetPIN:rv=CKR_FUNCTION_FAILED");
    s.connect(new ConnectCustomKeyStoreRequest(id));
    CustomKeyStoresListEntry e = s.describe(DescribeCustomKeyStoresRequest.byId(id)).customKeyStores().get(0);
    assertThat(e.connectionState()).isEqualTo(ConnectionState.FAILED);
    assertThat(e.connectionErrorCode()).isEqualTo(ConnectionErrorCode.INTERNAL_ERROR);
    shim.clear();
    s.disconnect(new DisconnectCustomKeyStoreRequest(id));
    s.connect(new ConnectCustomKeyStoreRequest(id)); // the current PIN, unchanged on the token, still logs in
    assertThat(s.state(id)).contains(ConnectionState.CONNECTED);
  }
}
