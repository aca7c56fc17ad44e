package io.hsmkit.kms.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * Requests the SDK cannot be made to send (malformed JSON, unknown targets, oversized bodies),
 * signed by the SDK's own signer ({@link SdkSigning}) so that each is valid except for the
 * defect under test, and the checks every error response must pass. Shared through the kms test
 * jar by the endpoint's unit tests and it/'s tests of a whole server.
 */
public final class RawKmsRequests {
  /** Headers java.net.http sets itself (to the values that were signed) and refuses to be given. */
  private static final Set<String> CLIENT_SET = Set.of("host", "content-length", "connection", "expect");

  /** Text in a response body that would mean an implementation detail leaked to the client. */
  public static final List<String> LEAKS = List.of("\tat ", "Exception:", "java.", "jakarta.", "org.apache", "io.hsmkit", "com.fasterxml",
      "Caused by", ".java:");

  private RawKmsRequests() {}

  /** A response: status, headers (names in lower case) and the body as sent. */
  public record Response(int status, Map<String, List<String>> headers, byte[] body) {
    public Response {
      Map<String, List<String>> lower = new LinkedHashMap<>();
      headers.forEach((k, v) -> lower.computeIfAbsent(k.toLowerCase(Locale.ROOT), x -> new ArrayList<>()).addAll(v));
      headers = Map.copyOf(lower);
      body = body.clone();
    }

    @Override
    public byte[] body() {
      return body.clone();
    }

    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    public JsonNode json() {
      try {
        return KmsJson.mapper().readTree(body);
      } catch (IOException e) {
        throw new UncheckedIOException("not JSON: " + text(), e);
      }
    }

    public String type() {
      return json().path("__type").asText();
    }

    public String message() {
      return json().path("message").asText();
    }
  }

  /** A client that trusts what {@code ssl} trusts, on HTTP/1.1 (as the SDK's Apache client). */
  public static HttpClient client(SSLContext ssl) {
    return HttpClient.newBuilder().sslContext(ssl).version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
  }

  /** POSTs {@code call} signed by the SDK's signer, with {@code bodyAfterSigning} applied to the body after signing. */
  public static Response post(HttpClient http, SdkSigning.Call call, UnaryOperator<String> bodyAfterSigning) throws Exception {
    Map<String, List<String>> signed = SdkSigning.sign(call);
    HttpRequest.Builder b = HttpRequest.newBuilder(call.endpoint()).timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofString(bodyAfterSigning.apply(call.body()), StandardCharsets.UTF_8));
    for (Map.Entry<String, List<String>> h : signed.entrySet()) {
      if (CLIENT_SET.contains(h.getKey().toLowerCase(Locale.ROOT))) {
        continue;
      }
      for (String v : h.getValue()) {
        b.header(h.getKey(), v);
      }
    }
    return send(http, b.build());
  }

  public static Response send(HttpClient http, HttpRequest r) throws Exception {
    HttpResponse<byte[]> resp = http.send(r, HttpResponse.BodyHandlers.ofByteArray());
    return new Response(resp.statusCode(), resp.headers().map(), resp.body());
  }

  /**
   * Sends {@code call}'s signed headers (its Content-Length among them) and only the first
   * {@code sentBytes} of its body over a socket of its own, then reads the response: for a server
   * that must refuse a declared length before reading the body. (Sending all of it would race the
   * server's close of the connection against the client's read of the response.)
   */
  public static Response postHeadersFirst(SSLContext ssl, SdkSigning.Call call, int sentBytes) throws IOException {
    URI uri = call.endpoint();
    byte[] body = call.body().getBytes(StandardCharsets.UTF_8);
    StringBuilder head = new StringBuilder("POST / HTTP/1.1\r\n");
    SdkSigning.sign(call).forEach((k, vs) -> vs.forEach(v -> head.append(k).append(": ").append(v).append("\r\n")));
    head.append("\r\n");
    try (SSLSocket s = (SSLSocket) ssl.getSocketFactory().createSocket(uri.getHost(), uri.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
      out.write(body, 0, Math.min(sentBytes, body.length));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      String status = in.readLine();
      if (status == null || !status.startsWith("HTTP/1.1 ")) {
        throw new IOException("no HTTP response: " + status);
      }
      Map<String, List<String>> headers = new LinkedHashMap<>();
      String line;
      int length = -1;
      while ((line = in.readLine()) != null && !line.isEmpty()) {
        int colon = line.indexOf(':');
        String name = line.substring(0, colon).trim();
        String value = line.substring(colon + 1).trim();
        headers.computeIfAbsent(name, x -> new ArrayList<>()).add(value);
        if (name.equalsIgnoreCase("content-length")) {
          length = Integer.parseInt(value);
        }
      }
      // The error bodies are ASCII JSON, so characters are bytes.
      StringBuilder text = new StringBuilder();
      int c;
      while ((length < 0 || text.length() < length) && (c = in.read()) >= 0) {
        text.append((char) c);
      }
      return new Response(Integer.parseInt(status.substring(9, 12)), headers, text.toString().getBytes(StandardCharsets.UTF_8));
    }
  }

  /**
   * An AWS JSON 1.1 error: the status, {@code __type}, a message containing {@code message}, a
   * request id and the protocol's content type, and nothing of the implementation in the body.
   */
  public static void assertError(Response r, int status, String type, String message) {
    assertThat(r.status()).as(r.text()).isEqualTo(status);
    assertThat(r.type()).as(r.text()).isEqualTo(type);
    assertThat(r.message()).contains(message);
    assertThat(r.headers().get("x-amzn-requestid")).as("x-amzn-RequestId on errors too").hasSize(1);
    assertThat(r.headers().get("content-type")).containsExactly("application/x-amz-json-1.1");
    assertNoLeak(r.text());
  }

  /** No stack trace, exception message or class name of ours or of a library in {@code body}. */
  public static void assertNoLeak(String body) {
    assertThat(body).as("a response body").doesNotContain(LEAKS);
  }
}
