package io.hsmkit.it.kms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.hsmkit.kms.audit.AuditTrail;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.AlgorithmSpec;
import software.amazon.awssdk.services.kms.model.ConnectionStateType;
import software.amazon.awssdk.services.kms.model.DataKeyPairSpec;
import software.amazon.awssdk.services.kms.model.DataKeySpec;
import software.amazon.awssdk.services.kms.model.EncryptResponse;
import software.amazon.awssdk.services.kms.model.KeySpec;
import software.amazon.awssdk.services.kms.model.KeyState;
import software.amazon.awssdk.services.kms.model.KeyUsageType;
import software.amazon.awssdk.services.kms.model.MacAlgorithmSpec;
import software.amazon.awssdk.services.kms.model.MessageType;
import software.amazon.awssdk.services.kms.model.OriginType;
import software.amazon.awssdk.services.kms.model.SigningAlgorithmSpec;
import software.amazon.awssdk.services.kms.model.Tag;
import software.amazon.awssdk.services.kms.model.WrappingKeySpec;

/**
 * The whole KMS server (KmsServer: token, H2, policies, grants, custom key stores, audit, HTTPS
 * endpoint with SigV4) driven over the wire by the real AWS SDK for Java v2, trusting only the CA
 * the server printed. Each scenario of the KMS service issue, replayed as the SDK sees it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KmsSdkEndToEndTest {
  KmsServerFixture fx;
  KmsClient kms;

  @BeforeAll
  void start() throws Exception {
    fx = KmsServerFixture.start("kms-sdk-e2e", null, "cks-a");
    kms = fx.root();
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

  /** The AWS error code the SDK surfaced for {@code call}. */
  static String errorOf(Runnable call) {
    try {
      call.run();
    } catch (AwsServiceException e) {
      return e.awsErrorDetails().errorCode();
    }
    return fail("expected an AWS error");
  }

  static SdkBytes bytes(String s) {
    return SdkBytes.fromString(s, StandardCharsets.UTF_8);
  }

  String newKey() {
    return kms.createKey(b -> b.description("it")).keyMetadata().keyId();
  }

  // ---------------------------------------------------------------- lifecycle

  @Test
  void createDescribeListKeysWithArns() {
    var md = kms.createKey(b -> b.description("first").tags(Tag.builder().tagKey("team").tagValue("a").build())).keyMetadata();
    assertThat(md.arn()).isEqualTo("arn:aws:kms:us-east-1:111122223333:key/" + md.keyId());
    assertThat(md.keyState()).isEqualTo(KeyState.ENABLED);
    assertThat(md.keySpec()).isEqualTo(KeySpec.SYMMETRIC_DEFAULT);
    assertThat(md.awsAccountId()).isEqualTo("111122223333");
    assertThat(kms.describeKey(b -> b.keyId(md.arn())).keyMetadata().description()).isEqualTo("first");
    assertThat(kms.listKeys(b -> b.limit(1000)).keys()).anyMatch(k -> k.keyId().equals(md.keyId()) && k.keyArn().equals(md.arn()));
    assertThat(errorOf(() -> kms.describeKey(b -> b.keyId("00000000-0000-0000-0000-000000000000")))).isEqualTo("NotFoundException");
    assertThat(errorOf(() -> kms.createKey(b -> b.keySpec("NO_SUCH_SPEC")))).isEqualTo("ValidationException");
  }

  @Test
  void disabledKeyRefusesCryptoUntilEnabled() {
    String id = newKey();
    kms.disableKey(b -> b.keyId(id));
    assertThat(kms.describeKey(b -> b.keyId(id)).keyMetadata().keyState()).isEqualTo(KeyState.DISABLED);
    assertThat(errorOf(() -> kms.encrypt(b -> b.keyId(id).plaintext(bytes("x"))))).isEqualTo("DisabledException");
    kms.enableKey(b -> b.keyId(id));
    assertThat(kms.encrypt(b -> b.keyId(id).plaintext(bytes("x"))).ciphertextBlob().asByteArray()).isNotEmpty();
  }

  @Test
  void scheduleAndCancelDeletion() {
    String id = newKey();
    byte[] ct = kms.encrypt(b -> b.keyId(id).plaintext(bytes("keep"))).ciphertextBlob().asByteArray();
    assertThat(errorOf(() -> kms.scheduleKeyDeletion(b -> b.keyId(id).pendingWindowInDays(6)))).isEqualTo("ValidationException");
    assertThat(errorOf(() -> kms.scheduleKeyDeletion(b -> b.keyId(id).pendingWindowInDays(31)))).isEqualTo("ValidationException");
    var s = kms.scheduleKeyDeletion(b -> b.keyId(id).pendingWindowInDays(7));
    assertThat(s.keyState()).isEqualTo(KeyState.PENDING_DELETION);
    assertThat(s.deletionDate()).isNotNull();
    assertThat(errorOf(() -> kms.encrypt(b -> b.keyId(id).plaintext(bytes("x"))))).isEqualTo("KMSInvalidStateException");
    assertThat(errorOf(() -> kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct))))).isEqualTo("KMSInvalidStateException");
    assertThat(errorOf(() -> kms.enableKey(b -> b.keyId(id)))).isEqualTo("KMSInvalidStateException");
    kms.cancelKeyDeletion(b -> b.keyId(id));
    assertThat(kms.describeKey(b -> b.keyId(id)).keyMetadata().keyState()).isEqualTo(KeyState.DISABLED);
    assertThat(errorOf(() -> kms.cancelKeyDeletion(b -> b.keyId(id)))).isEqualTo("KMSInvalidStateException");
    kms.enableKey(b -> b.keyId(id));
    assertThat(kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct))).plaintext().asUtf8String()).isEqualTo("keep");
  }

  @Test
  void descriptionAndTags() {
    String id = newKey();
    kms.updateKeyDescription(b -> b.keyId(id).description("changed"));
    assertThat(kms.describeKey(b -> b.keyId(id)).keyMetadata().description()).isEqualTo("changed");
    kms.tagResource(b -> b.keyId(id).tags(Tag.builder().tagKey("env").tagValue("prod").build(), Tag.builder().tagKey("o").tagValue("x").build()));
    kms.untagResource(b -> b.keyId(id).tagKeys("o"));
    assertThat(kms.listResourceTags(b -> b.keyId(id)).tags()).extracting(Tag::tagKey).containsExactly("env");
    assertThat(errorOf(() -> kms.tagResource(b -> b.keyId(id).tags(Tag.builder().tagKey("aws:x").tagValue("v").build())))).isEqualTo("TagException");
  }

  @Test
  void aliases() {
    String a = newKey();
    String other = kms.createKey(b -> b.keySpec(KeySpec.HMAC_256).keyUsage(KeyUsageType.GENERATE_VERIFY_MAC)).keyMetadata().keyId();
    kms.createAlias(b -> b.aliasName("alias/it-app").targetKeyId(a));
    byte[] ct = kms.encrypt(b -> b.keyId("alias/it-app").plaintext(bytes("via alias"))).ciphertextBlob().asByteArray();
    assertThat(kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct))).keyId()).endsWith(a);
    assertThat(kms.listAliases(b -> b.keyId(a)).aliases()).extracting(x -> x.aliasName()).containsExactly("alias/it-app");
    assertThat(errorOf(() -> kms.createAlias(b -> b.aliasName("alias/aws/x").targetKeyId(a)))).isIn("NotAuthorizedException", "InvalidAliasNameException");
    assertThat(errorOf(() -> kms.createAlias(b -> b.aliasName("no-prefix").targetKeyId(a)))).isIn("ValidationException", "InvalidAliasNameException");
    assertThat(errorOf(() -> kms.createAlias(b -> b.aliasName("alias/it-app").targetKeyId(a)))).isEqualTo("AlreadyExistsException");
    assertThat(errorOf(() -> kms.updateAlias(b -> b.aliasName("alias/it-app").targetKeyId(other)))).isIn("ValidationException", "IncorrectKeyException");
    String a2 = newKey();
    kms.updateAlias(b -> b.aliasName("alias/it-app").targetKeyId(a2));
    assertThat(kms.describeKey(b -> b.keyId("alias/it-app")).keyMetadata().keyId()).isEqualTo(a2);
    kms.deleteAlias(b -> b.aliasName("alias/it-app"));
    assertThat(errorOf(() -> kms.encrypt(b -> b.keyId("alias/it-app").plaintext(bytes("x"))))).isEqualTo("NotFoundException");
  }

  // ---------------------------------------------------------------- symmetric crypto

  @Test
  void encryptionContextIsBoundUnambiguously() {
    String id = newKey();
    byte[] ct = kms.encrypt(b -> b.keyId(id).plaintext(bytes("secret")).encryptionContext(Map.of("ab", "c"))).ciphertextBlob().asByteArray();
    assertThat(kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct)).encryptionContext(Map.of("ab", "c"))).plaintext().asUtf8String())
        .isEqualTo("secret");
    for (Map<String, String> wrong : List.of(Map.of("a", "bc"), Map.<String, String>of(), Map.of("ab", "c", "x", "y"), Map.of("AB", "c"), Map.of("ab", "C"))) {
      assertThat(errorOf(() -> kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct)).encryptionContext(wrong))))
          .as("context %s", wrong).isEqualTo("InvalidCiphertextException");
    }
  }

  @Test
  void tamperedAndTruncatedCiphertexts() {
    String id = newKey();
    byte[] ct = kms.encrypt(b -> b.keyId(id).plaintext(bytes("abc"))).ciphertextBlob().asByteArray();
    for (int i : new int[] {0, 5, 18, 25, ct.length - 1}) {
      byte[] bad = ct.clone();
      bad[i] ^= 1;
      assertThat(errorOf(() -> kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(bad))))).as("bit flipped in byte %d", i)
          .isIn("InvalidCiphertextException", "NotFoundException");
    }
    byte[] cut = java.util.Arrays.copyOf(ct, ct.length - 3);
    assertThat(errorOf(() -> kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(cut))))).isEqualTo("InvalidCiphertextException");
    assertThat(errorOf(() -> kms.encrypt(b -> b.keyId(id).plaintext(SdkBytes.fromByteArray(new byte[4097]))))).isEqualTo("ValidationException");
  }

  @Test
  void ciphertextOfKeyADecryptedNamingKeyBIsIncorrectKey() {
    String a = newKey();
    String b2 = newKey();
    byte[] ct = kms.encrypt(b -> b.keyId(a).plaintext(bytes("for a"))).ciphertextBlob().asByteArray();
    assertThat(errorOf(() -> kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct)).keyId(b2)))).isEqualTo("IncorrectKeyException");
    assertThat(kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct)).keyId(a)).plaintext().asUtf8String()).isEqualTo("for a");
  }

  @Test
  void reEncryptAndDataKeys() {
    String a = newKey();
    String b2 = newKey();
    byte[] ct = kms.encrypt(b -> b.keyId(a).plaintext(bytes("move me")).encryptionContext(Map.of("k", "v"))).ciphertextBlob().asByteArray();
    var re = kms.reEncrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct)).sourceEncryptionContext(Map.of("k", "v")).destinationKeyId(b2));
    assertThat(re.keyId()).endsWith(b2);
    assertThat(re.sourceKeyId()).endsWith(a);
    assertThat(kms.decrypt(b -> b.ciphertextBlob(re.ciphertextBlob())).plaintext().asUtf8String()).isEqualTo("move me");

    var dk = kms.generateDataKey(b -> b.keyId(a).keySpec(DataKeySpec.AES_256));
    assertThat(dk.plaintext().asByteArray()).hasSize(32);
    assertThat(kms.decrypt(b -> b.ciphertextBlob(dk.ciphertextBlob())).plaintext().asByteArray()).isEqualTo(dk.plaintext().asByteArray());
    var dk16 = kms.generateDataKey(b -> b.keyId(a).numberOfBytes(16));
    assertThat(dk16.plaintext().asByteArray()).hasSize(16);
    var wo = kms.generateDataKeyWithoutPlaintext(b -> b.keyId(a).keySpec(DataKeySpec.AES_128));
    assertThat(kms.decrypt(b -> b.ciphertextBlob(wo.ciphertextBlob())).plaintext().asByteArray()).hasSize(16);
    assertThat(errorOf(() -> kms.generateDataKey(b -> b.keyId(a)))).isEqualTo("ValidationException");

    var pair = kms.generateDataKeyPair(b -> b.keyId(a).keyPairSpec(DataKeyPairSpec.ECC_NIST_P256));
    assertThat(pair.publicKey().asByteArray()).isNotEmpty();
    assertThat(kms.decrypt(b -> b.ciphertextBlob(pair.privateKeyCiphertextBlob())).plaintext().asByteArray())
        .isEqualTo(pair.privateKeyPlaintext().asByteArray());
    var pairWo = kms.generateDataKeyPairWithoutPlaintext(b -> b.keyId(a).keyPairSpec(DataKeyPairSpec.RSA_2048));
    assertThat(pairWo.privateKeyCiphertextBlob().asByteArray()).isNotEmpty();
  }

  @Test
  void generateRandom() {
    assertThat(kms.generateRandom(b -> b.numberOfBytes(64)).plaintext().asByteArray()).hasSize(64);
    assertThat(errorOf(() -> kms.generateRandom(b -> b.numberOfBytes(1025)))).isEqualTo("ValidationException");
  }

  // ---------------------------------------------------------------- asymmetric and HMAC

  @Test
  void signVerifyAndPublicKeyOnRsaAndEcc() throws Exception {
    byte[] msg = "a message".getBytes(StandardCharsets.UTF_8);
    for (var c : List.of(
        new Object[] {KeySpec.RSA_2048, SigningAlgorithmSpec.RSASSA_PSS_SHA_256, "RSASSA-PSS", "RSA"},
        new Object[] {KeySpec.RSA_3072, SigningAlgorithmSpec.RSASSA_PKCS1_V1_5_SHA_384, "SHA384withRSA", "RSA"},
        new Object[] {KeySpec.ECC_NIST_P256, SigningAlgorithmSpec.ECDSA_SHA_256, "SHA256withECDSA", "EC"})) {
      KeySpec spec = (KeySpec) c[0];
      SigningAlgorithmSpec alg = (SigningAlgorithmSpec) c[1];
      String id = kms.createKey(b -> b.keySpec(spec).keyUsage(KeyUsageType.SIGN_VERIFY)).keyMetadata().keyId();
      byte[] sig = kms.sign(b -> b.keyId(id).message(SdkBytes.fromByteArray(msg)).messageType(MessageType.RAW).signingAlgorithm(alg)).signature().asByteArray();
      assertThat(kms.verify(b -> b.keyId(id).message(SdkBytes.fromByteArray(msg)).signature(SdkBytes.fromByteArray(sig)).signingAlgorithm(alg)).signatureValid()).isTrue();
      byte[] other = "another".getBytes(StandardCharsets.UTF_8);
      assertThat(errorOf(() -> kms.verify(b -> b.keyId(id).message(SdkBytes.fromByteArray(other)).signature(SdkBytes.fromByteArray(sig)).signingAlgorithm(alg))))
          .isEqualTo("KMSInvalidSignatureException");
      // The public key verifies the KMS signature with the JDK alone.
      var pk = kms.getPublicKey(b -> b.keyId(id));
      PublicKey pub = KeyFactory.getInstance((String) c[3]).generatePublic(new X509EncodedKeySpec(pk.publicKey().asByteArray()));
      Signature v = Signature.getInstance((String) c[2]);
      if (alg == SigningAlgorithmSpec.RSASSA_PSS_SHA_256) {
        v.setParameter(new java.security.spec.PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
      }
      v.initVerify(pub);
      v.update(msg);
      assertThat(v.verify(sig)).as("%s", spec).isTrue();
      assertThat(errorOf(() -> kms.encrypt(b -> b.keyId(id).plaintext(bytes("x"))))).isEqualTo("InvalidKeyUsageException");
    }
  }

  @Test
  void rsaEncryptionKey() throws Exception {
    String id = kms.createKey(b -> b.keySpec(KeySpec.RSA_2048).keyUsage(KeyUsageType.ENCRYPT_DECRYPT)).keyMetadata().keyId();
    var pk = kms.getPublicKey(b -> b.keyId(id));
    PublicKey pub = KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(pk.publicKey().asByteArray()));
    Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding");
    c.init(Cipher.ENCRYPT_MODE, pub, new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT));
    byte[] ct = c.doFinal("offline".getBytes(StandardCharsets.UTF_8));
    assertThat(kms.decrypt(b -> b.keyId(id).ciphertextBlob(SdkBytes.fromByteArray(ct)).encryptionAlgorithm("RSAES_OAEP_SHA_256")).plaintext().asUtf8String())
        .isEqualTo("offline");
  }

  @Test
  void generateAndVerifyMac() {
    String id = kms.createKey(b -> b.keySpec(KeySpec.HMAC_256).keyUsage(KeyUsageType.GENERATE_VERIFY_MAC)).keyMetadata().keyId();
    SdkBytes msg = bytes("mac me");
    var mac = kms.generateMac(b -> b.keyId(id).message(msg).macAlgorithm(MacAlgorithmSpec.HMAC_SHA_256)).mac();
    assertThat(mac.asByteArray()).hasSize(32);
    assertThat(kms.verifyMac(b -> b.keyId(id).message(msg).mac(mac).macAlgorithm(MacAlgorithmSpec.HMAC_SHA_256)).macValid()).isTrue();
    assertThat(errorOf(() -> kms.verifyMac(b -> b.keyId(id).message(bytes("other")).mac(mac).macAlgorithm(MacAlgorithmSpec.HMAC_SHA_256))))
        .isEqualTo("KMSInvalidMacException");
    assertThat(errorOf(() -> kms.generateMac(b -> b.keyId(id).message(msg).macAlgorithm(MacAlgorithmSpec.HMAC_SHA_512))))
        .isEqualTo("InvalidKeyUsageException");
  }

  // ---------------------------------------------------------------- rotation and import

  @Test
  void rotationKeepsOldCiphertextsDecryptable() {
    String id = newKey();
    byte[] before = kms.encrypt(b -> b.keyId(id).plaintext(bytes("v1"))).ciphertextBlob().asByteArray();
    kms.enableKeyRotation(b -> b.keyId(id).rotationPeriodInDays(90));
    var st = kms.getKeyRotationStatus(b -> b.keyId(id));
    assertThat(st.keyRotationEnabled()).isTrue();
    assertThat(st.rotationPeriodInDays()).isEqualTo(90);
    kms.rotateKeyOnDemand(b -> b.keyId(id));
    assertThat(kms.listKeyRotations(b -> b.keyId(id)).rotations()).hasSize(1);
    byte[] after = kms.encrypt(b -> b.keyId(id).plaintext(bytes("v2"))).ciphertextBlob().asByteArray();
    assertThat(kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(before))).plaintext().asUtf8String()).isEqualTo("v1");
    assertThat(kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(after))).plaintext().asUtf8String()).isEqualTo("v2");
    kms.disableKeyRotation(b -> b.keyId(id));
    assertThat(kms.getKeyRotationStatus(b -> b.keyId(id)).keyRotationEnabled()).isFalse();
    String hmac = kms.createKey(b -> b.keySpec(KeySpec.HMAC_256).keyUsage(KeyUsageType.GENERATE_VERIFY_MAC)).keyMetadata().keyId();
    assertThat(errorOf(() -> kms.enableKeyRotation(b -> b.keyId(hmac)))).isEqualTo("UnsupportedOperationException");
  }

  @Test
  void importKeyMaterial() throws Exception {
    var md = kms.createKey(b -> b.origin(OriginType.EXTERNAL)).keyMetadata();
    assertThat(md.keyState()).isEqualTo(KeyState.PENDING_IMPORT);
    assertThat(errorOf(() -> kms.encrypt(b -> b.keyId(md.keyId()).plaintext(bytes("x"))))).isEqualTo("KMSInvalidStateException");
    var params = kms.getParametersForImport(b -> b.keyId(md.keyId()).wrappingAlgorithm(AlgorithmSpec.RSAES_OAEP_SHA_1).wrappingKeySpec(WrappingKeySpec.RSA_2048));
    PublicKey wrap = KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(params.publicKey().asByteArray()));
    byte[] material = HexFormat.of().parseHex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding");
    c.init(Cipher.ENCRYPT_MODE, wrap, new OAEPParameterSpec("SHA-1", "MGF1", MGF1ParameterSpec.SHA1, PSource.PSpecified.DEFAULT));
    byte[] wrapped = c.doFinal(material);
    kms.importKeyMaterial(b -> b.keyId(md.keyId()).importToken(params.importToken()).encryptedKeyMaterial(SdkBytes.fromByteArray(wrapped))
        .expirationModel("KEY_MATERIAL_DOES_NOT_EXPIRE"));
    assertThat(kms.describeKey(b -> b.keyId(md.keyId())).keyMetadata().keyState()).isEqualTo(KeyState.ENABLED);
    byte[] ct = kms.encrypt(b -> b.keyId(md.keyId()).plaintext(bytes("byok"))).ciphertextBlob().asByteArray();
    assertThat(kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct))).plaintext().asUtf8String()).isEqualTo("byok");
    kms.deleteImportedKeyMaterial(b -> b.keyId(md.keyId()));
    assertThat(kms.describeKey(b -> b.keyId(md.keyId())).keyMetadata().keyState()).isEqualTo(KeyState.PENDING_IMPORT);
    assertThat(errorOf(() -> kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct))))).isEqualTo("KMSInvalidStateException");
    // The same material again (a fresh import token): the old ciphertext decrypts again.
    var params2 = kms.getParametersForImport(b -> b.keyId(md.keyId()).wrappingAlgorithm(AlgorithmSpec.RSAES_OAEP_SHA_1).wrappingKeySpec(WrappingKeySpec.RSA_2048));
    Cipher c2 = Cipher.getInstance("RSA/ECB/OAEPPadding");
    c2.init(Cipher.ENCRYPT_MODE, KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(params2.publicKey().asByteArray())),
        new OAEPParameterSpec("SHA-1", "MGF1", MGF1ParameterSpec.SHA1, PSource.PSpecified.DEFAULT));
    byte[] wrapped2 = c2.doFinal(material);
    kms.importKeyMaterial(b -> b.keyId(md.keyId()).importToken(params2.importToken()).encryptedKeyMaterial(SdkBytes.fromByteArray(wrapped2))
        .expirationModel("KEY_MATERIAL_DOES_NOT_EXPIRE"));
    assertThat(kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct))).plaintext().asUtf8String()).isEqualTo("byok");
    assertThat(errorOf(() -> kms.importKeyMaterial(b -> b.keyId(md.keyId()).importToken(bytes("forged"))
        .encryptedKeyMaterial(SdkBytes.fromByteArray(wrapped)).expirationModel("KEY_MATERIAL_DOES_NOT_EXPIRE"))))
        .isIn("InvalidImportTokenException", "KMSInvalidStateException");
  }

  // ---------------------------------------------------------------- policies and grants

  @Test
  void anExplicitDenyBeatsTheAllow() {
    String[] alice = fx.user("alice", "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Resource\":\"*\"}]}");
    String id = newKey();
    try (KmsClient asAlice = fx.client(alice[0], alice[1])) {
      byte[] ct = asAlice.encrypt(b -> b.keyId(id).plaintext(bytes("allowed"))).ciphertextBlob().asByteArray();
      String policy = "{\"Version\":\"2012-10-17\",\"Statement\":["
          + "{\"Sid\":\"root\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"},"
          + "{\"Sid\":\"no alice\",\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"" + alice[2] + "\"},\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}]}";
      kms.putKeyPolicy(b -> b.keyId(id).policyName("default").policy(policy));
      assertThat(kms.getKeyPolicy(b -> b.keyId(id).policyName("default")).policy()).contains("no alice");
      assertThat(kms.listKeyPolicies(b -> b.keyId(id)).policyNames()).containsExactly("default");
      assertThat(errorOf(() -> asAlice.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct))))).isEqualTo("AccessDeniedException");
      assertThat(asAlice.encrypt(b -> b.keyId(id).plaintext(bytes("still allowed"))).ciphertextBlob()).isNotNull();
      assertThat(kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct))).plaintext().asUtf8String()).isEqualTo("allowed");
      assertThat(errorOf(() -> kms.putKeyPolicy(b -> b.keyId(id).policyName("default").policy("{not json")))).isEqualTo("MalformedPolicyDocumentException");
    }
  }

  @Test
  void aPrincipalWithoutRightsIsDenied() {
    String[] nobody = fx.user("nobody", null);
    String id = newKey();
    try (KmsClient c = fx.client(nobody[0], nobody[1])) {
      assertThat(errorOf(() -> c.encrypt(b -> b.keyId(id).plaintext(bytes("x"))))).isEqualTo("AccessDeniedException");
      assertThat(errorOf(() -> c.createKey(b -> b.description("no")))).isEqualTo("AccessDeniedException");
      assertThat(errorOf(() -> c.describeKey(b -> b.keyId(id)))).isEqualTo("AccessDeniedException");
    }
  }

  @Test
  void aGrantWithConstraintsAllowsOnlyWithinThem() {
    String[] bob = fx.user("bob", null);
    String id = newKey();
    var g = kms.createGrant(b -> b.keyId(id).granteePrincipal(bob[2]).operationsWithStrings("Encrypt", "Decrypt")
        .constraints(c -> c.encryptionContextEquals(Map.of("purpose", "backup"))));
    assertThat(kms.listGrants(b -> b.keyId(id)).grants()).extracting(x -> x.grantId()).containsExactly(g.grantId());
    try (KmsClient asBob = fx.client(bob[0], bob[1])) {
      byte[] ct = asBob.encrypt(b -> b.keyId(id).plaintext(bytes("granted")).encryptionContext(Map.of("purpose", "backup"))
          .grantTokens(g.grantToken())).ciphertextBlob().asByteArray();
      assertThat(asBob.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct)).encryptionContext(Map.of("purpose", "backup"))).plaintext().asUtf8String())
          .isEqualTo("granted");
      assertThat(errorOf(() -> asBob.encrypt(b -> b.keyId(id).plaintext(bytes("x")).encryptionContext(Map.of("purpose", "other")))))
          .isEqualTo("AccessDeniedException");
      assertThat(errorOf(() -> asBob.generateDataKey(b -> b.keyId(id).numberOfBytes(32).encryptionContext(Map.of("purpose", "backup")))))
          .isEqualTo("AccessDeniedException");
      assertThat(errorOf(() -> asBob.encrypt(b -> b.keyId(id).plaintext(bytes("x")).encryptionContext(Map.of("purpose", "backup"))
          .grantTokens("not-a-grant-token")))).isEqualTo("InvalidGrantTokenException");
      kms.revokeGrant(b -> b.keyId(id).grantId(g.grantId()));
      assertThat(errorOf(() -> asBob.encrypt(b -> b.keyId(id).plaintext(bytes("x")).encryptionContext(Map.of("purpose", "backup")))))
          .isEqualTo("AccessDeniedException");
      assertThat(errorOf(() -> kms.revokeGrant(b -> b.keyId(id).grantId(g.grantId())))).isEqualTo("InvalidGrantIdException");
    }
  }

  @Test
  void aGrantIsRetiredByItsRetiringPrincipal() {
    String[] carol = fx.user("carol", null);
    String id = newKey();
    var g = kms.createGrant(b -> b.keyId(id).granteePrincipal(carol[2]).retiringPrincipal(carol[2]).operationsWithStrings("GenerateDataKey"));
    try (KmsClient asCarol = fx.client(carol[0], carol[1])) {
      assertThat(asCarol.generateDataKey(b -> b.keyId(id).numberOfBytes(32)).plaintext().asByteArray()).hasSize(32);
      assertThat(errorOf(() -> asCarol.encrypt(b -> b.keyId(id).plaintext(bytes("not granted"))))).isEqualTo("AccessDeniedException");
      assertThat(kms.listRetirableGrants(b -> b.retiringPrincipal(carol[2])).grants()).hasSize(1);
      asCarol.retireGrant(b -> b.keyId(id).grantId(g.grantId()));
      assertThat(errorOf(() -> asCarol.generateDataKey(b -> b.keyId(id).numberOfBytes(32)))).isEqualTo("AccessDeniedException");
    }
  }

  // ---------------------------------------------------------------- SigV4

  @Test
  void sigV4RefusesAWrongSecretAndAnUnknownKeyId() {
    try (KmsClient wrong = fx.client(fx.rootAccessKeyId, "wrong" + fx.rootSecret.substring(5))) {
      assertThat(errorOf(() -> wrong.generateRandom(b -> b.numberOfBytes(8)))).isEqualTo("InvalidSignatureException");
    }
    try (KmsClient unknown = fx.client("AKIAUNKNOWNUNKNOWN12", fx.rootSecret)) {
      assertThat(errorOf(() -> unknown.generateRandom(b -> b.numberOfBytes(8)))).isEqualTo("UnrecognizedClientException");
    }
  }

  // ---------------------------------------------------------------- custom key stores

  @Test
  void customKeyStoreOverTheWire() throws Exception {
    String anchor = java.nio.file.Files.readString(fx.server.caBundle().orElseThrow());
    assertThat(errorOf(() -> kms.createCustomKeyStore(b -> b.customKeyStoreName("s").cloudHsmClusterId("cluster-none")
        .trustAnchorCertificate(anchor).keyStorePassword("whatever-pin")))).isEqualTo("CloudHsmClusterNotFoundException");
    String store = kms.createCustomKeyStore(b -> b.customKeyStoreName("store-a").cloudHsmClusterId("cluster-cks-a")
        .trustAnchorCertificate(anchor).keyStorePassword(KmsServerFixture.kmsuserPin("cks-a"))).customKeyStoreId();
    assertThat(kms.describeCustomKeyStores(b -> b.customKeyStoreId(store)).customKeyStores().get(0).connectionState())
        .isEqualTo(ConnectionStateType.DISCONNECTED);
    assertThat(errorOf(() -> kms.createKey(b -> b.customKeyStoreId(store).origin(OriginType.AWS_CLOUDHSM))))
        .isEqualTo("CustomKeyStoreInvalidStateException");
    String connectRequestId = kms.connectCustomKeyStore(b -> b.customKeyStoreId(store)).responseMetadata().requestId();
    assertThat(kms.describeCustomKeyStores(b -> b.customKeyStoreId(store)).customKeyStores().get(0).connectionState())
        .isEqualTo(ConnectionStateType.CONNECTED);
    String key = kms.createKey(b -> b.customKeyStoreId(store).origin(OriginType.AWS_CLOUDHSM)).keyMetadata().keyId();
    byte[] ct = kms.encrypt(b -> b.keyId(key).plaintext(bytes("in the cluster"))).ciphertextBlob().asByteArray();
    assertThat(kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct))).plaintext().asUtf8String()).isEqualTo("in the cluster");
    assertThat(errorOf(() -> kms.deleteCustomKeyStore(b -> b.customKeyStoreId(store)))).isEqualTo("CustomKeyStoreInvalidStateException");
    kms.disconnectCustomKeyStore(b -> b.customKeyStoreId(store));
    assertThat(kms.describeKey(b -> b.keyId(key)).keyMetadata().keyState()).isEqualTo(KeyState.UNAVAILABLE);
    assertThat(errorOf(() -> kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct))))).isEqualTo("KMSInvalidStateException");
    assertThat(errorOf(() -> kms.deleteCustomKeyStore(b -> b.customKeyStoreId(store)))).isEqualTo("CustomKeyStoreHasCMKsException");
    kms.updateCustomKeyStore(b -> b.customKeyStoreId(store).newCustomKeyStoreName("store-a2"));
    kms.connectCustomKeyStore(b -> b.customKeyStoreId(store));
    assertThat(kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct))).plaintext().asUtf8String()).isEqualTo("in the cluster");
    // Each custom key store call is in the service's audit trail, without the kmsuser password.
    List<JsonNode> records = fx.server.service().auditTrail().records();
    assertThat(records).anyMatch(r -> r.path("eventName").asText().equals("ConnectCustomKeyStore")
        && r.path("requestID").asText().equals(connectRequestId));
    assertThat(records).anyMatch(r -> r.path("eventName").asText().equals("CreateCustomKeyStore") && r.path("errorCode").isMissingNode());
    assertThat(records.toString()).doesNotContain(KmsServerFixture.kmsuserPin("cks-a"));
  }

  // ---------------------------------------------------------------- audit

  @Test
  void everyRequestIsAnAuditRecordWithSourceIpAndUserAgent() {
    var created = kms.createKey(b -> b.description("audited"));
    String id = created.keyMetadata().keyId();
    String requestId = created.responseMetadata().requestId();
    errorOf(() -> kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(new byte[60]))));
    AuditTrail trail = fx.server.service().auditTrail();
    List<JsonNode> records = trail.records();
    JsonNode create = records.stream().filter(r -> r.path("eventName").asText().equals("CreateKey")
        && r.path("resources").toString().contains(id)).findFirst().orElseThrow();
    assertThat(create.path("sourceIPAddress").asText()).isEqualTo("127.0.0.1");
    assertThat(create.path("userAgent").asText()).contains("aws-sdk-java");
    assertThat(create.path("userIdentity").path("accessKeyId").asText()).isEqualTo(fx.rootAccessKeyId);
    assertThat(create.path("requestID").asText()).as("the x-amzn-RequestId the SDK got").isEqualTo(requestId);
    assertThat(records).anyMatch(r -> r.path("eventName").asText().equals("Decrypt") && r.path("errorCode").asText().equals("InvalidCiphertextException"));
    assertThat(trail.verify().intact()).isTrue();
  }
}
