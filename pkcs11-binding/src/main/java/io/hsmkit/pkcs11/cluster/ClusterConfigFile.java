package io.hsmkit.pkcs11.cluster;

import io.hsmkit.pkcs11.session.TokenSelector;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The text form of a cluster, in the style of the provider's configuration ({@code key = value},
 * {@code #} comments):
 *
 * <pre>
 * cluster.members = a, b, c
 * cluster.minReplicas = 2                  # optional; default 2 (1 for one member)
 * cluster.policy = least-outstanding       # or round-robin
 * member.a.library = /usr/lib/softhsm/libsofthsm2.so
 * member.a.tokenLabel = hsm-a              # or member.a.slot = 123
 * member.a.pin = file:/etc/hsmkit/a.pin    # or env:VARIABLE; a PIN in clear is refused
 * member.a.soPin = env:HSM_A_SO_PIN        # only for the SO verbs (init, add, remove)
 * member.a.identity = sha256:3f0c...       # the member's identity key, pinned by init / add
 * cluster.id = 9b1e...                     # bound into every join; written by init / add
 * </pre>
 *
 * Unknown, repeated or missing keys fail with the line number. Immutable.
 *
 * @param identities member name -> pinned identity fingerprint ({@code sha256:<hex>}); members
 *     without one (files older than identities) get it pinned by the next {@code init} or {@code add}
 * @param clusterId the cluster's id, or null when the file has none yet
 */
public record ClusterConfigFile(ClusterConfig config, Map<String, PinSource> soPins, Map<String, String> identities, String clusterId) {
  public ClusterConfigFile {
    soPins = Map.copyOf(soPins);
    identities = Map.copyOf(identities);
  }

  /** A file without pinned identities or cluster id (the form before identities existed). */
  public ClusterConfigFile(ClusterConfig config, Map<String, PinSource> soPins) {
    this(config, soPins, Map.of(), null);
  }

  /** The fingerprint pinned for {@code member}, or empty when the file pins none. */
  public Optional<String> identity(String member) {
    return Optional.ofNullable(identities.get(member));
  }

  /** The SO PIN source of {@code member}, or empty when the file gives none. */
  public Optional<PinSource> soPin(String member) {
    return Optional.ofNullable(soPins.get(member));
  }

  public static ClusterConfigFile read(Path file) throws IOException {
    return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
  }

  private static final Set<String> MEMBER_KEYS = Set.of("library", "tokenLabel", "slot", "pin", "soPin", "identity");
  private static final java.util.regex.Pattern CLUSTER_ID = java.util.regex.Pattern.compile("[A-Za-z0-9._-]{1,64}");

  /** @throws IllegalArgumentException naming the line (and never a PIN) */
  public static ClusterConfigFile parse(String text, String source) {
    Map<String, String> values = new LinkedHashMap<>();
    Map<String, Integer> lines = new LinkedHashMap<>();
    String[] all = text.split("\n", -1);
    for (int i = 0; i < all.length; i++) {
      String line = all[i];
      int hash = line.indexOf('#');
      if (hash >= 0) {
        line = line.substring(0, hash);
      }
      line = line.strip();
      if (line.isEmpty()) {
        continue;
      }
      int eq = line.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(source + ":" + (i + 1) + ": expected key = value");
      }
      String key = line.substring(0, eq).strip();
      String value = unquote(line.substring(eq + 1).strip());
      if (values.containsKey(key)) {
        throw new IllegalArgumentException(source + ":" + (i + 1) + ": " + key + " is set twice (first on line " + lines.get(key) + ")");
      }
      if (!key.equals("cluster.members") && !key.equals("cluster.minReplicas") && !key.equals("cluster.policy") && !key.equals("cluster.id")
          && !(key.startsWith("member.") && key.indexOf('.', 7) > 7 && MEMBER_KEYS.contains(key.substring(key.indexOf('.', 7) + 1)))) {
        throw new IllegalArgumentException(source + ":" + (i + 1) + ": unknown key " + key);
      }
      values.put(key, value);
      lines.put(key, i + 1);
    }
    String members = values.get("cluster.members");
    if (members == null || members.isBlank()) {
      throw new IllegalArgumentException(source + ": cluster.members is missing (cluster.members = a, b, c)");
    }
    List<String> names = new ArrayList<>();
    for (String n : members.split(",")) {
      if (!n.strip().isEmpty()) {
        names.add(n.strip());
      }
    }
    for (String key : values.keySet()) {
      if (key.startsWith("member.")) {
        String name = key.substring(7, key.indexOf('.', 7));
        if (!names.contains(name)) {
          throw new IllegalArgumentException(source + ":" + lines.get(key) + ": " + name + " is not in cluster.members");
        }
      }
    }
    List<MemberConfig> ms = new ArrayList<>();
    Map<String, PinSource> so = new LinkedHashMap<>();
    Map<String, String> ids = new LinkedHashMap<>();
    for (String n : names) {
      String p = "member." + n + ".";
      String library = values.get(p + "library");
      if (library == null) {
        throw new IllegalArgumentException(source + ": " + p + "library is missing");
      }
      String label = values.get(p + "tokenLabel");
      String slot = values.get(p + "slot");
      if ((label == null) == (slot == null)) {
        throw new IllegalArgumentException(source + ": give exactly one of " + p + "tokenLabel and " + p + "slot");
      }
      TokenSelector sel;
      if (label != null) {
        sel = TokenSelector.label(label);
      } else {
        try {
          sel = TokenSelector.slotId(Long.parseLong(slot));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(source + ":" + lines.get(p + "slot") + ": " + p + "slot is not a number");
        }
      }
      String pin = values.get(p + "pin");
      if (pin == null) {
        throw new IllegalArgumentException(source + ": " + p + "pin is missing (file:PATH or env:VARIABLE)");
      }
      ms.add(new MemberConfig(n, library, sel, pinSource(pin, source, lines.get(p + "pin"), p + "pin")));
      String soPin = values.get(p + "soPin");
      if (soPin != null) {
        so.put(n, pinSource(soPin, source, lines.get(p + "soPin"), p + "soPin"));
      }
      String identity = values.get(p + "identity");
      if (identity != null) {
        String lower = identity.toLowerCase(java.util.Locale.ROOT);
        if (!ClusterAdmin.isFingerprint(lower)) {
          throw new IllegalArgumentException(source + ":" + lines.get(p + "identity") + ": " + p
              + "identity must be sha256: and 64 hex digits (the fingerprint hsmkit cluster init / add pins)");
        }
        ids.put(n, lower);
      }
    }
    ClusterConfig c = ClusterConfig.of(ms);
    String min = values.get("cluster.minReplicas");
    if (min != null) {
      try {
        c = c.withMinReplicas(Integer.parseInt(min));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(source + ":" + lines.get("cluster.minReplicas") + ": cluster.minReplicas is not a number");
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(source + ":" + lines.get("cluster.minReplicas") + ": " + e.getMessage());
      }
    }
    String policy = values.get("cluster.policy");
    if (policy != null) {
      c = c.withPolicy(switch (policy) {
        case "round-robin" -> SelectionPolicy.roundRobin();
        case "least-outstanding" -> SelectionPolicy.leastOutstanding();
        default -> throw new IllegalArgumentException(source + ":" + lines.get("cluster.policy")
            + ": cluster.policy must be round-robin or least-outstanding");
      });
    }
    String id = values.get("cluster.id");
    if (id != null && !CLUSTER_ID.matcher(id).matches()) {
      throw new IllegalArgumentException(source + ":" + lines.get("cluster.id") + ": cluster.id must be 1 to 64 of A-Z a-z 0-9 . _ -");
    }
    return new ClusterConfigFile(c, so, ids, id);
  }

  private static String unquote(String v) {
    if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
      return v.substring(1, v.length() - 1);
    }
    return v;
  }

  private static PinSource pinSource(String v, String source, int line, String key) {
    if (v.startsWith("file:")) {
      return PinSource.file(Path.of(v.substring(5)));
    }
    if (v.startsWith("env:")) {
      return PinSource.env(v.substring(4));
    }
    // the value is never echoed: it may be a PIN
    throw new IllegalArgumentException(source + ":" + line + ": " + key + " must be file:PATH or env:VARIABLE (a PIN in clear is refused)");
  }

}
