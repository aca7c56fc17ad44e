package io.hsmkit.kms.core;

import static io.hsmkit.kms.core.Kms.fails;
import static io.hsmkit.kms.core.Kms.symmetric;
import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsService;
import io.hsmkit.kms.access.AccessControl;
import io.hsmkit.kms.api.DecryptRequest;
import io.hsmkit.kms.api.DeleteImportedKeyMaterialRequest;
import io.hsmkit.kms.api.DescribeKeyRequest;
import io.hsmkit.kms.api.EncryptRequest;
import io.hsmkit.kms.api.GenerateDataKeyRequest;
import io.hsmkit.kms.api.GenerateDataKeyResponse;
import io.hsmkit.kms.api.GenerateMacRequest;
import io.hsmkit.kms.api.GenerateRandomRequest;
import io.hsmkit.kms.api.GetParametersForImportRequest;
import io.hsmkit.kms.api.GetParametersForImportResponse;
import io.hsmkit.kms.api.ImportKeyMaterialRequest;
import io.hsmkit.kms.api.KeyMetadata;
import io.hsmkit.kms.api.ScheduleKeyDeletionRequest;
import io.hsmkit.kms.api.SignRequest;
import io.hsmkit.kms.api.VerifyMacRequest;
import io.hsmkit.kms.api.VerifyRequest;
import io.hsmkit.kms.backing.cluster.ClusterKeyBacking;
import io.hsmkit.kms.backing.token.DefaultKeyBackings;
import io.hsmkit.kms.blob.CiphertextBlob;
import io.hsmkit.kms.store.Database;
import io.hsmkit.kms.testing.TestDatabases;
import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.Slot;
import io.hsmkit.pkcs11.cluster.Cluster;
import io.hsmkit.pkcs11.cluster.Member;
import io.hsmkit.pkcs11.cluster.MemberHealth;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.constants.CKU;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.session.TokenSelector;
import io.hsmkit.pkcs11.testing.ClusterTokens;
import io.hsmkit.pkcs11.testing.FaultShim;
import io.hsmkit.pkcs11.testing.TestToken;
import io.hsmkit.provider.HsmKitProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The KMS service over a cluster of three SoftHSM2 tokens (a and b through libsofthsm2.so, c
 * through the fault shim), through {@link ClusterKeyBacking}: every key spec is made replicated
 * with the service's label; the service's crypto keeps working while c fails mid-run; a key made
 * while c is down reaches c when it returns, and a purged key is gone from every member; imported
 * key material (BYOK) is replicated, decrypts while c fails, and is deleted from every member.
 */
class ClusterKmsTest {
  static ClusterTokens tokens;
  static HsmKitProvider provider;
  static ClusterKeyBacking backing;
  static Cluster cluster;
  static Database db;
  static KmsFixture.MutableClock clock;
  static KmsService kms;
  static Caller caller;

