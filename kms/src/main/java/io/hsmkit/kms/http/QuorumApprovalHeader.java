package io.hsmkit.kms.http;

import java.util.function.Supplier;

/**
 * The {@code X-Hsmkit-Quorum-Approval} request header: the base64 of an approval token file (the
 * bytes {@code hsmkit quorum token create} writes). The KMS wire protocol has no member for it, and
 * the seams between the endpoint and the access check ({@code ServiceOperations}, the core's
 * {@code AccessRequest}) are records we keep stable, so the endpoint hands the value down on the
 * request's thread: the servlet runs one request per thread, synchronously, and clears it after.
 * The value is not a secret (a token is public; the approvals live in the quorum store).
 */
public final class QuorumApprovalHeader {
  /** The header name as clients send it (matched case-insensitively, and it must be SigV4-signed). */
  public static final String NAME = "X-Hsmkit-Quorum-Approval";

  private static final ThreadLocal<String> CURRENT = new ThreadLocal<>();

  private QuorumApprovalHeader() {}

  /** The header value of the request this thread serves, or null when none was sent. */
  public static String current() {
    return CURRENT.get();
  }

  /** Runs {@code body} with {@code value} (null: none) as the current request's approval header. */
  public static <T> T with(String value, Supplier<T> body) {
    String previous = CURRENT.get();
    CURRENT.set(value);
    try {
      return body.get();
    } finally {
      if (previous == null) {
        CURRENT.remove();
      } else {
        CURRENT.set(previous);
      }
    }
  }
}
