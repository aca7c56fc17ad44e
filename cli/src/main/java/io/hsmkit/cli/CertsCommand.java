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

  @Command(name = "csr", mixinStandardHelpOptions = true, description = "Make a PKCS#10 certificate request for a key, signed in the token.")
  static final class Csr implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin TokenOptions token;

    @Parameters(index = "0", paramLabel = "ALIAS", description = "The key's alias.")
    String alias;

    @Option(names = "--subject", paramLabel = "DN", description = "The requested subject (default: the subject of the key's certificate).")
    String subject;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the PEM request here (default: stdout).")
    Path out;

    @Override
    public Integer call() {
      X500Name dn = subject == null ? null : Pki.subject(subject);
      PKCS10CertificationRequest csr;
      try (Token t = token.open()) {
        HsmPrivateKey key = t.privateKey(alias);
        X509Certificate leaf = t.leaf(alias);
        if (dn == null) {
          dn = X500Name.getInstance(leaf.getSubjectX500Principal().getEncoded());
        }
        csr = new JcaPKCS10CertificationRequestBuilder(dn, leaf.getPublicKey()).build(Pki.signer(key, t.provider));
      }
      String pem = Pki.pem(csr);
      if (token.json) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("alias", alias);
        doc.put("subject", Pki.name(dn));
        doc.put("file", out == null ? null : out.toString());
        doc.put("csr", pem);
        if (out != null) {
          write(spec, out, pem);
        }
        Output.json(spec.commandLine().getOut(), doc);
      } else {
        write(spec, out, pem);
        if (out != null) {
          spec.commandLine().getOut().println("wrote the request for " + Pki.name(dn) + " to " + out);
          spec.commandLine().getOut().flush();
        }
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "selfsign", mixinStandardHelpOptions = true, description = "Replace a key's certificate chain with a fresh self-signed certificate.")
  static final class SelfSign implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin TokenOptions token;

    @Parameters(index = "0", paramLabel = "ALIAS", description = "The key's alias.")
    String alias;

    @Option(names = "--days", paramLabel = "N", defaultValue = "365", description = "Validity in days (default ${DEFAULT-VALUE}).")
    int days;

    @Option(names = "--subject", paramLabel = "DN", description = "The subject (default: the subject of the key's certificate).")
    String subject;

    @Override
    public Integer call() {
      if (days < 1) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--days must be at least 1, not " + days);
      }
      X500Name dn = subject == null ? null : Pki.subject(subject);
      X509Certificate cert;
      try (Token t = token.open()) {
        HsmPrivateKey key = t.privateKey(alias);
        X509Certificate leaf = t.leaf(alias);
        if (dn == null) {
          dn = X500Name.getInstance(leaf.getSubjectX500Principal().getEncoded());
        }
        cert = Pki.selfSigned(dn, leaf.getPublicKey(), key, t.provider, days);
        try {
          t.keyStore.setKeyEntry(alias, key, null, new Certificate[] {cert});
        } catch (KeyStoreException e) {
          throw new CliException("cannot store the certificate of " + alias + ": " + HsmkitCommand.oneLine(e), e);
        }
      }
      if (token.json) {
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
    @Mixin TokenOptions token;

    @Parameters(index = "0", paramLabel = "ALIAS", description = "The key's alias.")
    String alias;

    @Option(names = "--file", required = true, paramLabel = "CHAIN", description = "The chain: PEM (one or more certificates), DER or PKCS#7.")
    Path file;

    @Option(names = "--approval", paramLabel = "TOKEN",
        description = "Approved quorum token for key-management/import-certificates alias=ALIAS leaf-sha256=HEX (needed when key-management's value is above 1).")
    Path approval;

    @Override
    public Integer call() {
      List<X509Certificate> given = Pki.readCertificates(file);
      List<X509Certificate> chain;
      try (Token t = token.open(); QuorumState quorum = QuorumState.onToken(t)) {
        HsmPrivateKey key = t.privateKey(alias);
        PublicKey pub = t.leaf(alias).getPublicKey();
        chain = order(given, pub);
        // Importing a key's chain changes what the key is trusted for: a key-management action, bound to
        // the alias and the exact leaf certificate (SHA-256 of its DER, as keys show prints it).
        quorum.authorize(io.hsmkit.quorum.Action.of(io.hsmkit.quorum.Service.KEY_MANAGEMENT, "import-certificates",
            java.util.Map.of("alias", alias, "leaf-sha256", Pki.sha256(chain.get(0)))), approval);
        try {
          t.keyStore.setKeyEntry(alias, key, null, chain.toArray(new Certificate[0]));
        } catch (KeyStoreException e) {
          throw new CliException("cannot store the chain of " + alias + ": " + HsmkitCommand.oneLine(e), e);
        }
      }
      if (token.json) {
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
        throw new CliException("the certificate does not match the key of " + alias + ": no certificate in " + file
            + " holds its public key (make a request with hsmkit certs csr " + alias + ")");
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
            + " does not issue any certificate of the chain of " + alias);
      }
      return chain;
    }
  }

  @Command(name = "export", mixinStandardHelpOptions = true, description = "Write an entry's certificate chain as PEM, leaf first.")
  static final class Export implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin TokenOptions token;

    @Parameters(index = "0", paramLabel = "ALIAS", description = "The entry's alias.")
    String alias;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the PEM chain here (default: stdout).")
    Path out;

    @Override
    public Integer call() {
      List<X509Certificate> chain;
      try (Token t = token.open()) {
        t.requireEntry(alias);
        chain = t.chain(alias);
      }
      if (chain.isEmpty()) {
        throw new CliException(alias + " has no certificate; make one with hsmkit certs selfsign " + alias);
      }
      String pem = Pki.pem(chain.toArray());
      if (token.json) {
        List<Map<String, Object>> certs = new ArrayList<>();
        for (X509Certificate c : chain) {
          Map<String, Object> d = Pki.describe(c);
          d.put("pem", Pki.pem(c));
          certs.add(d);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("alias", alias);
        doc.put("file", out == null ? null : out.toString());
        doc.put("chain", certs);
        if (out != null) {
          write(spec, out, pem);
        }
        Output.json(spec.commandLine().getOut(), doc);
      } else {
        write(spec, out, pem);
        if (out != null) {
          spec.commandLine().getOut().println("wrote " + chain.size() + (chain.size() == 1 ? " certificate" : " certificates") + " of " + alias + " to " + out);
          spec.commandLine().getOut().flush();
        }
      }
      return ExitCode.OK;
    }
  }
}
