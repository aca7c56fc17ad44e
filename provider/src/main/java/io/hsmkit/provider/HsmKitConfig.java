package io.hsmkit.provider;

import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.session.Pin;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The provider's configuration, parsed once and immutable, in SunPKCS11's syntax.
 *
 * <p>Given as a file path, or inline as text starting with {@code --} (so {@code -providerArg
 * "--library=/usr/lib/softhsm/libsofthsm2.so tokenLabel=hsmkit"} works on one line). Entries are
 * {@code key = value}, whitespace-separated, {@code #} starts a comment, a value with blanks is
 * double-quoted, and lists are {@code { a b c }}:
 *
 * <pre>
 * library = /usr/lib/softhsm/libsofthsm2.so   # required
 * tokenLabel = hsmkit                          # or: slot = 1234, or: slotListIndex = 0
 * name = prod                                  # provider name becomes HsmKit-prod
 * pin = env:HSMKIT_USER_PIN                    # or file:/path; else log in through the KeyStore or login()
 * maxSessions = 16                             # the session pool's cap
 * sessionWaitMillis = 30000                    # how long a caller waits for a free session
 * enabledMechanisms = { CKM_AES_GCM CKM_ECDSA } # only these (names or 0x hex)
 * disabledMechanisms = { CKM_SHA1_RSA_PKCS }    # never these
 * keys.token = false                           # generated keys are session objects ...
 * keys.sensitive = true                        # ... sensitive ...
 * keys.extractable = false                     # ... and not extractable, unless asked otherwise
 * </pre>
 *
 * <p>Or, instead of {@code library}, {@code slot}, {@code slotListIndex}, {@code tokenLabel} and
 * {@code pin}: {@code cluster = /etc/hsmkit/cluster.cfg}, a cluster file ({@code ClusterConfigFile}:
 * members, their libraries, tokens and PIN sources), read when the provider opens. The provider
 * then presents the cluster as one token; {@code maxSessions} is the pool size per member.
 *
 * <p>Unknown keys, repeated keys and bad values are errors that name the line.
 */
public final class HsmKitConfig {
  /** How the token is chosen. */
  public enum SlotChoice {
    LABEL,
    SLOT_ID,
    SLOT_LIST_INDEX
  }

  private static final Set<String> KEYS = Set.of(
      "library", "cluster", "slot", "slotListIndex", "tokenLabel", "name", "description", "pin", "maxSessions",
      "sessionWaitMillis", "enabledMechanisms", "disabledMechanisms", "keys.token", "keys.sensitive", "keys.extractable");

  private final String source;
  private final String library;
  private final Path cluster;
  private final SlotChoice slotChoice;
  private final String tokenLabel;
  private final long slot;
  private final int slotListIndex;
  private final String name;
  private final String description;
  private final String pin;
  private final int maxSessions;
  private final Duration sessionWait;
  private final Set<Long> enabledMechanisms;
  private final Set<Long> disabledMechanisms;
  private final boolean keysToken;
  private final boolean keysSensitive;
  private final boolean keysExtractable;

  private HsmKitConfig(String source, Map<String, Object> v) {
    this.source = source;
    this.library = (String) v.get("library");
    this.cluster = v.containsKey("cluster") ? Path.of((String) v.get("cluster")) : null;
    this.name = (String) v.get("name");
    this.description = (String) v.get("description");
    this.pin = (String) v.get("pin");
    this.maxSessions = v.containsKey("maxSessions") ? (Integer) v.get("maxSessions") : 16;
    this.sessionWait = Duration.ofMillis(v.containsKey("sessionWaitMillis") ? (Integer) v.get("sessionWaitMillis") : 30_000);
    this.enabledMechanisms = mechs(v.get("enabledMechanisms"));
    this.disabledMechanisms = mechs(v.get("disabledMechanisms"));
    this.keysToken = (Boolean) v.getOrDefault("keys.token", false);
    this.keysSensitive = (Boolean) v.getOrDefault("keys.sensitive", true);
    this.keysExtractable = (Boolean) v.getOrDefault("keys.extractable", false);
    if (v.containsKey("tokenLabel")) {
      slotChoice = SlotChoice.LABEL;
    } else if (v.containsKey("slot")) {
      slotChoice = SlotChoice.SLOT_ID;
    } else {
      slotChoice = SlotChoice.SLOT_LIST_INDEX;
    }
    this.tokenLabel = (String) v.get("tokenLabel");
    this.slot = v.containsKey("slot") ? (Long) v.get("slot") : -1;
    this.slotListIndex = v.containsKey("slotListIndex") ? (Integer) v.get("slotListIndex") : 0;
  }

  @SuppressWarnings("unchecked")
  private static Set<Long> mechs(Object o) {
    return o == null ? null : Collections.unmodifiableSet((Set<Long>) o);
  }

  /**
   * Parses {@code arg}: inline text when it starts with {@code --}, otherwise the path of a file.
   *
   * @throws IllegalArgumentException with the line number for any error
   */
  public static HsmKitConfig parse(String arg) {
    if (arg == null || arg.isBlank()) {
      throw new IllegalArgumentException("HsmKit configuration: empty; give a file path or inline text starting with --");
    }
    String text;
    String source;
    if (arg.startsWith("--")) {
      text = arg.substring(2);
      source = "inline configuration";
    } else {
      Path p = Path.of(arg);
      try {
        text = Files.readString(p, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new IllegalArgumentException("HsmKit configuration: cannot read " + arg + ": " + e.getMessage(), e);
      }
      source = p.toString();
    }
    return new HsmKitConfig(source, new Parser(source, text).parse());
  }

  /** A tokenizer in the manner of SunPKCS11's: words, "quoted strings", =, { }, # comments. */
  private static final class Parser {
    private final String source;
    private final String text;
    private int pos;
    private int line = 1;

    Parser(String source, String text) {
      this.source = source;
      this.text = text;
    }

    private IllegalArgumentException error(int atLine, String msg) {
      return new IllegalArgumentException("HsmKit configuration (" + source + ") line " + atLine + ": " + msg);
    }

    /** The next token, or null at the end; symbols are returned as one-character strings. */
    private String next() {
      while (pos < text.length()) {
        char c = text.charAt(pos);
        if (c == '\n') {
          line++;
          pos++;
        } else if (Character.isWhitespace(c)) {
          pos++;
        } else if (c == '#') {
          while (pos < text.length() && text.charAt(pos) != '\n') {
            pos++;
          }
        } else {
          break;
        }
      }
      if (pos >= text.length()) {
        return null;
      }
      char c = text.charAt(pos);
      if (c == '=' || c == '{' || c == '}') {
        pos++;
        return String.valueOf(c);
      }
      if (c == '"') {
        int start = ++pos;
        while (pos < text.length() && text.charAt(pos) != '"') {
          if (text.charAt(pos) == '\n') {
            throw error(line, "unterminated quoted value");
          }
          pos++;
        }
        if (pos >= text.length()) {
          throw error(line, "unterminated quoted value");
        }
        return "\u0000" + text.substring(start, pos++); // marks a quoted word
      }
      int start = pos;
      while (pos < text.length()) {
        char d = text.charAt(pos);
        if (Character.isWhitespace(d) || d == '=' || d == '{' || d == '}' || d == '#') {
          break;
        }
        pos++;
      }
      return text.substring(start, pos);
    }

    private static String word(String tok) {
      return tok.startsWith("\u0000") ? tok.substring(1) : tok;
    }

    private static boolean isSymbol(String tok) {
      return tok.equals("=") || tok.equals("{") || tok.equals("}");
    }

    Map<String, Object> parse() {
      Map<String, Object> v = new HashMap<>();
      Map<String, Integer> lines = new HashMap<>();
      String tok;
      while ((tok = next()) != null) {
        int at = line;
        if (isSymbol(tok)) {
          throw error(at, "expected a key, found '" + tok + "'");
        }
        String key = word(tok);
        if (!KEYS.contains(key)) {
          throw error(at, "unknown key '" + key + "' (known: " + new java.util.TreeSet<>(KEYS) + ")");
        }
        if (v.containsKey(key)) {
          throw error(at, "'" + key + "' is given twice");
        }
        lines.put(key, at);
        String eq = next();
        if (!"=".equals(eq)) {
          throw error(at, "expected '=' after " + key);
        }
        String val = next();
        if (val == null) {
          throw error(at, "no value for " + key);
        }
        if (key.endsWith("Mechanisms")) {
          if (!"{".equals(val)) {
            throw error(at, key + " takes a list: " + key + " = { CKM_AES_GCM ... }");
          }
          Set<Long> set = new LinkedHashSet<>();
          while (true) {
            String m = next();
            if (m == null) {
              throw error(at, "unterminated list for " + key);
            }
            if (m.equals("}")) {
              break;
            }
            if (isSymbol(m)) {
              throw error(line, "unexpected '" + m + "' in " + key);
            }
            set.add(mechanism(word(m), line));
          }
          v.put(key, set);
          continue;
        }
        if (isSymbol(val)) {
          throw error(at, "expected a value for " + key + ", found '" + val + "'");
        }
        v.put(key, value(key, word(val), at));
      }
      if (v.containsKey("cluster")) {
        // The cluster file names each member's library, token and PIN source: one place for each.
        for (String k : List.of("library", "slot", "slotListIndex", "tokenLabel", "pin")) {
          if (v.containsKey(k)) {
            throw error(lines.get(k), "'" + k + "' cannot be given with 'cluster' (line " + lines.get("cluster")
                + "): the cluster file names each member's library, token and PIN");
          }
        }
      } else if (!v.containsKey("library")) {
        throw error(line, "'library' is required (the path of the PKCS#11 library), or 'cluster' (the path of a cluster file)");
      }
      int chosen = (v.containsKey("slot") ? 1 : 0) + (v.containsKey("slotListIndex") ? 1 : 0) + (v.containsKey("tokenLabel") ? 1 : 0);
      if (chosen > 1) {
        throw error(line, "give only one of slot, slotListIndex and tokenLabel");
      }
      if (v.containsKey("enabledMechanisms") && v.containsKey("disabledMechanisms")) {
        throw error(line, "give enabledMechanisms or disabledMechanisms, not both");
      }
      return v;
    }

    private Object value(String key, String val, int at) {
      try {
        switch (key) {
          case "slot":
            return parseLong(val);
          case "slotListIndex":
          case "maxSessions":
          case "sessionWaitMillis": {
            long n = parseLong(val);
            long min = key.equals("maxSessions") ? 1 : 0;
            if (n < min || n > Integer.MAX_VALUE) {
              throw error(at, key + " must be between " + min + " and " + Integer.MAX_VALUE + ", not " + val);
            }
            return (int) n;
          }
          case "keys.token":
          case "keys.sensitive":
          case "keys.extractable":
            if (val.equalsIgnoreCase("true")) {
              return true;
            }
            if (val.equalsIgnoreCase("false")) {
              return false;
            }
            throw error(at, key + " must be true or false, not " + val);
          case "tokenLabel":
            if (val.getBytes(StandardCharsets.UTF_8).length > 32) {
              throw error(at, "a token label is at most 32 bytes");
            }
            return val;
          case "pin":
            if (!val.startsWith("env:") && !val.startsWith("file:")) {
              // Never echo the value: it may be a PIN written in clear by mistake.
              throw error(at, "pin must be env:VARIABLE or file:PATH (a PIN in clear is not accepted)");
            }
            return val;
          default:
            return val;
        }
      } catch (NumberFormatException e) {
        throw error(at, key + " must be a number, not " + val);
      }
    }

    private static long parseLong(String s) {
      return s.startsWith("0x") || s.startsWith("0X") ? Long.parseUnsignedLong(s.substring(2), 16) : Long.parseLong(s);
    }

    private long mechanism(String s, int at) {
      if (s.startsWith("0x") || s.startsWith("0X")) {
        try {
          return Long.parseUnsignedLong(s.substring(2), 16);
        } catch (NumberFormatException e) {
          throw error(at, "bad mechanism number " + s);
        }
      }
      String n = s.toUpperCase(Locale.ROOT);
      if (n.startsWith("CKM_")) {
        n = n.substring(4);
      }
      Long m = MECHANISMS.get(n);
      if (m == null) {
        throw error(at, "unknown mechanism " + s);
      }
      return m;
    }
  }

  private static final Map<String, Long> MECHANISMS = mechanismNames();

  private static Map<String, Long> mechanismNames() {
    Map<String, Long> m = new HashMap<>();
    for (Field f : CKM.class.getFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == long.class) {
        try {
          m.put(f.getName().startsWith("_") ? f.getName().substring(1) : f.getName(), f.getLong(null));
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return m;
  }

  /** Where the configuration came from (a path, or "inline configuration"). */
  public String source() {
    return source;
  }

  /** The PKCS#11 library, or null with {@link #cluster()}. */
  public String library() {
    return library;
  }

  /** The cluster file, or null for one token. */
  public Path cluster() {
    return cluster;
  }

  /** Whether the provider presents a cluster of tokens rather than one. */
  public boolean isCluster() {
    return cluster != null;
  }

  public SlotChoice slotChoice() {
    return slotChoice;
  }

  public String tokenLabel() {
    return tokenLabel;
  }

  public long slot() {
    return slot;
  }

  public int slotListIndex() {
    return slotListIndex;
  }

  /** The provider's name: {@code HsmKit}, or {@code HsmKit-<name>} when a name is configured. */
  public String providerName() {
    return name == null ? HsmKitProvider.BASE_NAME : HsmKitProvider.BASE_NAME + "-" + name;
  }

  public String description() {
    return description;
  }

  /** Whether a PIN source is configured. */
  public boolean hasPin() {
    return pin != null;
  }

  /** Reads the configured PIN; the caller owns (and closes) it. */
  public Pin readPin() throws IOException {
    if (pin == null) {
      throw new IllegalStateException("no pin configured");
    }
    if (pin.startsWith("env:")) {
      return Pin.fromEnv(pin.substring(4));
    }
    return Pin.fromFile(Path.of(pin.substring(5)));
  }

  public int maxSessions() {
    return maxSessions;
  }

  public Duration sessionWait() {
    return sessionWait;
  }

  /** Whether the configuration lets the provider use {@code mechanism}. */
  public boolean allows(long mechanism) {
    if (enabledMechanisms != null) {
      return enabledMechanisms.contains(mechanism);
    }
    return disabledMechanisms == null || !disabledMechanisms.contains(mechanism);
  }

  public boolean keysToken() {
    return keysToken;
  }

  public boolean keysSensitive() {
    return keysSensitive;
  }

  public boolean keysExtractable() {
    return keysExtractable;
  }

  /** Mechanisms named in enabled/disabledMechanisms, for diagnostics. */
  public List<Long> listedMechanisms() {
    List<Long> l = new ArrayList<>();
    if (enabledMechanisms != null) {
      l.addAll(enabledMechanisms);
    }
    if (disabledMechanisms != null) {
      l.addAll(disabledMechanisms);
    }
    return l;
  }

  @Override
  public String toString() {
    return cluster != null ? "HsmKitConfig[" + source + ", cluster=" + cluster + "]"
        : "HsmKitConfig[" + source + ", library=" + library + ", " + slotChoice + "]";
  }
}
