package io.hsmkit.cli;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Slot;
import io.hsmkit.pkcs11.constants.CKF;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.raw.Info;
import io.hsmkit.pkcs11.raw.MechanismInfo;
import io.hsmkit.pkcs11.raw.Platform;
import io.hsmkit.pkcs11.raw.SlotInfo;
import io.hsmkit.pkcs11.raw.TokenInfo;
import io.hsmkit.pkcs11.raw.Version;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hsmkit info}: the library's CK_INFO, its slots, and for the chosen token (or every token
 * present) its CK_TOKEN_INFO and mechanisms. Reads only public information: it never logs in and
 * never sees a PIN.
 */
@Command(
    name = "info",
    mixinStandardHelpOptions = true,
    description = {
      "Show the PKCS#11 library, its slots, the token and its mechanisms.",
      "Prints CK_INFO, every slot, and for the chosen token (or every token present)",
      "its CK_TOKEN_INFO and its mechanisms, one per line. Never logs in."
    })
public final class InfoCommand implements Callable<Integer> {
  /** SoftHSM2's library on Debian, used when neither --library nor HSMKIT_PKCS11_LIBRARY says otherwise. */
  public static final String DEFAULT_LIBRARY = "/usr/lib/softhsm/libsofthsm2.so";

  @Spec CommandSpec spec;

  @Option(
      names = "--library",
      paramLabel = "PATH",
      defaultValue = "${env:HSMKIT_PKCS11_LIBRARY:-" + DEFAULT_LIBRARY + "}",
      description = "PKCS#11 library to load (default: $HSMKIT_PKCS11_LIBRARY, else " + DEFAULT_LIBRARY + "; now ${DEFAULT-VALUE}).")
  String library;

  @Option(
      names = "--token-label",
      paramLabel = "LABEL",
      defaultValue = "${env:HSMKIT_TOKEN_LABEL}",
      description = "Show only the token with this label (default: $HSMKIT_TOKEN_LABEL; without either, every token present).")
  String tokenLabel;

  /** One slot as read from the library, before anything is printed. */
  private record SlotView(Slot slot, SlotInfo info, TokenInfo token, String tokenError) {}

  @Override
  public Integer call() {
    String lib = blankToNull(library) == null ? DEFAULT_LIBRARY : library.strip();
    String label = blankToNull(tokenLabel);
    if (!Files.exists(Path.of(lib))) {
      throw new CliException("no PKCS#11 library at " + lib
          + ": run `bash softhsm-config/install.sh` (SoftHSM2), or name another library with --library or HSMKIT_PKCS11_LIBRARY");
    }
    try (Pkcs11Module module = open(lib)) {
      report(module, lib, label);
    }
    return ExitCode.OK;
  }

  private static Pkcs11Module open(String lib) {
    try {
      return Pkcs11Module.open(lib);
    } catch (LinkageError e) {
      throw new CliException("cannot load " + lib + " as a PKCS#11 library: " + HsmkitCommand.oneLine(e), e);
    } catch (Pkcs11Exception e) {
      String hint = "";
      if (lib.contains("softhsm")) {
        String conf = System.getenv("SOFTHSM2_CONF");
        hint = "; SoftHSM2 reads its configuration from SOFTHSM2_CONF ("
            + (conf == null ? "not set" : conf)
            + "): run ./hsmkit, which creates one, or see softhsm-config/README.md";
      }
      throw new CliException("cannot initialise " + lib + ": " + e.getMessage() + hint, e);
    }
  }

  private void report(Pkcs11Module module, String lib, String label) {
    // Read everything first, so that an unknown label fails before anything is printed.
    Info info = module.info();
    Version table = module.raw().functionTableVersion();
    List<SlotView> slots = new ArrayList<>();
    for (Slot s : module.slots(false)) {
      SlotInfo si = s.info();
      TokenInfo ti = null;
      String err = null;
      if (si.tokenPresent()) {
        try {
          ti = s.tokenInfo();
        } catch (Pkcs11Exception e) {
          err = e.ckrName();
        }
      }
      slots.add(new SlotView(s, si, ti, err));
    }
    List<SlotView> shown = new ArrayList<>();
    for (SlotView v : slots) {
      if (v.token() != null && (label == null || v.token().label().equals(label))) {
        shown.add(v);
      }
    }
    if (label != null && shown.isEmpty()) {
      List<String> labels = new ArrayList<>();
      for (SlotView v : slots) {
        if (v.token() != null && v.token().initialized()) {
          labels.add("'" + v.token().label() + "'");
        }
      }
      throw new CliException("no token labelled '" + label + "' in " + lib + " (tokens: "
          + (labels.isEmpty() ? "none" : String.join(", ", labels)) + ")");
    }

    PrintWriter out = spec.commandLine().getOut();
    out.println("PKCS#11 library  " + lib);
    row(out, "cryptoki version", info.cryptokiVersion().toString());
    row(out, "manufacturer", info.manufacturerId());
    row(out, "description", info.libraryDescription());
    row(out, "library version", info.libraryVersion().toString());
    row(out, "function table", table + (table.major() >= 3 ? " (from C_GetInterface)" : " (from C_GetFunctionList)"));
    row(out, "data path", module.dataPath());
    out.println();

    out.println("Slots (" + slots.size() + ")");
    for (SlotView v : slots) {
      StringBuilder b = new StringBuilder();
      b.append(String.format(Locale.ROOT, "  slot %-12d %s", v.slot().id(), quote(v.info().slotDescription())));
      b.append(v.info().tokenPresent() ? ", token present" : ", no token");
      if (v.token() != null) {
        b.append(v.token().initialized() ? ": " + quote(v.token().label()) : ": not initialized");
      } else if (v.tokenError() != null) {
        b.append(": " + v.tokenError());
      }
      out.println(b);
    }

    for (SlotView v : shown) {
      out.println();
      printToken(out, v, label != null);
    }
    if (shown.isEmpty()) {
      out.println();
      out.println("No token present.");
    }
    out.flush();
  }

