package io.hsmkit.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;

/**
 * Runs {@link BindingVsCBenchmark} through JMH, binding and C back to back for each op (paired,
 * so that both see the same machine load), prints {@code op | binding ops/s | C ops/s | binding/C}
 * and writes it to ROOT/jmh/target/ratios.md.
 *
 * <p>Settings, as {@code key=value} arguments or {@code -Dhsmkit.bench.key=value} (arguments win):
 * <pre>
 *   wi=2        warmup iterations            w=1     warmup seconds per iteration
 *   i=3         measurement iterations       r=2     measurement seconds per iteration
 *   f=1         forks per run                rounds=1  pairs per op (the order alternates per round)
 *   ops=AES_GCM_1K,HMAC_SHA256_1K,ECDSA_P256,RSA2048,RANDOM32
 *   out=ROOT/jmh/target/ratios.md            verbose=normal (silent | normal | extra)
 *   mode=both   split: binding() and cLoop() in two forks back to back (the main table);
 *               interleaved: interleaved() alone; both: split, then interleaved, per op
 *   --quick     wi=1 w=1 i=2 r=1: about 70 s for all five ops in mode=both
 * </pre>
 *
 * <p>The split table is what JMH measures of each method on its own; on a shared machine other
 * processes' load lands on one fork and not the other, so a single pair can be off by 20% or
 * more. The interleaved table alternates the two sides every {@link BindingVsCBenchmark#BATCH}
 * operations inside one fork, so such load falls on both alike: trust it more when they differ.
 */
public final class Ratios {
  private static final String BENCH = BindingVsCBenchmark.class.getName();
  private static final double GOAL = 0.90;

  private Ratios() {}

  private record Pair(double binding, double c) {
    double ratio() {
      return binding / c;
    }
  }

