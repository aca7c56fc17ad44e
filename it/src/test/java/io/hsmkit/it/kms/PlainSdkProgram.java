package io.hsmkit.it.kms;

import java.util.Map;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * A plain AWS SDK program, with nothing of HsmKit in it: {@code KmsClient.create()} takes the
 * endpoint, region and key pair from the environment that {@code eval} of {@code ./hsmkit serve}'s
 * output set, and the trust from the JVM's trust store (the Java SDK does not read AWS_CA_BUNDLE).
 * It creates a key, encrypts under it and decrypts, and prints what it got.
 */
public final class PlainSdkProgram {
  private PlainSdkProgram() {}

  public static void main(String[] args) {
    try (KmsClient kms = KmsClient.create()) {
      String arn = kms.createKey(r -> r.description("from a plain SDK program")).keyMetadata().arn();
      System.out.println("key: " + arn);
      Map<String, String> context = Map.of("purpose", "readme");
      SdkBytes ct = kms.encrypt(r -> r.keyId(arn).plaintext(SdkBytes.fromUtf8String("hello")).encryptionContext(context)).ciphertextBlob();
      System.out.println("ciphertext bytes: " + ct.asByteArray().length);
      var d = kms.decrypt(r -> r.ciphertextBlob(ct).encryptionContext(context));
      System.out.println("decrypted: " + d.plaintext().asUtf8String() + " under " + d.keyId());
    }
  }
}
