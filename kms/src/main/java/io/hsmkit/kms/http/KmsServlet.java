package io.hsmkit.kms.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * The AWS JSON 1.1 protocol on {@code POST /}: bounded body, SigV4, {@code X-Amz-Target},
 * JSON, dispatch, and AWS's error shape. Every response, good or bad, carries a fresh
 * {@code x-amzn-RequestId}; no response ever carries a stack trace (those go to the server log,
 * tagged with the request id).
 */
final class KmsServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;
  private static final System.Logger LOG = System.getLogger(KmsServlet.class.getName());

  static final String CONTENT_TYPE = "application/x-amz-json-1.1";
  static final String TARGET_PREFIX = "TrentService.";
  static final String REQUEST_ID = "x-amzn-RequestId";

  private final transient KmsOperations operations;
  private final transient SigV4Verifier verifier;
  private final int maxBodyBytes;

  KmsServlet(KmsOperations operations, SigV4Verifier verifier, int maxBodyBytes) {
    this.operations = Objects.requireNonNull(operations, "operations");
    this.verifier = Objects.requireNonNull(verifier, "verifier");
    this.maxBodyBytes = maxBodyBytes;
  }

  @Override
  protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    String requestId = UUID.randomUUID().toString();
    resp.setHeader(REQUEST_ID, requestId);
    // The clock SigV4 is checked against: an AWS SDK whose clock is off compares it with its own
    // after "Signature expired" and corrects its skew, as it does with AWS.
    resp.setDateHeader("Date", verifier.clock().millis());
    String operation = null;
    try {
      if (!"POST".equals(req.getMethod())) {
        throw new KmsException(KmsError.UNKNOWN_OPERATION, "The AWS JSON 1.1 protocol takes POST / only, not " + SigV4Verifier.printable(req.getMethod()));
      }
      if (!"/".equals(req.getRequestURI())) {
        throw new KmsException(KmsError.UNKNOWN_OPERATION, "The AWS JSON 1.1 protocol takes POST / only, not a request for another path");
      }
      byte[] body = readBounded(req, resp);
      if (body == null) {
        return; // the client went away while sending
      }
      Caller caller = verifier.verify(new SigV4Verifier.SignedRequest(req.getMethod(), req.getRequestURI(), req.getQueryString(), headers(req), body),
          req.getRemoteAddr(), req.getHeader("User-Agent"));
      operation = target(req.getHeader("X-Amz-Target"));
      String contentType = req.getContentType();
      if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith(CONTENT_TYPE)) {
        throw new KmsException(KmsError.SERIALIZATION, "The Content-Type must be " + CONTENT_TYPE);
      }
      ObjectNode json = KmsJson.parseBody(body);
      String approval = req.getHeader(QuorumApprovalHeader.NAME);
      if (approval != null && !SigV4Verifier.parseAuthorization(req.getHeader("Authorization")).signedHeaders()
          .contains(QuorumApprovalHeader.NAME.toLowerCase(Locale.ROOT))) {
        // An unsigned approval could be added by anyone on the path; AWS answers so for unsigned x-amz-* headers.
        throw new KmsException(KmsError.INCOMPLETE_SIGNATURE, "'" + QuorumApprovalHeader.NAME + "' must be a 'SignedHeader' in the AWS Authorization.");
      }
      String op = operation;
      Object response = QuorumApprovalHeader.with(approval, () -> operations.invoke(op, json, caller, requestId));
      byte[] out = KmsJson.write(response);
      resp.setStatus(200);
      resp.setContentType(CONTENT_TYPE);
      resp.setContentLength(out.length);
      resp.getOutputStream().write(out);
    } catch (KmsException e) {
      String what = "request " + requestId + " " + (operation == null ? "" : operation + " ") + "failed: " + e.error().awsName();
      LOG.log(System.Logger.Level.DEBUG, what);
      sendError(resp, e.error(), e.getMessage());
    } catch (RuntimeException | Error e) {
      // A bug or an unexpected failure below: the detail goes to the log only.
      LOG.log(System.Logger.Level.ERROR, "request " + requestId + (operation == null ? "" : " (" + operation + ")") + " failed unexpectedly", e);
      sendError(resp, KmsError.KMS_INTERNAL, "The request could not be processed because of an internal error (request id " + requestId + ").");
    }
  }

  /**
   * The body, at most {@code maxBodyBytes}: a larger Content-Length is refused before any of the
   * body is read; a chunked body is read until it passes the bound. Null when the client went away.
   */
  private byte[] readBounded(HttpServletRequest req, HttpServletResponse resp) {
    long declared = req.getContentLengthLong();
    if (declared > maxBodyBytes) {
      resp.setHeader("Connection", "close"); // the rest of the body is not worth swallowing
      throw tooLarge();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(declared > 0 ? (int) declared : 1024);
    byte[] buf = new byte[8192];
    try (InputStream in = req.getInputStream()) {
      int n;
      while ((n = in.read(buf)) >= 0) {
        if (out.size() + n > maxBodyBytes) {
          resp.setHeader("Connection", "close");
          throw tooLarge();
        }
        out.write(buf, 0, n);
      }
    } catch (IOException e) {
      return null;
    }
    return out.toByteArray();
  }

  private KmsException tooLarge() {
    return new KmsException(KmsError.REQUEST_ENTITY_TOO_LARGE, "Request body must be at most " + maxBodyBytes + " bytes");
  }

  /** {@code TrentService.<Op>} with a known operation, else UnknownOperationException. */
  private String target(String header) {
    if (header == null || !header.startsWith(TARGET_PREFIX)) {
      throw new KmsException(KmsError.UNKNOWN_OPERATION, header == null ? "The X-Amz-Target header is missing"
          : "Unknown target '" + SigV4Verifier.printable(header) + "': expected " + TARGET_PREFIX + "<Operation>");
    }
    String op = header.substring(TARGET_PREFIX.length());
    if (!operations.operations().contains(op)) {
      throw new KmsException(KmsError.UNKNOWN_OPERATION, "Unknown operation '" + SigV4Verifier.printable(op) + "'");
    }
    return op;
  }

  private static Map<String, List<String>> headers(HttpServletRequest req) {
    Map<String, List<String>> h = new LinkedHashMap<>();
    for (String name : Collections.list(req.getHeaderNames())) {
      h.computeIfAbsent(name, k -> new ArrayList<>()).addAll(Collections.list(req.getHeaders(name)));
    }
    return h;
  }

  private static void sendError(HttpServletResponse resp, KmsError error, String message) throws IOException {
    if (resp.isCommitted()) {
      return;
    }
    byte[] out = KmsJson.errorBody(error, message);
    resp.setStatus(error.httpStatus());
    resp.setContentType(CONTENT_TYPE);
    resp.setContentLength(out.length);
    resp.getOutputStream().write(out);
  }
}
