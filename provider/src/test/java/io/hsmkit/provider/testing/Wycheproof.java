package io.hsmkit.provider.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads a Wycheproof file from {@code ../shared/testvectors/wycheproof/} and keeps the score, so
 * a suite can report every failing tcId in one assertion and count (never drop) the vectors the
 * token cannot run.
 *
 * <p>Policy for "acceptable" vectors: either outcome passes, and the outcome is recorded in
 * {@link #acceptableOutcomes()} for the report.
 */
public final class Wycheproof {
  private final String file;
  private final JsonNode root;
  private final List<String> failures = new ArrayList<>();
  private final Map<String, Integer> unsupported = new TreeMap<>();
  private final Map<String, Integer> acceptable = new TreeMap<>();
  private int passed;
  private int run;

  private Wycheproof(String file, JsonNode root) {
    this.file = file;
    this.root = root;
  }

  /** The vectors directory: system property {@code hsmkit.shared.dir} (set by the build) + /testvectors/wycheproof. */
  public static Path dir() {
    String shared = System.getProperty("hsmkit.shared.dir");
    Path p = shared != null ? Path.of(shared) : Path.of("..", "..", "shared");
    Path d = p.resolve("testvectors/wycheproof");
    if (!Files.isDirectory(d)) {
      throw new IllegalStateException("Wycheproof vectors not found at " + d.toAbsolutePath() + ": the project expects ../shared beside its root");
    }
    return d;
  }

  public static Wycheproof load(String file) {
    try {
      return new Wycheproof(file, new ObjectMapper().readTree(dir().resolve(file).toFile()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public JsonNode root() {
    return root;
  }

  public Iterable<JsonNode> groups() {
    return root.get("testGroups");
  }

  public static byte[] hex(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? new byte[0] : HexFormat.of().parseHex(v.asText());
  }

  /** Records the outcome of test {@code t}: {@code ok} is whether the operation succeeded (and matched). */
  public void record(JsonNode t, boolean ok, String detail) {
    run++;
    String result = t.get("result").asText();
    int id = t.get("tcId").asInt();
    switch (result) {
      case "valid" -> {
        if (ok) {
          passed++;
        } else {
          failures.add("tcId " + id + " (valid, " + t.get("comment").asText() + "): " + detail);
        }
      }
      case "invalid" -> {
        if (!ok) {
          passed++;
        } else {
          failures.add("tcId " + id + " (invalid, " + t.get("comment").asText() + "): accepted");
        }
      }
      default -> {
        passed++;
        acceptable.merge(ok ? "accepted" : "rejected", 1, Integer::sum);
      }
    }
  }

  /** Counts test {@code t} as one the token cannot run, with the reason. */
  public void unsupported(JsonNode t, String reason) {
    unsupported.merge(reason, 1, Integer::sum);
  }

  public List<String> failures() {
    return failures;
  }

  public int passed() {
    return passed;
  }

  public int run() {
    return run;
  }

  public Map<String, Integer> unsupportedReasons() {
    return unsupported;
  }

  public int unsupportedCount() {
    return unsupported.values().stream().mapToInt(Integer::intValue).sum();
  }

  public Map<String, Integer> acceptableOutcomes() {
    return acceptable;
  }

  public int total() {
    return root.get("numberOfTests").asInt();
  }

  /** One line for the README: file, passed, unsupported, total. */
  public String summary() {
    return file + ": " + passed + " passed, " + failures.size() + " failed, " + unsupportedCount() + " unsupported by the token "
        + unsupported + " of " + total() + (acceptable.isEmpty() ? "" : "; acceptable: " + acceptable);
  }

  /** Every case is accounted for, and none failed (all failing tcIds in one message). */
  public void assertAllPassed() {
    System.out.println("WYCHEPROOF " + summary());
    if (run + unsupportedCount() != total()) {
      throw new AssertionError(file + ": " + (run + unsupportedCount()) + " cases accounted for, the file has " + total());
    }
    if (!failures.isEmpty()) {
      throw new AssertionError(file + ": " + failures.size() + " failing cases:\n  " + String.join("\n  ", failures));
    }
  }
}
