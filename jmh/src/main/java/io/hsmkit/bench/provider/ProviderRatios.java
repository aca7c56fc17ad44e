package io.hsmkit.bench.provider;

import io.hsmkit.bench.BenchToken;
import io.hsmkit.bench.RatioRunner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;

/**
 * Runs {@link ProviderBenchmark} (HsmKit and SunPKCS11 as values of its {@code provider}
 * parameter, at 1 and 2 threads) and {@link ProviderInterleavedBenchmark} (HsmKit, SunPKCS11 and
 * the C loop alternating in one fork), prints the tables and writes them to
 * ROOT/jmh/target/provider-ratios.md.
 *
 * <p>Settings, as {@code key=value} arguments or {@code -Dhsmkit.bench.key=value} (arguments win):
 * <pre>
 *   wi=3  w=1   warmup iterations and seconds          i=2  r=1   measurement iterations and seconds
 *   ir=2        seconds per measurement iteration of the interleaved run
 *   f=1         forks per provider and op              threads=1,2
 *   rounds=1    split runs per op and thread count; the provider order flips every round
 *   ops=all     a comma-separated subset (JcaOp names or method names)
 *   mode=both   both: split and interleaved; split: ProviderBenchmark only; interleaved: only
 *               ProviderInterleavedBenchmark (at the thread counts that inter= selects)
 *   inter=all   all: interleave every op at every thread count; shared: only the five ops the C
 *               loop shares, at one thread (for HsmKit/C);
 *               none: no interleaved run (then no HsmKit/C column)
 *   out=ROOT/jmh/target/provider-ratios.md            verbose=normal (silent | normal | extra)
 *   --quick     wi=1 w=1 i=1 r=1 ir=1 inter=shared
 * </pre>
 *
 * <p>Split: for each op and thread count, one JMH run of the op's method with both provider
 * values back to back (one fork each), so that the two see about the same machine load. The
 * interleaved table is the one to trust when the machine is shared; see README.md.
 */
public final class ProviderRatios {
  private static final String BENCH = ProviderBenchmark.class.getName();
  private static final String INTER = ProviderInterleavedBenchmark.class.getName();
  private static final double GOAL_SUN = 1.0;
  private static final double GOAL_C = 0.9;

  private ProviderRatios() {}

  /** Scores of one split run: provider name to ops/s (missing: no result). */
  private record Split(Map<String, Double> score) {
    Double of(String p) {
      return score.get(p);
    }
  }

  /**
   * One interleaved run: each side's median ops/s over the measured rounds (null: the side did not
   * run), the medians of the per-round ratios HsmKit/SunPKCS11 and HsmKit/C, and the round count.
   */
  private record Inter(Double hsmkit, Double sun, Double c, Double rSun, Double rC, int rounds) {}

