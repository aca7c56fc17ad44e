package io.hsmkit.it.tomcat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** PEM certificates in and out: what curl's {@code %{certs}} and {@code openssl s_client -showcerts} print. */
final class Pem {
  private Pem() {}

  private static final Pattern BLOCK = Pattern.compile("-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", Pattern.DOTALL);

  /** Every certificate in {@code text}, in order of appearance. */
  static List<X509Certificate> certificates(String text) {
    List<X509Certificate> out = new ArrayList<>();
    Matcher m = BLOCK.matcher(text);
    while (m.find()) {
      byte[] der = Base64.getMimeDecoder().decode(m.group(1).replaceAll("\\s", ""));
      try {
        out.add((X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der)));
      } catch (CertificateException e) {
        throw new AssertionError("a PEM block that does not parse: " + e.getMessage(), e);
      }
    }
    return out;
  }

  static String encode(X509Certificate... certs) {
    StringBuilder sb = new StringBuilder();
    for (X509Certificate c : certs) {
      try {
        sb.append("-----BEGIN CERTIFICATE-----\n")
            .append(Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(c.getEncoded()))
            .append("\n-----END CERTIFICATE-----\n");
      } catch (CertificateEncodingException e) {
        throw new AssertionError(e);
      }
    }
    return sb.toString();
  }
}
