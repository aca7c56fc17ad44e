package io.hsmkit.it.keytool;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.it.support.HsmKitToken;
import io.hsmkit.it.support.ToolRunner;
import io.hsmkit.provider.keys.HsmKey;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSigner;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The JDK's own jarsigner, as a child process, signing with EC P-256, RSA-2048 and RSA-3072 keys
 * generated in an HsmKit token by keytool, each with a certificate issued by a CA key in the same
 * token ({@code keytool -genkeypair -signer ca}); then {@code jarsigner -verify -strict} by the JDK
 * alone (no provider: the jar carries the certificates) with a PKCS#12 truststore holding the CA.
 *
 * <p>Why a CA: with a self-signed signer certificate, or a CA the verifier does not trust, {@code
 * -verify -strict} says "jar verified, with signer errors" and exits 4 (chain not validated); see
 * {@link #strictVerificationWithoutTheCaIsRefusedWithExitCode4}.
 */
class JarsignerTest {
  static final String TRUST_PASS = "changeit";

  static HsmKitToken token;
  static Path work;
  static Path unsignedJar;
  static Path truststore;
  static X509Certificate caCert;

  @BeforeAll
  static void setUp() throws Exception {
    token = HsmKitToken.create("jarsigner-test");
    work = Files.createDirectories(token.dir().resolve("jars"));
    token.keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=HsmKit Code Signing Test CA",
        "-ext", "bc:c", "-validity", "3650").assertOk();
    // The signing keys, each certified by the token CA (chain: leaf, CA).
    token.keytool("-genkeypair", "-alias", "ec256", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=ec256 signer", "-signer", "ca",
        "-validity", "365").assertOk();
    token.keytool("-genkeypair", "-alias", "rsa2048", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=rsa2048 signer", "-signer", "ca",
        "-validity", "365").assertOk();
    // RSA-3072 generation is the slow one in SoftHSM2 (a few seconds at most).
    token.keytoolRunner().timeout(java.time.Duration.ofSeconds(120)).run(concat(List.of("-genkeypair", "-alias", "rsa3072", "-keyalg", "RSA",
        "-keysize", "3072", "-dname", "CN=rsa3072 signer", "-signer", "ca", "-validity", "365"), token.keytoolArgs())).assertOk();

    KeyStore ks = token.keyStore();
    caCert = (X509Certificate) ks.getCertificate("ca");
    // The verifier's truststore: just the CA, in a PKCS#12 file (no provider needed to read it).
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("hsmkit-test-ca", caCert);
    truststore = work.resolve("truststore.p12");
    try (OutputStream o = Files.newOutputStream(truststore)) {
      trust.store(o, TRUST_PASS.toCharArray());
    }

    unsignedJar = work.resolve("in.jar");
    Manifest mf = new Manifest();
    mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    mf.getMainAttributes().put(Attributes.Name.IMPLEMENTATION_TITLE, "hsmkit jarsigner test");
    try (JarOutputStream j = new JarOutputStream(new FileOutputStream(unsignedJar.toFile()), mf)) {
      j.putNextEntry(new JarEntry("hello.txt"));
      j.write("hello from the token\n".getBytes(StandardCharsets.UTF_8));
      j.closeEntry();
      j.putNextEntry(new JarEntry("io/hsmkit/demo/data.bin"));
      byte[] data = new byte[4096];
      for (int i = 0; i < data.length; i++) {
        data[i] = (byte) (i * 31);
      }
      j.write(data);
      j.closeEntry();
    }
  }

  static List<String> concat(List<String> a, List<String> b) {
    List<String> l = new ArrayList<>(a);
    l.addAll(b);
    return l;
  }

  /** jarsigner with the provider: {@code jarsigner -J-cp -J<jar> -providerClass ... -signedjar out in alias}. */
  static ToolRunner.Result sign(Path in, Path out, String alias) {
    return token.jarsignerRunner().run(concat(token.jarsignerArgs(), List.of("-signedjar", out.toString(), in.toString(), alias)));
  }

  /** jarsigner -verify by the JDK alone; {@code withTruststore} adds the PKCS#12 file holding the CA. */
  static ToolRunner.Result verify(Path jar, boolean withTruststore) {
    List<String> args = new ArrayList<>(List.of("-verify", "-strict", "-verbose", "-certs"));
    if (withTruststore) {
      args.addAll(List.of("-keystore", truststore.toString(), "-storepass", TRUST_PASS));
    }
    args.add(jar.toString());
    return ToolRunner.jdk("jarsigner").run(args);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "ec256,   EC,  SHA256withECDSA, 256-bit key",
    "rsa2048, RSA, SHA256withRSA,   2048-bit key",
    "rsa3072, RSA, SHA256withRSA,   3072-bit key",
  })
  void jarsignerSignsWithATokenKeyAndStrictVerificationAcceptsTheJarButNotATamperedCopy(String alias, String blockExt, String sigAlg,
      String keySize) throws Exception {
    KeyStore ks = token.keyStore();
    HsmKey key = (HsmKey) ks.getKey(alias, null);
    assertThat(key.isSensitive()).isTrue();
    assertThat(key.isExtractable()).isFalse();
    Certificate[] chain = ks.getCertificateChain(alias);
    assertThat(chain).hasSize(2);
    assertThat(chain[1]).isEqualTo(caCert);

    Path signed = work.resolve(alias + "-signed.jar");
    ToolRunner.Result s = sign(unsignedJar, signed, alias).assertOk();
    assertThat(s.output()).contains("jar signed.");

    // The signature block is the token key's, and the jar carries the token's chain.
    try (JarFile jf = new JarFile(signed.toFile(), true)) {
      String block = "META-INF/" + alias.toUpperCase(java.util.Locale.ROOT) + "." + blockExt;
      assertThat(jf.getEntry(block)).as(block).isNotNull();
      JarEntry e = jf.getJarEntry("hello.txt");
      try (InputStream in = jf.getInputStream(e)) {
        in.readAllBytes(); // verifies the entry's digest
      }
      CodeSigner[] signers = e.getCodeSigners();
      assertThat(signers).hasSize(1);
      assertThat(new ArrayList<Certificate>(signers[0].getSignerCertPath().getCertificates())).containsExactly(chain);
    }

    // The JDK alone, -strict, with a truststore holding the CA: accepted.
    ToolRunner.Result ok = verify(signed, true);
    assertThat(ok.exitCode()).as("%s", ok).isZero();
    assertThat(ok.output()).contains("jar verified.").doesNotContain("signer errors")
        .contains("Signature algorithm: " + sigAlg + ", " + keySize).contains("Digest algorithm: SHA-256");

    // One entry changed after signing: refused.
    Path tampered = work.resolve(alias + "-tampered.jar");
    tamper(signed, tampered, "hello.txt", "hello from someone else\n");
    ToolRunner.Result bad = verify(tampered, true);
    assertThat(bad.exitCode()).as("%s", bad).isNotZero();
    assertThat(bad.output()).contains("SHA-256 digest error for hello.txt");
  }

  /** Without the CA in a truststore, -strict does not accept the chain: "with signer errors", exit code 4. */
  @Test
  void strictVerificationWithoutTheCaIsRefusedWithExitCode4() throws Exception {
    Path signed = work.resolve("ec256-untrusted.jar");
    sign(unsignedJar, signed, "ec256").assertOk();
    ToolRunner.Result r = verify(signed, false);
    assertThat(r.exitCode()).as("%s", r).isEqualTo(4);
    assertThat(r.output()).contains("jar verified, with signer errors.").contains("certificate chain is invalid");
  }

  @Test
  void aWrongStorepassOrAnUnknownAliasFailsClearly() {
    List<String> args = new ArrayList<>(token.jarsignerArgs());
    args.set(args.indexOf("-storepass") + 1, "not-the-pin-000");
    args.addAll(List.of("-signedjar", work.resolve("never1.jar").toString(), unsignedJar.toString(), "ec256"));
    ToolRunner.Result wrongPin = token.jarsignerRunner().run(args);
    assertThat(wrongPin.exitCode()).as("%s", wrongPin).isNotZero();
    assertThat(wrongPin.output()).contains("CKR_PIN_INCORRECT");
    assertThat(work.resolve("never1.jar")).doesNotExist();

    ToolRunner.Result unknown = sign(unsignedJar, work.resolve("never2.jar"), "no-such-alias");
    assertThat(unknown.exitCode()).as("%s", unknown).isNotZero();
    assertThat(unknown.output()).contains("Certificate chain not found for: no-such-alias");
  }

  /** Copies {@code in} to {@code out} with {@code entry}'s content replaced: the signature files are kept as they are. */
  static void tamper(Path in, Path out, String entry, String content) throws Exception {
    List<String> names = new ArrayList<>();
    try (ZipInputStream zin = new ZipInputStream(Files.newInputStream(in));
        ZipOutputStream zout = new ZipOutputStream(Files.newOutputStream(out))) {
      ZipEntry e;
      while ((e = zin.getNextEntry()) != null) {
        names.add(e.getName());
        byte[] data = zin.readAllBytes();
        if (e.getName().equals(entry)) {
          data = content.getBytes(StandardCharsets.UTF_8);
        }
        zout.putNextEntry(new ZipEntry(e.getName()));
        zout.write(data);
        zout.closeEntry();
      }
    }
    assertThat(names).contains(entry);
    assertThat(Collections.frequency(names, entry)).isEqualTo(1);
  }
}