  private void printToken(PrintWriter out, SlotView v, boolean chosen) {
    TokenInfo t = v.token();
    out.println("Token " + (t.initialized() ? quote(t.label()) : "(not initialized)") + " in slot " + v.slot().id());
    row(out, "label", quote(t.label()));
    row(out, "manufacturer", t.manufacturerId());
    row(out, "model", t.model());
    row(out, "serial number", t.serialNumber());
    row(out, "flags", words(t.flags(), "token"));
    row(out, "sessions", "open " + count(t.sessionCount()) + ", max " + max(t.maxSessionCount()));
    row(out, "r/w sessions", "open " + count(t.rwSessionCount()) + ", max " + max(t.maxRwSessionCount()));
    row(out, "PIN length", t.minPinLen() + ".." + t.maxPinLen());
    row(out, "public memory", memory(t.freePublicMemory(), t.totalPublicMemory()));
    row(out, "private memory", memory(t.freePrivateMemory(), t.totalPrivateMemory()));
    row(out, "hardware version", t.hardwareVersion().toString());
    row(out, "firmware version", t.firmwareVersion().toString());
    if ((t.flags() & CKF.CLOCK_ON_TOKEN) != 0) {
      row(out, "UTC time", t.utcTime());
    }
    if (!t.initialized() && !chosen) {
      out.println("  (mechanisms not listed for a token that is not initialized)");
      return;
    }
    Map<Long, MechanismInfo> mechs = v.slot().mechanismInfos();
    int nameWidth = 0;
    int sizeWidth = 0;
    for (Map.Entry<Long, MechanismInfo> e : mechs.entrySet()) {
      nameWidth = Math.max(nameWidth, CKM.name(e.getKey()).length());
      sizeWidth = Math.max(sizeWidth, keySizes(e.getValue()).length());
    }
    out.println("  Mechanisms (" + mechs.size() + "; key sizes in bits or bytes, as each mechanism defines)");
    String fmt = "    %-" + nameWidth + "s  %-" + sizeWidth + "s  %s%n";
    for (Map.Entry<Long, MechanismInfo> e : mechs.entrySet()) {
      MechanismInfo mi = e.getValue();
      out.printf(Locale.ROOT, fmt, CKM.name(e.getKey()), keySizes(mi), words(mi.flags(), "mechanism"));
    }
  }

  private static String keySizes(MechanismInfo mi) {
    return mi.minKeySize() == 0 && mi.maxKeySize() == 0 ? "-" : mi.minKeySize() + ".." + mi.maxKeySize();
  }

  private static void row(PrintWriter out, String name, String value) {
    out.printf(Locale.ROOT, "  %-17s %s%n", name, value);
  }

  /** CKF_ flag names of one family, without the prefix and in lower case: "encrypt, decrypt, wrap". */
  static String words(long flags, String family) {
    if (flags == 0) {
      return "-";
    }
    List<String> w = new ArrayList<>();
    for (String part : CKF.describe(flags, family).split("\\|")) {
      w.add(part.startsWith("CKF_") ? part.substring(4).toLowerCase(Locale.ROOT) : part);
    }
    return String.join(", ", w);
  }

  private static boolean unavailable(long v) {
    return v == Platform.UNAVAILABLE_INFORMATION;
  }

  private static String count(long v) {
    return unavailable(v) ? "unknown" : Long.toString(v);
  }

  /** A maximum count: CK_EFFECTIVELY_INFINITE is 0. */
  private static String max(long v) {
    return v == 0 ? "no limit" : count(v);
  }

  private static String memory(long free, long total) {
    if (unavailable(free) && unavailable(total)) {
      return "not reported";
    }
    return count(free) + " bytes free of " + count(total);
  }

  private static String quote(String s) {
    return "\"" + s + "\"";
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
