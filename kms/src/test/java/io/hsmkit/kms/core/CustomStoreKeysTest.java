package io.hsmkit.kms.core;

import static io.hsmkit.kms.core.Kms.fails;
import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.KmsService;
import io.hsmkit.kms.access.AccessControl;
import io.hsmkit.kms.api.*;
import io.hsmkit.kms.backing.KeyBacking;
import io.hsmkit.kms.backing.KeyBackings;
import io.hsmkit.kms.backing.token.TokenKeyBacking;
import io.hsmkit.kms.testing.TestDatabases;
import java.security.Key;
import java.security.Provider;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * How the service treats keys of a custom key store, through the {@link KeyBackings} seam: a stand-in
 * store ("cks-...") on the test token that the test connects and disconnects (the real adapter is the
 * custom-key-store part's). Keys of a disconnected store are Unavailable, PendingDeletion is kept,
 * and nothing is destroyed until the store is back.
 */
class CustomStoreKeysTest {
  static final String CKS = "cks-1234567890abcdef0";

  /** A store on the shared test token whose connection the test switches. */
  static final class SwitchedStore implements KeyBackings {
    final TokenKeyBacking token = new TokenKeyBacking(KmsFixture.provider());
    volatile boolean connected = true;
    final KeyBacking cks = new KeyBacking() {
      @Override
      public String customKeyStoreId() {
        return CKS;
      }

      @Override
      public Provider provider() {
        return token.provider();
      }

      @Override
      public Key createAes256(String label) {
        return token.createAes256(label);
      }

      @Override
      public Key find(String label) {
        return token.find(label);
      }

      @Override
      public void destroy(String label) {
        token.destroy(label);
      }
    };

    @Override
    public KeyBacking forStore(String id) {
      if (id == null) {
        return token;
      }
      if (!CKS.equals(id)) {
        throw new KmsException(KmsError.CUSTOM_KEY_STORE_NOT_FOUND, "no custom key store " + id);
      }
      if (!connected) {
        throw new KmsException(KmsError.KEY_UNAVAILABLE, "custom key store " + id + " is DISCONNECTED");
      }
      return cks;
    }

    @Override
    public boolean isAvailable(String id) {
      return id == null || (CKS.equals(id) && connected);
    }
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void keysOfADisconnectedStoreAreUnavailable(TestDatabases.Kind kind) {
    KmsFixture base = KmsFixture.create(kind);
    SwitchedStore store = new SwitchedStore();
    KmsService kms = new KmsService(base.db, store, AccessControl.ALLOW_ALL, base.clock, "eu-west-1", base.kms.accountId());
    Caller caller = base.caller;
    CreateKeyRequest inStore = new CreateKeyRequest(null, null, null, null, null, "AWS_CLOUDHSM", CKS, null, null, null);
    KeyMetadata m = kms.createKey(caller, inStore).keyMetadata();
    assertThat(m.customKeyStoreId()).isEqualTo(CKS);
    assertThat(m.origin()).isEqualTo("AWS_CLOUDHSM");
    assertThat(store.token.find(m.arn())).isNotNull();
    byte[] blob = kms.encrypt(caller, new EncryptRequest(m.keyId(), new byte[] {7}, Map.of("a", "b"), null, null)).ciphertextBlob();
    fails(KmsError.UNSUPPORTED_OPERATION, () -> kms.enableKeyRotation(caller, new EnableKeyRotationRequest(m.keyId(), null)));
    fails(KmsError.UNSUPPORTED_OPERATION, () -> kms.createKey(caller, new CreateKeyRequest(null, null, "SIGN_VERIFY", null, "ECC_NIST_P256", "AWS_CLOUDHSM", CKS, null, null, null)));

    store.connected = false;
    assertThat(kms.describeKey(caller, new DescribeKeyRequest(m.keyId(), null)).keyMetadata().keyState()).isEqualTo("Unavailable");
    fails(KmsError.KMS_INVALID_STATE, () -> kms.encrypt(caller, new EncryptRequest(m.keyId(), new byte[] {7}, null, null, null)));
    fails(KmsError.KMS_INVALID_STATE, () -> kms.decrypt(caller, new DecryptRequest(blob, Map.of("a", "b"), null, null, null)));
    fails(KmsError.KMS_INVALID_STATE, () -> kms.disableKey(caller, new DisableKeyRequest(m.keyId())));
    fails(KmsError.CUSTOM_KEY_STORE_INVALID_STATE, () -> kms.createKey(caller, inStore));
    // Deletion can be scheduled while disconnected; the state shows PendingDeletion, and the purge
    // waits for the store (the token object is still there after the window).
    kms.scheduleKeyDeletion(caller, new ScheduleKeyDeletionRequest(m.keyId(), 7));
    assertThat(kms.describeKey(caller, new DescribeKeyRequest(m.keyId(), null)).keyMetadata().keyState()).isEqualTo("PendingDeletion");
    kms.cancelKeyDeletion(caller, new CancelKeyDeletionRequest(m.keyId()));
    assertThat(kms.describeKey(caller, new DescribeKeyRequest(m.keyId(), null)).keyMetadata().keyState()).isEqualTo("Unavailable");
    kms.scheduleKeyDeletion(caller, new ScheduleKeyDeletionRequest(m.keyId(), 7));
    base.clock.advance(Duration.ofDays(8));
    assertThat(kms.purgeExpired()).isEmpty();
    assertThat(store.token.find(m.arn())).isNotNull();
    assertThat(kms.describeKey(caller, new DescribeKeyRequest(m.keyId(), null)).keyMetadata().keyState()).isEqualTo("PendingDeletion");

    store.connected = true;
    assertThat(kms.purgeExpired()).containsExactly(m.arn());
    assertThat(store.token.find(m.arn())).isNull();
    fails(KmsError.NOT_FOUND, () -> kms.describeKey(caller, new DescribeKeyRequest(m.keyId(), null)));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void reconnectedStoreKeysWorkAgain(TestDatabases.Kind kind) {
    KmsFixture base = KmsFixture.create(kind);
    SwitchedStore store = new SwitchedStore();
    KmsService kms = new KmsService(base.db, store, AccessControl.ALLOW_ALL, base.clock, "eu-west-1", base.kms.accountId());
    KeyMetadata m = kms.createKey(base.caller, new CreateKeyRequest(null, null, null, null, null, "AWS_CLOUDHSM", CKS, null, null, null)).keyMetadata();
    byte[] blob = kms.encrypt(base.caller, new EncryptRequest(m.keyId(), new byte[] {7}, null, null, null)).ciphertextBlob();
    store.connected = false;
    fails(KmsError.KMS_INVALID_STATE, () -> kms.decrypt(base.caller, new DecryptRequest(blob, null, null, null, null)));
    store.connected = true;
    assertThat(kms.decrypt(base.caller, new DecryptRequest(blob, null, null, null, null)).plaintext()).containsExactly(7);
    assertThat(kms.describeKey(base.caller, new DescribeKeyRequest(m.keyId(), null)).keyMetadata().keyState()).isEqualTo("Enabled");
  }
}
