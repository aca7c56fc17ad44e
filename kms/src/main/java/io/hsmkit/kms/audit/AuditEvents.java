package io.hsmkit.kms.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import io.hsmkit.kms.Caller;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Builds audit records in CloudTrail's shape (eventVersion 1.08, eventSource kms.amazonaws.com).
 * Request parameters and response elements come from the API records converted to JSON with
 * every member that can carry a secret removed, at any depth: plaintexts, ciphertext blobs,
 * messages, signatures and MACs, key material and import tokens, grant tokens.
 */
public final class AuditEvents {
  private AuditEvents() {}

  /** Members never written to the trail. */
  static final Set<String> REDACTED = Set.of("plaintext", "ciphertextBlob", "message", "signature", "mac",
      "encryptedKeyMaterial", "importToken", "grantToken", "grantTokens", "privateKeyPlaintext",
      "privateKeyCiphertextBlob", "publicKey", "sourceEncryptionContextBlob");

  private static final ObjectMapper JSON = new ObjectMapper()
      .registerModule(new SimpleModule().addSerializer(Instant.class, ToStringSerializer.instance))
      .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

  /** One resource of a record (a KMS key). */
  public record Resource(String arn) {}

  /**
   * A record: {@code request} and {@code response} are API records (or null); {@code errorCode}
   * and {@code errorMessage} are null on success. {@code responseElements} is written only when
   * {@code response} is non-null (crypto calls pass null, as CloudTrail shows them).
   */
  public static ObjectNode event(Instant time, String region, Caller caller, String eventName, Object request,
      Object response, String errorCode, String errorMessage, List<Resource> resources, String recipientAccountId) {
    return event(time, region, caller, eventName, request, response, errorCode, errorMessage, resources, recipientAccountId, null);
  }

  /** The same with the request id the caller was given ({@code x-amzn-RequestId}); null makes a fresh one. */
  public static ObjectNode event(Instant time, String region, Caller caller, String eventName, Object request,
      Object response, String errorCode, String errorMessage, List<Resource> resources, String recipientAccountId, String requestId) {
    ObjectNode e = JSON.createObjectNode();
    e.put("eventVersion", "1.08");
    ObjectNode id = e.putObject("userIdentity");
    String arn = caller == null ? null : caller.principalArn();
    id.put("type", arn == null ? "Unknown" : arn.endsWith(":root") ? "Root" : arn.contains(":assumed-role/") ? "AssumedRole" : "IAMUser");
    id.put("arn", arn);
    id.put("accountId", caller == null ? null : caller.accountId());
    id.put("accessKeyId", caller == null ? null : caller.accessKeyId());
    e.put("eventTime", time.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
    e.put("eventSource", "kms.amazonaws.com");
    e.put("eventName", eventName);
    e.put("awsRegion", region);
    e.put("sourceIPAddress", caller == null || caller.sourceIp() == null ? "internal" : caller.sourceIp());
    e.put("userAgent", caller == null || caller.userAgent() == null ? "hsmkit-in-process" : caller.userAgent());
    if (errorCode != null) {
      e.put("errorCode", errorCode);
      e.put("errorMessage", errorMessage);
    }
    e.set("requestParameters", redacted(request));
    e.set("responseElements", response == null ? e.nullNode() : redacted(response));
    e.put("requestID", requestId != null ? requestId : UUID.randomUUID().toString());
    e.put("eventID", UUID.randomUUID().toString());
    e.put("readOnly", eventName.startsWith("Describe") || eventName.startsWith("List") || eventName.startsWith("Get"));
    ArrayNode rs = e.putArray("resources");
    for (Resource r : resources) {
      ObjectNode o = rs.addObject();
      o.put("accountId", recipientAccountId);
      o.put("type", "AWS::KMS::Key");
      o.put("ARN", r.arn());
    }
    e.put("eventType", "AwsApiCall");
    e.put("managementEvent", true);
    e.put("recipientAccountId", recipientAccountId);
    e.put("eventCategory", "Management");
    return e;
  }

  /**
   * A record of the service's own work, in CloudTrail's shape for AWS service events (what AWS logs
   * as DeleteKey at the end of a deletion window and RotateKey for automatic rotation): no caller
   * but {@code userIdentity} {@code {"type":"AWSService","invokedBy":"kms.amazonaws.com","accountId":...}},
   * {@code sourceIPAddress} and {@code userAgent} "kms.amazonaws.com", null request and response,
   * {@code eventType} "AwsServiceEvent", the key as resource and {@code serviceEventDetails.keyId}.
   */
  public static ObjectNode serviceEvent(Instant time, String region, String eventName, String keyArn, String accountId) {
    ObjectNode e = JSON.createObjectNode();
    e.put("eventVersion", "1.08");
    ObjectNode id = e.putObject("userIdentity");
    id.put("type", "AWSService");
    id.put("invokedBy", "kms.amazonaws.com");
    id.put("accountId", accountId);
    e.put("eventTime", time.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
    e.put("eventSource", "kms.amazonaws.com");
    e.put("eventName", eventName);
    e.put("awsRegion", region);
    e.put("sourceIPAddress", "kms.amazonaws.com");
    e.put("userAgent", "kms.amazonaws.com");
    e.set("requestParameters", e.nullNode());
    e.set("responseElements", e.nullNode());
    e.put("eventID", UUID.randomUUID().toString());
    e.put("readOnly", false);
    ObjectNode r = e.putArray("resources").addObject();
    r.put("accountId", accountId);
    r.put("type", "AWS::KMS::Key");
    r.put("ARN", keyArn);
    e.put("eventType", "AwsServiceEvent");
    e.put("managementEvent", true);
    e.put("recipientAccountId", accountId);
    e.putObject("serviceEventDetails").put("keyId", keyArn.substring(keyArn.lastIndexOf('/') + 1));
    e.put("eventCategory", "Management");
    return e;
  }

  /** The JSON of an API record without any member named in {@link #REDACTED}, nor nulls. */
  public static JsonNode redacted(Object value) {
    if (value == null) {
      return JSON.nullNode();
    }
    JsonNode n = JSON.valueToTree(value);
    strip(n);
    return n;
  }

  private static void strip(JsonNode n) {
    if (n instanceof ObjectNode o) {
      for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        if (REDACTED.contains(f) || o.get(f).isNull()) {
          it.remove();
        } else {
          strip(o.get(f));
        }
      }
    } else if (n instanceof ArrayNode a) {
      a.forEach(AuditEvents::strip);
    }
  }
}
