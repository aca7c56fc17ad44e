package io.hsmkit.it.keytool;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.it.support.HsmKitToken;
import io.hsmkit.it.support.ToolRunner;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmPrivateKey;
import java.io.ByteArrayInputStream;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The JDK's own keytool, as a child process, on an HsmKit token: generate (EC, RSA, Ed25519), list,
 * request, issue with a token CA key, import the CA reply, delete; and bad input. Every generated
 * key is checked in this JVM through the {@code HsmKit} KeyStore and with OpenSC's pkcs11-tool.
 */
class KeytoolTest {
  static HsmKitToken token;

  @BeforeAll
  static void token() {
    token = HsmKitToken.create("keytool-test");
    token.provider(); // fail early (and log in) if the provider cannot reach the token
  }

  // ------------------------------------------------------------------ generation

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "gen-ec,      -keyalg EC -groupname secp256r1, SHA256withECDSA, EC",
    "gen-rsa,     -keyalg RSA -keysize 2048,       SHA256withRSA,   RSA",
    "gen-ed25519, -keyalg Ed25519,                 Ed25519,         EC_EDWARDS",
  })
  void genkeypairMakesASensitiveNonExtractableKeyInTheTokenWithItsSelfSignedCertificate(String alias, String keyOptions, String sigAlg,
      String pkcs11KeyType) throws Exception {
    List<String> args = new ArrayList<>(List.of("-genkeypair", "-alias", alias, "-dname", "CN=" + alias + ", O=HsmKit test", "-validity", "365"));
    args.addAll(List.of(keyOptions.trim().split("\\s+")));
    token.keytool(args.toArray(new String[0])).assertOk();

    // In this JVM, through the KeyStore: a key entry with a self-signed chain; the key stays in the token.
    KeyStore ks = token.keyStore();
    assertThat(ks.isKeyEntry(alias)).isTrue();
    assertThat(ks.entryInstanceOf(alias, KeyStore.PrivateKeyEntry.class)).isTrue();
    Certificate[] chain = ks.getCertificateChain(alias);
    assertThat(chain).hasSize(1);
    X509Certificate self = (X509Certificate) chain[0];
    assertThat(self.getSubjectX500Principal()).isEqualTo(self.getIssuerX500Principal());
    assertThat(self.getSubjectX500Principal().getName()).contains("CN=" + alias);
    self.verify(self.getPublicKey());
    Key k = ks.getKey(alias, null);
    assertGeneratedInToken(k);

    // The key signs in the token; the certificate's public key verifies.
    byte[] data = ("signed by " + alias).getBytes();
    Signature s = Signature.getInstance(sigAlg, token.provider());
    s.initSign((PrivateKey) k);
    s.update(data);
    byte[] sig = s.sign();
    Signature v = Signature.getInstance(sigAlg);
    v.initVerify(self.getPublicKey());
    v.update(data);
    assertThat(v.verify(sig)).isTrue();

    // OpenSC sees the same: sensitive, never extractable, generated on the token (local).
    String obj = pkcs11Object("privkey", alias).orElseThrow(() -> new AssertionError("pkcs11-tool lists no private key " + alias));
    assertThat(obj).contains(pkcs11KeyType.equals("EC_EDWARDS") ? "Private Key Object; EC_EDWARDS" : "Private Key Object; " + pkcs11KeyType);
    String access = accessLine(obj);
    assertThat(access).contains("sensitive").contains("always sensitive").contains("never extractable").contains("local");
    assertThat(pkcs11Object("cert", alias)).as("the self-signed certificate is a token object").isPresent();

    // keytool -list -v shows the entry (and calls getCreationDate).
    ToolRunner.Result list = token.keytool("-list", "-v", "-alias", alias).assertOk();
    assertThat(list.output()).contains("Alias name: " + alias).contains("Entry type: PrivateKeyEntry")
        .contains("Certificate chain length: 1").contains("Creation date:");
  }

  /** What the token says about a private key: a token object, sensitive, never extractable, generated there. */
  static void assertGeneratedInToken(Key k) {
    assertThat(k).isInstanceOf(HsmPrivateKey.class);
    HsmKey hk = (HsmKey) k;
    assertThat(hk.isTokenObject()).as("token object").isTrue();
    assertThat(hk.isSensitive()).as("sensitive").isTrue();
    assertThat(hk.isExtractable()).as("extractable").isFalse();
    assertThat(k.getEncoded()).isNull();
    assertThat(k.getFormat()).isNull();
    Attribute[] a = token.provider().tokenContext().execute(s -> s.getAttributes(hk.handle(), CKA.LOCAL, CKA.NEVER_EXTRACTABLE, CKA.ALWAYS_SENSITIVE));
    assertThat(a[0].asBool()).as("CKA_LOCAL (generated in the token)").isTrue();
    assertThat(a[1].asBool()).as("CKA_NEVER_EXTRACTABLE").isTrue();
    assertThat(a[2].asBool()).as("CKA_ALWAYS_SENSITIVE").isTrue();
  }

  /** keytool needs -providerName HsmKit: without it the pair is made in software and only imported. */
  @Test
  void withoutProviderNameKeytoolGeneratesInSoftwareAndTheKeyIsOnlyImported() throws Exception {
    List<String> args = new ArrayList<>(List.of("-genkeypair", "-alias", "gen-soft", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=soft"));
    List<String> opts = new ArrayList<>(token.keytoolArgs());
    int i = opts.indexOf("-providerName");
    opts.remove(i + 1);
    opts.remove(i);
    args.addAll(opts);
    token.keytoolRunner().run(args).assertOk();

    HsmKey k = (HsmKey) token.keyStore().getKey("gen-soft", null);
    assertThat(k.isSensitive()).isTrue();
    Attribute[] a = token.provider().tokenContext().execute(s -> s.getAttributes(k.handle(), CKA.LOCAL, CKA.NEVER_EXTRACTABLE));
    assertThat(a[0].asBool()).as("CKA_LOCAL: SunRsaSign made it, the KeyStore imported it").isFalse();
    assertThat(a[1].asBool()).as("CKA_NEVER_EXTRACTABLE").isFalse();
    assertThat(accessLine(pkcs11Object("privkey", "gen-soft").orElseThrow())).doesNotContain("never extractable").doesNotContain("local");
    token.keytool("-delete", "-alias", "gen-soft").assertOk();
  }

  // ------------------------------------------------------------------ CA flow

  @Test
  void certreqGencertWithATokenCaAndImportOfTheReplyGiveTheChainLeafCa() throws Exception {
    Path dir = Files.createDirectories(token.dir().resolve("ca-flow"));
    // A CA key in the token.
    token.keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=HsmKit Test CA", "-ext", "bc:c",
        "-validity", "3650").assertOk();
    X509Certificate caCert = (X509Certificate) token.keyStore().getCertificate("ca");
    assertThat(caCert.getBasicConstraints()).as("bc:c makes a CA certificate").isGreaterThanOrEqualTo(0);

    // Two leaf keys: one reply installed with the CA trusted beforehand, one reply carrying the chain.
    token.keytool("-genkeypair", "-alias", "leaf-ec", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=leaf-ec", "-validity", "365")
        .assertOk();
    token.keytool("-genkeypair", "-alias", "leaf-rsa", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=leaf-rsa", "-validity", "365")
        .assertOk();
    byte[] leafEcId = ((HsmKey) token.keyStore().getKey("leaf-ec", null)).id();

    // -certreq: a PKCS#10 request signed by the token key.
    Path csr = dir.resolve("leaf-ec.csr");
    token.keytool("-certreq", "-alias", "leaf-ec", "-file", csr.toString()).assertOk();
    PKCS10CertificationRequest req;
    try (PEMParser pem = new PEMParser(new StringReader(Files.readString(csr)))) {
      req = (PKCS10CertificationRequest) pem.readObject();
    }
    assertThat(req.getSubject().toString()).isEqualTo("CN=leaf-ec");
    assertThat(req.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(new BouncyCastleProvider()).build(req.getSubjectPublicKeyInfo()))).isTrue();
    X509Certificate selfEc = (X509Certificate) token.keyStore().getCertificate("leaf-ec");
    assertThat(req.getSubjectPublicKeyInfo().getEncoded()).isEqualTo(selfEc.getPublicKey().getEncoded());

    // -gencert: the token CA key issues the certificate.
    Path reply = dir.resolve("leaf-ec.crt");
    token.keytool("-gencert", "-alias", "ca", "-infile", csr.toString(), "-outfile", reply.toString(), "-rfc", "-validity", "365").assertOk();
    X509Certificate leafEc = parse(reply).get(0);
    assertThat(leafEc.getIssuerX500Principal()).isEqualTo(caCert.getSubjectX500Principal());
    assertThat(leafEc.getPublicKey()).isEqualTo(selfEc.getPublicKey());
    leafEc.verify(caCert.getPublicKey());

    // The CA as a trusted certificate entry, then the reply: the chain replaces the self-signed certificate.
    Path caFile = dir.resolve("ca.crt");
    token.keytool("-exportcert", "-alias", "ca", "-rfc", "-file", caFile.toString()).assertOk();
    assertThat(parse(caFile)).containsExactly(caCert);
    token.keytool("-importcert", "-alias", "ca-trust", "-file", caFile.toString(), "-noprompt").assertOk();
    assertThat(token.keyStore().isCertificateEntry("ca-trust")).isTrue();
    ToolRunner.Result imp = token.keytool("-importcert", "-alias", "leaf-ec", "-file", reply.toString()).assertOk();
    assertThat(imp.output()).contains("Certificate reply was installed in keystore");

    KeyStore ks = token.keyStore();
    assertThat(ks.getCertificateChain("leaf-ec")).containsExactly(leafEc, caCert);
    Key k = ks.getKey("leaf-ec", null);
    assertThat(((HsmKey) k).id()).as("the same key object").isEqualTo(leafEcId);
    assertGeneratedInToken(k);
    ToolRunner.Result list = token.keytool("-list", "-v", "-alias", "leaf-ec").assertOk();
    assertThat(list.output()).contains("Entry type: PrivateKeyEntry").contains("Certificate chain length: 2")
        .contains("Owner: CN=leaf-ec").contains("Issuer: CN=HsmKit Test CA");

    // A reply that carries the whole chain (leaf, CA) in one PEM file.
    Path csrRsa = dir.resolve("leaf-rsa.csr");
    Path replyRsa = dir.resolve("leaf-rsa.crt");
    token.keytool("-certreq", "-alias", "leaf-rsa", "-file", csrRsa.toString()).assertOk();
    token.keytool("-gencert", "-alias", "ca", "-infile", csrRsa.toString(), "-outfile", replyRsa.toString(), "-rfc", "-validity", "365")
        .assertOk();
    Path chainFile = dir.resolve("leaf-rsa-chain.pem");
    Files.writeString(chainFile, Files.readString(replyRsa) + Files.readString(caFile));
    token.keytool("-importcert", "-alias", "leaf-rsa", "-file", chainFile.toString(), "-noprompt").assertOk();
    X509Certificate leafRsa = parse(replyRsa).get(0);
    assertThat(token.keyStore().getCertificateChain("leaf-rsa")).containsExactly(leafRsa, caCert);
    assertGeneratedInToken(token.keyStore().getKey("leaf-rsa", null));

    // The CA copies stored with the chains are part of the keys' chains, not entries: the only
    // trusted certificate is the one imported as such, and without it nothing is trusted.
    assertThat(trustedEntries()).containsExactly("ca-trust");
    token.keytool("-delete", "-alias", "ca-trust").assertOk();
    assertThat(trustedEntries()).isEmpty();
    assertThat(token.keyStore().getCertificateChain("leaf-ec")).containsExactly(leafEc, caCert);
    assertThat(token.keyStore().getCertificateAlias(caCert)).as("the CA's own key entry").isEqualTo("ca");
  }

  static List<String> trustedEntries() throws Exception {
    KeyStore ks = token.keyStore();
    List<String> out = new ArrayList<>();
    for (String a : Collections.list(ks.aliases())) {
      if (ks.isCertificateEntry(a)) {
        out.add(a);
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ delete

  @Test
  void deleteRemovesTheKeyItsPublicKeyAndItsCertificate() throws Exception {
    token.keytool("-genkeypair", "-alias", "doomed", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=doomed").assertOk();
    byte[] id = ((HsmKey) token.keyStore().getKey("doomed", null)).id();
    token.keytool("-delete", "-alias", "doomed").assertOk();

    KeyStore ks = token.keyStore();
    assertThat(ks.containsAlias("doomed")).isFalse();
    assertThat(Collections.list(ks.aliases())).doesNotContain("doomed");
    long left = token.provider().tokenContext().execute(s -> (long) s.findObjects(Attribute.bytes(CKA.ID, id)).length);
    assertThat(left).as("objects with the key's CKA_ID").isZero();
    assertThat(pkcs11Object("privkey", "doomed")).isEmpty();
    assertThat(token.keytool("-list", "-alias", "doomed").assertFailed().output()).contains("Alias <doomed> does not exist");
  }

  // ------------------------------------------------------------------ bad input

  @Test
  void certreqForAnUnknownAliasFailsClearly() throws Exception {
    ToolRunner.Result r = token.keytool("-certreq", "-alias", "no-such-alias", "-file", token.dir().resolve("never.csr").toString());
    r.assertFailed();
    assertThat(r.output()).contains("keytool error").contains("Alias <no-such-alias> does not exist");
    Path never = token.dir().resolve("never.csr");
    // keytool opens the output file before it looks the alias up: at most an empty file is left.
    assertThat(!Files.exists(never) || Files.size(never) == 0).as("no request written").isTrue();
  }

  @Test
  void aWrongStorepassFailsAndLeavesTheTokenUnchanged() throws Exception {
    List<String> before = objectsOnToken();
    List<String> args = new ArrayList<>(List.of("-genkeypair", "-alias", "never", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=never"));
    List<String> opts = new ArrayList<>(token.keytoolArgs());
    opts.set(opts.indexOf("-storepass") + 1, "not-the-pin-000");
    args.addAll(opts);
    ToolRunner.Result r = token.keytoolRunner().run(args);
    r.assertFailed();
    assertThat(r.output()).contains("keytool error").contains("login failed: CKR_PIN_INCORRECT");
    assertThat(token.keyStore().containsAlias("never")).isFalse();
    assertThat(objectsOnToken()).isEqualTo(before);
  }

  @Test
  void storepassFromAFileWorksAsWell() {
    List<String> opts = new ArrayList<>(token.keytoolArgs());
    int i = opts.indexOf("-storepass");
    opts.remove(i + 1);
    opts.remove(i);
    List<String> args = new ArrayList<>(List.of("-list", "-storepass:file", token.pinFile().toString()));
    args.addAll(opts);
    ToolRunner.Result r = token.keytoolRunner().run(args).assertOk();
    assertThat(r.output()).contains("Keystore type: HSMKIT").contains("Keystore provider: HsmKit");
  }

  // ------------------------------------------------------------------ helpers

  /** Every object on the token as "class label id", sorted (from this JVM, through the token). */
  static List<String> objectsOnToken() {
    return token.provider().tokenContext().execute(s -> {
      List<String> out = new ArrayList<>();
      for (long o : s.findObjects()) {
        Attribute[] a = s.getAttributes(o, CKA.CLASS, CKA.LABEL, CKA.ID);
        out.add(a[0].asUlong() + " " + (a[1].present() ? a[1].asString() : "") + " " + (a[2].present() ? java.util.HexFormat.of().formatHex(a[2].value()) : ""));
      }
      Collections.sort(out);
      return out;
    });
  }

  /** The block pkcs11-tool --list-objects prints for the object of {@code type} labelled {@code label}. */
  static Optional<String> pkcs11Object(String type, String label) {
    String out = token.pkcs11Tool("--list-objects", "--type", type).assertOk().output();
    List<String> blocks = new ArrayList<>();
    StringBuilder cur = null;
    for (String line : out.split("\n")) {
      if (!line.startsWith(" ") && !line.startsWith("\t")) {
        if (cur != null) {
          blocks.add(cur.toString());
        }
        cur = new StringBuilder();
      }
      if (cur != null) {
        cur.append(line).append('\n');
      }
    }
    if (cur != null) {
      blocks.add(cur.toString());
    }
    return blocks.stream().filter(b -> b.lines().anyMatch(l -> l.trim().matches("label:\\s+" + java.util.regex.Pattern.quote(label)))).findFirst();
  }

  static String accessLine(String block) {
    return block.lines().map(String::trim).filter(l -> l.startsWith("Access:")).findFirst()
        .orElseThrow(() -> new AssertionError("no Access line in\n" + block));
  }

  static List<X509Certificate> parse(Path pem) throws Exception {
    List<X509Certificate> out = new ArrayList<>();
    for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(Files.readAllBytes(pem)))) {
      out.add((X509Certificate) c);
    }
    return out;
  }
}