  @BeforeAll
  static void open() throws Exception {
    String name = "kms-cluster";
    tokens = new ClusterTokens(name);
    Path dir = TestToken.buildDir().resolve("tokens").resolve(name);
    Files.createDirectories(dir);
    Path pin = dir.resolve("user.pin");
    Files.writeString(pin, new String(tokens.token.userPin()));
    pin.toFile().setReadable(false, false);
    pin.toFile().setReadable(true, true);
    StringBuilder cf = new StringBuilder("cluster.members = a, b, c\ncluster.minReplicas = 2\n");
    String[] names = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
      cf.append("member.").append(names[i]).append(".library = ").append(i == 2 ? FaultShim.path() : tokens.token.library()).append('\n');
      cf.append("member.").append(names[i]).append(".tokenLabel = ").append(tokens.labels[i]).append('\n');
      cf.append("member.").append(names[i]).append(".pin = file:").append(pin).append('\n');
    }
    Path clusterFile = Files.writeString(dir.resolve("cluster.cfg"), cf.toString());
    Path cfg = Files.writeString(dir.resolve("hsmkit.cfg"), "name = kmscluster\ncluster = " + clusterFile + "\nmaxSessions = 8\n");
    provider = new HsmKitProvider(cfg.toString());
    backing = new ClusterKeyBacking(provider);
    cluster = backing.cluster();
    db = TestDatabases.fresh(TestDatabases.Kind.H2);
    clock = new KmsFixture.MutableClock(Instant.parse("2026-11-29T20:00:00Z"));
    kms = new KmsService(db, new DefaultKeyBackings(backing), AccessControl.ALLOW_ALL, clock, "eu-west-1", "111122223333");
    caller = Caller.of("arn:aws:iam::111122223333:user/alice", "111122223333", null);
  }

  @AfterAll
  static void close() {
    if (kms != null) {
      kms.close();
    }
    if (provider != null) {
      provider.tokenContext().close();
    }
    if (tokens != null) {
      tokens.close();
    }
  }

  @AfterEach
  void allBack() throws InterruptedException {
    tokens.shim.clear();
    ClusterTokens.await("every member healthy", Duration.ofSeconds(15),
        () -> cluster.members().stream().allMatch(m -> m.health() == MemberHealth.HEALTHY));
  }

  /** The objects labelled {@code label} on member i (0 = a), read directly from its token, not through the cluster. */
  static int objectsLabelled(int i, String label) {
    Slot slot = TokenSelector.label(tokens.labels[i]).find(tokens.direct).orElseThrow();
    try (Session s = slot.openSession(false)) {
      boolean loggedIn = false;
      try {
        s.raw().C_Login(s.handle(), CKU.USER, tokens.token.userPin());
        loggedIn = true;
      } catch (Pkcs11Exception e) {
        if (!e.is(CKR.USER_ALREADY_LOGGED_IN)) {
          throw e;
        }
      }
      try {
        return s.findObjects(Attribute.string(CKA.LABEL, label)).length;
      } finally {
        if (loggedIn) {
          s.raw().C_Logout(s.handle());
        }
      }
    }
  }

  static int[] counts(String label) {
    return new int[] {objectsLabelled(0, label), objectsLabelled(1, label), objectsLabelled(2, label)};
  }

  static String label(KeyMetadata m) {
    return m.arn(); // the service labels version 1 of a key with its ARN
  }

  @Test
  void everyKeySpecIsReplicatedWithTheServicesLabel() {
    record Case(String spec, String usage, int objects) {}
    for (Case c : List.of(new Case(null, null, 1), new Case("HMAC_256", "GENERATE_VERIFY_MAC", 1), new Case("HMAC_512", "GENERATE_VERIFY_MAC", 1),
        new Case("ECC_NIST_P256", "SIGN_VERIFY", 2), new Case("ECC_NIST_P384", "SIGN_VERIFY", 2), new Case("ECC_NIST_P521", "SIGN_VERIFY", 2),
        new Case("RSA_2048", "SIGN_VERIFY", 2), new Case("RSA_3072", "ENCRYPT_DECRYPT", 2))) {
      KeyMetadata m = (c.spec() == null ? kms.createKey(caller, symmetric()) : kms.createKey(caller, Kms.spec(c.spec(), c.usage()))).keyMetadata();
      assertThat(counts(label(m))).as(String.valueOf(c.spec())).containsExactly(c.objects(), c.objects(), c.objects());
    }
  }

  @Test
  void cryptoKeepsWorkingWhileAMemberFailsMidRun() throws Exception {
    String sym = kms.createKey(caller, symmetric()).keyMetadata().keyId();
    String ec = kms.createKey(caller, Kms.spec("ECC_NIST_P256", "SIGN_VERIFY")).keyMetadata().keyId();
    String rsa = kms.createKey(caller, Kms.spec("RSA_2048", "SIGN_VERIFY")).keyMetadata().keyId();
    String rsaEnc = kms.createKey(caller, Kms.spec("RSA_2048", "ENCRYPT_DECRYPT")).keyMetadata().keyId();
    String mac = kms.createKey(caller, Kms.spec("HMAC_256", "GENERATE_VERIFY_MAC")).keyMetadata().keyId();
    Member c = cluster.member("c");
    long returnsBefore = c.returns();

    AtomicBoolean faultsOver = new AtomicBoolean();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    AtomicLong calls = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<?>> done = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      int thread = t;
      done.add(pool.submit(() -> {
        int i = 0;
        int after = 0;
        while (after < 30) {
          if (faultsOver.get()) {
            after++;
          }
          try {
            byte[] pt = ("thread " + thread + " call " + i).getBytes();
            Map<String, String> ctx = Map.of("thread", String.valueOf(thread));
            switch (i++ % 6) {
              case 0 -> {
                byte[] ct = kms.encrypt(caller, new EncryptRequest(sym, pt, ctx, null, null)).ciphertextBlob();
                assertThat(kms.decrypt(caller, new DecryptRequest(ct, ctx, null, null, null)).plaintext()).isEqualTo(pt);
              }
              case 1 -> {
                GenerateDataKeyResponse dk = kms.generateDataKey(caller, new GenerateDataKeyRequest(sym, ctx, null, "AES_256", null));
                assertThat(kms.decrypt(caller, new DecryptRequest(dk.ciphertextBlob(), ctx, null, null, null)).plaintext()).isEqualTo(dk.plaintext());
              }
              case 2 -> {
                byte[] sig = kms.sign(caller, new SignRequest(ec, pt, "RAW", null, "ECDSA_SHA_256")).signature();
                assertThat(kms.verify(caller, new VerifyRequest(ec, pt, "RAW", sig, "ECDSA_SHA_256", null)).signatureValid()).isTrue();
              }
              case 3 -> {
                byte[] sig = kms.sign(caller, new SignRequest(rsa, pt, "RAW", null, i % 2 == 0 ? "RSASSA_PSS_SHA_256" : "RSASSA_PKCS1_V1_5_SHA_256")).signature();
                assertThat(sig).hasSize(256);
              }
              case 4 -> {
                byte[] m = kms.generateMac(caller, new GenerateMacRequest(pt, mac, "HMAC_SHA_256", null)).mac();
                assertThat(kms.verifyMac(caller, new VerifyMacRequest(pt, mac, "HMAC_SHA_256", m, null)).macValid()).isTrue();
              }
              default -> {
                byte[] ct = kms.encrypt(caller, new EncryptRequest(rsaEnc, pt, null, null, "RSAES_OAEP_SHA_256")).ciphertextBlob();
                assertThat(kms.decrypt(caller, new DecryptRequest(ct, null, null, rsaEnc, "RSAES_OAEP_SHA_256")).plaintext()).isEqualTo(pt);
                assertThat(kms.generateRandom(caller, new GenerateRandomRequest(32, null)).plaintext()).hasSize(32);
              }
            }
            calls.incrementAndGet();
          } catch (Throwable e) {
            failures.add(e);
          }
        }
        return null;
      }));
    }
    Thread.sleep(300);
    tokens.shim.rules("*:rv=CKR_DEVICE_ERROR");
    Thread.sleep(300);
    tokens.shim.clear();
    ClusterTokens.await("c back after device errors", Duration.ofSeconds(15), () -> c.health() == MemberHealth.HEALTHY);
    tokens.shim.rules("absent");
    Thread.sleep(500);
    tokens.shim.clear();
    ClusterTokens.await("c back after its token was absent", Duration.ofSeconds(15), () -> c.health() == MemberHealth.HEALTHY);
    faultsOver.set(true);
    for (Future<?> f : done) {
      f.get();
    }
    pool.shutdown();
    System.out.printf("ClusterKmsTest: %d KMS calls, %d faults injected on c, c back %d times; operations a %d / b %d / c %d%n", calls.get(),
        tokens.shim.injected(), c.returns() - returnsBefore, cluster.member("a").operations(), cluster.member("b").operations(), c.operations());
    assertThat(failures).as("failed calls").isEmpty();
    assertThat(calls.get()).isGreaterThan(120);
    assertThat(c.returns() - returnsBefore).as("c taken out and back").isGreaterThanOrEqualTo(1);
    assertThat(tokens.shim.injected()).isGreaterThan(0);
  }

  @Test
  void aKeyCreatedWhileAMemberIsDownReachesItAndAPurgedKeyIsGoneEverywhere() throws Exception {
    Member c = cluster.member("c");
    tokens.shim.rules("absent");
    // the first call that lands on c takes it out (a generation there is made again elsewhere,
    // under a new CKA_ID); the key is made on a and b
    KeyMetadata m = kms.createKey(caller, symmetric()).keyMetadata();
    KeyMetadata ec = kms.createKey(caller, Kms.spec("ECC_NIST_P384", "SIGN_VERIFY")).keyMetadata();
    assertThat(c.health()).isEqualTo(MemberHealth.DOWN);
    assertThat(counts(label(m))).as("on a and b (minReplicas 2)").containsExactly(1, 1, 0);
    byte[] ct = kms.encrypt(caller, new EncryptRequest(m.keyId(), "made while c was down".getBytes(), null, null, null)).ciphertextBlob();
    tokens.shim.clear();
    ClusterTokens.await("c back", Duration.ofSeconds(15), () -> c.health() == MemberHealth.HEALTHY);
    assertThat(counts(label(m))).as("copied to c on its return").containsExactly(1, 1, 1);
    assertThat(counts(label(ec))).containsExactly(2, 2, 2);
    // spread over the members again, c among them
    for (int i = 0; i < 5; i++) {
      assertThat(kms.decrypt(caller, new DecryptRequest(ct, null, null, null, null)).plaintext()).isEqualTo("made while c was down".getBytes());
    }

    kms.scheduleKeyDeletion(caller, new ScheduleKeyDeletionRequest(m.keyId(), 7));
    tokens.shim.rules("absent");
    clock.advance(Duration.ofDays(8));
    kms.purgeExpired();
    assertThat(counts(label(m))[0]).as("purged from a").isZero();
    assertThat(counts(label(m))[1]).as("purged from b").isZero();
    tokens.shim.clear();
    ClusterTokens.await("c back", Duration.ofSeconds(15), () -> c.health() == MemberHealth.HEALTHY);
    assertThat(counts(label(m))).as("gone from c after its return").containsExactly(0, 0, 0);
    assertThat(backing.find(label(m))).isNull();
  }

  @Test
  void importedMaterialIsReplicatedSurvivesAFailingMemberAndIsDeletedEverywhere() throws Exception {
    KeyMetadata m = kms.createKey(caller, new io.hsmkit.kms.api.CreateKeyRequest(null, "external", null, null, null, "EXTERNAL", null, null, null, null))
        .keyMetadata();
    String label = label(m);
    String staging = m.arn() + "/importing";
    GetParametersForImportResponse p = kms.getParametersForImport(caller, new GetParametersForImportRequest(m.keyId(), "RSAES_OAEP_SHA_1", "RSA_2048"));
    byte[] material = new byte[32];
    new java.security.SecureRandom().nextBytes(material);

    // refused material leaves nothing on any member and the key pending
    record Bad(String what, byte[] wrapped) {}
    for (Bad b : List.of(new Bad("a 128-bit key", RotationAndImportTest.wrap(p, new byte[16])), new Bad("bytes that do not unwrap", new byte[256]))) {
      fails(KmsError.INVALID_CIPHERTEXT, () -> kms.importKeyMaterial(caller, new ImportKeyMaterialRequest(m.keyId(), p.importToken(), b.wrapped(), null, null)));
      assertThat(counts(staging)).as(b.what()).containsExactly(0, 0, 0);
      assertThat(counts(label)).as(b.what()).containsExactly(0, 0, 0);
    }
    fails(KmsError.INVALID_IMPORT_TOKEN, () -> kms.importKeyMaterial(caller, new ImportKeyMaterialRequest(m.keyId(), "nope".getBytes(), RotationAndImportTest.wrap(p, material), null, null)));
    assertThat(kms.describeKey(caller, new DescribeKeyRequest(m.keyId(), null)).keyMetadata().keyState()).isEqualTo("PendingImport");

    kms.importKeyMaterial(caller, new ImportKeyMaterialRequest(m.keyId(), p.importToken(), RotationAndImportTest.wrap(p, material), null, null));
    assertThat(kms.describeKey(caller, new DescribeKeyRequest(m.keyId(), null)).keyMetadata().keyState()).isEqualTo("Enabled");
    assertThat(counts(label)).as("on every member").containsExactly(1, 1, 1);
    assertThat(counts(staging)).as("the staging key is gone everywhere").containsExactly(0, 0, 0);
    var key = (io.hsmkit.provider.keys.HsmKey) backing.find(label);
    assertThat(key.isSensitive()).isTrue();

    // the imported material is the key: a blob opens with it in software
    byte[] blob = kms.encrypt(caller, new EncryptRequest(m.keyId(), "imported".getBytes(), Map.of("a", "b"), null, null)).ciphertextBlob();
    CiphertextBlob cb = CiphertextBlob.parse(blob);
    Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
    gcm.init(Cipher.DECRYPT_MODE, new SecretKeySpec(material, "AES"), new GCMParameterSpec(128, cb.iv()));
    gcm.updateAAD(CiphertextBlob.aad(cb.keyId(), cb.keyVersion(), Map.of("a", "b")));
    assertThat(gcm.doFinal(cb.ciphertextAndTag())).isEqualTo("imported".getBytes());

    // c fails every call: decryption moves to a or b
    tokens.shim.rules("*:rv=CKR_DEVICE_ERROR");
    for (int i = 0; i < 6; i++) {
      assertThat(kms.decrypt(caller, new DecryptRequest(blob, Map.of("a", "b"), null, null, null)).plaintext()).isEqualTo("imported".getBytes());
    }
    tokens.shim.clear();
    ClusterTokens.await("c back", Duration.ofSeconds(15), () -> cluster.member("c").health() == MemberHealth.HEALTHY);

    kms.deleteImportedKeyMaterial(caller, new DeleteImportedKeyMaterialRequest(m.keyId()));
    assertThat(counts(label)).as("deleted from every member").containsExactly(0, 0, 0);
    assertThat(backing.find(label)).isNull();
    fails(KmsError.KMS_INVALID_STATE, () -> kms.decrypt(caller, new DecryptRequest(blob, Map.of("a", "b"), null, null, null)));
    byte[] different = material.clone();
    different[0] ^= 1;
    fails(KmsError.INCORRECT_KEY_MATERIAL, () -> kms.importKeyMaterial(caller, new ImportKeyMaterialRequest(m.keyId(), p.importToken(),
        RotationAndImportTest.wrap(p, different), null, null)));
    assertThat(counts(label)).containsExactly(0, 0, 0);

    // re-import of the same material while c is gone: on a and b before the call answers, on c once it returns
    tokens.shim.rules("absent");
    kms.importKeyMaterial(caller, new ImportKeyMaterialRequest(m.keyId(), p.importToken(), RotationAndImportTest.wrap(p, material), null, null));
    int[] n = counts(label);
    assertThat(n[0] + n[1] + n[2]).as("on minReplicas members").isGreaterThanOrEqualTo(2);
    assertThat(kms.decrypt(caller, new DecryptRequest(blob, Map.of("a", "b"), null, null, null)).plaintext()).isEqualTo("imported".getBytes());
    tokens.shim.clear();
    ClusterTokens.await("c back", Duration.ofSeconds(15), () -> cluster.member("c").health() == MemberHealth.HEALTHY);
    assertThat(counts(label)).as("copied to c on its return").containsExactly(1, 1, 1);
    assertThat(counts(staging)).containsExactly(0, 0, 0);
    for (int i = 0; i < 5; i++) {
      assertThat(kms.decrypt(caller, new DecryptRequest(blob, Map.of("a", "b"), null, null, null)).plaintext()).isEqualTo("imported".getBytes());
    }

    // the import wrapping pair is replicated, and purged from every member a day after its token expires
    var wrapping = backing.labels(m.arn() + "/import/");
    assertThat(wrapping).hasSize(1);
    String wl = wrapping.iterator().next();
    assertThat(counts(wl)).as("public and private half on every member").containsExactly(2, 2, 2);
    clock.advance(Duration.ofHours(49));
    kms.purgeExpired();
    assertThat(counts(wl)).containsExactly(0, 0, 0);
    assertThat(counts(label)).as("the imported key stays").containsExactly(1, 1, 1);
  }

  @Test
  void labelLookUpsAreCachedAndDestroyForgetsThem() {
    String label = "arn:aws:kms:eu-west-1:111122223333:key/cache-test";
    var k = backing.createAes256(label);
    long before = backing.searches();
    for (int i = 0; i < 10; i++) {
      assertThat(backing.find(label)).isEqualTo(k);
    }
    assertThat(backing.searches() - before).as("one search, then the cache").isLessThanOrEqualTo(1);
    backing.destroy(label);
    assertThat(backing.find(label)).isNull();
    var again = backing.createAes256(label);
    assertThat(((io.hsmkit.provider.keys.HsmKey) again).id()).isNotEqualTo(((io.hsmkit.provider.keys.HsmKey) k).id());
    assertThat(backing.find(label)).as("the new key, not the destroyed one").isEqualTo(again);
    backing.destroy(label);
  }
}
