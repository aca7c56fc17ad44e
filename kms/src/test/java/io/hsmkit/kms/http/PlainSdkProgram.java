package io.hsmkit.kms.http;

import software.amazon.awssdk.services.kms.KmsClient;

/**
 * A plain AWS SDK program: no endpoint, region, credentials or trust in code; all of it comes
 * from the environment ({@code AWS_ENDPOINT_URL_KMS}, {@code AWS_REGION}, the key pair) and the
 * JVM's trust store. Prints the number of random bytes it got.
 */
public final class PlainSdkProgram {
  private PlainSdkProgram() {}

  public static void main(String[] args) {
    try (KmsClient kms = KmsClient.create()) {
      System.out.println("random bytes: " + kms.generateRandom(r -> r.numberOfBytes(24)).plaintext().asByteArray().length);
    }
  }
}
