package io.hsmkit.kms.core;

import static io.hsmkit.kms.core.Kms.fails;
import static io.hsmkit.kms.core.Kms.symmetric;
import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.api.*;
import io.hsmkit.kms.blob.CiphertextBlob;
import io.hsmkit.kms.testing.TestDatabases;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Encrypt, Decrypt, ReEncrypt, data keys and random on a real token, on H2 and PostgreSQL. */
class SymmetricCryptoTest {
  static final byte[] HELLO = "hello, kms".getBytes(StandardCharsets.UTF_8);
  static final Map<String, String> CTX = Map.of("purpose", "test", "tenant", "t1");

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void encryptDecryptRoundTripWithContext(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    KeyMetadata m = f.kms.createKey(f.caller, symmetric()).keyMetadata();
    EncryptResponse e = f.kms.encrypt(f.caller, new EncryptRequest(m.keyId(), HELLO, CTX, null, null));
    assertThat(e.keyId()).isEqualTo(m.arn());
    assertThat(e.encryptionAlgorithm()).isEqualTo("SYMMETRIC_DEFAULT");
    byte[] blob = e.ciphertextBlob();
    assertThat(blob).hasSize(CiphertextBlob.HEADER_BYTES + 12 + HELLO.length + 16);
    CiphertextBlob parsed = CiphertextBlob.parse(blob);
    assertThat(parsed.keyId().toString()).isEqualTo(m.keyId());
    assertThat(parsed.keyVersion()).isEqualTo(1);
    // KeyId optional for symmetric keys; given, by id, ARN or alias.
    DecryptResponse d = f.kms.decrypt(f.caller, new DecryptRequest(blob, new HashMap<>(CTX), null, null, null));
    assertThat(d.plaintext()).isEqualTo(HELLO);
    assertThat(d.keyId()).isEqualTo(m.arn());
    f.kms.createAlias(f.caller, new CreateAliasRequest("alias/crypto", m.keyId()));
    for (String id : List.of(m.keyId(), m.arn(), "alias/crypto", "arn:aws:kms:eu-west-1:" + f.kms.accountId() + ":alias/crypto")) {
      assertThat(f.kms.decrypt(f.caller, new DecryptRequest(blob, CTX, null, id, "SYMMETRIC_DEFAULT")).plaintext()).isEqualTo(HELLO);
    }
    // Encrypting twice gives two different blobs (fresh IVs).
    assertThat(f.kms.encrypt(f.caller, new EncryptRequest("alias/crypto", HELLO, CTX, null, null)).ciphertextBlob()).isNotEqualTo(blob);
    d.wipe();
    assertThat(d.plaintext()).containsOnly(0);
  }

