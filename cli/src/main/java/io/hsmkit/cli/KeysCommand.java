package io.hsmkit.cli;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
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

/**
 * {@code hsmkit keys list|show|generate|delete|wrap|unwrap}: the token's entries, through the HsmKit
 * KeyStore; wrap and unwrap go straight to C_WrapKey and C_UnwrapKey (see {@link KeyWrapping}).
 */
@Command(
    name = "keys",
    mixinStandardHelpOptions = true,
    description = "List, show, generate, delete, wrap and unwrap the keys in the token.",
    subcommands = {KeysCommand.ListKeys.class, KeysCommand.Show.class, KeysCommand.Generate.class, KeysCommand.Delete.class,
        KeyWrapping.Wrap.class, KeyWrapping.Unwrap.class})
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
    ed25519,
    aes
  }

  @Command(name = "generate", mixinStandardHelpOptions = true,
      description = {
        "Generate a key pair in the token (sensitive, never extractable) with a self-signed certificate,",
        "or an AES key (sensitive; not extractable unless --extractable, so that keys wrap can export it).",
        "EC: --curve (default secp256r1) or --size 256|384|521; RSA: --size (default 2048); Ed25519: neither;",
        "AES: --size 128|256 (default 256)."
      })
  static final class Generate implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin TokenOptions token;

    @Option(names = "--alias", required = true, paramLabel = "ALIAS", description = "The new entry's alias (CKA_LABEL).")
    String alias;

    @Option(names = "--type", required = true, paramLabel = "TYPE", description = "ec, rsa, ed25519 or aes.")
    KeyType type;

    @Option(names = "--size", paramLabel = "BITS",
        description = "RSA modulus size (default 2048), EC field size 256, 384 or 521, or AES key size 128 or 256 (default 256).")
    Integer size;

    @Option(names = "--curve", paramLabel = "NAME", description = "EC curve (secp256r1, secp384r1, secp521r1; default secp256r1).")
    String curve;

    @Option(names = "--subject", paramLabel = "DN", description = "Subject of the self-signed certificate (default CN=ALIAS).")
    String subject;

    @Option(names = "--days", paramLabel = "N", defaultValue = "365", description = "Validity of the certificate in days (default ${DEFAULT-VALUE}).")
    int days;

    @Option(names = "--extractable",
        description = "--type aes only: CKA_EXTRACTABLE true, so that hsmkit keys wrap can export it wrapped (never in clear: it stays sensitive).")
    boolean extractable;

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
      if (extractable && type != KeyType.aes) {
        // Key pairs stay never-extractable: their certificate says the key was made in the token.
        throw new CommandLine.ParameterException(cl, "--extractable is for --type aes");
      }
      if (type == KeyType.aes) {
        if (curve != null || subject != null) {
          throw new CommandLine.ParameterException(cl, "--type aes takes neither --curve nor --subject (a secret key has no certificate)");
        }
        return generateSecret(cl);
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

    /** An AES token key, made by C_GenerateKey straight in the token under the alias. */
    private Integer generateSecret(CommandLine cl) {
      int bits = size == null ? 256 : size;
      if (bits != 128 && bits != 192 && bits != 256) {
        throw new CommandLine.ParameterException(cl, "--type aes takes --size 128, 192 or 256, not " + bits);
      }
      Map<String, Object> doc;
      try (Token t = token.open()) {
        if (t.contains(alias)) {
          throw new CliException("an entry " + alias + " already exists; choose another alias, or delete it first with hsmkit keys delete " + alias);
        }
        try {
          t.provider.tokenContext().executeForObjects(s -> s.generateKey(Mechanism.of(CKM.AES_KEY_GEN),
              KeyWrapping.secretKeyTemplate(alias, extractable, Attribute.ulong(CKA.VALUE_LEN, bits / 8))));
        } catch (Pkcs11Exception e) {
          throw new CliException("cannot generate an AES-" + bits + " key: the token refuses (" + e.ckrName()
              + ")" + (e.is(CKR.KEY_SIZE_RANGE) ? "; see hsmkit info for its AES key sizes" : ""), e);
        }
        doc = entry(t, alias);
      }
      PrintWriter out = cl.getOut();
      if (token.json) {
        Output.json(out, doc);
      } else {
        out.println("generated " + alias + ": AES " + doc.get("size") + (extractable ? ", extractable (wrapped only)" : ""));
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
