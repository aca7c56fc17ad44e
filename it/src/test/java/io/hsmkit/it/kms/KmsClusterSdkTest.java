package io.hsmkit.it.kms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.kms.access.Principals;
import io.hsmkit.kms.server.KmsServer;
import io.hsmkit.kms.server.KmsServerConfig;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.cluster.ClusterAdmin;
import io.hsmkit.pkcs11.cluster.MemberHealth;
import io.hsmkit.pkcs11.session.Pin;
import io.hsmkit.pkcs11.session.TokenSelector;
import io.hsmkit.pkcs11.testing.TestToken;
import io.hsmkit.provider.HsmKitProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.DataKeySpec;
import software.amazon.awssdk.services.kms.model.InvalidCiphertextException;
import software.amazon.awssdk.services.kms.model.KeySpec;
import software.amazon.awssdk.services.kms.model.KeyUsageType;
import software.amazon.awssdk.services.kms.model.KmsInvalidStateException;
import software.amazon.awssdk.services.kms.model.MacAlgorithmSpec;
import software.amazon.awssdk.services.kms.model.SigningAlgorithmSpec;

/**
 * The real AWS SDK for Java v2 against a KmsServer whose default store is a cluster of three
 * SoftHSM2 tokens ({@code cluster = FILE} in its HsmKit configuration), over HTTPS with a TLS key
 * that is itself a cluster key: symmetric, ECC and HMAC keys, the encryption context, and BYOK
 * import (replicated to every member, deleted, imported again).
 */
class KmsClusterSdkTest {
  static TestToken token;
  static KmsServer server;
  static KmsClient kms;
  static Pkcs11Module direct;

