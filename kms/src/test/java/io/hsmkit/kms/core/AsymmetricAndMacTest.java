package io.hsmkit.kms.core;

import static io.hsmkit.kms.core.Kms.fails;
import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.api.*;
import io.hsmkit.kms.testing.TestDatabases;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Sign/Verify, GetPublicKey, RSA encryption, HMAC and data key pairs on the token, on H2 and PostgreSQL. */
class AsymmetricAndMacTest {
  static final byte[] MSG = "sign me".getBytes(StandardCharsets.UTF_8);

  static Stream<Arguments> signing() {
    Stream.Builder<Arguments> b = Stream.builder();
    for (TestDatabases.Kind k : TestDatabases.Kind.values()) {
      b.add(Arguments.of(k, "RSA_2048", List.of("RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
          "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512")));
      b.add(Arguments.of(k, "ECC_NIST_P256", List.of("ECDSA_SHA_256")));
      b.add(Arguments.of(k, "ECC_NIST_P384", List.of("ECDSA_SHA_384")));
      b.add(Arguments.of(k, "ECC_NIST_P521", List.of("ECDSA_SHA_512")));
    }
    return b.build();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("signing")
  void signAndVerifyRawAndDigest(TestDatabases.Kind kind, String spec, List<String> algs) throws Exception {
    KmsFixture f = KmsFixture.create(kind);
    KeyMetadata m = f.kms.createKey(f.caller, Kms.spec(spec, "SIGN_VERIFY")).keyMetadata();
    assertThat(m.signingAlgorithms()).containsExactlyInAnyOrderElementsOf(algs);
    assertThat(m.encryptionAlgorithms()).isNull();
    GetPublicKeyResponse pk = f.kms.getPublicKey(f.caller, new GetPublicKeyRequest(m.keyId(), null));
    assertThat(pk.keySpec()).isEqualTo(spec);
    PublicKey pub = KeyFactory.getInstance(spec.startsWith("RSA") ? "RSA" : "EC").generatePublic(new X509EncodedKeySpec(pk.publicKey()));
    for (String alg : algs) {
      String hash = "SHA-" + alg.substring(alg.length() - 3);
      byte[] digest = MessageDigest.getInstance(hash).digest(MSG);
      SignResponse raw = f.kms.sign(f.caller, new SignRequest(m.keyId(), MSG, "RAW", null, alg));
      SignResponse dig = f.kms.sign(f.caller, new SignRequest(m.keyId(), digest, "DIGEST", null, alg));
      for (SignResponse s : List.of(raw, dig)) {
        assertThat(s.signingAlgorithm()).isEqualTo(alg);
        // The JDK verifies what the token signed, over the message.
        assertThat(jdk(alg, hash, pub, MSG, s.signature())).as(alg).isTrue();
        assertThat(f.kms.verify(f.caller, new VerifyRequest(m.keyId(), MSG, "RAW", s.signature(), alg, null)).signatureValid()).isTrue();
        assertThat(f.kms.verify(f.caller, new VerifyRequest(m.keyId(), digest, "DIGEST", s.signature(), alg, null)).signatureValid()).isTrue();
        byte[] bad = s.signature().clone();
        bad[bad.length / 2] ^= 1;
        fails(KmsError.KMS_INVALID_SIGNATURE, () -> f.kms.verify(f.caller, new VerifyRequest(m.keyId(), MSG, "RAW", bad, alg, null)));
        fails(KmsError.KMS_INVALID_SIGNATURE, () -> f.kms.verify(f.caller, new VerifyRequest(m.keyId(), "other".getBytes(), "RAW", s.signature(), alg, null)));
      }
      fails(KmsError.VALIDATION, () -> f.kms.sign(f.caller, new SignRequest(m.keyId(), MSG, "DIGEST", null, alg)));
    }
    fails(KmsError.INVALID_KEY_USAGE, () -> f.kms.sign(f.caller, new SignRequest(m.keyId(), MSG, "RAW", null, spec.startsWith("RSA") ? "ECDSA_SHA_256" : "RSASSA_PSS_SHA_256")));
    fails(KmsError.VALIDATION, () -> f.kms.sign(f.caller, new SignRequest(m.keyId(), MSG, "RAW", null, null)));
    fails(KmsError.VALIDATION, () -> f.kms.sign(f.caller, new SignRequest(m.keyId(), MSG, "TEXT", null, algs.get(0))));
    fails(KmsError.VALIDATION, () -> f.kms.sign(f.caller, new SignRequest(m.keyId(), new byte[4097], "RAW", null, algs.get(0))));
    fails(KmsError.INVALID_KEY_USAGE, () -> f.kms.encrypt(f.caller, new EncryptRequest(m.keyId(), MSG, null, null, null)));
    f.kms.disableKey(f.caller, new DisableKeyRequest(m.keyId()));
    fails(KmsError.DISABLED, () -> f.kms.sign(f.caller, new SignRequest(m.keyId(), MSG, "RAW", null, algs.get(0))));
    fails(KmsError.DISABLED, () -> f.kms.getPublicKey(f.caller, new GetPublicKeyRequest(m.keyId(), null)));
  }

  static boolean jdk(String alg, String hash, PublicKey pub, byte[] msg, byte[] sig) throws Exception {
    String h = hash.replace("-", "");
    Signature s;
    if (alg.startsWith("RSASSA_PSS")) {
      s = Signature.getInstance("RSASSA-PSS");
      s.setParameter(new PSSParameterSpec(hash, "MGF1", new MGF1ParameterSpec(hash), Integer.parseInt(alg.substring(alg.length() - 3)) / 8, 1));
    } else {
      s = Signature.getInstance(h + (alg.startsWith("ECDSA") ? "withECDSA" : "withRSA"));
    }
    s.initVerify(pub);
    s.update(msg);
    return s.verify(sig);
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void largerRsaKeys(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    for (String spec : List.of("RSA_3072", "RSA_4096")) {
      String id = f.kms.createKey(f.caller, Kms.spec(spec, "SIGN_VERIFY")).keyMetadata().keyId();
      byte[] sig = f.kms.sign(f.caller, new SignRequest(id, MSG, "RAW", null, "RSASSA_PSS_SHA_256")).signature();
      assertThat(sig).hasSize(Integer.parseInt(spec.substring(4)) / 8);
      f.kms.verify(f.caller, new VerifyRequest(id, MSG, "RAW", sig, "RSASSA_PSS_SHA_256", null));
    }
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void rsaEncryption(TestDatabases.Kind kind) throws Exception {
    KmsFixture f = KmsFixture.create(kind);
    KeyMetadata m = f.kms.createKey(f.caller, Kms.spec("RSA_2048", "ENCRYPT_DECRYPT")).keyMetadata();
    assertThat(m.encryptionAlgorithms()).containsExactly("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256");
    PublicKey pub = KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(
        f.kms.getPublicKey(f.caller, new GetPublicKeyRequest(m.keyId(), null)).publicKey()));
    for (String alg : List.of("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")) {
      byte[] ct = f.kms.encrypt(f.caller, new EncryptRequest(m.keyId(), MSG, null, null, alg)).ciphertextBlob();
      assertThat(ct).hasSize(256);
      assertThat(f.kms.decrypt(f.caller, new DecryptRequest(ct, null, null, m.keyId(), alg)).plaintext()).isEqualTo(MSG);
      // A ciphertext made outside with the public key (as AWS clients do) decrypts too.
      String h = alg.endsWith("SHA_1") ? "SHA-1" : "SHA-256";
      Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding");
      c.init(Cipher.ENCRYPT_MODE, pub, new OAEPParameterSpec(h, "MGF1", new MGF1ParameterSpec(h), PSource.PSpecified.DEFAULT));
      byte[] outside = c.doFinal(MSG);
      assertThat(f.kms.decrypt(f.caller, new DecryptRequest(outside, null, null, m.arn(), alg)).plaintext()).isEqualTo(MSG);
      byte[] bad = ct.clone();
      bad[10] ^= 1;
      fails(KmsError.INVALID_CIPHERTEXT, () -> f.kms.decrypt(f.caller, new DecryptRequest(bad, null, null, m.keyId(), alg)));
    }
    fails(KmsError.VALIDATION, () -> f.kms.encrypt(f.caller, new EncryptRequest(m.keyId(), new byte[215], null, null, "RSAES_OAEP_SHA_1")));
    fails(KmsError.VALIDATION, () -> f.kms.encrypt(f.caller, new EncryptRequest(m.keyId(), new byte[191], null, null, "RSAES_OAEP_SHA_256")));
    f.kms.encrypt(f.caller, new EncryptRequest(m.keyId(), new byte[190], null, null, "RSAES_OAEP_SHA_256"));
    fails(KmsError.INVALID_KEY_USAGE, () -> f.kms.encrypt(f.caller, new EncryptRequest(m.keyId(), MSG, null, null, null)));
    fails(KmsError.VALIDATION, () -> f.kms.encrypt(f.caller, new EncryptRequest(m.keyId(), MSG, Map.of("a", "b"), null, "RSAES_OAEP_SHA_1")));
    fails(KmsError.INVALID_KEY_USAGE, () -> f.kms.sign(f.caller, new SignRequest(m.keyId(), MSG, "RAW", null, "RSASSA_PSS_SHA_256")));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void hmacKeys(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    for (String spec : List.of("HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512")) {
      KeyMetadata m = f.kms.createKey(f.caller, Kms.spec(spec, null)).keyMetadata();
      assertThat(m.keyUsage()).isEqualTo("GENERATE_VERIFY_MAC");
      String alg = "HMAC_SHA_" + spec.substring(5);
      assertThat(m.macAlgorithms()).containsExactly(alg);
      GenerateMacResponse mac = f.kms.generateMac(f.caller, new GenerateMacRequest(MSG, m.keyId(), alg, null));
      assertThat(mac.mac()).hasSize(Integer.parseInt(spec.substring(5)) / 8);
      assertThat(f.kms.generateMac(f.caller, new GenerateMacRequest(MSG, m.keyId(), alg, null)).mac()).isEqualTo(mac.mac());
      assertThat(f.kms.verifyMac(f.caller, new VerifyMacRequest(MSG, m.keyId(), alg, mac.mac(), null)).macValid()).isTrue();
      byte[] bad = mac.mac().clone();
      bad[0] ^= 1;
      fails(KmsError.KMS_INVALID_MAC, () -> f.kms.verifyMac(f.caller, new VerifyMacRequest(MSG, m.keyId(), alg, bad, null)));
      fails(KmsError.KMS_INVALID_MAC, () -> f.kms.verifyMac(f.caller, new VerifyMacRequest("x".getBytes(), m.keyId(), alg, mac.mac(), null)));
      fails(KmsError.INVALID_KEY_USAGE, () -> f.kms.generateMac(f.caller, new GenerateMacRequest(MSG, m.keyId(), spec.equals("HMAC_256") ? "HMAC_SHA_512" : "HMAC_SHA_256", null)));
      fails(KmsError.UNSUPPORTED_OPERATION, () -> f.kms.getPublicKey(f.caller, new GetPublicKeyRequest(m.keyId(), null)));
      fails(KmsError.INVALID_KEY_USAGE, () -> f.kms.encrypt(f.caller, new EncryptRequest(m.keyId(), MSG, null, null, null)));
    }
    String sym = f.kms.createKey(f.caller, Kms.symmetric()).keyMetadata().keyId();
    fails(KmsError.INVALID_KEY_USAGE, () -> f.kms.generateMac(f.caller, new GenerateMacRequest(MSG, sym, "HMAC_SHA_256", null)));
    fails(KmsError.VALIDATION, () -> f.kms.createKey(f.caller, Kms.spec("HMAC_256", "ENCRYPT_DECRYPT")));
    fails(KmsError.UNSUPPORTED_OPERATION, () -> f.kms.createKey(f.caller, Kms.spec("ECC_SECG_P256K1", "SIGN_VERIFY")));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void dataKeyPairs(TestDatabases.Kind kind) throws Exception {
    KmsFixture f = KmsFixture.create(kind);
    String id = f.kms.createKey(f.caller, Kms.symmetric()).keyMetadata().keyId();
    Map<String, String> ctx = Map.of("use", "pair");
    for (String spec : List.of("RSA_2048", "ECC_NIST_P256", "ECC_NIST_P384")) {
      GenerateDataKeyPairResponse p = f.kms.generateDataKeyPair(f.caller, new GenerateDataKeyPairRequest(ctx, id, spec, null));
      assertThat(p.keyPairSpec()).isEqualTo(spec);
      assertThat(f.kms.decrypt(f.caller, new DecryptRequest(p.privateKeyCiphertextBlob(), ctx, null, null, null)).plaintext())
          .isEqualTo(p.privateKeyPlaintext());
      String alg = spec.startsWith("RSA") ? "RSA" : "EC";
      var priv = KeyFactory.getInstance(alg).generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(p.privateKeyPlaintext()));
      var pub = KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(p.publicKey()));
      Signature s = Signature.getInstance(alg.equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA");
      s.initSign(priv);
      s.update(MSG);
      byte[] sig = s.sign();
      s.initVerify(pub);
      s.update(MSG);
      assertThat(s.verify(sig)).isTrue();
      GenerateDataKeyPairWithoutPlaintextResponse w = f.kms.generateDataKeyPairWithoutPlaintext(f.caller,
          new GenerateDataKeyPairWithoutPlaintextRequest(ctx, id, spec, null));
      assertThat(f.kms.decrypt(f.caller, new DecryptRequest(w.privateKeyCiphertextBlob(), ctx, null, null, null)).plaintext()).isNotEmpty();
    }
    fails(KmsError.VALIDATION, () -> f.kms.generateDataKeyPair(f.caller, new GenerateDataKeyPairRequest(null, id, "RSA_1024", null)));
    String ec = f.kms.createKey(f.caller, Kms.spec("ECC_NIST_P256", "SIGN_VERIFY")).keyMetadata().keyId();
    fails(KmsError.INVALID_KEY_USAGE, () -> f.kms.generateDataKeyPair(f.caller, new GenerateDataKeyPairRequest(null, ec, "RSA_2048", null)));
  }
}
