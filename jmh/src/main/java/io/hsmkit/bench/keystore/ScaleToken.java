package io.hsmkit.bench.keystore;

import com.sun.jna.Library;
import com.sun.jna.Native;
import io.hsmkit.bench.BenchToken;
import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.Slot;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKC;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.constants.CKU;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.provider.HsmKitProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A SoftHSM2 token holding {@code objects} token objects, made once and reused by every fork: the
 * entry {@value #ALIAS} (an EC P-256 private key, its public key and a self-signed certificate,
 * one CKA_ID, label "target", stored through the HsmKit KeyStore so that SunPKCS11 sees it too),
 * and filler objects made straight through the binding in parallel sessions: by i mod 3 a
 * CKO_DATA object, a labelled AES-256 secret key, a labelled X.509 certificate object.
 *
 * <p>The token lives in {@code <base>/objects-<n>} ({@code base}: {@code hsmkit.bench.scaleBase},
 * else ROOT/jmh/target/keystore-scale); {@code scale.properties} there says it is complete.
 * SoftHSM2 reads SOFTHSM2_CONF once per process, so each token is made in its own process
 * ({@link KeyStoreScaleRuns} starts one) and each fork opens one token.
 */
public final class ScaleToken {
  public static final String ALIAS = "target";
  static final String LABEL = "hsmkit-scale";
  private static final String PASS = "changeit";

  private final Path dir;
  private final Map<String, String> values;

  private ScaleToken(Path dir, Map<String, String> values) {
    this.dir = dir;
    this.values = values;
  }

  public static Path base() {
    String p = System.getProperty("hsmkit.bench.scaleBase");
    return p != null && !p.isBlank() ? Path.of(p).toAbsolutePath() : BenchToken.rootDir().resolve("jmh/target/keystore-scale");
  }

  public static Path dir(int objects) {
    return base().resolve("objects-" + objects);
  }

  /** True when {@code dir(objects)} holds a complete token of that size. */
  public static boolean ready(int objects) {
    Path p = dir(objects).resolve("scale.properties");
    if (!Files.isRegularFile(p)) {
      return false;
    }
    Properties pr = new Properties();
    try (InputStream in = Files.newInputStream(p)) {
      pr.load(in);
    } catch (IOException e) {
      return false;
    }
    return String.valueOf(objects).equals(pr.getProperty("objects"));
  }

  /** Opens the prepared token of {@code objects} objects and points SOFTHSM2_CONF at it (before the library loads). */
  public static ScaleToken open(int objects) {
    if (!ready(objects)) {
      throw new IllegalStateException("no prepared token in " + dir(objects) + ": run io.hsmkit.bench.keystore.KeyStoreScaleRuns first");
    }
    return makeToken(dir(objects), false);
  }

  private static ScaleToken makeToken(Path dir, boolean force) {
    List<String> cmd = new ArrayList<>(List.of(BenchToken.rootDir().resolve("softhsm-config/make-token.sh").toString(),
        "--dir", dir.resolve("token").toString(), "--label", LABEL));
    if (force) {
      cmd.add("--force");
    }
    Map<String, String> v = parse(run(cmd));
    setenv("SOFTHSM2_CONF", v.get("SOFTHSM2_CONF"));
    return new ScaleToken(dir, v);
  }

  public String library() {
    return values.get("HSMKIT_PKCS11_LIBRARY");
  }

  public long slotId() {
    return Long.parseLong(values.get("HSMKIT_SLOT_ID"));
  }

  public char[] pin() {
    return values.get("HSMKIT_USER_PIN").toCharArray();
  }

  /** SunPKCS11 configured with name, library and slot (not logged in: KeyStore.load does that). */
  public Provider sunPkcs11() {
    String cfg = "--name=scale\nlibrary=" + library() + "\nslot=" + slotId() + "\n";
    return Security.getProvider("SunPKCS11").configure(cfg);
  }