  @BeforeAll
  static void start() throws Exception {
    String name = "kms-cluster-sdk";
    token = TestToken.create(name, name + "-a");
    String[] labels = {name + "-a", name + "-b", name + "-c"};
    for (int i = 1; i < 3; i++) {
      KmsServerFixture.run(token.conf(), "softhsm2-util", "--init-token", "--free", "--label", labels[i], "--so-pin", new String(token.soPin()),
          "--pin", new String(token.userPin()));
    }
    // the cluster wrapping key, made on a and given to b and c by ECDH, before any user logs in
    // (the library stays initialised: the server's provider shares it, as SoftHSM2 needs)
    direct = Pkcs11Module.open(token.library());
    try (ClusterAdmin.SoToken a = so(labels[0]); ClusterAdmin.SoToken b = so(labels[1]); ClusterAdmin.SoToken c = so(labels[2])) {
      ClusterAdmin.initialize(a);
      ClusterAdmin.join(a, b);
      ClusterAdmin.join(a, c);
    }
    Path dir = TestToken.buildDir().resolve("kms-it").resolve(name);
    Files.createDirectories(dir);
    Path pin = dir.resolve("user.pin");
    Files.writeString(pin, new String(token.userPin()));
    StringBuilder cf = new StringBuilder("cluster.members = a, b, c\ncluster.minReplicas = 2\n");
    String[] m = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
      cf.append("member.").append(m[i]).append(".library = ").append(token.library()).append('\n')
          .append("member.").append(m[i]).append(".tokenLabel = ").append(labels[i]).append('\n')
          .append("member.").append(m[i]).append(".pin = file:").append(pin).append('\n');
    }
    Path clusterFile = Files.writeString(dir.resolve("cluster.cfg"), cf);
    Path cfg = Files.writeString(dir.resolve("hsmkit.cfg"), "name = kmscl\ncluster = " + clusterFile + "\nmaxSessions = 8\n");
    Path state = dir.resolve("state");
    KmsServerFixture.deleteTree(state);
    server = KmsServer.start(KmsServerConfig.of(cfg.toString(), state).withPort(0)
        .withDatabase("jdbc:h2:file:" + state.toAbsolutePath().resolve("kms"), "sa", ""));
    Principals.NewPrincipal root = server.firstPrincipal().orElseThrow();
    kms = KmsClient.builder().endpointOverride(server.uri()).region(software.amazon.awssdk.regions.Region.of(server.region()))
        .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
            software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(root.principal().accessKeyId(), new String(root.secretAccessKey()))))
        .httpClientBuilder(software.amazon.awssdk.http.apache5.Apache5HttpClient.builder()
            .tlsTrustManagersProvider(() -> trust(server)))
        .build();
  }

  static ClusterAdmin.SoToken so(String label) {
    return new ClusterAdmin.SoToken(direct, TokenSelector.label(label), Pin.of(token.soPin()));
  }

  static javax.net.ssl.TrustManager[] trust(KmsServer s) {
    try {
      return KmsServerFixture.trustManagers(Files.readString(s.caBundle().orElseThrow()));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @AfterAll
  static void stop() {
    if (kms != null) {
      kms.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void theSdkUsesKeysReplicatedOnEveryMember() {
    String arn = kms.createKey(b -> b.description("on the cluster")).keyMetadata().arn();
    Map<String, String> ctx = Map.of("tenant", "blue");
    byte[] ct = kms.encrypt(b -> b.keyId(arn).plaintext(SdkBytes.fromUtf8String("hello cluster")).encryptionContext(ctx)).ciphertextBlob().asByteArray();
    assertThat(kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct)).encryptionContext(ctx)).plaintext().asUtf8String()).isEqualTo("hello cluster");
    assertThatThrownBy(() -> kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct)).encryptionContext(Map.of("tenant", "red"))))
        .isInstanceOf(InvalidCiphertextException.class);
    var dk = kms.generateDataKey(b -> b.keyId(arn).keySpec(DataKeySpec.AES_256));
    assertThat(kms.decrypt(b -> b.ciphertextBlob(dk.ciphertextBlob())).plaintext()).isEqualTo(dk.plaintext());

    String ec = kms.createKey(b -> b.keySpec(KeySpec.ECC_NIST_P256).keyUsage(KeyUsageType.SIGN_VERIFY)).keyMetadata().keyId();
    var sig = kms.sign(b -> b.keyId(ec).message(SdkBytes.fromUtf8String("m")).signingAlgorithm(SigningAlgorithmSpec.ECDSA_SHA_256)).signature();
    assertThat(kms.verify(b -> b.keyId(ec).message(SdkBytes.fromUtf8String("m")).signature(sig)
        .signingAlgorithm(SigningAlgorithmSpec.ECDSA_SHA_256)).signatureValid()).isTrue();

    String mac = kms.createKey(b -> b.keySpec(KeySpec.HMAC_256).keyUsage(KeyUsageType.GENERATE_VERIFY_MAC)).keyMetadata().keyId();
    var tag = kms.generateMac(b -> b.keyId(mac).message(SdkBytes.fromUtf8String("m")).macAlgorithm(MacAlgorithmSpec.HMAC_SHA_256)).mac();
    assertThat(kms.verifyMac(b -> b.keyId(mac).message(SdkBytes.fromUtf8String("m")).mac(tag).macAlgorithm(MacAlgorithmSpec.HMAC_SHA_256))
        .macValid()).isTrue();

    assertThat(kms.generateRandom(b -> b.numberOfBytes(32)).plaintext().asByteArray()).hasSize(32);

    HsmKitProvider p = server.provider();
    var status = p.tokenContext().cluster().status();
    assertThat(status).allMatch(s -> s.health() == MemberHealth.HEALTHY);
    int keys = status.get(0).keys();
    assertThat(status).as("every member holds the same replicated keys").allMatch(s -> s.keys() == keys && s.lag() == 0);
    assertThat(keys).as("3 KMS keys, the TLS CA and server keys, the KMS's own keys").isGreaterThanOrEqualTo(7);
  }

  @Test
  void importedMaterialIsOnEveryMemberAndDecryptsAfterReimport() throws Exception {
    String id = kms.createKey(b -> b.origin("EXTERNAL")).keyMetadata().keyId();
    var p = kms.getParametersForImport(b -> b.keyId(id).wrappingAlgorithm("RSAES_OAEP_SHA_1").wrappingKeySpec("RSA_2048"));
    byte[] material = new byte[32];
    new java.security.SecureRandom().nextBytes(material);
    java.security.PublicKey pub = java.security.KeyFactory.getInstance("RSA")
        .generatePublic(new java.security.spec.X509EncodedKeySpec(p.publicKey().asByteArray()));
    javax.crypto.Cipher oaep = javax.crypto.Cipher.getInstance("RSA/ECB/OAEPPadding");
    oaep.init(javax.crypto.Cipher.ENCRYPT_MODE, pub, new javax.crypto.spec.OAEPParameterSpec("SHA-1", "MGF1",
        java.security.spec.MGF1ParameterSpec.SHA1, javax.crypto.spec.PSource.PSpecified.DEFAULT));
    byte[] wrapped = oaep.doFinal(material);
    // bytes that do not unwrap: refused, the key stays pending
    assertThatThrownBy(() -> kms.importKeyMaterial(b -> b.keyId(id).importToken(p.importToken()).encryptedKeyMaterial(SdkBytes.fromByteArray(new byte[256]))
        .expirationModel("KEY_MATERIAL_DOES_NOT_EXPIRE"))).isInstanceOf(InvalidCiphertextException.class);
    kms.importKeyMaterial(b -> b.keyId(id).importToken(p.importToken()).encryptedKeyMaterial(SdkBytes.fromByteArray(wrapped))
        .expirationModel("KEY_MATERIAL_DOES_NOT_EXPIRE"));
    byte[] ct = kms.encrypt(b -> b.keyId(id).plaintext(SdkBytes.fromUtf8String("imported"))).ciphertextBlob().asByteArray();
    var status = server.provider().tokenContext().cluster().status();
    int keys = status.get(0).keys();
    assertThat(status).as("the imported key is on every member").allMatch(s -> s.keys() == keys && s.lag() == 0);
    kms.deleteImportedKeyMaterial(b -> b.keyId(id));
    assertThatThrownBy(() -> kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct)))).isInstanceOf(KmsInvalidStateException.class);
    kms.importKeyMaterial(b -> b.keyId(id).importToken(p.importToken()).encryptedKeyMaterial(SdkBytes.fromByteArray(wrapped))
        .expirationModel("KEY_MATERIAL_DOES_NOT_EXPIRE"));
    assertThat(kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(ct))).plaintext().asUtf8String()).isEqualTo("imported");
  }
}
