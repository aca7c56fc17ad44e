package io.hsmkit.kms.core;

import static io.hsmkit.kms.core.Kms.fails;
import static io.hsmkit.kms.core.Kms.symmetric;
import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.api.*;
import io.hsmkit.kms.blob.CiphertextBlob;
import io.hsmkit.kms.testing.TestDatabases;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Rotation (automatic and on demand) and BYOK import, on a real token, on H2 and PostgreSQL. */
class RotationAndImportTest {
  static final byte[] MSG = {1, 2, 3, 4};

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void rotationStatusAndPeriods(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    String id = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
    assertThat(f.kms.getKeyRotationStatus(f.caller, new GetKeyRotationStatusRequest(id)).keyRotationEnabled()).isFalse();
    fails(KmsError.VALIDATION, () -> f.kms.enableKeyRotation(f.caller, new EnableKeyRotationRequest(id, 89)));
    fails(KmsError.VALIDATION, () -> f.kms.enableKeyRotation(f.caller, new EnableKeyRotationRequest(id, 2561)));
    f.kms.enableKeyRotation(f.caller, new EnableKeyRotationRequest(id, 90));
    GetKeyRotationStatusResponse s = f.kms.getKeyRotationStatus(f.caller, new GetKeyRotationStatusRequest(id));
    assertThat(s.keyRotationEnabled()).isTrue();
    assertThat(s.rotationPeriodInDays()).isEqualTo(90);
    assertThat(s.nextRotationDate()).isEqualTo(f.clock.instant().plus(Duration.ofDays(90)));
    f.kms.disableKeyRotation(f.caller, new DisableKeyRotationRequest(id));
    assertThat(f.kms.getKeyRotationStatus(f.caller, new GetKeyRotationStatusRequest(id)).keyRotationEnabled()).isFalse();
    f.kms.enableKeyRotation(f.caller, new EnableKeyRotationRequest(id, null));
    assertThat(f.kms.getKeyRotationStatus(f.caller, new GetKeyRotationStatusRequest(id)).rotationPeriodInDays()).isEqualTo(365);
    f.kms.disableKey(f.caller, new DisableKeyRequest(id));
    fails(KmsError.DISABLED, () -> f.kms.enableKeyRotation(f.caller, new EnableKeyRotationRequest(id, 100)));
    fails(KmsError.DISABLED, () -> f.kms.rotateKeyOnDemand(f.caller, new RotateKeyOnDemandRequest(id)));
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void asymmetricHmacAndImportedKeysRefuseRotation(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    for (var req : List.of(Kms.spec("ECC_NIST_P256", "SIGN_VERIFY"), Kms.spec("HMAC_256", null),
        new CreateKeyRequest(null, null, null, null, null, "EXTERNAL", null, null, null, null))) {
      String id = f.kms.createKey(f.caller, req).keyMetadata().keyId();
      fails(KmsError.UNSUPPORTED_OPERATION, () -> f.kms.enableKeyRotation(f.caller, new EnableKeyRotationRequest(id, null)));
      fails(KmsError.UNSUPPORTED_OPERATION, () -> f.kms.rotateKeyOnDemand(f.caller, new RotateKeyOnDemandRequest(id)));
      fails(KmsError.UNSUPPORTED_OPERATION, () -> f.kms.getKeyRotationStatus(f.caller, new GetKeyRotationStatusRequest(id)));
    }
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void onDemandAndAutomaticRotationKeepOldCiphertexts(TestDatabases.Kind kind) {
    KmsFixture f = KmsFixture.create(kind);
    KeyMetadata m = f.kms.createKey(f.caller, symmetric()).keyMetadata();
    byte[] v1 = f.kms.encrypt(f.caller, new EncryptRequest(m.keyId(), MSG, Map.of("c", "1"), null, null)).ciphertextBlob();
    assertThat(f.kms.rotateKeyOnDemand(f.caller, new RotateKeyOnDemandRequest(m.keyId())).keyId()).isEqualTo(m.arn());
    byte[] v2 = f.kms.encrypt(f.caller, new EncryptRequest(m.keyId(), MSG, Map.of("c", "1"), null, null)).ciphertextBlob();
    assertThat(CiphertextBlob.parse(v1).keyVersion()).isEqualTo(1);
    assertThat(CiphertextBlob.parse(v2).keyVersion()).isEqualTo(2);
    assertThat(f.backing.find(m.arn() + "/v2")).isNotNull();
    f.kms.enableKeyRotation(f.caller, new EnableKeyRotationRequest(m.keyId(), 90));
    f.clock.advance(Duration.ofDays(89));
    assertThat(f.kms.rotateDue()).isEmpty();
    f.clock.advance(Duration.ofDays(1));
    assertThat(f.kms.rotateDue()).containsExactly(m.arn());
    assertThat(f.kms.getKeyRotationStatus(f.caller, new GetKeyRotationStatusRequest(m.keyId())).nextRotationDate())
        .isEqualTo(f.clock.instant().plus(Duration.ofDays(90)));
    byte[] v3 = f.kms.encrypt(f.caller, new EncryptRequest(m.keyId(), MSG, Map.of("c", "1"), null, null)).ciphertextBlob();
    assertThat(CiphertextBlob.parse(v3).keyVersion()).isEqualTo(3);
    for (byte[] b : List.of(v1, v2, v3)) {
      assertThat(f.kms.decrypt(f.caller, new DecryptRequest(b, Map.of("c", "1"), null, null, null)).plaintext()).isEqualTo(MSG);
    }
    // A blob claiming a version the key does not have yet is invalid.
    byte[] future = v3.clone();
    future[20] = 9;
    fails(KmsError.INVALID_CIPHERTEXT, () -> f.kms.decrypt(f.caller, new DecryptRequest(future, Map.of("c", "1"), null, null, null)));
    ListKeyRotationsResponse l = f.kms.listKeyRotations(f.caller, new ListKeyRotationsRequest(m.keyId(), null, null));
    assertThat(l.rotations()).extracting(RotationsListEntry::rotationType).containsExactly("ON_DEMAND", "AUTOMATIC");
    ListKeyRotationsResponse page = f.kms.listKeyRotations(f.caller, new ListKeyRotationsRequest(m.keyId(), 1, null));
    assertThat(page.truncated()).isTrue();
    assertThat(f.kms.listKeyRotations(f.caller, new ListKeyRotationsRequest(m.keyId(), 1, page.nextMarker())).rotations())
        .extracting(RotationsListEntry::rotationType).containsExactly("AUTOMATIC");
    // Deletion destroys every version.
    f.kms.scheduleKeyDeletion(f.caller, new ScheduleKeyDeletionRequest(m.keyId(), 7));
    f.clock.advance(Duration.ofDays(8));
    f.kms.purgeExpired();
    assertThat(f.backing.find(m.arn())).isNull();
    assertThat(f.backing.find(m.arn() + "/v2")).isNull();
    assertThat(f.backing.find(m.arn() + "/v3")).isNull();
  }

  static byte[] wrap(GetParametersForImportResponse p, byte[] material) throws Exception {
    PublicKey pub = KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(p.publicKey()));
    Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding");
    c.init(Cipher.ENCRYPT_MODE, pub, new OAEPParameterSpec("SHA-1", "MGF1", MGF1ParameterSpec.SHA1, PSource.PSpecified.DEFAULT));
    return c.doFinal(material);
  }

  @ParameterizedTest
  @EnumSource(TestDatabases.Kind.class)
  void importKeyMaterial(TestDatabases.Kind kind) throws Exception {
    KmsFixture f = KmsFixture.create(kind);
    KeyMetadata m = f.kms.createKey(f.caller, new CreateKeyRequest(null, "byok", null, null, null, "EXTERNAL", null, null, null, null)).keyMetadata();
    assertThat(m.keyState()).isEqualTo("PendingImport");
    assertThat(m.origin()).isEqualTo("EXTERNAL");
    assertThat(m.enabled()).isFalse();
    fails(KmsError.KMS_INVALID_STATE, () -> f.kms.encrypt(f.caller, new EncryptRequest(m.keyId(), MSG, null, null, null)));
    fails(KmsError.UNSUPPORTED_OPERATION, () -> f.kms.getParametersForImport(f.caller, new GetParametersForImportRequest(m.keyId(), "RSAES_OAEP_SHA_256", "RSA_2048")));
    fails(KmsError.UNSUPPORTED_OPERATION, () -> f.kms.getParametersForImport(f.caller, new GetParametersForImportRequest(m.keyId(), "RSAES_OAEP_SHA_1", "RSA_4096")));
    String sym = f.kms.createKey(f.caller, symmetric()).keyMetadata().keyId();
    fails(KmsError.UNSUPPORTED_OPERATION, () -> f.kms.getParametersForImport(f.caller, new GetParametersForImportRequest(sym, "RSAES_OAEP_SHA_1", "RSA_2048")));

    GetParametersForImportResponse p = f.kms.getParametersForImport(f.caller, new GetParametersForImportRequest(m.keyId(), "RSAES_OAEP_SHA_1", "RSA_2048"));
    assertThat(p.parametersValidTo()).isEqualTo(f.clock.instant().plus(Duration.ofHours(24)));
    byte[] material = new byte[32];
    new SecureRandom().nextBytes(material);
    // Wrong tokens first: garbage, and a token of another key.
    fails(KmsError.INVALID_IMPORT_TOKEN, () -> f.kms.importKeyMaterial(f.caller, new ImportKeyMaterialRequest(m.keyId(), "nope".getBytes(), wrap(p, material), null, null)));
    KeyMetadata other = f.kms.createKey(f.caller, new CreateKeyRequest(null, null, null, null, null, "EXTERNAL", null, null, null, null)).keyMetadata();
    fails(KmsError.INVALID_IMPORT_TOKEN, () -> f.kms.importKeyMaterial(f.caller, new ImportKeyMaterialRequest(other.keyId(), p.importToken(), wrap(p, material), null, null)));
    // Material of the wrong size, and bytes that do not unwrap.
    fails(KmsError.INVALID_CIPHERTEXT, () -> f.kms.importKeyMaterial(f.caller, new ImportKeyMaterialRequest(m.keyId(), p.importToken(), wrap(p, new byte[16]), null, null)));
    fails(KmsError.INVALID_CIPHERTEXT, () -> f.kms.importKeyMaterial(f.caller, new ImportKeyMaterialRequest(m.keyId(), p.importToken(), new byte[256], null, null)));
    assertThat(f.kms.describeKey(f.caller, new DescribeKeyRequest(m.keyId(), null)).keyMetadata().keyState()).isEqualTo("PendingImport");

    f.kms.importKeyMaterial(f.caller, new ImportKeyMaterialRequest(m.keyId(), p.importToken(), wrap(p, material), null, "KEY_MATERIAL_DOES_NOT_EXPIRE"));
    assertThat(f.kms.describeKey(f.caller, new DescribeKeyRequest(m.keyId(), null)).keyMetadata().keyState()).isEqualTo("Enabled");
    var tokenKey = (io.hsmkit.provider.keys.HsmKey) f.backing.find(m.arn());
    assertThat(tokenKey.isSensitive()).isTrue();
    assertThat(tokenKey.isExtractable()).isFalse();
    // The imported material is the key: a blob opens with it in software (AAD per the format).
    byte[] blob = f.kms.encrypt(f.caller, new EncryptRequest(m.keyId(), MSG, Map.of("a", "b"), null, null)).ciphertextBlob();
    CiphertextBlob cb = CiphertextBlob.parse(blob);
    Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
    gcm.init(Cipher.DECRYPT_MODE, new SecretKeySpec(material, "AES"), new GCMParameterSpec(128, cb.iv()));
    gcm.updateAAD(CiphertextBlob.aad(cb.keyId(), cb.keyVersion(), Map.of("a", "b")));
    assertThat(gcm.doFinal(cb.ciphertextAndTag())).isEqualTo(MSG);

    // Delete, then re-import: the same material works (old blobs decrypt), other material is refused.
    f.kms.deleteImportedKeyMaterial(f.caller, new DeleteImportedKeyMaterialRequest(m.keyId()));
    assertThat(f.kms.describeKey(f.caller, new DescribeKeyRequest(m.keyId(), null)).keyMetadata().keyState()).isEqualTo("PendingImport");
    assertThat(f.backing.find(m.arn())).isNull();
    fails(KmsError.KMS_INVALID_STATE, () -> f.kms.decrypt(f.caller, new DecryptRequest(blob, Map.of("a", "b"), null, null, null)));
    byte[] different = material.clone();
    different[0] ^= 1;
    fails(KmsError.INCORRECT_KEY_MATERIAL, () -> f.kms.importKeyMaterial(f.caller, new ImportKeyMaterialRequest(m.keyId(), p.importToken(), wrap(p, different), null, null)));
    f.kms.importKeyMaterial(f.caller, new ImportKeyMaterialRequest(m.keyId(), p.importToken(), wrap(p, material), null, null));
    assertThat(f.kms.decrypt(f.caller, new DecryptRequest(blob, Map.of("a", "b"), null, null, null)).plaintext()).isEqualTo(MSG);

    // An import token expires after 24 hours.
    f.clock.advance(Duration.ofHours(24));
    fails(KmsError.EXPIRED_IMPORT_TOKEN, () -> f.kms.importKeyMaterial(f.caller, new ImportKeyMaterialRequest(m.keyId(), p.importToken(), wrap(p, material), null, null)));
    fails(KmsError.UNSUPPORTED_OPERATION, () -> f.kms.importKeyMaterial(f.caller, new ImportKeyMaterialRequest(m.keyId(), p.importToken(), wrap(p, material), null, "KEY_MATERIAL_EXPIRES")));
    // Nothing is left behind on the token that the metadata does not name.
    assertThat(f.kms.reconcile().destroyedOrphans()).isEmpty();
  }
}
