package io.hsmkit.bench.kms;

import io.hsmkit.bench.BenchToken;
import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsService;
import io.hsmkit.kms.access.PolicyAccessControl;
import io.hsmkit.kms.access.RetiredGrants;
import io.hsmkit.kms.api.EncryptRequest;
import io.hsmkit.kms.api.GenerateDataKeyRequest;
import io.hsmkit.kms.backing.token.DefaultKeyBackings;
import io.hsmkit.kms.backing.token.TokenKeyBacking;
import io.hsmkit.kms.server.ServerAccessControl;
import io.hsmkit.kms.store.Database;
import io.hsmkit.provider.HsmKitProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.Key;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The KMS service in process against the same token work done directly: Encrypt of 1 KiB (with an
 * encryption context) and GenerateDataKey (32 bytes) through {@link KmsService} (key lookup in
 * H2, policy evaluation, AES-256-GCM in the token, the blob, and one hash-chained audit record per
 * call), against AES-256-GCM of 1 KiB through the HsmKit provider directly, on one token and
 * one persistent AES key each. The ratio direct / service is the service's overhead.
 * Run: {@code java -jar jmh/target/benchmarks.jar KmsBenchmark -f 1 -wi 2 -i 3}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class KmsBenchmark {
  HsmKitProvider provider;
  KmsService service;
  Caller caller;
  String keyId;
  Key directKey;
  byte[] plaintext = new byte[1024];
  Map<String, String> context = Map.of("purpose", "bench");

  @Setup
  public void setUp() throws Exception {
    Path dir = BenchToken.defaultDir().resolveSibling("bench-kms-token");
    BenchToken token = BenchToken.create(dir);
    Path pin = dir.resolve("user.pin");
    Files.deleteIfExists(pin);
    Files.createFile(pin, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(pin, token.userPin());
    provider = new HsmKitProvider("--library = " + token.library() + " tokenLabel = " + BenchToken.LABEL + " pin = file:" + pin);
    Database db = Database.open("jdbc:h2:file:" + dir.toAbsolutePath().resolve("kms-" + UUID.randomUUID()), "sa", "");
    TokenKeyBacking backing = new TokenKeyBacking(provider);
    String account = "111122223333";
    ServerAccessControl access = new ServerAccessControl(new PolicyAccessControl(null, RetiredGrants.NONE), db, null);
    service = new KmsService(db, new DefaultKeyBackings(backing), access, Clock.systemUTC(), "us-east-1", account);
    caller = new Caller("arn:aws:iam::" + account + ":root", account, null, "AKIABENCH", "127.0.0.1", "jmh");
    keyId = service.createKey(caller, io.hsmkit.kms.http.KmsJson.read(io.hsmkit.kms.http.KmsJson.mapper().createObjectNode(), io.hsmkit.kms.api.CreateKeyRequest.class))
        .keyMetadata().keyId();
    directKey = backing.createAes256("bench-direct-" + UUID.randomUUID());
    new SecureRandom().nextBytes(plaintext);
  }

  @TearDown
  public void tearDown() {
    service.close();
  }

  @Benchmark
  public byte[] serviceEncrypt1KiB() {
    return service.encrypt(caller, new EncryptRequest(keyId, plaintext, context, List.of(), null)).ciphertextBlob();
  }

  @Benchmark
  public byte[] serviceGenerateDataKey() {
    return service.generateDataKey(caller, new GenerateDataKeyRequest(keyId, context, 32, null, List.of())).ciphertextBlob();
  }

  @Benchmark
  public byte[] providerAesGcm1KiB() throws Exception {
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding", provider);
    c.init(Cipher.ENCRYPT_MODE, directKey); // the token draws the IV, as in the service
    c.updateAAD(plaintext, 0, 16);
    return c.doFinal(plaintext);
  }
}
