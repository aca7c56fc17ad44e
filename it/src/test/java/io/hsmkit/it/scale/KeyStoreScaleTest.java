package io.hsmkit.it.scale;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.it.support.HsmKitToken;
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
import io.hsmkit.pkcs11.testing.FaultShim;
import io.hsmkit.provider.HsmKitProvider;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

/**
 * The HsmKit KeyStore on a token with 10 objects and then with 10,000 (one token: SoftHSM2 reads
 * SOFTHSM2_CONF once per process, so the small token is measured first and then filled).
 *
 * <p>The provider talks to SoftHSM2 through the fault shim (no rules set), which counts native
 * calls: the test asserts that getKey and getCertificateChain return the stored entry at both
 * sizes, and that the number of C_FindObjectsInit calls, of a first look-up and of a repeated one,
 * does not depend on the number of objects. Times are printed, never asserted.
 *
 * <p>The filler objects are made straight through the binding, in several sessions in parallel:
 * a third CKO_DATA objects, a third labelled AES-256 secret keys, a third labelled X.509
 * certificate objects (all different labels and CKA_IDs).
 *
 * <p>System properties: {@code hsmkit.scale.objects} (default 10000), {@code hsmkit.scale.threads}
 * (default 4), {@code hsmkit.shim.library} (default ROOT/pkcs11-binding/target/native/libp11shim.so).
 */
class KeyStoreScaleTest {
  private static final String ALIAS = "target";
  private static final int SMALL = 10;
  private static final int LARGE = Integer.getInteger("hsmkit.scale.objects", 10_000);
  private static final int THREADS = Integer.getInteger("hsmkit.scale.threads", 4);
  private static final int REPEATS = 50;

  /** The shim's path: {@code hsmkit.shim.library}, else ROOT/pkcs11-binding/target/native/libp11shim.so. */
  static String shimPath() {
    String p = System.getProperty("hsmkit.shim.library");
    if (p == null || p.isBlank()) {
      String root = System.getProperty("hsmkit.root.dir");
      Path base = root != null ? Path.of(root) : io.hsmkit.pkcs11.testing.TestToken.rootDir();
      p = base.resolve("pkcs11-binding/target/native/libp11shim.so").toString();
    }
    if (!Files.isRegularFile(Path.of(p))) {
      throw new AssertionError("the fault shim " + p + " is missing: build it with the binding's tests "
          + "(`mvn -B -o -pl pkcs11-binding test-compile` compiles src/test/c/p11shim.c)");
    }
    System.setProperty("hsmkit.shim.library", p); // FaultShim.path() reads it
    return p;
  }

  /** What one measurement at one size gave. */
  record Measure(int objects, long loadNanos, long firstNanos, long repeatNanos, long firstFinds, double repeatFinds,
      double repeatCalls, long sunLoadNanos, long sunGetNanos) {
    String line() {
      return String.format(Locale.ROOT,
          "[scale] %6d objects: HsmKit load %.2f ms, first getKey+getCertificateChain %.2f ms (%d C_FindObjectsInit), "
              + "repeated %.3f ms (%.2f C_FindObjectsInit, %.1f PKCS#11 calls); SunPKCS11 load %.1f ms, then getKey+chain %.2f ms",
          objects, loadNanos / 1e6, firstNanos / 1e6, firstFinds, repeatNanos / 1e6, repeatFinds, repeatCalls,
          sunLoadNanos / 1e6, sunGetNanos / 1e6);
    }
  }

