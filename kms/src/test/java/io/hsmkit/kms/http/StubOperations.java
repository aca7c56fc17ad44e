package io.hsmkit.kms.http;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A stand-in for the KMS service with fixed logic, mapped through {@link KmsJson} as the real
 * implementation will be: GenerateRandom, Encrypt/Decrypt that echo the plaintext behind a marker,
 * DescribeKey (NotFoundException for {@code missing}), GenerateDataKey that always fails with
 * KMSInternalException (to watch the SDK retry), ScheduleKeyDeletion that fails unexpectedly, and
 * ListKeys with an empty response. It counts calls and remembers the last caller and request id.
 */
final class StubOperations implements KmsOperations {
  static final String ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  static final Instant CREATED = Instant.ofEpochSecond(1_700_000_000L, 123_000_000);
  static final byte[] MARKER = "stub-ct:".getBytes(StandardCharsets.US_ASCII);

  record GenerateRandomRequest(Integer numberOfBytes, String customKeyStoreId) {}

  record GenerateRandomResponse(byte[] plaintext) {}

  record EncryptRequest(String keyId, byte[] plaintext, Map<String, String> encryptionContext, List<String> grantTokens,
      String encryptionAlgorithm, Boolean dryRun) {}

  record EncryptResponse(byte[] ciphertextBlob, String keyId, String encryptionAlgorithm) {}

  record DecryptRequest(byte[] ciphertextBlob, Map<String, String> encryptionContext, List<String> grantTokens, String keyId,
      String encryptionAlgorithm, Boolean dryRun) {}

  record DecryptResponse(String keyId, byte[] plaintext, String encryptionAlgorithm) {}

  record DescribeKeyRequest(String keyId, List<String> grantTokens) {}

  record KeyMetadata(@JsonProperty("AWSAccountId") String awsAccountId, String keyId, String arn, Instant creationDate, Boolean enabled,
      String description, String keyUsage, String keyState, String keySpec, String keyManager, String origin, List<String> encryptionAlgorithms) {}

  record DescribeKeyResponse(KeyMetadata keyMetadata) {}

  final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  final AtomicReference<Caller> lastCaller = new AtomicReference<>();
  /** The quorum approval header the last call saw on its thread ("" for none). */
  final AtomicReference<String> lastApproval = new AtomicReference<>();
  final AtomicReference<String> lastRequestId = new AtomicReference<>();
  final AtomicReference<Map<String, String>> lastContext = new AtomicReference<>();
  private final SecureRandom random = new SecureRandom();

  @Override
  public Set<String> operations() {
    return Set.of("GenerateRandom", "Encrypt", "Decrypt", "DescribeKey", "GenerateDataKey", "ScheduleKeyDeletion", "ListKeys");
  }

  int calls(String op) {
    AtomicInteger n = calls.get(op);
    return n == null ? 0 : n.get();
  }

  int totalCalls() {
    return calls.values().stream().mapToInt(AtomicInteger::get).sum();
  }

  @Override
  public Object invoke(String operation, JsonNode body, Caller caller, String requestId) {
    lastRequestId.set(requestId);
    return invoke(operation, body, caller);
  }

  @Override
  public Object invoke(String operation, JsonNode body, Caller caller) {
    calls.computeIfAbsent(operation, k -> new AtomicInteger()).incrementAndGet();
    lastCaller.set(caller);
    lastApproval.set(java.util.Objects.requireNonNullElse(QuorumApprovalHeader.current(), ""));
    switch (operation) {
      case "GenerateRandom": {
        GenerateRandomRequest r = KmsJson.read(body, GenerateRandomRequest.class);
        int n = r.numberOfBytes() == null ? 32 : r.numberOfBytes();
        if (n < 1 || n > 1024) {
          throw new KmsException(KmsError.VALIDATION, "1 validation error detected: Value '" + n
              + "' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024");
        }
        byte[] b = new byte[n];
        random.nextBytes(b);
        return new GenerateRandomResponse(b);
      }
      case "Encrypt": {
        EncryptRequest r = KmsJson.read(body, EncryptRequest.class);
        lastContext.set(r.encryptionContext());
        byte[] ct = Arrays.copyOf(MARKER, MARKER.length + r.plaintext().length);
        System.arraycopy(r.plaintext(), 0, ct, MARKER.length, r.plaintext().length);
        return new EncryptResponse(ct, ARN, "SYMMETRIC_DEFAULT");
      }
      case "Decrypt": {
        DecryptRequest r = KmsJson.read(body, DecryptRequest.class);
        byte[] ct = r.ciphertextBlob();
        if (ct == null || ct.length < MARKER.length || !Arrays.equals(ct, 0, MARKER.length, MARKER, 0, MARKER.length)) {
          throw new KmsException(KmsError.INVALID_CIPHERTEXT, null);
        }
        return new DecryptResponse(ARN, Arrays.copyOfRange(ct, MARKER.length, ct.length), "SYMMETRIC_DEFAULT");
      }
      case "DescribeKey": {
        DescribeKeyRequest r = KmsJson.read(body, DescribeKeyRequest.class);
        if ("missing".equals(r.keyId())) {
          throw new KmsException(KmsError.NOT_FOUND, "Key '" + ARN.replace("1234abcd-12ab-34cd-56ef-1234567890ab", "missing") + "' does not exist");
        }
        return new DescribeKeyResponse(new KeyMetadata("111122223333", ARN.substring(ARN.indexOf('/') + 1), ARN, CREATED, true, "a stub key",
            "ENCRYPT_DECRYPT", "Enabled", "SYMMETRIC_DEFAULT", "CUSTOMER", "AWS_KMS", List.of("SYMMETRIC_DEFAULT")));
      }
      case "GenerateDataKey":
        throw new KmsException(KmsError.KMS_INTERNAL, "The request was rejected because an internal exception occurred. The request can be retried.");
      case "ScheduleKeyDeletion":
        throw new IllegalStateException("stub failure with private detail: s3cr3t-detail");
      case "ListKeys":
        return null;
      default:
        throw new KmsException(KmsError.UNKNOWN_OPERATION, operation);
    }
  }
}