  public static void main(String[] args) throws IOException {
    Map<String, String> defaults = new LinkedHashMap<>();
    // Three warmup seconds: HsmKit's path is Java that C2 compiles in the background, and on two
    // cores the compiler threads take CPU from the first seconds of measurement. With one (shared
    // by three sides in the interleaved run) AES-GCM 1 KiB measured 0.89-0.90 of the C loop; with
    // three, 0.94. The C loop and SunPKCS11's JNI need no such warmup; SunPKCS11's Java does.
    defaults.put("wi", "3");
    defaults.put("w", "1");
    defaults.put("i", "2");
    defaults.put("r", "1");
    defaults.put("ir", "2");
    defaults.put("f", "1");
    defaults.put("threads", "1,2");
    defaults.put("rounds", "1");
    defaults.put("ops", "all");
    defaults.put("inter", "all");
    defaults.put("mode", "both");
    defaults.put("out", "");
    defaults.put("verbose", "normal");
    Map<String, String> cfg = RatioRunner.settings(args, defaults,
        Map.of("wi", "1", "w", "1", "i", "1", "r", "1", "ir", "1", "inter", "shared"),
        "usage: ProviderRatios [--quick] [wi=N] [w=S] [i=N] [r=S] [ir=S] [f=N] [threads=1,2] [rounds=N] "
            + "[ops=all|A,B,..] [mode=both|split|interleaved] [inter=all|shared|none] [out=FILE] [verbose=silent|normal|extra]");
    if (cfg == null) {
      return;
    }

    Path root = BenchToken.rootDir();
    Path out = cfg.get("out").isBlank() ? root.resolve("jmh/target/provider-ratios.md") : Path.of(cfg.get("out"));
    List<JcaOp> ops = new ArrayList<>();
    if (cfg.get("ops").equals("all")) {
      ops.addAll(List.of(JcaOp.values()));
    } else {
      for (String s : cfg.get("ops").split(",")) {
        if (!s.isBlank()) {
          ops.add(JcaOp.parse(s));
        }
      }
    }
    List<Integer> threads = new ArrayList<>();
    for (String s : cfg.get("threads").split(",")) {
      threads.add(Integer.parseInt(s.strip()));
    }
    int rounds = Integer.parseInt(cfg.get("rounds"));
    String inter = cfg.get("inter");
    if (!List.of("all", "shared", "none").contains(inter)) {
      throw new IllegalArgumentException("inter is all, shared or none, not " + inter);
    }
    String mode = cfg.get("mode");
    if (!List.of("both", "split", "interleaved").contains(mode)) {
      throw new IllegalArgumentException("mode is both, split or interleaved, not " + mode);
    }
    boolean doSplit = !mode.equals("interleaved");
    if (mode.equals("split")) {
      inter = "none";
    } else if (mode.equals("interleaved") && inter.equals("none")) {
      inter = "all";
    }

    String settings = String.format(Locale.ROOT,
        "split: JMH %s fork(s) per provider, warmup %s x %s s, measurement %s x %s s, %d round(s); interleaved: warmup %s x %s s, measurement %s x %s s",
        cfg.get("f"), cfg.get("wi"), cfg.get("w"), cfg.get("i"), cfg.get("r"), rounds, cfg.get("wi"), cfg.get("w"), cfg.get("i"), cfg.get("ir"));
    String machine = RatioRunner.machine();
    System.out.println("hsmkit provider benchmarks: " + settings + "; " + machine);
    long started = System.nanoTime();

    // op -> threads -> rounds
    Map<JcaOp, Map<Integer, List<Split>>> split = new EnumMap<>(JcaOp.class);
    for (JcaOp op : ops) {
      Map<Integer, List<Split>> byThreads = new TreeMap<>();
      for (int t : threads) {
        List<Split> rs = new ArrayList<>();
        for (int round = 0; doSplit && round < rounds; round++) {
          List<String> order = round % 2 == 0 ? Providers.NAMES : List.of(Providers.SUN, Providers.HSMKIT);
          Split s = runSplit(cfg, root, op, t, order);
          rs.add(s);
          System.out.printf(Locale.ROOT, "== %s, %d thread(s), round %d: HsmKit %s, SunPKCS11 %s, HsmKit/SunPKCS11 %s%n", op.method, t, round + 1,
              num(s.of(Providers.HSMKIT)), num(s.of(Providers.SUN)), ratio(s.of(Providers.HSMKIT), s.of(Providers.SUN)));
        }
        byThreads.put(t, rs);
      }
      split.put(op, byThreads);
    }

    Map<JcaOp, Map<Integer, Inter>> inters = new EnumMap<>(JcaOp.class);
    if (!inter.equals("none")) {
      for (JcaOp op : ops) {
        if (inter.equals("shared") && op.cOp == null) {
          continue;
        }
        Map<Integer, Inter> byThreads = new TreeMap<>();
        for (int t : threads) {
          if (inter.equals("shared") && t != 1) {
            continue;
          }
          Inter r = runInter(cfg, root, op, t);
          byThreads.put(t, r);
          System.out.printf(Locale.ROOT, "== %s, %d thread(s), interleaved: HsmKit %s, SunPKCS11 %s, C %s; HsmKit/SunPKCS11 %s, HsmKit/C %s%n", op.method, t,
              num(r.hsmkit), num(r.sun), num(r.c), fmt(r.rSun), fmt(r.rC));
        }
        inters.put(op, byThreads);
      }
    }

    String summary = summaryTable(split, inters);
    String main = doSplit ? splitTable(split, rounds) : "";
    String inTable = inters.isEmpty() ? "" : interTable(inters);
    String loadEnd = RatioRunner.loadAverage();
    String took = fmtDuration(Duration.ofNanos(System.nanoTime() - started));
    StringBuilder md = new StringBuilder();
    md.append("# HsmKit and SunPKCS11 on one SoftHSM2 token\n\n")
        .append("Run ").append(ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)).append("; ").append(machine)
        .append(", at the end ").append(loadEnd).append("; took ").append(took).append(".\n")
        .append(settings).append(".\n\n")
        .append("Ratios: split is `ProviderBenchmark` (the provider a JMH parameter, each in its own fork, back to back); ")
        .append("interleaved is `ProviderInterleavedBenchmark` (the sides alternating in one fork); ")
        .append("HsmKit/C is HsmKit over the C loop (`hsmbench_run`, one thread) in the interleaved run.\n\n")
        .append(summary).append('\n');
    if (!main.isEmpty()) {
      md.append("Split (`ProviderBenchmark`):\n\n").append(main).append('\n');
    }
    if (!inTable.isEmpty()) {
      md.append("Interleaved (`ProviderInterleavedBenchmark`):\n\n").append(inTable).append('\n');
    }
    md.append("Goals: HsmKit/SunPKCS11 >= ").append(GOAL_SUN).append(" on every row; HsmKit/C >= ").append(GOAL_C)
        .append(" on the ops the C loop shares. Ratios below a goal are in bold. n/a: the provider cannot do the operation; ")
        .append("FAILED: the benchmark failed (see the log).\n");
    System.out.println();
    System.out.println(summary);
    if (!main.isEmpty()) {
      System.out.println(main);
    }
    if (!inTable.isEmpty()) {
      System.out.println(inTable);
    }
    RatioRunner.write(out, md.toString());
    System.out.println("took " + took + "; written to " + out);
  }

  private static String summaryTable(Map<JcaOp, Map<Integer, List<Split>>> split, Map<JcaOp, Map<Integer, Inter>> inters) {
    StringBuilder sb = new StringBuilder();
    sb.append("| op | threads | HsmKit/SunPKCS11 split | HsmKit/SunPKCS11 interleaved | HsmKit/C interleaved |\n");
    sb.append("|---|---:|---:|---:|---:|\n");
    for (var e : split.entrySet()) {
      JcaOp op = e.getKey();
      for (var t : e.getValue().entrySet()) {
        Inter in = inters.getOrDefault(op, Map.of()).get(t.getKey());
        String is = in == null ? "" : interRatio(in.rSun, GOAL_SUN);
        String ic = in == null || in.rC == null ? "" : interRatio(in.rC, GOAL_C);
        sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s |%n", op.method, t.getKey(), geoRatio(t.getValue()), is, ic));
      }
    }
    return sb.toString();
  }

  private static String splitTable(Map<JcaOp, Map<Integer, List<Split>>> split, int rounds) {
    StringBuilder sb = new StringBuilder();
    sb.append("| op | threads | HsmKit ops/s | SunPKCS11 ops/s | HsmKit/SunPKCS11 |").append(rounds > 1 ? " per round |" : "").append('\n');
    sb.append("|---|---:|---:|---:|---:|").append(rounds > 1 ? "---|" : "").append('\n');
    for (var e : split.entrySet()) {
      JcaOp op = e.getKey();
      for (var t : e.getValue().entrySet()) {
        List<Split> rs = t.getValue();
        sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s |", op.method, t.getKey(), cell(mean(rs, Providers.HSMKIT), op),
            cell(mean(rs, Providers.SUN), op), geoRatio(rs)));
        if (rounds > 1) {
          StringBuilder per = new StringBuilder();
          for (Split x : rs) {
            per.append(per.length() == 0 ? "" : ", ").append(ratio(x.of(Providers.HSMKIT), x.of(Providers.SUN)));
          }
          sb.append(' ').append(per).append(" |");
        }
        sb.append('\n');
      }
    }
    return sb.toString();
  }

  private static String interTable(Map<JcaOp, Map<Integer, Inter>> inters) {
    StringBuilder sb = new StringBuilder();
    sb.append("| op | threads | HsmKit ops/s | SunPKCS11 ops/s | HsmKit/SunPKCS11 | C ops/s | HsmKit/C | rounds |\n");
    sb.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (var e : inters.entrySet()) {
      JcaOp op = e.getKey();
      for (var t : e.getValue().entrySet()) {
        Inter r = t.getValue();
        sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %s | %d |%n", op.method, t.getKey(), cell(r.hsmkit, op),
            cell(r.sun, op), interRatio(r.rSun, GOAL_SUN), r.c == null ? "" : num(r.c), r.rC == null ? "" : interRatio(r.rC, GOAL_C), r.rounds));
      }
    }
    return sb.toString();
  }

  private static String interRatio(Double r, double goal) {
    return r == null ? "n/a" : flag(fmt(r), r, goal);
  }

  private static String fmt(Double r) {
    return r == null ? "n/a" : String.format(Locale.ROOT, "%.3f", r);
  }

  /** A score, "n/a" where SunPKCS11 cannot do the op, "FAILED" for any other missing score. */
  private static String cell(Double v, JcaOp op) {
    if (v != null) {
      return num(v);
    }
    return op == JcaOp.RSA_OAEP_DECRYPT ? "n/a" : "FAILED";
  }

  private static Double mean(List<Split> rs, String p) {
    double sum = 0;
    for (Split s : rs) {
      Double v = s.of(p);
      if (v == null) {
        return null;
      }
      sum += v;
    }
    return sum / rs.size();
  }

  /** Geometric mean of the per-round ratios, flagged when below the goal. */
  private static String geoRatio(List<Split> rs) {
    if (rs.isEmpty()) {
      return "";
    }
    double log = 0;
    for (Split s : rs) {
      Double h = s.of(Providers.HSMKIT);
      Double x = s.of(Providers.SUN);
      if (h == null || x == null) {
        return "n/a";
      }
      log += Math.log(h / x) / rs.size();
    }
    double r = Math.exp(log);
    return flag(String.format(Locale.ROOT, "%.3f", r), r, GOAL_SUN);
  }

  private static String flag(String text, double r, double goal) {
    return Math.round(r * 1000) >= Math.round(goal * 1000) ? text : "**" + text + "**";
  }

  private static String num(Double v) {
    return v == null ? "-" : String.format(Locale.ROOT, "%,.0f", v);
  }

  private static String ratio(Double a, Double b) {
    return a == null || b == null ? "n/a" : String.format(Locale.ROOT, "%.3f", a / b);
  }

  /** The common options; {@code jvmArgs} are added to the forks' arguments (JMH keeps only the last jvmArgsAppend). */
  private static ChainedOptionsBuilder base(Map<String, String> cfg, Path root, String... jvmArgs) {
    List<String> args = new ArrayList<>(List.of("-Dhsmkit.root.dir=" + root, "-Dhsmkit.bench.providerTokenDir=" + Providers.tokenDir()));
    args.addAll(List.of(jvmArgs));
    return RatioRunner.options(cfg).jvmArgsAppend(args.toArray(new String[0]));
  }

  private static Split runSplit(Map<String, String> cfg, Path root, JcaOp op, int threads, List<String> order) {
    ChainedOptionsBuilder o = base(cfg, root)
        .include("^" + Pattern.quote(BENCH + "." + op.method) + "$")
        .param("provider", order.toArray(new String[0]))
        .threads(threads)
        .measurementTime(RatioRunner.seconds(cfg.get("r")))
        // SunPKCS11's rsaOaepDecrypt fails in setup by design; the other provider still runs.
        .shouldFailOnError(false);
    Map<String, Double> scores = new LinkedHashMap<>();
    for (RunResult r : run(o, op.method)) {
      scores.put(r.getParams().getParam("provider"), r.getPrimaryResult().getScore());
    }
    return new Split(scores);
  }

  private static Inter runInter(Map<String, String> cfg, Path root, JcaOp op, int threads) {
    Path file;
    try {
      file = Files.createTempFile("hsmkit-interleaved-", ".txt");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      ChainedOptionsBuilder o = base(cfg, root, "-Dhsmkit.bench.rounds=" + file)
          .include("^" + Pattern.quote(INTER + ".interleaved") + "$")
          .param("op", op.name())
          .param("workers", Integer.toString(threads))
          .threads(1)
          .measurementTime(RatioRunner.seconds(cfg.get("ir")))
          .shouldFailOnError(true);
      if (run(o, op.method + " interleaved").isEmpty()) {
        return new Inter(null, null, null, null, null, 0);
      }
      return rounds(Files.readAllLines(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      try {
        Files.deleteIfExists(file);
      } catch (IOException ignored) {
        // a temporary file
      }
    }
  }

  /** Medians over the rounds written by {@link ProviderInterleavedBenchmark}. */
  private static Inter rounds(List<String> lines) {
    String[] head = lines.get(0).substring(2).split(" ");
    long sideOps = Long.parseLong(head[2]);
    long cOps = Long.parseLong(head[3]);
    List<Double> h = new ArrayList<>();
    List<Double> x = new ArrayList<>();
    List<Double> c = new ArrayList<>();
    List<Double> rx = new ArrayList<>();
    List<Double> rc = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      if (line.isBlank()) {
        continue;
      }
      String[] f = line.split(" ");
      double th = Double.parseDouble(f[0]);
      double tx = Double.parseDouble(f[1]);
      double tc = Double.parseDouble(f[2]);
      double oh = 1e9 * sideOps / th;
      h.add(oh);
      if (tx > 0) {
        double ox = 1e9 * sideOps / tx;
        x.add(ox);
        rx.add(oh / ox);
      }
      if (tc > 0) {
        double oc = 1e9 * cOps / tc;
        c.add(oc);
        rc.add(oh / oc);
      }
    }
    return new Inter(RatioRunner.median(h), RatioRunner.median(x), RatioRunner.median(c), RatioRunner.median(rx), RatioRunner.median(rc), h.size());
  }

  private static Collection<RunResult> run(ChainedOptionsBuilder o, String what) {
    return RatioRunner.run(o, what, false);
  }

  private static String fmtDuration(Duration d) {
    return String.format(Locale.ROOT, "%d min %02d s", d.toMinutes(), d.toSecondsPart());
  }
}
