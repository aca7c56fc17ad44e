package io.hsmkit.cli;

import io.hsmkit.provider.keys.HsmPrivateKey;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStoreException;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code hsmkit certs csr|selfsign|import|export}: the certificates of a token key. */
@Command(
    name = "certs",
    mixinStandardHelpOptions = true,
    description = "Certificate requests, self-signed certificates, CA replies and export, for keys in the token.",
    subcommands = {CertsCommand.Csr.class, CertsCommand.SelfSign.class, CertsCommand.Import.class, CertsCommand.Export.class})
final class CertsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE;
  }

  /** Writes {@code text} to {@code file}, or to stdout when file is null. */
  static void write(CommandSpec spec, Path file, String text) {
    if (file == null) {
      PrintWriter out = spec.commandLine().getOut();
      out.print(text);
      out.flush();
      return;
    }
    try {
      Files.writeString(file, text, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new CliException("cannot write " + file + ": " + HsmkitCommand.oneLine(e), e);
    }
  }

  /**
   * What every certs verb takes, one picocli mixin for all four: the token's options and the
   * alias of the key (for export: of any entry with a certificate) the verb works on.
   */
  static final class AliasedToken {
    @Mixin TokenOptions token;

    @Parameters(index = "0", paramLabel = "ALIAS", description = "The alias of the key (export: of the entry).")
    String alias;
  }

  /** {@code --out FILE}: where csr and export write their PEM, stdout without it. */
  static final class PemOut {
    @Option(names = "--out", paramLabel = "FILE", description = "Write the PEM here (default: stdout).")
    Path out;

    /**
     * Writes {@code pem} to the file, or to stdout without one. With --json stdout carries only
     * {@code doc} (which holds the PEM); without it, writing a file is said in one line,
     * "{@code wrote} to FILE".
     */
    void emit(CommandSpec spec, boolean json, String pem, Map<String, Object> doc, String wrote) {
      if (json) {
        if (out != null) {
          write(spec, out, pem);
        }
        Output.json(spec.commandLine().getOut(), doc);
        return;
      }
      write(spec, out, pem);
      if (out != null) {
        spec.commandLine().getOut().println(wrote + " to " + out);
        spec.commandLine().getOut().flush();
      }
    }

    /** The file's name for a JSON document, null for stdout. */
    String name() {
      return out == null ? null : out.toString();
    }
  }

  /** The subject asked for with {@code --subject}, or without it the subject of the key's certificate. */
  static X500Name subjectOr(X500Name requested, X509Certificate leaf) {
    return requested != null ? requested : X500Name.getInstance(leaf.getSubjectX500Principal().getEncoded());
  }

  @Command(name = "csr", mixinStandardHelpOptions = true, description = "Make a PKCS#10 certificate request for a key, signed in the token.")
  static final class Csr implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin AliasedToken key;
    @Mixin PemOut out;

    @Option(names = "--subject", paramLabel = "DN", description = "The requested subject (default: the subject of the key's certificate).")
    String subject;

    @Override
    public Integer call() {
      X500Name requested = subject == null ? null : Pki.subject(subject); // a malformed DN is refused before the token opens
      X500Name dn;
      PKCS10CertificationRequest csr;
      try (Token t = key.token.open()) {
        HsmPrivateKey privateKey = t.privateKey(key.alias);
        X509Certificate leaf = t.leaf(key.alias);
        dn = subjectOr(requested, leaf);
        csr = new JcaPKCS10CertificationRequestBuilder(dn, leaf.getPublicKey()).build(Pki.signer(privateKey, t.provider));
      }
      String pem = Pki.pem(csr);
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("alias", key.alias);
      doc.put("subject", Pki.name(dn));
      doc.put("file", out.name());
      doc.put("csr", pem);
      out.emit(spec, key.token.json, pem, doc, "wrote the request for " + Pki.name(dn));
      return ExitCode.OK;
    }
  }

  @Command(name = "selfsign", mixinStandardHelpOptions = true, description = "Replace a key's certificate chain with a fresh self-signed certificate.")
  static final class SelfSign implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin AliasedToken key;

    @Option(names = "--days", paramLabel = "N", defaultValue = "365", description = "Validity in days (default ${DEFAULT-VALUE}).")
    int days;

    @Option(names = "--subject", paramLabel = "DN", description = "The subject (default: the subject of the key's certificate).")
    String subject;

    @Override
    public Integer call() {
      if (days < 1) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--days must be at least 1, not " + days);
      }
      X500Name requested = subject == null ? null : Pki.subject(subject); // a malformed DN is refused before the token opens
      String alias = key.alias;
      X509Certificate cert;
      try (Token t = key.token.open()) {
        HsmPrivateKey privateKey = t.privateKey(alias);
        X509Certificate leaf = t.leaf(alias);
        cert = Pki.selfSigned(subjectOr(requested, leaf), leaf.getPublicKey(), privateKey, t.provider, days);
        try {
          t.keyStore.setKeyEntry(alias, privateKey, null, new Certificate[] {cert});
        } catch (KeyStoreException e) {
          throw new CliException("cannot store the certificate of " + alias + ": " + HsmkitCommand.oneLine(e), e);
        }
      }
      if (key.token.json) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("alias", alias);
        doc.put("chain", List.of(Pki.describe(cert)));
        Output.json(spec.commandLine().getOut(), doc);
      } else {
        PrintWriter out = spec.commandLine().getOut();
        out.println("self-signed " + alias + ": " + cert.getSubjectX500Principal().getName() + ", valid until " + cert.getNotAfter().toInstant());
        out.flush();
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "import", mixinStandardHelpOptions = true,
      description = {
        "Install a CA reply: the certificate chain of a key, PEM or DER, in any order.",
        "The leaf must hold the key's public key, and each certificate must be signed by the next."
      })
  static final class Import implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin AliasedToken key;

    @Option(names = "--file", required = true, paramLabel = "CHAIN", description = "The chain: PEM (one or more certificates), DER or PKCS#7.")
    Path file;

    @Option(names = "--approval", paramLabel = "TOKEN",
        description = "Approved quorum token for key-management/import-certificates alias=ALIAS leaf-sha256=HEX (needed when key-management's value is above 1).")
    Path approval;

    @Override
    public Integer call() {
      String alias = key.alias;
      List<X509Certificate> given = Pki.readCertificates(file);
      List<X509Certificate> chain;
      try (Token t = key.token.open(); QuorumState quorum = QuorumState.onToken(t)) {
        HsmPrivateKey privateKey = t.privateKey(alias);
        PublicKey pub = t.leaf(alias).getPublicKey();
        chain = order(given, pub);
        // Importing a key's chain changes what the key is trusted for: a key-management action, bound to
        // the alias and the exact leaf certificate (SHA-256 of its DER, as keys show prints it).
        quorum.authorize(io.hsmkit.quorum.Action.of(io.hsmkit.quorum.Service.KEY_MANAGEMENT, "import-certificates",
            java.util.Map.of("alias", alias, "leaf-sha256", Pki.sha256(chain.get(0)))), approval);
        try {
          t.keyStore.setKeyEntry(alias, privateKey, null, chain.toArray(new Certificate[0]));
        } catch (KeyStoreException e) {
          throw new CliException("cannot store the chain of " + alias + ": " + HsmkitCommand.oneLine(e), e);
        }
      }
      if (key.token.json) {
        List<Map<String, Object>> certs = new ArrayList<>();
        for (X509Certificate c : chain) {
          certs.add(Pki.describe(c));
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("alias", alias);
        doc.put("chain", certs);
        Output.json(spec.commandLine().getOut(), doc);
      } else {
        PrintWriter out = spec.commandLine().getOut();
        out.println("imported " + chain.size() + (chain.size() == 1 ? " certificate" : " certificates") + " for " + alias
            + ": " + chain.get(0).getSubjectX500Principal().getName() + " issued by " + chain.get(0).getIssuerX500Principal().getName());
        out.flush();
      }
      return ExitCode.OK;
    }

    /** The leaf (holding {@code pub}) first, then each issuer; every certificate given must be used. */
    private List<X509Certificate> order(List<X509Certificate> given, PublicKey pub) {
      X509Certificate leaf = null;
      for (X509Certificate c : given) {
        if (Arrays.equals(c.getPublicKey().getEncoded(), pub.getEncoded())) {
          leaf = c;
          break;
        }
      }
      if (leaf == null) {
        throw new CliException("the certificate does not match the key of " + key.alias + ": no certificate in " + file
            + " holds its public key (make a request with hsmkit certs csr " + key.alias + ")");
      }
      List<X509Certificate> rest = new ArrayList<>(given);
      rest.remove(leaf);
      List<X509Certificate> chain = new ArrayList<>();
      chain.add(leaf);
      X509Certificate cur = leaf;
      while (!rest.isEmpty() && !Pki.selfIssued(cur)) {
        X509Certificate issuer = null;
        for (X509Certificate c : rest) {
          if (c.getSubjectX500Principal().equals(cur.getIssuerX500Principal())) {
            issuer = c;
            break;
          }
        }
        if (issuer == null) {
          break;
        }
        try {
          cur.verify(issuer.getPublicKey());
        } catch (GeneralSecurityException e) {
          throw new CliException("the chain in " + file + " is broken: " + cur.getSubjectX500Principal().getName()
              + " is not signed by " + issuer.getSubjectX500Principal().getName() + " (" + HsmkitCommand.oneLine(e) + ")", e);
        }
        chain.add(issuer);
        rest.remove(issuer);
        cur = issuer;
      }
      if (!rest.isEmpty()) {
        throw new CliException("the chain in " + file + " is broken: " + rest.get(0).getSubjectX500Principal().getName()
            + " does not issue any certificate of the chain of " + key.alias);
      }
      return chain;
    }
  }

  @Command(name = "export", mixinStandardHelpOptions = true, description = "Write an entry's certificate chain as PEM, leaf first.")
  static final class Export implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin AliasedToken entry;
    @Mixin PemOut out;

    @Override
    public Integer call() {
      String alias = entry.alias;
      List<X509Certificate> chain;
      try (Token t = entry.token.open()) {
        t.requireEntry(alias);
        chain = t.chain(alias);
      }
      if (chain.isEmpty()) {
        throw new CliException(alias + " has no certificate; make one with hsmkit certs selfsign " + alias);
      }
      String pem = Pki.pem(chain.toArray());
      List<Map<String, Object>> certs = new ArrayList<>();
      for (X509Certificate c : chain) {
        Map<String, Object> d = Pki.describe(c);
        d.put("pem", Pki.pem(c));
        certs.add(d);
      }
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("alias", alias);
      doc.put("file", out.name());
      doc.put("chain", certs);
      out.emit(spec, entry.token.json, pem, doc, "wrote " + chain.size() + (chain.size() == 1 ? " certificate" : " certificates") + " of " + alias);
      return ExitCode.OK;
    }
  }
}
