package io.hsmkit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.StringReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** hsmkit certs csr|selfsign|import|export against a real SoftHSM2 token; the CA is a software key. */
class CertsCommandTest {
  private static Cli cli;
  private static KeyPair caKeys;
  private static X509Certificate ca;

  @BeforeAll
  static void token() throws Exception {
    cli = new Cli("CertsCommandTest", "cli-certs");
    cli.on("keys", "generate", "--alias", "web", "--type", "ec").ok();
    cli.on("keys", "generate", "--alias", "other", "--type", "ec").ok();
    cli.on("keys", "generate", "--alias", "rsa", "--type", "rsa").ok();
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    caKeys = g.generateKeyPair();
    X500Name name = new X500Name("CN=Test CA");
    ca = cert(name, name, caKeys.getPublic(), caKeys.getPrivate(), true);
  }

  private static X509Certificate cert(X500Name subject, X500Name issuer, java.security.PublicKey pub, PrivateKey signer, boolean isCa)
      throws Exception {
    long now = System.currentTimeMillis();
    X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(now), new Date(now - 60_000),
        new Date(now + 86_400_000L), subject, pub);
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
    return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
  }

  private static PKCS10CertificationRequest csr(String alias, String subject) throws Exception {
    Path f = cli.dir.resolve(alias + ".csr");
    cli.on("certs", "csr", alias, "--subject", subject, "--out", f.toString()).ok();
    try (PEMParser p = new PEMParser(new StringReader(Files.readString(f)))) {
      return (PKCS10CertificationRequest) p.readObject();
    }
  }

  /** The CA issues a certificate for the request's key. */
  private static X509Certificate issue(PKCS10CertificationRequest req) throws Exception {
    return cert(req.getSubject(), new X500Name("CN=Test CA"), new JcaPKCS10CertificationRequest(req).getPublicKey(), caKeys.getPrivate(), false);
  }

  private static Path pem(String name, X509Certificate... certs) throws Exception {
    StringBuilder b = new StringBuilder();
    for (X509Certificate c : certs) {
      b.append("-----BEGIN CERTIFICATE-----\n")
          .append(java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(c.getEncoded()))
          .append("\n-----END CERTIFICATE-----\n");
    }
    Path f = cli.dir.resolve(name);
    Files.writeString(f, b);
    return f;
  }

  private static List<X509Certificate> parse(String pem) throws Exception {
    Collection<? extends java.security.cert.Certificate> c = CertificateFactory.getInstance("X.509")
        .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    return c.stream().map(x -> (X509Certificate) x).toList();
  }

  @Test
  void csrIsSignedInTheTokenForTheKeysPublicKey() throws Exception {
    PKCS10CertificationRequest req = csr("web", "CN=web.example, O=Example");

    assertThat(new javax.security.auth.x500.X500Principal(req.getSubject().getEncoded()).getName()).isEqualTo("CN=web.example,O=Example");
    JcaPKCS10CertificationRequest jreq = new JcaPKCS10CertificationRequest(req);
    assertThat(req.isSignatureValid(new JcaContentVerifierProviderBuilder().build(jreq.getPublicKey()))).isTrue();
    String exported = cli.on("certs", "export", "web").ok().out();
    assertThat(jreq.getPublicKey().getEncoded()).isEqualTo(parse(exported).get(0).getPublicKey().getEncoded());
  }

  @Test
  void csrToStdoutAndJson() {
    assertThat(cli.on("certs", "csr", "rsa").ok().out()).startsWith("-----BEGIN CERTIFICATE REQUEST-----");
    JsonNode doc = cli.on("certs", "csr", "rsa", "--subject", "CN=x", "--json").ok().json();
    assertThat(doc.get("subject").asText()).isEqualTo("CN=x");
    assertThat(doc.get("csr").asText()).startsWith("-----BEGIN CERTIFICATE REQUEST-----");
  }

  @Test
  void aMalformedSubjectIsAClearErrorAndChangesNothing() {
    JsonNode state = cli.state();
    Path f = cli.dir.resolve("never.csr");

    cli.on("certs", "csr", "web", "--subject", "CN=a,,=b", "--out", f.toString()).fails("malformed subject 'CN=a,,=b'");
    cli.on("certs", "csr", "web", "--subject", "  ").fails("the subject is empty");

    assertThat(f).doesNotExist();
    assertThat(cli.state()).isEqualTo(state);
  }

  @Test
  void importInstallsACaReplyInAnyOrder() throws Exception {
    cli.on("keys", "generate", "--alias", "leaf", "--type", "ec").ok();
    X509Certificate issued = issue(csr("leaf", "CN=leaf.example"));
    Path chain = pem("leaf-chain.pem", ca, issued); // CA first: hsmkit orders it

    Cli.Run r = cli.on("certs", "import", "leaf", "--file", chain.toString()).ok();
    assertThat(r.out()).isEqualTo("imported 2 certificates for leaf: CN=leaf.example issued by CN=Test CA\n");

    JsonNode shown = cli.on("keys", "show", "leaf", "--json").ok().json();
    assertThat(shown.get("chain")).hasSize(2);
    assertThat(shown.at("/chain/0/subject").asText()).isEqualTo("CN=leaf.example");
    assertThat(shown.at("/chain/1/subject").asText()).isEqualTo("CN=Test CA");
    List<X509Certificate> exported = parse(cli.on("certs", "export", "leaf").ok().out());
    assertThat(exported).containsExactly(issued, ca);
  }

  @Test
  void importDerLeafOnlyWithJson() throws Exception {
    cli.on("keys", "generate", "--alias", "der", "--type", "ec").ok();
    X509Certificate issued = issue(csr("der", "CN=der.example"));
    Path der = cli.dir.resolve("der.crt");
    Files.write(der, issued.getEncoded());

    JsonNode doc = cli.on("certs", "import", "der", "--file", der.toString(), "--json").ok().json();

    assertThat(doc.at("/chain/0/subject").asText()).isEqualTo("CN=der.example");
    assertThat(doc.at("/chain/0/issuer").asText()).isEqualTo("CN=Test CA");
    assertThat(cli.leafFingerprint("der")).isEqualTo(doc.at("/chain/0/sha256").asText());
  }

  @Test
  void aChainForAnotherKeyIsRefusedAndChangesNothing() throws Exception {
    X509Certificate forOther = issue(csr("other", "CN=other.example"));
    Path chain = pem("other-chain.pem", forOther, ca);
    JsonNode state = cli.state();
    String before = cli.leafFingerprint("web");

    cli.on("certs", "import", "web", "--file", chain.toString()).fails("the certificate does not match the key of web");

    assertThat(cli.state()).isEqualTo(state);
    assertThat(cli.leafFingerprint("web")).isEqualTo(before);
  }

  @Test
  void aBrokenChainOrAFileWithoutCertificatesIsRefused() throws Exception {
    X509Certificate forWeb = issue(csr("web", "CN=web.example"));
    X500Name caName = new X500Name("CN=Test CA");
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair impostor = g.generateKeyPair();
    X509Certificate fakeCa = cert(caName, caName, impostor.getPublic(), impostor.getPrivate(), true);
    X509Certificate stranger = cert(new X500Name("CN=Stranger"), new X500Name("CN=Stranger"), impostor.getPublic(), impostor.getPrivate(), true);
    Path notAPem = cli.dir.resolve("garbage.pem");
    Files.writeString(notAPem, "hello\n");
    JsonNode state = cli.state();
    String before = cli.leafFingerprint("web");

    cli.on("certs", "import", "web", "--file", pem("fake.pem", forWeb, fakeCa).toString()).fails("is not signed by CN=Test CA");
    cli.on("certs", "import", "web", "--file", pem("stranger.pem", forWeb, ca, stranger).toString())
        .fails("CN=Stranger does not issue any certificate of the chain of web");
    cli.on("certs", "import", "web", "--file", notAPem.toString()).fails("holds no");
    cli.on("certs", "import", "web", "--file", "/nonexistent.pem").fails("cannot read /nonexistent.pem");
    cli.on("certs", "import", "nope", "--file", pem("x.pem", forWeb).toString()).fails("no entry nope; see hsmkit keys list");

    assertThat(cli.state()).isEqualTo(state);
    assertThat(cli.leafFingerprint("web")).isEqualTo(before);
  }

  @Test
  void selfsignReplacesTheChain() throws Exception {
    cli.on("keys", "generate", "--alias", "renew", "--type", "rsa", "--subject", "CN=renew").ok();
    X509Certificate issued = issue(csr("renew", "CN=renew"));
    cli.on("certs", "import", "renew", "--file", pem("renew.pem", issued, ca).toString()).ok();
    assertThat(cli.on("keys", "show", "renew", "--json").ok().json().get("chain")).hasSize(2);

    Cli.Run r = cli.on("certs", "selfsign", "renew", "--days", "10").ok();
    assertThat(r.out()).startsWith("self-signed renew: CN=renew, valid until ");

    JsonNode shown = cli.on("keys", "show", "renew", "--json").ok().json();
    assertThat(shown.get("chain")).hasSize(1);
    assertThat(shown.at("/chain/0/issuer").asText()).isEqualTo("CN=renew");
    JsonNode doc = cli.on("certs", "selfsign", "renew", "--json").ok().json();
    assertThat(doc.at("/chain/0/signatureAlgorithm").asText()).isEqualTo("SHA256withRSA");
    X509Certificate now = parse(cli.on("certs", "export", "renew").ok().out()).get(0);
    now.verify(now.getPublicKey());
  }

  @Test
  void exportWritesAPemFileAndJson() throws Exception {
    Path f = cli.dir.resolve("web-export.pem");
    assertThat(cli.on("certs", "export", "web", "--out", f.toString()).ok().out()).startsWith("wrote 1 certificate of web to ");
    assertThat(parse(Files.readString(f))).hasSize(1);

    JsonNode doc = cli.on("certs", "export", "web", "--json").ok().json();
    assertThat(doc.at("/chain/0/pem").asText()).startsWith("-----BEGIN CERTIFICATE-----");
    assertThat(doc.at("/chain/0/sha256").asText()).isEqualTo(cli.leafFingerprint("web"));
  }

  @Test
  void unknownAliasesSayWhereToLook() {
    cli.on("certs", "csr", "nope", "--subject", "CN=x").fails("no entry nope; see hsmkit keys list");
    cli.on("certs", "selfsign", "nope").fails("no entry nope; see hsmkit keys list");
    cli.on("certs", "export", "nope").fails("no entry nope; see hsmkit keys list");
  }

  @Test
  void aWrongPinChangesNothing() throws Exception {
    JsonNode state = cli.state();
    String wrong = cli.writeConfig("wrong.cfg", "999999").toString();

    Cli.run("certs", "selfsign", "web", "--config", wrong).fails("wrong PIN for token 'cli-certs' (CKR_PIN_INCORRECT)");

    assertThat(cli.state()).isEqualTo(state);
  }
}
