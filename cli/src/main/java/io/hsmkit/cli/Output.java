package io.hsmkit.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Plain aligned tables for people, one JSON document for scripts. */
final class Output {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Output() {}

  /** Prints {@code doc} (maps, lists, strings, numbers, booleans) as one JSON document. */
  static void json(PrintWriter out, Object doc) {
    try {
      out.println(JSON.writeValueAsString(doc));
      out.flush();
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Prints a table: a header row, then the rows, columns padded to the widest cell (the last one not padded). */
  static void table(PrintWriter out, List<String> header, List<List<String>> rows) {
    List<List<String>> all = new ArrayList<>();
    all.add(header);
    all.addAll(rows);
    int[] w = new int[header.size()];
    for (List<String> r : all) {
      for (int i = 0; i < r.size(); i++) {
        w[i] = Math.max(w[i], r.get(i).length());
      }
    }
    for (List<String> r : all) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < r.size(); i++) {
        if (i > 0) {
          b.append("  ");
        }
        b.append(i == r.size() - 1 ? r.get(i) : pad(r.get(i), w[i]));
      }
      out.println(b.toString().stripTrailing());
    }
    out.flush();
  }

  /** Prints name/value lines, the names aligned. */
  static void fields(PrintWriter out, Map<String, ?> fields) {
    int w = 0;
    for (String k : fields.keySet()) {
      w = Math.max(w, k.length());
    }
    for (Map.Entry<String, ?> e : fields.entrySet()) {
      out.println(pad(e.getKey(), w) + "  " + e.getValue());
    }
    out.flush();
  }

  private static String pad(String s, int w) {
    return s.length() >= w ? s : s + " ".repeat(w - s.length());
  }
}