  @Test
  void lookUpsDoNotGrowWithTheObjectCount() throws Exception {
    HsmKitToken token = HsmKitToken.create("keystore-scale");
    String shim = shimPath();
    FaultShim counter = FaultShim.forLibrary(token.library());
    Path cfg = token.dir().resolve("hsmkit-shim.cfg");
    Files.writeString(cfg, "library = " + shim + "\ntokenLabel = \"" + token.label() + "\"\npin = file:" + token.pinFile() + "\n");
    HsmKitProvider hsmkit = new HsmKitProvider(cfg.toString());
    char[] pin = token.pin().toCharArray();

    // The entry: an EC key generated in the token, a self-signed certificate signed there, setKeyEntry.
    KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC", hsmkit);
    kpg.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair kp = kpg.generateKeyPair();
    X509Certificate cert = selfSigned("CN=target, O=HsmKit scale test", kp, hsmkit, "SHA256withECDSA");
    KeyStore writer = KeyStore.getInstance("HsmKit", hsmkit);
    writer.load(null, pin);
    writer.setKeyEntry(ALIAS, kp.getPrivate(), null, new Certificate[] {cert});

    // The binding, on the same library path (so the same loaded module and login as the provider).
    Pkcs11Module module = Pkcs11Module.open(shim);
    Slot slot = module.slotByTokenLabel(token.label()).orElseThrow();
    login(slot, pin);
    // A filler certificate: software key, not related to the entry.
    KeyPairGenerator soft = KeyPairGenerator.getInstance("EC", "SunEC");
    soft.initialize(new ECGenParameterSpec("secp256r1"));
    X509Certificate fillerCert = selfSigned("CN=filler, O=HsmKit scale test", soft.generateKeyPair(), null, "SHA256withECDSA");

    Provider sun = sunPkcs11(token);

    int have = countObjects(slot);
    assertThat(have).as("objects of the entry (private key, public key, certificate)").isEqualTo(3);
    fill(slot, have, SMALL, fillerCert, 1);
    assertThat(countObjects(slot)).isEqualTo(SMALL);
    Measure small = measure(hsmkit, sun, counter, pin, cert, SMALL);
    System.out.println(small.line());

    // Fill time: the same number of objects in one session, then in THREADS sessions, at about the
    // same token size, then the rest in THREADS sessions.
    int probe = Math.min(300, (LARGE - SMALL) / 3);
    long t0 = System.nanoTime();
    fill(slot, SMALL, SMALL + probe, fillerCert, 1);
    long t1 = System.nanoTime();
    fill(slot, SMALL + probe, SMALL + 2 * probe, fillerCert, THREADS);
    long t2 = System.nanoTime();
    fill(slot, SMALL + 2 * probe, LARGE, fillerCert, THREADS);
    long t3 = System.nanoTime();
    System.out.printf(Locale.ROOT, "[scale] fill: %d objects in 1 session %.2f ms/object, %d in %d sessions %.2f ms/object; "
            + "all %d objects in %.1f s%n",
        probe, (t1 - t0) / 1e6 / Math.max(1, probe), probe, THREADS, (t2 - t1) / 1e6 / Math.max(1, probe),
        LARGE - SMALL, (t3 - t0) / 1e9);
    assertThat(countObjects(slot)).isEqualTo(LARGE);

    Measure large = measure(hsmkit, sun, counter, pin, cert, LARGE);
    System.out.println(small.line());
    System.out.println(large.line());

    // Counts, not times: a first look-up makes the same few searches, a repeated one none at all.
    assertThat(large.firstFinds()).as("C_FindObjectsInit of a first look-up at %d objects", LARGE).isEqualTo(small.firstFinds());
    assertThat(large.repeatFinds()).as("C_FindObjectsInit per repeated look-up at %d objects", LARGE).isEqualTo(small.repeatFinds());
    assertThat(large.repeatFinds()).as("a repeated look-up is answered from the cache of handles").isZero();
    assertThat(large.repeatCalls()).as("PKCS#11 calls per repeated look-up").isEqualTo(small.repeatCalls());
  }

  private static Measure measure(Provider hsmkit, Provider sun, FaultShim counter, char[] pin, X509Certificate cert, int objects) throws Exception {
    // First look-up: a new KeyStore instance (nothing cached), load + getKey + getCertificateChain.
    counter.resetCounters();
    long a = System.nanoTime();
    KeyStore ks = KeyStore.getInstance("HsmKit", hsmkit);
    ks.load(null, pin);
    long b = System.nanoTime();
    check(ks, cert);
    long c = System.nanoTime();
    long firstFinds = counter.calls("C_FindObjectsInit");

    // Repeated look-ups on the same instance.
    check(ks, cert); // one more, untimed
    counter.resetCounters();
    long d = System.nanoTime();
    for (int i = 0; i < REPEATS; i++) {
      check(ks, cert);
    }
    long e = System.nanoTime();
    double repeatFinds = counter.calls("C_FindObjectsInit") / (double) REPEATS;
    double repeatCalls = counter.calls("*") / (double) REPEATS;

    // SunPKCS11 beside it: KeyStore.load lists the token; getKey then searches by CKA_ID.
    long f = System.nanoTime();
    KeyStore sks = KeyStore.getInstance("PKCS11", sun);
    sks.load(null, pin);
    long g = System.nanoTime();
    Key sk = sks.getKey(ALIAS, null);
    Certificate[] schain = sks.getCertificateChain(ALIAS);
    long h = System.nanoTime();
    assertThat(sk).as("SunPKCS11 sees the entry at %d objects", objects).isInstanceOf(PrivateKey.class);
    assertThat(schain).isNotNull();
    assertThat(schain[0]).isEqualTo(cert);
    return new Measure(objects, b - a, c - a, (e - d) / REPEATS, firstFinds, repeatFinds, repeatCalls, g - f, h - g);
  }

