package io.hsmkit.it.kms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.amazonaws.encryptionsdk.AwsCrypto;
import com.amazonaws.encryptionsdk.CommitmentPolicy;
import com.amazonaws.encryptionsdk.CryptoResult;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.cryptography.materialproviders.IKeyring;
import software.amazon.cryptography.materialproviders.MaterialProviders;
import software.amazon.cryptography.materialproviders.model.AwsCryptographicMaterialProvidersException;
import software.amazon.cryptography.materialproviders.model.CollectionOfErrors;
import software.amazon.cryptography.materialproviders.model.CreateAwsKmsKeyringInput;
import software.amazon.cryptography.materialproviders.model.MaterialProvidersConfig;

/**
 * The AWS Encryption SDK for Java 3 (with the AWS Cryptographic Material Providers Library) unchanged
 * against the KMS server: a KMS keyring on a key ARN with a KmsClient pointed at the endpoint
 * encrypts and decrypts a message (GenerateDataKey and Decrypt over the wire, with the message's
 * encryption context); a keyring on another key's ARN cannot decrypt it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KmsEncryptionSdkTest {
  KmsServerFixture fx;
  KmsClient kms;
  MaterialProviders mpl;
  AwsCrypto crypto;

  @BeforeAll
  void start() throws Exception {
    fx = KmsServerFixture.start("kms-esdk", null);
    kms = fx.root();
    mpl = MaterialProviders.builder().MaterialProvidersConfig(MaterialProvidersConfig.builder().build()).build();
    crypto = AwsCrypto.builder().withCommitmentPolicy(CommitmentPolicy.RequireEncryptRequireDecrypt).build();
  }

  @AfterAll
  void stop() {
    if (kms != null) {
      kms.close();
    }
    if (fx != null) {
      fx.close();
    }
  }

  IKeyring keyring(String keyArn) {
    return mpl.CreateAwsKmsKeyring(CreateAwsKmsKeyringInput.builder().kmsKeyId(keyArn).kmsClient(kms).build());
  }

  @Test
  void encryptsAndDecryptsThroughAKmsKeyring() {
    String arn = kms.createKey(b -> b.description("esdk")).keyMetadata().arn();
    byte[] plaintext = "a message for the encryption sdk".getBytes(StandardCharsets.UTF_8);
    Map<String, String> context = Map.of("tenant", "blue", "purpose", "it");
    CryptoResult<byte[], ?> enc = crypto.encryptData(keyring(arn), plaintext, context);
    assertThat(enc.getResult()).isNotEqualTo(plaintext);
    CryptoResult<byte[], ?> dec = crypto.decryptData(keyring(arn), enc.getResult());
    assertThat(dec.getResult()).isEqualTo(plaintext);
    assertThat(dec.getEncryptionContext()).containsAllEntriesOf(context);
  }

  @Test
  void aKeyringOnAnotherKeyCannotDecrypt() {
    String arn = kms.createKey(b -> b.description("esdk a")).keyMetadata().arn();
    String other = kms.createKey(b -> b.description("esdk b")).keyMetadata().arn();
    byte[] message = crypto.encryptData(keyring(arn), "only for a".getBytes(StandardCharsets.UTF_8), Map.of("k", "v")).getResult();
    // The keyring finds no encrypted data key of its own ARN in the message: it never asks KMS with another key.
    assertThatThrownBy(() -> crypto.decryptData(keyring(other), message)).isInstanceOf(AwsCryptographicMaterialProvidersException.class)
        .hasMessageContaining("No Encrypted Data Keys found to match");
  }

  @Test
  void aDisabledKeyStopsTheKeyring() {
    var md = kms.createKey(b -> b.description("esdk disabled")).keyMetadata();
    byte[] message = crypto.encryptData(keyring(md.arn()), "x".getBytes(StandardCharsets.UTF_8), Map.of()).getResult();
    kms.disableKey(b -> b.keyId(md.keyId()));
    // The keyring asks KMS, which answers DisabledException.
    assertThatThrownBy(() -> crypto.decryptData(keyring(md.arn()), message)).isInstanceOf(CollectionOfErrors.class)
        .satisfies(e -> assertThat(((CollectionOfErrors) e).list().toString()).contains("DisabledException"));
    kms.enableKey(b -> b.keyId(md.keyId()));
    assertThat(crypto.decryptData(keyring(md.arn()), message).getResult()).isEqualTo("x".getBytes(StandardCharsets.UTF_8));
  }
}
