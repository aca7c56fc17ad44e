package io.hsmkit.cli;

import io.hsmkit.provider.keys.HsmPrivateKey;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.CodeSigner;
import java.security.cert.CertPath;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.zip.ZipFile;
import jdk.security.jarsigner.JarSigner;
import jdk.security.jarsigner.JarSignerException;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code hsmkit jar sign|verify}: jarsigner's own API (jdk.security.jarsigner) with a key in the token. */
@Command(
    name = "jar",
    mixinStandardHelpOptions = true,
    description = "Sign a jar with a key in the token, or check a signed jar.",
    subcommands = {JarCommand.Sign.class, JarCommand.Verify.class})
final class JarCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE;
  }

  /** The signature file name jarsigner would derive: up to 8 of A-Z, 0-9, _ and -. */
  static String signerName(String alias) {
    StringBuilder b = new StringBuilder();
    for (char c : alias.toUpperCase(Locale.ROOT).toCharArray()) {
      if (b.length() == 8) {
        break;
      }
      b.append((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ? c : '_');
    }
    return b.length() == 0 ? "SIGNER" : b.toString();
  }

  @Command(name = "sign", mixinStandardHelpOptions = true, description = "Sign a jar with a token key and its certificate chain (as jarsigner does).")
  static final class Sign implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin TokenOptions token;

    @Parameters(index = "0", paramLabel = "IN.jar", description = "The jar to sign.")
    Path in;

    @Option(names = "--alias", required = true, paramLabel = "ALIAS", description = "The signing key's alias.")
    String alias;

    @Option(names = "--out", required = true, paramLabel = "OUT.jar", description = "The signed jar to write (not the input).")
    Path out;

    @Override
    public Integer call() {
      if (!Files.isRegularFile(in)) {
        throw new CliException("no jar at " + in);
      }
      try (ZipFile z = new ZipFile(in.toFile())) {
        z.size();
      } catch (IOException e) {
        throw new CliException(in + " is not a jar (zip) file: " + HsmkitCommand.oneLine(e), e);
      }
      if (Files.exists(out) && sameFile(in, out)) {
        throw new CliException("--out must name another file than " + in);
      }
      String algorithm;
      List<X509Certificate> chain;
      Path tmp;
      try (Token t = token.open()) {
        HsmPrivateKey key = t.privateKey(alias);
        chain = t.chain(alias);
        if (chain.isEmpty()) {
          throw new CliException(alias + " has no certificate to sign with; make one with hsmkit certs selfsign " + alias);
        }
        algorithm = Pki.signatureAlgorithm(key);
        String certAlgorithm = chain.get(0).getPublicKey().getAlgorithm();
        if (!key.getAlgorithm().equals(certAlgorithm) && "Ed25519".equals(algorithm)) {
          // JarSigner.Builder wants the key's and the certificate's algorithm names equal; the JDK says
          // EdDSA, HsmKit's Ed25519 keys say Ed25519 (a provider issue).
          throw new CliException("cannot sign jars with the Ed25519 key " + alias + ": the HsmKit provider names its algorithm "
              + key.getAlgorithm() + " where the JDK's jar signer expects " + certAlgorithm + "; sign with an EC or RSA key");
        }
        CertPath path;
        try {
          path = CertificateFactory.getInstance("X.509").generateCertPath(chain);
        } catch (CertificateException e) {
          throw new CliException("the chain of " + alias + " is no certificate path: " + HsmkitCommand.oneLine(e), e);
        }
        JarSigner signer;
        try {
          signer = new JarSigner.Builder(key, path)
              .signatureAlgorithm(algorithm, t.provider)
              .digestAlgorithm("SHA-256")
              .signerName(signerName(alias))
              .build();
        } catch (java.security.NoSuchAlgorithmException | IllegalArgumentException e) {
          throw new CliException("cannot sign jars with " + alias + " (" + algorithm + "): " + HsmkitCommand.oneLine(e), e);
        }
        Path dir = out.toAbsolutePath().getParent();
        try {
          tmp = Files.createTempFile(dir, ".hsmkit-", ".jar");
        } catch (IOException e) {
          throw new CliException("cannot write in " + dir + ": " + HsmkitCommand.oneLine(e), e);
        }
        try (ZipFile z = new ZipFile(in.toFile()); OutputStream os = Files.newOutputStream(tmp)) {
          signer.sign(z, os);
        } catch (IOException | JarSignerException e) {
          deleteQuietly(tmp);
          Throwable c = e instanceof JarSignerException && e.getCause() != null ? e.getCause() : e;
          throw new CliException("signing " + in + " with " + alias + " failed: " + HsmkitCommand.oneLine(c), e);
        } catch (RuntimeException e) {
          deleteQuietly(tmp);
          throw e;
        }
      }
      try {
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        deleteQuietly(tmp);
        throw new CliException("cannot write " + out + ": " + HsmkitCommand.oneLine(e), e);
      }
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("jar", out.toString());
      doc.put("alias", alias);
      doc.put("signer", chain.get(0).getSubjectX500Principal().getName());
      doc.put("signatureAlgorithm", algorithm);
      doc.put("digestAlgorithm", "SHA-256");
      if (token.json) {
        Output.json(spec.commandLine().getOut(), doc);
      } else {
        PrintWriter o = spec.commandLine().getOut();
        o.println("signed " + out + " with " + alias + " (" + algorithm + ", " + doc.get("signer") + ")");
        o.flush();
      }
      return ExitCode.OK;
    }

    private static boolean sameFile(Path a, Path b) {
      try {
        return Files.isSameFile(a, b);
      } catch (IOException e) {
        return false;
      }
    }

    private static void deleteQuietly(Path p) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException ignored) {
        // a temporary file left behind
      }
    }
  }

  @Command(name = "verify", mixinStandardHelpOptions = true,
      description = {
        "Check that every entry of a jar is signed and unchanged, and name its signers.",
        "Checks integrity only, as jarsigner -verify without -strict: it does not decide whether to trust the signer."
      })
  static final class Verify implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--json", description = "Print one JSON document on stdout instead of text.")
    boolean json;

    @Parameters(index = "0", paramLabel = "IN.jar", description = "The signed jar.")
    Path in;

    @Override
    public Integer call() {
      if (!Files.isRegularFile(in)) {
        throw new CliException("no jar at " + in);
      }
      Map<String, Integer> signers = new TreeMap<>();
      int entries = 0;
      try (JarFile jar = new JarFile(in.toFile(), true)) {
        if (jar.getManifest() == null) {
          throw new CliException(in + " is not signed (it has no manifest); sign it with hsmkit jar sign");
        }
        byte[] buf = new byte[8192];
        for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements();) {
          JarEntry je = e.nextElement();
          try (InputStream is = jar.getInputStream(je)) {
            while (is.read(buf) != -1) {
              // reading is what checks the digest
            }
          } catch (SecurityException ex) {
            throw new CliException(in + ": entry " + je.getName() + " was changed after signing (" + HsmkitCommand.oneLine(ex) + ")", ex);
          }
          if (je.isDirectory() || signatureRelated(je.getName())) {
            continue;
          }
          entries++;
          CodeSigner[] cs = je.getCodeSigners();
          if (cs == null || cs.length == 0) {
            throw new CliException(in + ": entry " + je.getName() + " is not signed"
                + (signers.isEmpty() && entries == 1 ? " (is the jar signed at all? sign it with hsmkit jar sign)" : ""));
          }
          for (CodeSigner s : cs) {
            X509Certificate leaf = (X509Certificate) s.getSignerCertPath().getCertificates().get(0);
            signers.merge(leaf.getSubjectX500Principal().getName(), 1, Integer::sum);
          }
        }
      } catch (SecurityException e) {
        throw new CliException(in + ": the signature does not verify (" + HsmkitCommand.oneLine(e) + ")", e);
      } catch (IOException e) {
        throw new CliException("cannot read " + in + " as a jar: " + HsmkitCommand.oneLine(e), e);
      }
      if (signers.isEmpty()) {
        throw new CliException(in + " is not signed (no signed entries); sign it with hsmkit jar sign");
      }
      if (json) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("jar", in.toString());
        doc.put("verified", true);
        doc.put("entries", entries);
        List<Map<String, Object>> s = new ArrayList<>();
        for (Map.Entry<String, Integer> e : signers.entrySet()) {
          s.add(Map.of("subject", e.getKey(), "entries", e.getValue()));
        }
        doc.put("signers", s);
        Output.json(spec.commandLine().getOut(), doc);
      } else {
        PrintWriter o = spec.commandLine().getOut();
        o.println("verified " + in + ": " + entries + (entries == 1 ? " entry" : " entries") + " signed and unchanged");
        for (Map.Entry<String, Integer> e : signers.entrySet()) {
          o.println("  signed by " + e.getKey() + " (" + e.getValue() + (e.getValue() == 1 ? " entry)" : " entries)"));
        }
        o.flush();
      }
      return ExitCode.OK;
    }

    /** The manifest and signature files, which are not themselves signed. */
    static boolean signatureRelated(String name) {
      String n = name.toUpperCase(Locale.ROOT);
      if (!n.startsWith("META-INF/") || n.indexOf('/', 9) >= 0) {
        return false;
      }
      return n.equals("META-INF/MANIFEST.MF") || n.endsWith(".SF") || n.endsWith(".RSA") || n.endsWith(".DSA")
          || n.endsWith(".EC") || n.startsWith("META-INF/SIG-");
    }
  }
}