  private static void check(KeyStore ks, X509Certificate cert) throws Exception {
    Key k = ks.getKey(ALIAS, null);
    assertThat(k).isInstanceOf(PrivateKey.class);
    assertThat(k.getAlgorithm()).isEqualTo("EC");
    Certificate[] chain = ks.getCertificateChain(ALIAS);
    assertThat(chain).hasSize(1);
    assertThat(chain[0]).isEqualTo(cert);
  }

  static X509Certificate selfSigned(String dn, KeyPair kp, Provider signer, String alg) throws Exception {
    X500Name name = new X500Name(dn);
    long now = System.currentTimeMillis();
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, new BigInteger(64, new SecureRandom()).add(BigInteger.ONE),
        new Date(now - 3_600_000L), new Date(now + 86_400_000L), name, kp.getPublic());
    JcaContentSignerBuilder sb = new JcaContentSignerBuilder(alg);
    if (signer != null) {
      sb.setProvider(signer);
    }
    return new JcaX509CertificateConverter().getCertificate(b.build(sb.build(kp.getPrivate())));
  }

  private static void login(Slot slot, char[] pin) {
    try (Session s = slot.openSession(true)) {
      s.login(CKU.USER, pin);
    } catch (Pkcs11Exception e) {
      if (!e.is(CKR.USER_ALREADY_LOGGED_IN)) {
        throw e;
      }
    }
  }

  /** Token objects (the generator's session key pair is not counted). */
  private static int countObjects(Slot slot) {
    try (Session s = slot.openSession(false)) {
      return s.findObjects(Attribute.bool(CKA.TOKEN, true)).length;
    }
  }

  /** Makes filler objects number {@code from} to {@code to - 1} in {@code threads} sessions. */
  static void fill(Slot slot, int from, int to, X509Certificate cert, int threads) throws Exception {
    byte[] certDer = cert.getEncoded();
    byte[] subject = cert.getSubjectX500Principal().getEncoded();
    AtomicInteger next = new AtomicInteger(from);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> jobs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        jobs.add(pool.submit(() -> {
          try (Session s = slot.openSession(true)) {
            for (int i = next.getAndIncrement(); i < to; i = next.getAndIncrement()) {
              s.createObject(filler(i, certDer, subject));
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

  /** Filler object {@code i}: by i mod 3 a CKO_DATA object, a labelled AES-256 key, or a labelled certificate. */
  static Attribute[] filler(int i, byte[] certDer, byte[] subject) {
    byte[] id = ("filler-" + i).getBytes(StandardCharsets.US_ASCII);
    switch (i % 3) {
      case 0:
        return new Attribute[] {Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, false),
            Attribute.string(CKA.LABEL, "data-" + i), Attribute.bytes(CKA.VALUE, id)};
      case 1:
        byte[] raw = new byte[32];
        new SecureRandom().nextBytes(raw);
        return new Attribute[] {Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES),
            Attribute.bool(CKA.TOKEN, true), Attribute.string(CKA.LABEL, "aes-" + i), Attribute.bytes(CKA.ID, id),
            Attribute.bool(CKA.ENCRYPT, true), Attribute.bool(CKA.DECRYPT, true), Attribute.secret(CKA.VALUE, raw)};
      default:
        return new Attribute[] {Attribute.ulong(CKA.CLASS, CKO.CERTIFICATE), Attribute.ulong(CKA.CERTIFICATE_TYPE, CKC.X_509),
            Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, false), Attribute.string(CKA.LABEL, "cert-" + i),
            Attribute.bytes(CKA.ID, id), Attribute.bytes(CKA.SUBJECT, subject), Attribute.bytes(CKA.VALUE, certDer)};
    }
  }

  /** SunPKCS11 on the same token (the real library, same SoftHSM2 instance in this process). */
  private static Provider sunPkcs11(HsmKitToken token) {
    String cfg = "--name=scale\nlibrary=" + token.library() + "\nslot=" + token.testToken().slotId() + "\n";
    return Security.getProvider("SunPKCS11").configure(cfg);
  }
}
