package io.hsmkit.bench.keystore;

import io.hsmkit.bench.BenchToken;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Makes the two tokens (10 and 10,000 objects; each once, in its own process, reused by later
 * runs), runs {@link KeyStoreScaleBenchmark} for both sizes and both providers in one JMH run, and
 * writes the table to ROOT/jmh/target/keystore-scale.md.
 *
 * <pre>
 *   java -cp jmh/target/benchmarks.jar io.hsmkit.bench.keystore.KeyStoreScaleRuns [fresh] [threads=4]
 *       [wi=1] [w=2] [i=3] [r=2] [out=FILE] [verbose=normal]
 * </pre>
 * {@code fresh} makes the tokens again. Times are ms per operation (JMH AverageTime).
 */
public final class KeyStoreScaleRuns {
  private static final int[] SIZES = {10, 10_000};
  private static final List<String> PROVIDERS = List.of("HsmKit", "SunPKCS11");

  private KeyStoreScaleRuns() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 3 && args[0].equals("--prepare")) {
      ScaleToken.prepare(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
      System.exit(0); // the library stays initialised; nothing to close
      return;
    }
    Map<String, String> cfg = new LinkedHashMap<>();
    cfg.put("threads", "4");
    cfg.put("wi", "1");
    cfg.put("w", "2");
    cfg.put("i", "3");
    cfg.put("r", "2");
    cfg.put("out", "");
    cfg.put("verbose", "normal");
    boolean fresh = false;
    for (String a : args) {
      if (a.equals("fresh") || a.equals("--fresh")) {
        fresh = true;
      } else {
        int eq = a.indexOf('=');
        String k = eq > 0 ? a.substring(0, eq).replaceFirst("^-+", "") : "";
        if (!cfg.containsKey(k)) {
          throw new IllegalArgumentException("unknown argument " + a
              + "; usage: KeyStoreScaleRuns [fresh] [threads=N] [wi=N] [w=S] [i=N] [r=S] [out=FILE] [verbose=silent|normal|extra]");
        }
        cfg.put(k, a.substring(eq + 1));
      }
    }
    Path root = BenchToken.rootDir();
    Path base = ScaleToken.base();
    Path out = cfg.get("out").isBlank() ? root.resolve("jmh/target/keystore-scale.md") : Path.of(cfg.get("out"));
    List<String> sysProps = List.of("-Dhsmkit.root.dir=" + root, "-Dhsmkit.bench.scaleBase=" + base);

    for (int n : SIZES) {
      if (fresh || !ScaleToken.ready(n)) {
        System.out.println("== making the token of " + n + " objects in " + ScaleToken.dir(n));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path")));
        cmd.addAll(sysProps);
        cmd.addAll(List.of(KeyStoreScaleRuns.class.getName(), "--prepare", String.valueOf(n), cfg.get("threads")));
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        if (!p.waitFor(15, TimeUnit.MINUTES) || p.exitValue() != 0) {
          p.destroy();
          throw new IllegalStateException("making the token of " + n + " objects failed");
        }
      }
    }

    String machine = String.format(Locale.ROOT, "JDK %s, %d CPUs, load average at start %s", System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors(), loadAverage());
    String settings = String.format(Locale.ROOT, "JMH AverageTime, 1 fork per case, warmup %s x %s s, measurement %s x %s s",
        cfg.get("wi"), cfg.get("w"), cfg.get("i"), cfg.get("r"));
    System.out.println("KeyStore at scale: " + settings + "; " + machine);
    Collection<RunResult> results;
    try {
      results = new Runner(new OptionsBuilder()
          .include("^" + Pattern.quote(KeyStoreScaleBenchmark.class.getName()) + "\\.")
          .forks(1)
          .warmupIterations(Integer.parseInt(cfg.get("wi")))
          .warmupTime(TimeValue.seconds(Long.parseLong(cfg.get("w"))))
          .measurementIterations(Integer.parseInt(cfg.get("i")))
          .measurementTime(TimeValue.seconds(Long.parseLong(cfg.get("r"))))
          .jvmArgsAppend(sysProps.toArray(new String[0]))
          .verbosity(VerboseMode.valueOf(cfg.get("verbose").toUpperCase(Locale.ROOT)))
          .build()).run();
    } catch (RunnerException e) {
      throw new IllegalStateException("JMH failed: " + e.getMessage(), e);
    }

    // path -> provider -> objects -> result
    Map<String, Map<String, Map<Integer, Result<?>>>> by = new LinkedHashMap<>();
    for (RunResult r : results) {
      String method = r.getParams().getBenchmark().replaceFirst(".*\\.", "");
      String prov = r.getParams().getParam("provider");
      int n = Integer.parseInt(r.getParams().getParam("objects"));
      by.computeIfAbsent(method, k -> new LinkedHashMap<>()).computeIfAbsent(prov, k -> new LinkedHashMap<>()).put(n, r.getPrimaryResult());
    }
    StringBuilder t = new StringBuilder();
    t.append("| path | provider | 10 objects, ms/op | 10,000 objects, ms/op | 10,000 / 10 |\n|---|---|---:|---:|---:|\n");
    Map<String, String> paths = new LinkedHashMap<>();
    paths.put("cold", "cold: new KeyStore, load + getKey + getCertificateChain (first look-up)");
    paths.put("load", "of which: new KeyStore + load alone");
    paths.put("warm", "warm: getKey + getCertificateChain again (repeated look-up)");
    for (String method : paths.keySet()) {
      for (String prov : PROVIDERS) {
        Map<Integer, Result<?>> m = by.getOrDefault(method, Map.of()).getOrDefault(prov, Map.of());
        Result<?> small = m.get(SIZES[0]);
        Result<?> large = m.get(SIZES[1]);
        t.append("| ").append(paths.get(method))
            .append(" | ").append(prov).append(" | ").append(cell(small)).append(" | ").append(cell(large)).append(" | ")
            .append(small != null && large != null && small.getScore() >= 0.001 ? String.format(Locale.ROOT, "%.1f", large.getScore() / small.getScore()) : "-")
            .append(" |\n");
      }
    }
    String fill = "Token fill (once, outside JMH): 10 objects: " + ScaleToken.fillLine(SIZES[0]) + "; 10,000 objects: " + ScaleToken.fillLine(SIZES[1]) + ".";
    String md = "# KeyStore at scale: HsmKit and SunPKCS11\n\n"
        + "Run " + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME) + "; " + machine + ".\n"
        + settings + ". Score ± 99.9% error, ms per operation.\n\n" + t + "\n" + fill + "\n";
    System.out.println();
    System.out.print(t);
    System.out.println(fill);
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, md, StandardCharsets.UTF_8);
    System.out.println("written to " + out);
  }

  private static String cell(Result<?> r) {
    if (r == null) {
      return "-";
    }
    double s = r.getScore();
    double e = r.getScoreError();
    if (s < 0.001) {
      return String.format(Locale.ROOT, "%.1f us", s * 1000); // HsmKit's load: no token work
    }
    String f = s >= 100 ? "%.0f" : s >= 1 ? "%.2f" : "%.3f";
    return String.format(Locale.ROOT, f, s) + (Double.isNaN(e) ? "" : " ± " + String.format(Locale.ROOT, f, e));
  }

  private static String loadAverage() {
    double l = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    return l < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", l);
  }

}
