package io.hsmkit.it.kms;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import software.amazon.awssdk.http.AbortableInputStream;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpRequest;

/**
 * An SDK HTTP client that changes each request after the SDK signed it, then hands it to the real
 * client, and keeps every response body it passes back. An {@code ExecutionInterceptor} cannot do
 * this: {@code modifyHttpRequest} runs before signing (so the SDK would sign the change), and
 * {@code beforeTransmission} sees the signed request but cannot change it. The HTTP client is the
 * first thing after the signer that holds the request's bytes, as a man in the middle would.
 */
final class AfterSigningHttpClient implements SdkHttpClient {
  /** A change to a signed request: its headers and URI, and its body as text. */
  record Change(UnaryOperator<SdkHttpRequest> request, UnaryOperator<String> body) {
    static final Change NONE = new Change(UnaryOperator.identity(), UnaryOperator.identity());

    static Change request(UnaryOperator<SdkHttpRequest> request) {
      return new Change(request, UnaryOperator.identity());
    }

    static Change body(UnaryOperator<String> body) {
      return new Change(UnaryOperator.identity(), body);
    }
  }

  private final SdkHttpClient delegate;
  private volatile Change change = Change.NONE;
  private final List<String> sentBodies = new CopyOnWriteArrayList<>();
  private final List<String> responseBodies = new CopyOnWriteArrayList<>();

  AfterSigningHttpClient(SdkHttpClient delegate) {
    this.delegate = delegate;
  }

  /** The change applied to the following requests. */
  void change(Change c) {
    this.change = c;
  }

  /** The bodies of the requests as sent (after the change), in order. */
  List<String> sentBodies() {
    return List.copyOf(sentBodies);
  }

  /** The bodies of the responses, in order. */
  List<String> responseBodies() {
    return List.copyOf(responseBodies);
  }

  @Override
  public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
    Change c = change;
    SdkHttpRequest.Builder changed = c.request().apply(request.httpRequest()).toBuilder();
    HttpExecuteRequest.Builder out = HttpExecuteRequest.builder().metricCollector(request.metricCollector().orElse(null));
    Optional<ContentStreamProvider> content = request.contentStreamProvider();
    if (content.isPresent()) {
      String body = read(content.get());
      String newBody = c.body().apply(body);
      byte[] bytes = newBody.getBytes(StandardCharsets.UTF_8);
      sentBodies.add(newBody);
      if (changed.firstMatchingHeader("Content-Length").isPresent()) {
        changed.putHeader("Content-Length", Integer.toString(bytes.length)); // the body's framing, not its signature
      }
      out.contentStreamProvider(ContentStreamProvider.fromByteArray(bytes));
    }
    ExecutableHttpRequest real = delegate.prepareRequest(out.request(changed.build()).build());
    return new ExecutableHttpRequest() {
      @Override
      public HttpExecuteResponse call() throws IOException {
        HttpExecuteResponse r = real.call();
        byte[] body = new byte[0];
        if (r.responseBody().isPresent()) {
          try (InputStream in = r.responseBody().get()) {
            body = in.readAllBytes();
          }
        }
        responseBodies.add(new String(body, StandardCharsets.UTF_8));
        return HttpExecuteResponse.builder().response(r.httpResponse())
            .responseBody(AbortableInputStream.create(new ByteArrayInputStream(body))).build();
      }

      @Override
      public void abort() {
        real.abort();
      }
    };
  }

  private static String read(ContentStreamProvider p) {
    try (InputStream in = p.newStream()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public String clientName() {
    return delegate.clientName();
  }

  @Override
  public void close() {
    delegate.close();
  }
}
