package io.hsmkit.cli;

import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmSecretKey;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.sec.SECNamedCurves;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Certificates, names and key descriptions: what keys and certs share. */
final class Pki {
  private Pki() {}

  /** Parses an X.500 name, strictly; a clear error when it is malformed. */
  static X500Name subject(String s) {
    if (s == null || s.isBlank()) {
      throw new CliException("the subject is empty: give an X.500 name such as \"CN=app, O=Example\"");
    }
    X500Principal p;
    try {
      p = new X500Principal(s);
    } catch (IllegalArgumentException e) {
      throw new CliException("malformed subject '" + s + "' (" + HsmkitCommand.oneLine(e)
          + "): give an X.500 name such as \"CN=app, O=Example\"", e);
    }
    if (p.getEncoded().length <= 2) {
      throw new CliException("the subject '" + s + "' names nothing: give an X.500 name such as \"CN=app, O=Example\"");
    }
    return X500Name.getInstance(p.getEncoded());
  }

  /** An X.500 name as RFC 2253 writes it (CN first), as keys show prints subjects. */
  static String name(X500Name n) {
    try {
      return new X500Principal(n.getEncoded()).getName();
    } catch (IOException e) {
      return n.toString();
    }
  }

  /** The signature algorithm hsmkit uses with {@code key}: SHA-2 sized to the key, Ed25519 for EdDSA. */
  static String signatureAlgorithm(Key key) {
    if (key instanceof RSAKey) {
      return "SHA256withRSA";
    }
    if (key instanceof ECKey ec) {
      int bits = ec.getParams().getCurve().getField().getFieldSize();
      return bits > 384 ? "SHA512withECDSA" : bits > 256 ? "SHA384withECDSA" : "SHA256withECDSA";
    }
    String a = key.getAlgorithm();
    if ("Ed25519".equalsIgnoreCase(a) || "EdDSA".equalsIgnoreCase(a)) {
      return "Ed25519";
    }
    throw new CliException("hsmkit cannot sign with a " + a + " key");
  }

  /** A content signer whose private-key operation runs in the token. */
  static ContentSigner signer(PrivateKey key, Provider hsmkit) {
    try {
      return new JcaContentSignerBuilder(signatureAlgorithm(key)).setProvider(hsmkit).build(key);
    } catch (OperatorCreationException e) {
      throw new CliException("cannot sign with the token key: " + HsmkitCommand.oneLine(e), e);
    }
  }

  /** A self-signed end-entity certificate for {@code pub}, signed in the token by {@code key}. */
  static X509Certificate selfSigned(X500Name subject, PublicKey pub, PrivateKey key, Provider hsmkit, int days) {
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, new BigInteger(64, new SecureRandom()).add(BigInteger.ONE),
        Date.from(now.minus(5, ChronoUnit.MINUTES)), Date.from(now.plus(days, ChronoUnit.DAYS)), subject, pub);
    X509Certificate c;
    try {
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      c = new JcaX509CertificateConverter().getCertificate(b.build(signer(key, hsmkit)));
    } catch (IOException | CertificateException e) {
      throw new CliException("cannot make the certificate: " + HsmkitCommand.oneLine(e), e);
    }
    try {
      c.verify(pub);
    } catch (GeneralSecurityException e) {
      throw new CliException("the token made a certificate that does not verify with its public key: " + HsmkitCommand.oneLine(e), e);
    }
    return c;
  }

  /** Reads certificates from a file: PEM (one or more), DER, or PKCS#7. */
  static List<X509Certificate> readCertificates(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new CliException("cannot read " + file + ": " + HsmkitCommand.oneLine(e), e);
    }
    Collection<? extends Certificate> certs;
    try {
      certs = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bytes));
    } catch (CertificateException e) {
      throw new CliException(file + " holds no readable certificate (PEM or DER X.509 expected): " + HsmkitCommand.oneLine(e), e);
    }
    List<X509Certificate> out = new ArrayList<>();
    for (Certificate c : certs) {
      out.add((X509Certificate) c);
    }
    if (out.isEmpty()) {
      throw new CliException(file + " holds no certificate (PEM or DER X.509 expected)");
    }
    return out;
  }

  static String pem(Object... objects) {
    StringWriter sw = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
      for (Object o : objects) {
        w.writeObject(o);
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return sw.toString();
  }

  static String sha256(X509Certificate c) {
    try {
      return HexFormat.ofDelimiter(":").withUpperCase().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
    } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  static boolean selfIssued(X509Certificate c) {
    return c.getSubjectX500Principal().equals(c.getIssuerX500Principal());
  }

  /** A certificate's details, for show and export. */
  static Map<String, Object> describe(X509Certificate c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("subject", c.getSubjectX500Principal().getName());
    m.put("issuer", c.getIssuerX500Principal().getName());
    m.put("serial", c.getSerialNumber().toString(16));
    m.put("notBefore", c.getNotBefore().toInstant().toString());
    m.put("notAfter", c.getNotAfter().toInstant().toString());
    m.put("signatureAlgorithm", c.getSigAlgName());
    m.put("sha256", sha256(c));
    return m;
  }

  /** The key type of a KeyStore entry: private-key, secret-key or certificate. */
  static String entryType(Key k) {
    return k == null ? "certificate" : k instanceof PrivateKey ? "private-key" : "secret-key";
  }

  /** Algorithm name as people write it: RSA, EC, Ed25519, AES... */
  static String algorithm(Key k) {
    String a = k.getAlgorithm();
    return "EdDSA".equalsIgnoreCase(a) ? "Ed25519" : a;
  }

  /** Key size in bits, or null when unknown. */
  static Integer size(Key k) {
    if (k instanceof RSAKey r) {
      return r.getModulus().bitLength();
    }
    if (k instanceof ECKey e) {
      return e.getParams().getCurve().getField().getFieldSize();
    }
    if (k instanceof HsmSecretKey s) {
      // 0: the token did not record CKA_VALUE_LEN (SoftHSM2 2.6.1 after C_UnwrapKey): unknown, not zero.
      return s.bits() == 0 ? null : s.bits();
    }
    if ("Ed25519".equalsIgnoreCase(algorithm(k))) {
      return 255;
    }
    return null;
  }

  /** The curve's name (secp256r1...), or null. */
  static String curve(Key k) {
    if (!(k instanceof ECKey e)) {
      return null;
    }
    try {
      ECParameterSpec spec = e.getParams();
      AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
      p.init(spec);
      String oid = p.getParameterSpec(ECGenParameterSpec.class).getName();
      ASN1ObjectIdentifier id = new ASN1ObjectIdentifier(oid);
      String name = SECNamedCurves.getName(id);
      if (name == null) {
        name = ECNamedCurveTable.getName(id);
      }
      return name != null ? name.toLowerCase(Locale.ROOT) : oid;
    } catch (Exception ex) {
      return null;
    }
  }

  /** Whether the key is sensitive / extractable (null for a certificate or a key that is not HsmKit's). */
  static Boolean sensitive(Key k) {
    return k instanceof HsmKey h ? h.isSensitive() : null;
  }

  static Boolean extractable(Key k) {
    return k instanceof HsmKey h ? h.isExtractable() : null;
  }
}