  /** HsmKit configured with library, tokenLabel and the PIN file. */
  public Provider hsmKit() {
    Path pinFile = dir.resolve("user.pin");
    try {
      if (!Files.exists(pinFile)) {
        Files.createFile(pinFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(pinFile, new String(pin()), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new HsmKitProvider("--library=\"" + library() + "\" tokenLabel=\"" + LABEL + "\" pin=\"file:" + pinFile + "\"");
  }

  // ------------------------------------------------------------------ preparing (its own process)

  /** Makes the token of {@code objects} objects in {@code dir(objects)}; prints the fill time. */
  public static void prepare(int objects, int threads) throws Exception {
    Path dir = dir(objects);
    Files.createDirectories(dir);
    Files.deleteIfExists(dir.resolve("scale.properties"));
    Files.deleteIfExists(dir.resolve("user.pin"));
    ScaleToken t = makeToken(dir, true);

    // Key pairs and self-signed certificates from keytool (no certificate builder on this class path).
    Path p12 = dir.resolve("source.p12");
    Files.deleteIfExists(p12);
    for (String alias : new String[] {ALIAS, "filler"}) {
      run(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair", "-alias", alias,
          "-keyalg", "EC", "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA", "-dname", "CN=" + alias + ", O=HsmKit scale bench",
          "-validity", "3650", "-keystore", p12.toString(), "-storetype", "PKCS12", "-storepass", PASS, "-keypass", PASS));
    }
    KeyStore src = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(p12)) {
      src.load(in, PASS.toCharArray());
    }
    X509Certificate filler = (X509Certificate) src.getCertificate("filler");

    // SunPKCS11 first, as in the forks; then HsmKit stores the entry (key imported into the token).
    Provider sun = t.sunPkcs11();
    KeyStore sks = KeyStore.getInstance("PKCS11", sun);
    sks.load(null, t.pin());
    Provider hsmkit = t.hsmKit();
    KeyStore ks = KeyStore.getInstance("HsmKit", hsmkit);
    ks.load(null, t.pin());
    ks.setKeyEntry(ALIAS, (PrivateKey) src.getKey(ALIAS, PASS.toCharArray()), null, src.getCertificateChain(ALIAS));

    Pkcs11Module module = Pkcs11Module.open(t.library());
    Slot slot = module.slotByTokenLabel(LABEL).orElseThrow();
    try (Session s = slot.openSession(true)) {
      s.login(CKU.USER, t.pin());
    } catch (Pkcs11Exception e) {
      if (!e.is(CKR.USER_ALREADY_LOGGED_IN)) {
        throw e;
      }
    }
    int have = count(slot);
    long t0 = System.nanoTime();
    fill(slot, have, objects, filler, threads);
    long t1 = System.nanoTime();
    int now = count(slot);
    if (now != objects) {
      throw new IllegalStateException("the token holds " + now + " objects, not " + objects);
    }
    // Both providers must see the entry.
    if (!(ks.getKey(ALIAS, null) instanceof PrivateKey) || ks.getCertificateChain(ALIAS) == null) {
      throw new IllegalStateException("HsmKit does not see " + ALIAS);
    }
    KeyStore check = KeyStore.getInstance("PKCS11", sun);
    check.load(null, t.pin());
    if (!(check.getKey(ALIAS, null) instanceof PrivateKey) || check.getCertificateChain(ALIAS) == null) {
      throw new IllegalStateException("SunPKCS11 does not see " + ALIAS);
    }
    String line = String.format(Locale.ROOT, "%d filler objects in %d sessions: %.1f s (%.2f ms/object)",
        objects - have, threads, (t1 - t0) / 1e9, (t1 - t0) / 1e6 / Math.max(1, objects - have));
    System.out.println("prepared " + dir + ": " + line);
    Properties pr = new Properties();
    pr.setProperty("objects", String.valueOf(objects));
    pr.setProperty("fill", line);
    try (var out = Files.newOutputStream(dir.resolve("scale.properties"))) {
      pr.store(out, "KeyStoreScale token");
    }
  }

  /** The fill line written by {@link #prepare}, or "" */
  static String fillLine(int objects) {
    Properties pr = new Properties();
    try (InputStream in = Files.newInputStream(dir(objects).resolve("scale.properties"))) {
      pr.load(in);
    } catch (IOException e) {
      return "";
    }
    return pr.getProperty("fill", "");
  }

  private static int count(Slot slot) {
    try (Session s = slot.openSession(false)) {
      return s.findObjects(Attribute.bool(CKA.TOKEN, true)).length;
    }
  }

  static void fill(Slot slot, int from, int to, X509Certificate cert, int threads) throws Exception {
    byte[] der = cert.getEncoded();
    byte[] subject = cert.getSubjectX500Principal().getEncoded();
    AtomicInteger next = new AtomicInteger(from);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> jobs = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        jobs.add(pool.submit(() -> {
          SecureRandom rnd = new SecureRandom();
          try (Session s = slot.openSession(true)) {
            for (int n = next.getAndIncrement(); n < to; n = next.getAndIncrement()) {
              s.createObject(filler(n, der, subject, rnd));
            }
          }
          return null;
        }));
      }
      for (Future<?> f : jobs) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static Attribute[] filler(int i, byte[] der, byte[] subject, SecureRandom rnd) {
    byte[] id = ("filler-" + i).getBytes(StandardCharsets.US_ASCII);
    switch (i % 3) {
      case 0:
        return new Attribute[] {Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, false),
            Attribute.string(CKA.LABEL, "data-" + i), Attribute.bytes(CKA.VALUE, id)};
      case 1:
        byte[] raw = new byte[32];
        rnd.nextBytes(raw);
        return new Attribute[] {Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES),
            Attribute.bool(CKA.TOKEN, true), Attribute.string(CKA.LABEL, "aes-" + i), Attribute.bytes(CKA.ID, id),
            Attribute.bool(CKA.ENCRYPT, true), Attribute.bool(CKA.DECRYPT, true), Attribute.secret(CKA.VALUE, raw)};
      default:
        return new Attribute[] {Attribute.ulong(CKA.CLASS, CKO.CERTIFICATE), Attribute.ulong(CKA.CERTIFICATE_TYPE, CKC.X_509),
            Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, false), Attribute.string(CKA.LABEL, "cert-" + i),
            Attribute.bytes(CKA.ID, id), Attribute.bytes(CKA.SUBJECT, subject), Attribute.bytes(CKA.VALUE, der)};
    }
  }

  // ------------------------------------------------------------------ processes and environment

  static String run(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).start();
      CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> {
        try {
          return p.getErrorStream().readAllBytes();
        } catch (IOException e) {
          return new byte[0];
        }
      });
      byte[] out = p.getInputStream().readAllBytes();
      boolean done = p.waitFor(300, TimeUnit.SECONDS);
      if (!done || p.exitValue() != 0) {
        p.destroy();
        throw new IllegalStateException(cmd.get(0) + " failed: " + new String(err.join(), StandardCharsets.UTF_8).strip());
      }
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static Map<String, String> parse(String text) {
    Map<String, String> v = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      int eq = line.indexOf('=');
      if (eq <= 0) {
        continue;
      }
      String val = line.substring(eq + 1);
      if (val.startsWith("'") && val.endsWith("'") && val.length() >= 2) {
        val = val.substring(1, val.length() - 1).replace("'\\''", "'");
      }
      v.put(line.substring(0, eq), val);
    }
    return v;
  }

  private interface LibC extends Library {
    int setenv(String name, String value, int overwrite);
  }

  static void setenv(String name, String value) {
    if (Native.load("c", LibC.class).setenv(name, value, 1) != 0) {
      throw new IllegalStateException("setenv " + name + " failed");
    }
  }
}