  public static void main(String[] args) throws IOException {
    Map<String, String> defaults = new LinkedHashMap<>();
    defaults.put("wi", "2");
    defaults.put("w", "1");
    defaults.put("i", "3");
    defaults.put("r", "2");
    defaults.put("f", "1");
    defaults.put("rounds", "1");
    defaults.put("ops", "AES_GCM_1K,HMAC_SHA256_1K,ECDSA_P256,RSA2048,RANDOM32");
    defaults.put("out", "");
    defaults.put("verbose", "normal");
    defaults.put("mode", "both");
    Map<String, String> cfg = RatioRunner.settings(args, defaults, Map.of("wi", "1", "w", "1", "i", "2", "r", "1"),
        "usage: Ratios [--quick] [wi=N] [w=SECONDS] [i=N] [r=SECONDS] [f=N] [rounds=N] [ops=A,B,..] [mode=both|split|interleaved] [out=FILE] [verbose=silent|normal|extra]");
    if (cfg == null) {
      return;
    }

    Path root = BenchToken.rootDir();
    Path out = cfg.get("out").isBlank() ? root.resolve("jmh/target/ratios.md") : Path.of(cfg.get("out"));
    int rounds = Integer.parseInt(cfg.get("rounds"));
    List<Op> ops = new ArrayList<>();
    for (String s : cfg.get("ops").split(",")) {
      if (!s.isBlank()) {
        ops.add(Op.valueOf(s.strip()));
      }
    }
    String settings = String.format(Locale.ROOT,
        "JMH %s fork(s) per run, warmup %s x %s s, measurement %s x %s s, %d round(s) per op, C batch %d ops per call",
        cfg.get("f"), cfg.get("wi"), cfg.get("w"), cfg.get("i"), cfg.get("r"), rounds, BindingVsCBenchmark.BATCH);
    String machine = RatioRunner.machine();
    System.out.println("hsmkit binding vs C: " + settings + "; " + machine);

    String mode = cfg.get("mode");
    boolean split = mode.equals("both") || mode.equals("split");
    boolean inter = mode.equals("both") || mode.equals("interleaved");
    if (!split && !inter) {
      throw new IllegalArgumentException("mode is both, split or interleaved, not " + mode);
    }

    Map<Op, List<Pair>> splitResults = new LinkedHashMap<>();
    Map<Op, List<Pair>> interResults = new LinkedHashMap<>();
    for (Op op : ops) {
      List<Pair> sp = new ArrayList<>();
      List<Pair> ip = new ArrayList<>();
      for (int round = 0; round < rounds; round++) {
        if (split) {
          // Paired: both sides of one op run back to back; the order flips every round.
          double b;
          double c;
          if (round % 2 == 0) {
            b = score(run(cfg, root, op, "binding"));
            c = score(run(cfg, root, op, "cLoop"));
          } else {
            c = score(run(cfg, root, op, "cLoop"));
            b = score(run(cfg, root, op, "binding"));
          }
          Pair p = new Pair(b, c);
          sp.add(p);
          System.out.printf(Locale.ROOT, "== %s round %d, split: binding %.0f ops/s, C %.0f ops/s, binding/C %.3f%n", op, round + 1, b, c, p.ratio());
        }
        if (inter) {
          var sec = run(cfg, root, op, "interleaved").getSecondaryResults();
          double b = 1e9 * sec.get("bindingOps").getScore() / sec.get("bindingNanos").getScore();
          double c = 1e9 * sec.get("cOps").getScore() / sec.get("cNanos").getScore();
          Pair p = new Pair(b, c);
          ip.add(p);
          System.out.printf(Locale.ROOT, "== %s round %d, interleaved: binding %.0f ops/s, C %.0f ops/s, binding/C %.3f%n", op, round + 1, b, c, p.ratio());
        }
      }
      if (split) {
        splitResults.put(op, sp);
      }
      if (inter) {
        interResults.put(op, ip);
      }
    }

    StringBuilder tables = new StringBuilder();
    if (split) {
      tables.append("Split: `binding` and `cLoop` each in its own fork, back to back (JMH scores).\n\n").append(table(splitResults, rounds)).append('\n');
    }
    if (inter) {
      tables.append("Interleaved: `interleaved`, one fork, the two sides alternating every ")
          .append(BindingVsCBenchmark.BATCH).append(" ops, each side timed on its own.\n\n").append(table(interResults, rounds)).append('\n');
    }
    String md = "# hsmkit binding vs C on SoftHSM2\n\n"
        + "Run " + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME) + "; " + machine + ".\n"
        + settings + ".\n\n"
        + tables
        + "Goal: binding/C >= " + GOAL + " on every op. binding extra us/op = 1e6/binding - 1e6/C.\n";
    System.out.println();
    System.out.print(tables);
    RatioRunner.write(out, md);
    System.out.println("written to " + out);
  }

  private static double score(RunResult r) {
    return r.getPrimaryResult().getScore();
  }

  private static String table(Map<Op, List<Pair>> results, int rounds) {
    StringBuilder sb = new StringBuilder();
    sb.append("| op | binding ops/s | C ops/s | binding/C | binding extra us/op |").append(rounds > 1 ? " ratio per round |" : "").append('\n');
    sb.append("|---|---:|---:|---:|---:|").append(rounds > 1 ? "---|" : "").append('\n');
    for (Map.Entry<Op, List<Pair>> e : results.entrySet()) {
      List<Pair> pairs = e.getValue();
      double b = 0;
      double c = 0;
      List<Double> ratios = new ArrayList<>();
      StringBuilder per = new StringBuilder();
      for (Pair p : pairs) {
        b += p.binding / pairs.size();
        c += p.c / pairs.size();
        ratios.add(p.ratio());
        per.append(per.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.3f", p.ratio()));
      }
      double ratio = RatioRunner.geometricMean(ratios);
      sb.append(String.format(Locale.ROOT, "| %s | %,.0f | %,.0f | %.3f%s | %.2f |", e.getKey(), b, c, ratio,
          Math.round(ratio * 1000) >= Math.round(GOAL * 1000) ? "" : " (below " + GOAL + ")", 1e6 / b - 1e6 / c));
      if (rounds > 1) {
        sb.append(' ').append(per).append(" |");
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  private static RunResult run(Map<String, String> cfg, Path root, Op op, String method) {
    ChainedOptionsBuilder o = RatioRunner.options(cfg)
        .include("^" + Pattern.quote(BENCH + "." + method) + "$")
        .param("op", op.name())
        .threads(1)
        .measurementTime(RatioRunner.seconds(cfg.get("r")))
        .shouldFailOnError(true)
        .jvmArgsAppend("-Dhsmkit.root.dir=" + root);
    return RatioRunner.run(o, op + " " + method, true).iterator().next();
  }
}
