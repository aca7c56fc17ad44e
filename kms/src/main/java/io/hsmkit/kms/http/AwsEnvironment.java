package io.hsmkit.kms.http;

import java.io.IOException;
import java.io.Writer;
import java.net.URI;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The AWS SDKs' standard environment variables for a client of the endpoint, one
 * {@code export NAME='value'} line each, so that {@code eval "$(hsmkit serve ...)"} in a POSIX
 * shell (or any SDK reading the environment) picks them up: {@code AWS_ENDPOINT_URL_KMS},
 * {@code AWS_REGION}, {@code AWS_ACCESS_KEY_ID}, {@code AWS_SECRET_ACCESS_KEY},
 * {@code AWS_CA_BUNDLE}; and {@code AWS_DEFAULT_REGION} beside {@code AWS_REGION}, because the
 * AWS CLI v1 and boto3 (botocore) read only that one (seen here: aws-cli 1.45 without it says
 * "You must specify a region").
 *
 * <p>Values are single-quoted for the shell (a {@code '} inside becomes {@code '\''}), so no
 * value is ever expanded or split. The secret is written from its {@code char[]} straight to the
 * writer, never made into a String here; it is the caller's to wipe.
 */
public final class AwsEnvironment {
  private AwsEnvironment() {}

  /**
   * Writes the lines (five for plain HTTP, six with a CA bundle).
   *
   * @param caBundle a file holding the CA certificate as PEM ({@link EndpointCertificates.Issued#caPem()}),
   *     or null for an endpoint on plain HTTP (then no {@code AWS_CA_BUNDLE} line)
   */
  public static void write(Writer out, URI endpoint, String region, String accessKeyId, char[] secretAccessKey, Path caBundle) throws IOException {
    Objects.requireNonNull(endpoint, "endpoint");
    // Checked before anything is written, so that a refused value leaves no half-written output.
    check("AWS_REGION", region.toCharArray());
    check("AWS_ACCESS_KEY_ID", accessKeyId.toCharArray());
    check("AWS_SECRET_ACCESS_KEY", secretAccessKey);
    if (caBundle != null) {
      check("AWS_CA_BUNDLE", caBundle.toAbsolutePath().toString().toCharArray());
    }
    line(out, "AWS_ENDPOINT_URL_KMS", endpoint.toString().toCharArray());
    line(out, "AWS_REGION", region.toCharArray());
    line(out, "AWS_DEFAULT_REGION", region.toCharArray());
    line(out, "AWS_ACCESS_KEY_ID", accessKeyId.toCharArray());
    line(out, "AWS_SECRET_ACCESS_KEY", secretAccessKey);
    if (caBundle != null) {
      line(out, "AWS_CA_BUNDLE", caBundle.toAbsolutePath().toString().toCharArray());
    }
    out.flush();
  }

  private static void check(String name, char[] value) {
    for (char c : value) {
      if (c == '\n' || c == '\r' || c == 0) {
        throw new IllegalArgumentException(name + " holds a line break or NUL, which an export line cannot carry");
      }
    }
  }

  private static void line(Writer out, String name, char[] value) throws IOException {
    out.write("export ");
    out.write(name);
    out.write("='");
    for (char c : value) {
      if (c == '\'') {
        out.write("'\\''");
      } else {
        out.write(c);
      }
    }
    out.write("'\n");
  }
}
