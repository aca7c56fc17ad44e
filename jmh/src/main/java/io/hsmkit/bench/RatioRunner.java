package io.hsmkit.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * What the two ratio drivers ({@link Ratios} and {@code provider.ProviderRatios}) share: their
 * settings (defaults, {@code -Dhsmkit.bench.key=value}, {@code key=value} arguments and
 * {@code --quick}), the common JMH options, running JMH while waiting out another run's lock, the
 * machine line of a report, medians and geometric means, and writing the report.
 */
public final class RatioRunner {
  private RatioRunner() {}

  /**
   * The settings: {@code defaults}, overridden by {@code -Dhsmkit.bench.KEY} properties, then by
   * the arguments ({@code key=value}, or {@code --quick}, which applies {@code quick}). Null after
   * printing {@code usage} for {@code -h} or {@code --help}; an unknown key is an
   * IllegalArgumentException.
   */
  public static Map<String, String> settings(String[] args, Map<String, String> defaults, Map<String, String> quick, String usage) {
    Map<String, String> cfg = new LinkedHashMap<>(defaults);
    for (String k : List.copyOf(cfg.keySet())) {
      String v = System.getProperty("hsmkit.bench." + k);
      if (v != null) {
        cfg.put(k, v);
      }
    }
    for (String a : args) {
      if (a.equals("--quick")) {
        cfg.putAll(quick);
      } else if (a.equals("-h") || a.equals("--help")) {
        System.out.println(usage);
        return null;
      } else {
        int eq = a.indexOf('=');
        String k = eq > 0 ? a.substring(0, eq).replaceFirst("^-+", "") : "";
        if (!cfg.containsKey(k)) {
          throw new IllegalArgumentException("unknown argument " + a + " (try --help)");
        }
        cfg.put(k, a.substring(eq + 1));
      }
    }
    return cfg;
  }

  /** Throughput in ops/s, with the warmup, measurement count, forks and verbosity of {@code cfg} (keys wi, w, i, f, verbose). */
  public static ChainedOptionsBuilder options(Map<String, String> cfg) {
    return new OptionsBuilder()
        .mode(Mode.Throughput)
        .timeUnit(TimeUnit.SECONDS)
        .forks(Integer.parseInt(cfg.get("f")))
        .warmupIterations(Integer.parseInt(cfg.get("wi")))
        .warmupTime(seconds(cfg.get("w")))
        .measurementIterations(Integer.parseInt(cfg.get("i")))
        .verbosity(VerboseMode.valueOf(cfg.get("verbose").toUpperCase(Locale.ROOT)));
  }

  /**
   * Runs JMH; while another JMH run on this machine holds JMH's lock (/tmp/jmh.lock), waits for it
   * (up to 30 minutes) rather than measuring at the same time. Other failures print a line and give
   * an empty result, or, with {@code failHard}, an IllegalStateException.
   */
  public static Collection<RunResult> run(ChainedOptionsBuilder o, String what, boolean failHard) {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
    boolean told = false;
    while (true) {
      try {
        Collection<RunResult> rr = new Runner(o.build()).run();
        if (failHard && rr.isEmpty()) {
          throw new IllegalStateException(what + " gave no result (is META-INF/BenchmarkList on the class path?)");
        }
        return rr;
      } catch (RunnerException e) {
        if (String.valueOf(e.getMessage()).contains("JMH lock") && System.nanoTime() < deadline) {
          if (!told) {
            System.out.println("== " + what + ": another JMH run holds /tmp/jmh.lock; waiting for it");
            told = true;
          }
          try {
            Thread.sleep(2000);
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            return List.of();
          }
          continue;
        }
        if (failHard) {
          throw new IllegalStateException(what + " failed", e);
        }
        System.out.println("== " + what + " failed: " + e);
        return List.of();
      }
    }
  }

  /** A JMH time from seconds (fractions allowed). */
  public static TimeValue seconds(String s) {
    return TimeValue.milliseconds(Math.round(Double.parseDouble(s) * 1000));
  }

  public static String loadAverage() {
    double l = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    return l < 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", l);
  }

  /** "JDK x, n CPUs, load average at start y": the machine line of a report. */
  public static String machine() {
    return String.format(Locale.ROOT, "JDK %s, %d CPUs, load average at start %s",
        System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), loadAverage());
  }

  /** The median, or null for no values. */
  public static Double median(List<Double> v) {
    if (v.isEmpty()) {
      return null;
    }
    List<Double> s = new ArrayList<>(v);
    s.sort(null);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }

  /** The geometric mean of positive ratios (the mean of paired ratios that does not favour either side). */
  public static double geometricMean(List<Double> ratios) {
    double log = 0;
    for (double r : ratios) {
      log += Math.log(r) / ratios.size();
    }
    return Math.exp(log);
  }

  /** Writes a report, making its directory. */
  public static void write(Path out, String markdown) throws IOException {
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, markdown, StandardCharsets.UTF_8);
  }
}
