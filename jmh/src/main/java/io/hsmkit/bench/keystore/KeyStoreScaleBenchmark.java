package io.hsmkit.bench.keystore;

import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.cert.Certificate;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * One alias on a token of 10 or 10,000 objects, through HsmKit's KeyStore and SunPKCS11's.
 *
 * <ul>
 *   <li>{@link #cold}: a new KeyStore instance, {@code load(null, pin)}, {@code getKey("target")},
 *       {@code getCertificateChain("target")}: the first look-up (HsmKit: nothing cached yet;
 *       SunPKCS11: load lists the token).
 *   <li>{@link #load}: the new instance and {@code load(null, pin)} alone, the part of {@link #cold}
 *       that is SunPKCS11's listing of the token.
 *   <li>{@link #warm}: {@code getKey} + {@code getCertificateChain} again on one loaded instance:
 *       the repeated look-up (HsmKit: cached handles, checked by one attribute read; SunPKCS11:
 *       its alias map, then a search by CKA_ID for the key).
 * </ul>
 *
 * <p>The tokens are made once by {@link KeyStoreScaleRuns} ({@link ScaleToken#prepare}); each
 * fork opens the one of its {@code objects} and configures both providers (SunPKCS11 first, then
 * HsmKit, as the provider benchmarks do), whichever is measured.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
public class KeyStoreScaleBenchmark {
  @Param({"10", "10000"})
  public int objects;

  @Param({"HsmKit", "SunPKCS11"})
  public String provider;

  private Provider jca;
  private String type;
  private char[] pin;
  private KeyStore loaded;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    ScaleToken t = ScaleToken.open(objects);
    Provider sun = t.sunPkcs11();
    pin = t.pin();
    KeyStore login = KeyStore.getInstance("PKCS11", sun);
    login.load(null, pin);
    Provider hsmkit = t.hsmKit();
    switch (provider) {
      case "HsmKit" -> {
        jca = hsmkit;
        type = "HsmKit";
      }
      case "SunPKCS11" -> {
        jca = sun;
        type = "PKCS11";
      }
      default -> throw new IllegalArgumentException("provider is HsmKit or SunPKCS11, not " + provider);
    }
    loaded = KeyStore.getInstance(type, jca);
    loaded.load(null, pin);
    check(loaded);
  }

  private static void check(KeyStore ks) throws Exception {
    Key k = ks.getKey(ScaleToken.ALIAS, null);
    Certificate[] chain = ks.getCertificateChain(ScaleToken.ALIAS);
    if (!(k instanceof PrivateKey) || chain == null || chain.length != 1) {
      throw new IllegalStateException(ks.getProvider().getName() + " does not see " + ScaleToken.ALIAS + ": key " + k
          + ", chain " + (chain == null ? null : Arrays.asList(chain)));
    }
  }

  /** First look-up: new KeyStore, load, getKey, getCertificateChain. */
  @Benchmark
  public void cold(Blackhole bh) throws Exception {
    KeyStore ks = KeyStore.getInstance(type, jca);
    ks.load(null, pin);
    bh.consume(ks.getKey(ScaleToken.ALIAS, null));
    bh.consume(ks.getCertificateChain(ScaleToken.ALIAS));
  }

  /** SunPKCS11's share of the cold path: a new KeyStore and load alone (HsmKit's load only logs in). */
  @Benchmark
  public KeyStore load() throws Exception {
    KeyStore ks = KeyStore.getInstance(type, jca);
    ks.load(null, pin);
    return ks;
  }

  /** Repeated look-up: getKey and getCertificateChain on a loaded KeyStore. */
  @Benchmark
  public void warm(Blackhole bh) throws Exception {
    bh.consume(loaded.getKey(ScaleToken.ALIAS, null));
    bh.consume(loaded.getCertificateChain(ScaleToken.ALIAS));
  }
}
