package io.hsmkit.cli;

import software.amazon.awssdk.services.kms.KmsClient;

/**
 * A plain AWS SDK program: endpoint, region and key pair all come from the environment that
 * {@code eval "$(hsmkit serve ...)"} set, trust from the JVM's trust store. Prints what it got.
 */
public final class PlainKmsProgram {
  private PlainKmsProgram() {}

  public static void main(String[] args) {
    try (KmsClient kms = KmsClient.create()) {
      System.out.println("random bytes: " + kms.generateRandom(r -> r.numberOfBytes(24)).plaintext().asByteArray().length);
      String keyId = kms.createKey(r -> r.description("from a plain program")).keyMetadata().keyId();
      System.out.println("key: " + keyId);
    }
  }
}
