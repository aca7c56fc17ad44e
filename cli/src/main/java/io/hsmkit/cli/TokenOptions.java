package io.hsmkit.cli;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.provider.HsmKitConfig;
import io.hsmkit.provider.HsmKitProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The options every token verb shares: {@code --config FILE} (an HsmKit provider configuration;
 * by default one built from what ./hsmkit exports) and {@code --json}.
 */
final class TokenOptions {
  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = {
        "HsmKit provider configuration (library, tokenLabel, pin = file:... or env:...).",
        "Default: the embedded token ./hsmkit sets up, from $HSMKIT_PKCS11_LIBRARY, $HSMKIT_TOKEN_LABEL and $HSMKIT_USER_PIN."
      })
  Path config;

  @Option(names = "--json", description = "Print one JSON document on stdout instead of a table.")
  boolean json;

  /** The configuration text: the file's path, or inline text built from {@code env}. */
  /** Inline configuration text for {@code library}, {@code label} and a pin spec (file:PATH or env:NAME). */
  static String inline(String library, String label, String pin) {
    return "--library = " + quote(library) + " tokenLabel = " + quote(label) + " pin = " + pin;
  }

  static String defaultConfig(Map<String, String> env) {
    String lib = env.get("HSMKIT_PKCS11_LIBRARY");
    String label = env.get("HSMKIT_TOKEN_LABEL");
    if (blank(lib) || blank(label)) {
      throw new CliException("no token configured: run the command through ./hsmkit (which sets HSMKIT_PKCS11_LIBRARY and "
          + "HSMKIT_TOKEN_LABEL for the embedded token), or give --config FILE");
    }
    if (blank(env.get("HSMKIT_USER_PIN"))) {
      throw new CliException("HSMKIT_USER_PIN is not set: run the command through ./hsmkit, or give --config FILE with pin = file:PATH");
    }
    return "--library = " + quote(lib) + " tokenLabel = " + quote(label) + " pin = env:HSMKIT_USER_PIN";
  }

  private static String quote(String s) {
    if (s.indexOf('"') >= 0 || s.indexOf('\n') >= 0) {
      throw new CliException("cannot use " + s + " in an HsmKit configuration (it holds a quote or a newline); give --config FILE");
    }
    return "\"" + s + "\"";
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  /** Opens the token: the provider, logged in, and its KeyStore. */
  Token open() {
    String arg;
    if (config != null) {
      if (!Files.isReadable(config)) {
        throw new CliException("cannot read the configuration " + config + ": no such file, or not readable");
      }
      arg = config.toString();
    } else {
      arg = defaultConfig(System.getenv());
    }
    return open(arg);
  }

  /** Opens the token of a configuration file path or inline configuration text ({@code --...}). */
  static Token open(String arg) {
    HsmKitConfig parsed;
    try {
      parsed = HsmKitConfig.parse(arg);
    } catch (IllegalArgumentException e) {
      throw new CliException(e.getMessage(), e);
    }
    if (!parsed.hasPin()) {
      throw new CliException("the configuration " + parsed.source() + " has no pin: add pin = file:PATH or pin = env:VARIABLE");
    }
    if (!Files.exists(Path.of(parsed.library()))) {
      throw new CliException("no PKCS#11 library at " + parsed.library() + " (configured in " + parsed.source()
          + "): run `bash softhsm-config/install.sh`, or fix library in the configuration");
    }
    HsmKitProvider provider;
    try {
      provider = new HsmKitProvider(arg);
    } catch (RuntimeException | LinkageError e) {
      throw openFailed(parsed, e);
    }
    try {
      KeyStore ks = KeyStore.getInstance("HsmKit", provider);
      ks.load(null, null);
      return new Token(provider, parsed, ks);
    } catch (Exception e) {
      provider.tokenContext().close();
      throw new CliException("cannot open the HsmKit KeyStore of " + who(parsed) + ": " + HsmkitCommand.oneLine(e), e);
    }
  }

  private static String who(HsmKitConfig c) {
    return switch (c.slotChoice()) {
      case LABEL -> "token '" + c.tokenLabel() + "'";
      case SLOT_ID -> "the token in slot " + c.slot();
      case SLOT_LIST_INDEX -> "the token at slot list index " + c.slotListIndex();
    };
  }

  private static CliException openFailed(HsmKitConfig c, Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof Pkcs11Exception p) {
        if (p.isAny(CKR.PIN_INCORRECT, CKR.PIN_INVALID, CKR.PIN_LEN_RANGE)) {
          return new CliException("wrong PIN for " + who(c) + " (" + p.ckrName() + "): check "
              + (c.source().startsWith("inline") ? "HSMKIT_USER_PIN (./hsmkit reads it from $HSMKIT_HOME/token.env)" : "the pin of " + c.source()), e);
        }
        if (p.isAny(CKR.PIN_LOCKED, CKR.PIN_EXPIRED)) {
          return new CliException("the user PIN of " + who(c) + " is " + (p.is(CKR.PIN_LOCKED) ? "locked" : "expired")
              + " (" + p.ckrName() + "): the security officer must set a new one", e);
        }
        return new CliException("cannot open " + who(c) + " in " + c.library() + ": " + p.getMessage()
            + "; SoftHSM2 reads SOFTHSM2_CONF (" + System.getenv("SOFTHSM2_CONF") + ")", e);
      }
    }
    String m = HsmkitCommand.oneLine(e);
    if (m.startsWith("HsmKit: no token")) {
      return new CliException(m + ": check tokenLabel, or run `hsmkit info` to see the tokens", e);
    }
    return new CliException("cannot open " + who(c) + ": " + m, e);
  }
}
