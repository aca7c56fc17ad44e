package io.hsmkit.kms.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The convention-based adapter from a service object to {@link KmsOperations}. */
class ServiceOperationsTest {
  public record EncryptRequest(String keyId, byte[] plaintext) {}

  public record EncryptResponse(String keyId, byte[] ciphertextBlob) {}

  public record ReEncryptRequest(byte[] ciphertextBlob) {}

  public record ReEncryptResponse(byte[] ciphertextBlob) {}

  public record DisableKeyRequest(String keyId) {}

  public record Other(String keyId) {}

  /** Shaped like the core's KmsService. */
  public static final class Service {
    public EncryptResponse encrypt(Caller caller, EncryptRequest r) {
      if ("missing".equals(r.keyId())) {
        throw new KmsException(KmsError.NOT_FOUND, "Key 'missing' does not exist");
      }
      return new EncryptResponse(r.keyId() + "@" + caller.accountId(), r.plaintext());
    }

    public ReEncryptResponse reEncrypt(Caller caller, ReEncryptRequest r) {
      throw new IllegalStateException("bug");
    }

    /** An operation with an empty response. */
    public void disableKey(Caller caller, DisableKeyRequest r) {
      if ("missing".equals(r.keyId())) {
        throw new KmsException(KmsError.NOT_FOUND, "no such key");
      }
    }

    /** Not an operation: the request type does not match the name. */
    public String describe(Caller caller, Other o) {
      return "no";
    }

    /** Not an operation: one parameter. */
    public String listKeys(Caller caller) {
      return "no";
    }

    String hidden(Caller caller, EncryptRequest r) {
      return "no";
    }
  }

  public record ConnectCustomKeyStoreRequest(String customKeyStoreId) {}

  public record ConnectCustomKeyStoreResponse() {}

  /** A second service object, as the custom key stores are. */
  public static final class Stores {
    public ConnectCustomKeyStoreResponse connectCustomKeyStore(Caller caller, ConnectCustomKeyStoreRequest r) {
      return new ConnectCustomKeyStoreResponse();
    }
  }

  static final Caller CALLER = Caller.of("arn:aws:iam::111122223333:user/alice", "111122223333", null);

  @Test
  void findsTheOperationsByConvention() {
    ServiceOperations ops = ServiceOperations.of(new Service());
    assertThat(ops.operations()).containsExactlyInAnyOrder("Encrypt", "ReEncrypt", "DisableKey");
  }

  @Test
  void readsTheRequestAndReturnsTheResponse() {
    ServiceOperations ops = ServiceOperations.of(new Service());
    Object r = ops.invoke("Encrypt", KmsJson.parseBody("{\"KeyId\":\"k\",\"Plaintext\":\"AQID\"}".getBytes(StandardCharsets.UTF_8)), CALLER, "rid");
    assertThat(new String(KmsJson.write(r), StandardCharsets.UTF_8)).isEqualTo("{\"KeyId\":\"k@111122223333\",\"CiphertextBlob\":\"AQID\"}");
    assertThat(ops.invoke("DisableKey", KmsJson.parseBody(new byte[0]), CALLER)).as("void: an empty response").isNull();
    assertThatThrownBy(() -> ops.invoke("DisableKey", KmsJson.parseBody("{\"KeyId\":\"missing\"}".getBytes(StandardCharsets.UTF_8)), CALLER))
        .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.NOT_FOUND));
  }

  @Test
  void errorsComeThroughUnchanged() {
    ServiceOperations ops = ServiceOperations.of(new Service());
    assertThatThrownBy(() -> ops.invoke("Encrypt", KmsJson.parseBody("{\"KeyId\":\"missing\"}".getBytes(StandardCharsets.UTF_8)), CALLER))
        .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.NOT_FOUND));
    assertThatThrownBy(() -> ops.invoke("ReEncrypt", KmsJson.parseBody(new byte[0]), CALLER)).isInstanceOf(IllegalStateException.class).hasMessage("bug");
    assertThatThrownBy(() -> ops.invoke("Encrypt", KmsJson.parseBody("{\"Key\":1}".getBytes(StandardCharsets.UTF_8)), CALLER))
        .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.SERIALIZATION));
    assertThatThrownBy(() -> ops.invoke("Describe", KmsJson.parseBody(new byte[0]), CALLER))
        .isInstanceOfSatisfying(KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.UNKNOWN_OPERATION));
  }

  @Test
  void severalServicesMakeOneTable() {
    ServiceOperations ops = ServiceOperations.of(new Service(), new Stores());
    assertThat(ops.operations()).containsExactlyInAnyOrder("Encrypt", "ReEncrypt", "DisableKey", "ConnectCustomKeyStore");
    assertThat(new String(KmsJson.write(ops.invoke("ConnectCustomKeyStore", KmsJson.parseBody("{\"CustomKeyStoreId\":\"cks-1\"}".getBytes(StandardCharsets.UTF_8)), CALLER)),
        StandardCharsets.UTF_8)).isEqualTo("{}");
    assertThatThrownBy(() -> ServiceOperations.of(new Service(), new Service())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("two methods");
  }

  @Test
  void theRequestScopeSeesTheEndpointsRequestId() {
    ThreadLocal<String> current = new ThreadLocal<>();
    java.util.List<String> seen = new java.util.ArrayList<>();
    KmsOperations ops = ServiceOperations.of(new Service()).withRequestScope((id, work) -> {
      current.set(id);
      try {
        seen.add(id);
        return work.get();
      } finally {
        current.remove();
      }
    });
    ops.invoke("DisableKey", KmsJson.parseBody(new byte[0]), CALLER, "req-1");
    assertThatThrownBy(() -> ops.invoke("Encrypt", KmsJson.parseBody("{\"KeyId\":\"missing\"}".getBytes(StandardCharsets.UTF_8)), CALLER, "req-2"))
        .isInstanceOf(KmsException.class);
    assertThat(seen).containsExactly("req-1", "req-2");
    assertThat(current.get()).isNull();
  }

  @Test
  void aServiceWithoutOperationsIsRefused() {
    assertThatThrownBy(() -> ServiceOperations.of(new Object())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no operation methods");
  }
}
