package io.hsmkit.kms.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.hsmkit.kms.Caller;
import java.util.Set;

/**
 * What the endpoint dispatches to: one call per AWS KMS operation, named as in
 * {@code X-Amz-Target: TrentService.<operation>}.
 *
 * <p>The endpoint has authenticated the caller (SigV4) and parsed the body as a JSON object before
 * it calls {@link #invoke}; an implementation maps the body onto its request type with
 * {@link KmsJson#read(JsonNode, Class)} and returns the response, which the endpoint writes with
 * {@link KmsJson#mapper()}. The intended implementation is a table from operation name to a
 * {@code KmsService} method:
 *
 * <pre>{@code
 * case "Encrypt" -> service.encrypt(caller, KmsJson.read(body, EncryptRequest.class));
 * }</pre>
 *
 * <p>Contract: thread-safe (Tomcat calls it from many threads at once); every failure the caller
 * should see is a {@link io.hsmkit.kms.KmsException}, which the endpoint writes as AWS does
 * ({@code __type}, {@code message}, the error's HTTP status); anything else is logged with the
 * request id and answered as {@code KMSInternalException} with no detail.
 */
public interface KmsOperations {
  /**
   * Runs {@code operation} (one of {@link #operations()}) for {@code caller}.
   *
   * @param body the request, always a JSON object ({@code {}} for an empty body)
   * @param caller the authenticated principal with its access key id, source IP and user agent
   * @return the response: a record (written with {@link KmsJson#mapper()}), a {@link JsonNode},
   *     or null for an operation whose response is empty ({@code {}})
   * @throws io.hsmkit.kms.KmsException for every error the caller should see
   */
  Object invoke(String operation, JsonNode body, Caller caller);

  /**
   * The same with the request id the endpoint returns in {@code x-amzn-RequestId}, so that the
   * audit record of the call can carry it as CloudTrail's {@code requestID}. The endpoint calls
   * this one; the default ignores the id.
   */
  default Object invoke(String operation, JsonNode body, Caller caller, String requestId) {
    return invoke(operation, body, caller);
  }

  /**
   * The operations this implementation knows (for example {@code "Encrypt"}); a target naming any
   * other is answered with {@code UnknownOperationException} before {@link #invoke} is called.
   */
  Set<String> operations();
}