  static Stream<Arguments> wrongContexts() {
    return Stream.of(
        Arguments.of("a missing pair", Map.of("purpose", "test")),
        Arguments.of("an extra pair", Map.of("purpose", "test", "tenant", "t1", "x", "y")),
        Arguments.of("a changed value", Map.of("purpose", "test", "tenant", "t2")),
        Arguments.of("a key in other case", Map.of("Purpose", "test", "tenant", "t1")),
        Arguments.of("a value in other case", Map.of("purpose", "Test", "tenant", "t1")),
        Arguments.of("no context", Map.of()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("wrongContexts")
  void aWrongContextIsInvalidCiphertext(String what, Map<String, String> wrong) {
    for (TestDatabases.Kind kind : TestDatabases.Kind.values()) {
      KmsFixture f = KmsFixture.create(kind);
      String id = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
      byte[] blob = f.kms.encrypt(f.caller, new EncryptRequest(id, HELLO, CTX, null, null)).ciphertextBlob();
      fails(KmsError.INVALID_CIPHERTEXT, () -> f.kms.decrypt(f.caller, new DecryptRequest(blob, wrong, null, null, null)));
    }
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void abCAgainstABcIsInvalidCiphertext(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    String id = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
    byte[] blob = f.kms.encrypt(f.caller, new EncryptRequest(id, HELLO, Map.of("ab", "c"), null, null)).ciphertextBlob();
    fails(KmsError.INVALID_CIPHERTEXT, () -> f.kms.decrypt(f.caller, new DecryptRequest(blob, Map.of("a", "bc"), null, null, null)));
    assertThat(f.kms.decrypt(f.caller, new DecryptRequest(blob, Map.of("ab", "c"), null, null, null)).plaintext()).isEqualTo(HELLO);
    // And a blob without context does not open with one.
    byte[] plain = f.kms.encrypt(f.caller, new EncryptRequest(id, HELLO, null, null, null)).ciphertextBlob();
    fails(KmsError.INVALID_CIPHERTEXT, () -> f.kms.decrypt(f.caller, new DecryptRequest(plain, Map.of("a", "b"), null, null, null)));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void tamperedBlobsAreInvalidCiphertext(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    String id = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
    byte[] blob = f.kms.encrypt(f.caller, new EncryptRequest(id, HELLO, CTX, null, null)).ciphertextBlob();
    // Every truncation, and a flipped bit in every byte (header, version, IV, body, tag).
    for (int len = 0; len < blob.length; len += (len < 60 ? 1 : 7)) {
      byte[] cut = Arrays.copyOf(blob, len);
      fails(KmsError.INVALID_CIPHERTEXT, () -> f.kms.decrypt(f.caller, new DecryptRequest(cut, CTX, null, null, null)));
    }
    for (int i = 0; i < blob.length; i++) {
      byte[] flipped = blob.clone();
      flipped[i] ^= 0x01;
      fails(KmsError.INVALID_CIPHERTEXT, () -> f.kms.decrypt(f.caller, new DecryptRequest(flipped, CTX, null, null, null)));
    }
    byte[] longer = Arrays.copyOf(blob, blob.length + 1);
    fails(KmsError.INVALID_CIPHERTEXT, () -> f.kms.decrypt(f.caller, new DecryptRequest(longer, CTX, null, null, null)));
    fails(KmsError.INVALID_CIPHERTEXT, () -> f.kms.decrypt(f.caller, new DecryptRequest(null, CTX, null, null, null)));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void decryptNamingAnotherKeyIsIncorrectKey(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    String a = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
    String b = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
    byte[] blob = f.kms.encrypt(f.caller, new EncryptRequest(a, HELLO, null, null, null)).ciphertextBlob();
    fails(KmsError.INCORRECT_KEY, () -> f.kms.decrypt(f.caller, new DecryptRequest(blob, null, null, b, null)));
    fails(KmsError.NOT_FOUND, () -> f.kms.decrypt(f.caller, new DecryptRequest(blob, null, null, "alias/none", null)));
    // A blob whose header is rewritten to name key B fails authentication under B.
    byte[] moved = blob.clone();
    byte[] bHeader = CiphertextBlob.header(java.util.UUID.fromString(b), 1);
    System.arraycopy(bHeader, 0, moved, 0, bHeader.length);
    fails(KmsError.INVALID_CIPHERTEXT, () -> f.kms.decrypt(f.caller, new DecryptRequest(moved, null, null, null, null)));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void keyStatesGiveAwsErrors(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    String id = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
    byte[] blob = f.kms.encrypt(f.caller, new EncryptRequest(id, HELLO, null, null, null)).ciphertextBlob();
    f.kms.disableKey(f.caller, new DisableKeyRequest(id));
    fails(KmsError.DISABLED, () -> f.kms.decrypt(f.caller, new DecryptRequest(blob, null, null, null, null)));
    fails(KmsError.DISABLED, () -> f.kms.generateDataKey(f.caller, new GenerateDataKeyRequest(id, null, null, "AES_256", null)));
    f.kms.scheduleKeyDeletion(f.caller, new ScheduleKeyDeletionRequest(id, 7));
    fails(KmsError.KMS_INVALID_STATE, () -> f.kms.decrypt(f.caller, new DecryptRequest(blob, null, null, null, null)));
    fails(KmsError.KMS_INVALID_STATE, () -> f.kms.generateDataKeyWithoutPlaintext(f.caller, new GenerateDataKeyWithoutPlaintextRequest(id, null, "AES_128", null, null)));
    f.kms.cancelKeyDeletion(f.caller, new CancelKeyDeletionRequest(id));
    f.kms.enableKey(f.caller, new EnableKeyRequest(id));
    assertThat(f.kms.decrypt(f.caller, new DecryptRequest(blob, null, null, null, null)).plaintext()).isEqualTo(HELLO);
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void plaintextLimits(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    String id = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
    byte[] max = new byte[4096];
    byte[] blob = f.kms.encrypt(f.caller, new EncryptRequest(id, max, null, null, null)).ciphertextBlob();
    assertThat(f.kms.decrypt(f.caller, new DecryptRequest(blob, null, null, null, null)).plaintext()).isEqualTo(max);
    fails(KmsError.VALIDATION, () -> f.kms.encrypt(f.caller, new EncryptRequest(id, new byte[4097], null, null, null)));
    fails(KmsError.VALIDATION, () -> f.kms.encrypt(f.caller, new EncryptRequest(id, new byte[0], null, null, null)));
    fails(KmsError.VALIDATION, () -> f.kms.encrypt(f.caller, new EncryptRequest(id, null, null, null, null)));
    fails(KmsError.INVALID_KEY_USAGE, () -> f.kms.encrypt(f.caller, new EncryptRequest(id, HELLO, null, null, "RSAES_OAEP_SHA_256")));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void reEncryptMovesACiphertextToAnotherKeyAndContext(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    KeyMetadata a = f.kms.createKey(f.caller, symmetric()).keyMetadata();
    KeyMetadata b = f.kms.createKey(f.caller, symmetric()).keyMetadata();
    byte[] blob = f.kms.encrypt(f.caller, new EncryptRequest(a.keyId(), HELLO, CTX, null, null)).ciphertextBlob();
    ReEncryptResponse r = f.kms.reEncrypt(f.caller, new ReEncryptRequest(blob, CTX, null, b.keyId(), Map.of("new", "ctx"), null, null, null));
    assertThat(r.sourceKeyId()).isEqualTo(a.arn());
    assertThat(r.keyId()).isEqualTo(b.arn());
    assertThat(CiphertextBlob.parse(r.ciphertextBlob()).keyId().toString()).isEqualTo(b.keyId());
    assertThat(f.kms.decrypt(f.caller, new DecryptRequest(r.ciphertextBlob(), Map.of("new", "ctx"), null, b.arn(), null)).plaintext()).isEqualTo(HELLO);
    fails(KmsError.INVALID_CIPHERTEXT, () -> f.kms.reEncrypt(f.caller, new ReEncryptRequest(blob, Map.of(), null, b.keyId(), null, null, null, null)));
    fails(KmsError.INCORRECT_KEY, () -> f.kms.reEncrypt(f.caller, new ReEncryptRequest(blob, CTX, b.keyId(), a.keyId(), null, null, null, null)));
    f.kms.disableKey(f.caller, new DisableKeyRequest(b.keyId()));
    fails(KmsError.DISABLED, () -> f.kms.reEncrypt(f.caller, new ReEncryptRequest(blob, CTX, null, b.keyId(), null, null, null, null)));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void dataKeys(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    String id = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
    GenerateDataKeyResponse k = f.kms.generateDataKey(f.caller, new GenerateDataKeyRequest(id, CTX, null, "AES_256", null));
    assertThat(k.plaintext()).hasSize(32);
    assertThat(f.kms.decrypt(f.caller, new DecryptRequest(k.ciphertextBlob(), CTX, null, null, null)).plaintext()).isEqualTo(k.plaintext());
    assertThat(f.kms.generateDataKey(f.caller, new GenerateDataKeyRequest(id, null, null, "AES_128", null)).plaintext()).hasSize(16);
    assertThat(f.kms.generateDataKey(f.caller, new GenerateDataKeyRequest(id, null, 1024, null, null)).plaintext()).hasSize(1024);
    assertThat(f.kms.generateDataKey(f.caller, new GenerateDataKeyRequest(id, null, 1, null, null)).plaintext()).hasSize(1);
    GenerateDataKeyWithoutPlaintextResponse w = f.kms.generateDataKeyWithoutPlaintext(f.caller, new GenerateDataKeyWithoutPlaintextRequest(id, CTX, null, 48, null));
    assertThat(f.kms.decrypt(f.caller, new DecryptRequest(w.ciphertextBlob(), CTX, null, null, null)).plaintext()).hasSize(48);
    fails(KmsError.VALIDATION, () -> f.kms.generateDataKey(f.caller, new GenerateDataKeyRequest(id, null, null, null, null)));
    fails(KmsError.VALIDATION, () -> f.kms.generateDataKey(f.caller, new GenerateDataKeyRequest(id, null, 32, "AES_256", null)));
    fails(KmsError.VALIDATION, () -> f.kms.generateDataKey(f.caller, new GenerateDataKeyRequest(id, null, 0, null, null)));
    fails(KmsError.VALIDATION, () -> f.kms.generateDataKey(f.caller, new GenerateDataKeyRequest(id, null, 1025, null, null)));
    fails(KmsError.VALIDATION, () -> f.kms.generateDataKey(f.caller, new GenerateDataKeyRequest(id, null, null, "AES_512", null)));
    k.wipe();
    assertThat(k.plaintext()).containsOnly(0);
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void generateRandom(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    byte[] a = f.kms.generateRandom(f.caller, new GenerateRandomRequest(1024, null)).plaintext();
    byte[] b = f.kms.generateRandom(f.caller, new GenerateRandomRequest(1024, null)).plaintext();
    assertThat(a).hasSize(1024).isNotEqualTo(b);
    assertThat(f.kms.generateRandom(f.caller, new GenerateRandomRequest(1, null)).plaintext()).hasSize(1);
    fails(KmsError.VALIDATION, () -> f.kms.generateRandom(f.caller, new GenerateRandomRequest(0, null)));
    fails(KmsError.VALIDATION, () -> f.kms.generateRandom(f.caller, new GenerateRandomRequest(1025, null)));
    fails(KmsError.VALIDATION, () -> f.kms.generateRandom(f.caller, new GenerateRandomRequest(null, null)));
    fails(KmsError.CUSTOM_KEY_STORE_NOT_FOUND, () -> f.kms.generateRandom(f.caller, new GenerateRandomRequest(8, "cks-0123456789abcdef0")));
  }
}
