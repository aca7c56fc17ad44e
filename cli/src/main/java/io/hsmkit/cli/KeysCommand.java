package io.hsmkit.cli;

import io.hsmkit.provider.keys.HsmKey;
import java.io.PrintWriter;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidParameterException;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStoreException;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bouncycastle.asn1.x500.X500Name;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code hsmkit keys list|show|generate|delete}: the token's entries, through the HsmKit KeyStore. */
@Command(
    name = "keys",
    mixinStandardHelpOptions = true,
    description = "List, show, generate and delete the keys in the token.",
    subcommands = {KeysCommand.ListKeys.class, KeysCommand.Show.class, KeysCommand.Generate.class, KeysCommand.Delete.class})
final class KeysCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE;
  }

  /** One entry as list shows it. */
  static Map<String, Object> entry(Token t, String alias) {
    Key k = t.key(alias);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("alias", alias);
    m.put("type", Pki.entryType(k));
    List<X509Certificate> chain = t.chain(alias);
    Key shown = k != null ? k : chain.isEmpty() ? null : chain.get(0).getPublicKey();
    m.put("algorithm", shown == null ? null : Pki.algorithm(shown));
    m.put("size", shown == null ? null : Pki.size(shown));
    m.put("curve", shown == null ? null : Pki.curve(shown));
    m.put("sensitive", Pki.sensitive(k));
    m.put("extractable", Pki.extractable(k));
    m.put("certificate", !chain.isEmpty());
    return m;
  }

  static String cell(Object o) {
    if (o == null) {
      return "-";
    }
    if (o instanceof Boolean b) {
      return b ? "yes" : "no";
    }
    return o.toString();
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the token's entries: type, algorithm, size, sensitive, extractable, certificate.")
  static final class ListKeys implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin TokenOptions token;

    @Override
    public Integer call() {
      List<Map<String, Object>> entries = new ArrayList<>();
      String label;
      try (Token t = token.open()) {
        label = t.label();
        for (String a : t.aliases()) {
          entries.add(entry(t, a));
        }
      }
      PrintWriter out = spec.commandLine().getOut();
      if (token.json) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("token", label);
        doc.put("entries", entries);
        Output.json(out, doc);
        return ExitCode.OK;
      }
      if (entries.isEmpty()) {
        out.println("No keys in token '" + label + "'; make one with hsmkit keys generate --alias NAME --type ec");
        out.flush();
        return ExitCode.OK;
      }
      List<List<String>> rows = new ArrayList<>();
      for (Map<String, Object> e : entries) {
        Object size = e.get("curve") != null ? e.get("curve") : e.get("size");
        rows.add(List.of(cell(e.get("alias")), cell(e.get("type")), cell(e.get("algorithm")), cell(size),
            cell(e.get("sensitive")), cell(e.get("extractable")), cell(e.get("certificate"))));
      }
      Output.table(out, List.of("ALIAS", "TYPE", "ALGORITHM", "SIZE", "SENSITIVE", "EXTRACTABLE", "CERTIFICATE"), rows);
      return ExitCode.OK;
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one entry: the key and its certificate chain.")
  static final class Show implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin TokenOptions token;

    @Parameters(index = "0", paramLabel = "ALIAS", description = "The entry's alias (see hsmkit keys list).")
    String alias;

    @Override
    public Integer call() {
      Map<String, Object> doc;
      List<X509Certificate> chain;
      try (Token t = token.open()) {
        t.requireEntry(alias);
        doc = entry(t, alias);
        Key k = t.key(alias);
        if (k instanceof HsmKey h) {
          doc.put("id", h.id() == null ? null : HexFormat.of().formatHex(h.id()));
          doc.put("tokenObject", h.isTokenObject());
        }
        chain = t.chain(alias);
      }
      List<Map<String, Object>> certs = new ArrayList<>();
      for (X509Certificate c : chain) {
        certs.add(Pki.describe(c));
      }
      doc.put("chain", certs);
      PrintWriter out = spec.commandLine().getOut();
      if (token.json) {
        Output.json(out, doc);
        return ExitCode.OK;
      }
      Map<String, Object> f = new LinkedHashMap<>();
      for (Map.Entry<String, Object> e : doc.entrySet()) {
        if (!e.getKey().equals("chain") && e.getValue() != null) {
          f.put(e.getKey(), cell(e.getValue()));
        }
      }
      Output.fields(out, f);
      for (int i = 0; i < certs.size(); i++) {
        out.println();
        out.println("Certificate " + (i + 1) + " of " + certs.size() + (i == 0 ? " (leaf)" : ""));
        Map<String, Object> c = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : certs.get(i).entrySet()) {
          c.put("  " + e.getKey(), e.getValue());
        }
        Output.fields(out, c);
      }
      out.flush();
      return ExitCode.OK;
    }
  }

  /** Key types hsmkit generates. */
  enum KeyType {
    ec,
    rsa,
    ed25519
  }

  @Command(name = "generate", mixinStandardHelpOptions = true,
      description = {
        "Generate a key pair in the token (sensitive, never extractable) with a self-signed certificate.",
        "EC: --curve (default secp256r1) or --size 256|384|521; RSA: --size (default 2048); Ed25519: neither."
      })
  static final class Generate implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin TokenOptions token;

    @Option(names = "--alias", required = true, paramLabel = "ALIAS", description = "The new entry's alias (CKA_LABEL).")
    String alias;

    @Option(names = "--type", required = true, paramLabel = "TYPE", description = "ec, rsa or ed25519.")
    KeyType type;

    @Option(names = "--size", paramLabel = "BITS", description = "RSA modulus size (default 2048), or EC field size 256, 384 or 521.")
    Integer size;

    @Option(names = "--curve", paramLabel = "NAME", description = "EC curve (secp256r1, secp384r1, secp521r1; default secp256r1).")
    String curve;

    @Option(names = "--subject", paramLabel = "DN", description = "Subject of the self-signed certificate (default CN=ALIAS).")
    String subject;

    @Option(names = "--days", paramLabel = "N", defaultValue = "365", description = "Validity of the certificate in days (default ${DEFAULT-VALUE}).")
    int days;

    @Override
    public Integer call() {
      CommandLine cl = spec.commandLine();
      if (alias.isBlank()) {
        throw new CommandLine.ParameterException(cl, "--alias must not be empty");
      }
      if (days < 1) {
        throw new CommandLine.ParameterException(cl, "--days must be at least 1, not " + days);
      }
      if (type == KeyType.ed25519 && (size != null || curve != null)) {
        throw new CommandLine.ParameterException(cl, "--type ed25519 takes neither --size nor --curve");
      }
      if (type == KeyType.rsa && curve != null) {
        throw new CommandLine.ParameterException(cl, "--curve is for --type ec");
      }
      if (type == KeyType.ec && size != null && curve != null) {
        throw new CommandLine.ParameterException(cl, "give --curve or --size, not both");
      }
      X500Name dn = Pki.subject(subject == null ? "CN=" + alias : subject);
      Map<String, Object> doc;
      try (Token t = token.open()) {
        if (t.contains(alias)) {
          throw new CliException("an entry " + alias + " already exists; choose another alias, or delete it first with hsmkit keys delete " + alias);
        }
        KeyPair kp = generate(t);
        X509Certificate cert = Pki.selfSigned(dn, kp.getPublic(), kp.getPrivate(), t.provider, days);
        try {
          t.keyStore.setKeyEntry(alias, kp.getPrivate(), null, new Certificate[] {cert});
        } catch (KeyStoreException e) {
          throw new CliException("cannot store " + alias + " in the token: " + HsmkitCommand.oneLine(e), e);
        }
        doc = entry(t, alias);
        doc.put("chain", List.of(Pki.describe(cert)));
      }
      PrintWriter out = cl.getOut();
      if (token.json) {
        Output.json(out, doc);
      } else {
        out.println("generated " + alias + ": " + doc.get("algorithm") + " "
            + (doc.get("curve") != null ? doc.get("curve") : doc.get("size")) + ", certificate " + Pki.name(dn));
        out.flush();
      }
      return ExitCode.OK;
    }

    private KeyPair generate(Token t) {
      try {
        KeyPairGenerator g;
        switch (type) {
          case rsa -> {
            g = KeyPairGenerator.getInstance("RSA", t.provider);
            g.initialize(size == null ? 2048 : size);
          }
          case ec -> {
            g = KeyPairGenerator.getInstance("EC", t.provider);
            if (size != null) {
              g.initialize(size);
            } else {
              g.initialize(new ECGenParameterSpec(curve == null ? "secp256r1" : curve));
            }
          }
          default -> g = KeyPairGenerator.getInstance("Ed25519", t.provider);
        }
        return g.generateKeyPair();
      } catch (NoSuchAlgorithmException e) {
        throw new CliException("the token cannot generate " + type.name().toUpperCase(Locale.ROOT) + " keys (see hsmkit info for its mechanisms)", e);
      } catch (InvalidAlgorithmParameterException | InvalidParameterException e) {
        throw new CliException("cannot generate a " + type + " key: " + HsmkitCommand.oneLine(e), e);
      }
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true,
      description = {"Delete an entry: its key, public key and certificates.",
        "A key-management action: with key-management's quorum value above 1 it needs --approval TOKEN."})
  static final class Delete implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin TokenOptions token;

    @Parameters(index = "0", paramLabel = "ALIAS", description = "The entry's alias (see hsmkit keys list).")
    String alias;

    @Option(names = "--approval", paramLabel = "TOKEN",
        description = "Approved quorum token for key-management/delete-key alias=ALIAS (needed when key-management's value is above 1).")
    java.nio.file.Path approval;

    @Override
    public Integer call() {
      try (Token t = token.open(); QuorumState quorum = QuorumState.onToken(t)) {
        t.requireEntry(alias);
        // The KeyStore asks the guard before it destroys anything; the guard consumes the approval.
        t.provider.setAdminGuard(quorum.adminGuard(approval));
        try {
          t.keyStore.deleteEntry(alias);
        } catch (KeyStoreException e) {
          throw new CliException("cannot delete " + alias + ": " + HsmkitCommand.oneLine(e), e);
        }
        if (t.contains(alias)) {
          throw new CliException(alias + " is still in the token after deleting it");
        }
      }
      PrintWriter out = spec.commandLine().getOut();
      if (token.json) {
        Output.json(out, Map.of("deleted", alias));
      } else {
        out.println("deleted " + alias);
        out.flush();
      }
      return ExitCode.OK;
    }
  }
}
