package io.hsmkit.provider.signature;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.session.PoolStats;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.internal.Curves;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmEcPrivateKey;
import io.hsmkit.provider.keys.HsmKeys;
import io.hsmkit.provider.keys.HsmPublicKey;
import io.hsmkit.provider.testing.ProviderFixture;
import java.nio.ByteBuffer;
import java.security.AlgorithmParameters;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.ProviderException;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.SignatureException;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Signatures made in the token verify with the JDK's SunEC and SunRsaSign and the other way round;
 * chunked updates equal one-shot; bad signatures are false; keys of the wrong kind and of another
 * provider instance are refused with InvalidKeyException, software keys handed to HsmKit are used
 * by the JDK; JCA's delayed provider selection sends HsmKit keys to HsmKit and JDK keys to the JDK; the token-hash path (the
 * fallback for tokens without raw RSA) streams long messages and gives the same signatures; and
 * no session is leaked, held or thrown away.
 */
class SignatureInteropTest {
  static ProviderFixture fx;
  static HsmKitProvider p;
  static TokenContext ctx;
  /** Same token, CKM_RSA_PKCS and CKM_RSA_PKCS_PSS disabled: RSA goes through CKM_SHA*_RSA_PKCS(_PSS). */
  static HsmKitProvider tokenHash;
  static SignatureKeys.Pair p256;
  static SignatureKeys.Pair p384;
  static SignatureKeys.Pair rsa;
  static SignatureKeys.Pair ed;
  static SignatureKeys.Pair generated;

  static final PSSParameterSpec PSS256 = new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1);

  @BeforeAll
  static void setUp() throws Exception {
    fx = ProviderFixture.create("SignatureInteropTest");
    p = fx.provider();
    ctx = p.tokenContext();
    p256 = SignatureKeys.ecP256(ctx);
    p384 = SignatureKeys.ecP384(ctx);
    rsa = SignatureKeys.rsa2048(ctx);
    ed = SignatureKeys.ed25519(ctx);
    generated = SignatureKeys.tokenGeneratedP256(ctx);
    tokenHash = SignatureKeys.sibling(fx.configFile, "tokenhash", "name = tokenhash", "disabledMechanisms = { CKM_RSA_PKCS CKM_RSA_PKCS_PSS }");
  }

  @AfterAll
  static void tearDown() throws Exception {
    System.gc();
    Thread.sleep(200); // let the pool's Cleaner report any lease that was dropped
    for (HsmKitProvider x : new HsmKitProvider[] {p, tokenHash}) {
      if (x != null) {
        PoolStats st = x.tokenContext().pool().stats();
        x.tokenContext().close();
        assertThat(st.borrowed()).as(x.getName() + " sessions still borrowed").isZero();
        assertThat(st.leaked()).as(x.getName() + " sessions leaked").isZero();
      }
    }
  }

  // ------------------------------------------------------------------ cases

  /** An algorithm, its key, the JDK name and parameters that verify the same signatures. */
  record Case(String name, String family, String jdkName, AlgorithmParameterSpec spec, boolean deterministic) {
    SignatureKeys.Pair pair() {
      return switch (family) {
        case "P-256" -> p256;
        case "P-384" -> p384;
        case "RSA" -> rsa;
        default -> ed;
      };
    }

    @Override
    public String toString() {
      return name + " (" + family + ")";
    }
  }

  static List<Case> cases() {
    PSSParameterSpec pss384 = new PSSParameterSpec("SHA-384", "MGF1", MGF1ParameterSpec.SHA384, 48, 1);
    PSSParameterSpec pss512 = new PSSParameterSpec("SHA-512", "MGF1", MGF1ParameterSpec.SHA512, 64, 1);
    return List.of(
        new Case("SHA1withECDSA", "P-256", "SHA1withECDSA", null, false),
        new Case("SHA224withECDSA", "P-256", "SHA224withECDSA", null, false),
        new Case("SHA256withECDSA", "P-256", "SHA256withECDSA", null, false),
        new Case("SHA384withECDSA", "P-384", "SHA384withECDSA", null, false),
        new Case("SHA512withECDSA", "P-256", "SHA512withECDSA", null, false),
        new Case("SHA512withECDSA", "P-384", "SHA512withECDSA", null, false),
        new Case("SHA256withECDSAinP1363Format", "P-256", "SHA256withECDSAinP1363Format", null, false),
        new Case("SHA384withECDSAinP1363Format", "P-384", "SHA384withECDSAinP1363Format", null, false),
        new Case("SHA512withECDSAinP1363Format", "P-256", "SHA512withECDSAinP1363Format", null, false),
        new Case("SHA1withRSA", "RSA", "SHA1withRSA", null, true),
        new Case("SHA224withRSA", "RSA", "SHA224withRSA", null, true),
        new Case("SHA256withRSA", "RSA", "SHA256withRSA", null, true),
        new Case("SHA384withRSA", "RSA", "SHA384withRSA", null, true),
        new Case("SHA512withRSA", "RSA", "SHA512withRSA", null, true),
        new Case("RSASSA-PSS", "RSA", "RSASSA-PSS", PSS256, false),
        new Case("SHA256withRSA/PSS", "RSA", "RSASSA-PSS", PSS256, false),
        new Case("SHA384withRSA/PSS", "RSA", "RSASSA-PSS", pss384, false),
        new Case("SHA512withRSA/PSS", "RSA", "RSASSA-PSS", pss512, false),
        new Case("Ed25519", "Ed25519", "Ed25519", null, true),
        new Case("EdDSA", "Ed25519", "Ed25519", null, true));
  }

  static Signature hsm(Case c) throws Exception {
    Signature s = Signature.getInstance(c.name(), p);
    assertThat(s.getProvider()).isSameAs(p);
    return s;
  }

  static Signature jdk(Case c) throws Exception {
    return Signature.getInstance(c.jdkName());
  }

  /** initSign or initVerify, then the parameters (the order JSSE's helpers use). */
  static void initSign(Signature s, PrivateKey k, AlgorithmParameterSpec spec) throws Exception {
    s.initSign(k);
    if (spec != null) {
      s.setParameter(spec);
    }
  }

  static void initVerify(Signature s, PublicKey k, AlgorithmParameterSpec spec) throws Exception {
    s.initVerify(k);
    if (spec != null) {
      s.setParameter(spec);
    }
  }

  static byte[] sign(Signature s, PrivateKey k, AlgorithmParameterSpec spec, byte[] msg) throws Exception {
    initSign(s, k, spec);
    s.update(msg);
    return s.sign();
  }

  static boolean verify(Signature s, PublicKey k, AlgorithmParameterSpec spec, byte[] msg, byte[] sig) throws Exception {
    initVerify(s, k, spec);
    s.update(msg);
    return s.verify(sig);
  }

  static byte[] message(int n, long seed) {
    byte[] m = new byte[n];
    new Random(seed).nextBytes(m);
    return m;
  }

  static byte[] flipLastBit(byte[] b) {
    byte[] c = b.clone();
    c[c.length - 1] ^= 1;
    return c;
  }

  // ------------------------------------------------------------------ interoperability

  @ParameterizedTest
  @MethodSource("cases")
  void tokenSignsAndJdkVerifies(Case c) throws Exception {
    byte[] msg = message(1000, 1);
    Signature hsm = hsm(c);
    byte[] sig = sign(hsm, c.pair().priv(), c.spec(), msg);
    // The same object signs again after sign() reset it.
    hsm.update(msg);
    byte[] again = hsm.sign();
    Signature jdk = jdk(c);
    assertThat(verify(jdk, c.pair().jdk().getPublic(), c.spec(), msg, sig)).isTrue();
    assertThat(verify(jdk, c.pair().jdk().getPublic(), c.spec(), msg, again)).isTrue();
    if (c.deterministic()) {
      assertThat(again).isEqualTo(sig);
      assertThat(sig).isEqualTo(sign(jdk(c), c.pair().jdk().getPrivate(), c.spec(), msg));
    }
    assertThat(verify(jdk, c.pair().jdk().getPublic(), c.spec(), msg, flipLastBit(sig))).isFalse();
  }

  @ParameterizedTest
  @MethodSource("cases")
  void jdkSignsAndTokenVerifies(Case c) throws Exception {
    byte[] msg = message(1000, 2);
    byte[] sig = sign(jdk(c), c.pair().jdk().getPrivate(), c.spec(), msg);
    Signature hsm = hsm(c);
    // With the token's public key: C_Verify in the token.
    assertThat(verify(hsm, c.pair().pub(), c.spec(), msg, sig)).isTrue();
    assertThat(verify(hsm, c.pair().pub(), c.spec(), msg, flipLastBit(sig))).as("flipped signature bit").isFalse();
    byte[] other = msg.clone();
    other[0] ^= 0x40;
    assertThat(verify(hsm, c.pair().pub(), c.spec(), other, sig)).as("flipped message bit").isFalse();
    // With the software public key given to HsmKit explicitly: the JDK verifies.
    assertThat(verify(hsm, c.pair().jdk().getPublic(), c.spec(), msg, sig)).isTrue();
    assertThat(verify(hsm, c.pair().jdk().getPublic(), c.spec(), msg, flipLastBit(sig))).isFalse();
  }

  @Test
  void tokenGeneratedKeySignsForTheJdk() throws Exception {
    byte[] msg = message(77, 3);
    Signature s = Signature.getInstance("SHA256withECDSA", p);
    byte[] sig = sign(s, generated.priv(), null, msg);
    assertThat(verify(Signature.getInstance("SHA256withECDSA", "SunEC"), generated.jdk().getPublic(), null, msg, sig)).isTrue();
    assertThat(verify(s, generated.pub(), null, msg, sig)).isTrue();
    assertThat(generated.priv()).isInstanceOf(HsmEcPrivateKey.class);
    assertThat(generated.priv().getEncoded()).isNull();
  }

  @Test
  void rawVariantsSignWhatTheCallerHashed() throws Exception {
    byte[] msg = message(500, 4);
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(msg);
    // NONEwithECDSA over a SHA-256 digest is SHA256withECDSA over the message.
    Signature none = Signature.getInstance("NONEwithECDSA", p);
    byte[] sig = sign(none, p256.priv(), null, digest);
    assertThat(verify(Signature.getInstance("SHA256withECDSA", "SunEC"), p256.jdk().getPublic(), null, msg, sig)).isTrue();
    assertThat(verify(none, p256.pub(), null, digest, sig)).isTrue();
    initSign(none, p256.priv(), null);
    assertThatThrownBy(() -> none.update(new byte[65])).isInstanceOf(SignatureException.class).hasMessageContaining("64");
    // NONEwithRSA over a DigestInfo is SHA256withRSA over the message.
    byte[] digestInfo = HexFormat.of().parseHex("3031300d060960864801650304020105000420");
    byte[] di = Arrays.copyOf(digestInfo, digestInfo.length + 32);
    System.arraycopy(digest, 0, di, digestInfo.length, 32);
    Signature noneRsa = Signature.getInstance("NONEwithRSA", p);
    byte[] rsaSig = sign(noneRsa, rsa.priv(), null, di);
    assertThat(rsaSig).isEqualTo(sign(Signature.getInstance("SHA256withRSA", "SunRsaSign"), rsa.jdk().getPrivate(), null, msg));
    assertThat(verify(noneRsa, rsa.pub(), null, di, rsaSig)).isTrue();
    // Software keys: the JDK has no NONEwithRSA Signature; HsmKit uses the JDK's RSA Cipher.
    assertThat(verify(noneRsa, rsa.jdk().getPublic(), null, di, rsaSig)).isTrue();
    assertThat(sign(noneRsa, rsa.jdk().getPrivate(), null, di)).isEqualTo(rsaSig);
    assertThat(verify(noneRsa, rsa.jdk().getPublic(), null, di, flipLastBit(rsaSig))).isFalse();
    assertThat(verify(noneRsa, rsa.jdk().getPublic(), null, flipLastBit(di), rsaSig)).isFalse();
    assertThat(verify(none, p256.jdk().getPublic(), null, digest, sig)).isTrue();
    initSign(noneRsa, rsa.priv(), null);
    assertThatThrownBy(() -> noneRsa.update(new byte[256 - 10])).isInstanceOf(SignatureException.class);
  }

  // ------------------------------------------------------------------ chunking

  /** Feeds {@code msg} in odd chunks, through every update form. */
  static void feedOddly(Signature s, byte[] msg) throws Exception {
    int[] sizes = {1, 7, 13, 4099, 1, 65_537, 333};
    int off = 0;
    int i = 0;
    while (off < msg.length) {
      int n = Math.min(sizes[i % sizes.length], msg.length - off);
      switch (i % 3) {
        case 0 -> {
          if (n == 1) {
            s.update(msg[off]);
          } else {
            s.update(msg, off, n);
          }
        }
        case 1 -> s.update(ByteBuffer.wrap(msg, off, n));
        default -> {
          ByteBuffer d = ByteBuffer.allocateDirect(n);
          d.put(msg, off, n).flip();
          s.update(d);
        }
      }
      off += n;
      i++;
    }
  }

  @ParameterizedTest
  @MethodSource("cases")
  void oddChunksEqualOneShot(Case c) throws Exception {
    byte[] msg = message(200_000, 5); // beyond the 64 KiB buffering threshold
    Signature hsm = hsm(c);
    initSign(hsm, c.pair().priv(), c.spec());
    feedOddly(hsm, msg);
    byte[] chunked = hsm.sign();
    byte[] oneShot = sign(hsm, c.pair().priv(), c.spec(), msg);
    if (c.deterministic()) {
      assertThat(chunked).isEqualTo(oneShot);
    }
    assertThat(verify(jdk(c), c.pair().jdk().getPublic(), c.spec(), msg, chunked)).isTrue();
    initVerify(hsm, c.pair().pub(), c.spec());
    feedOddly(hsm, msg);
    assertThat(hsm.verify(oneShot)).isTrue();
  }

  // ------------------------------------------------------------------ the token-hash path

  static Stream<String> tokenHashNames() {
    return Stream.of("SHA1withRSA", "SHA256withRSA", "SHA512withRSA", "RSASSA-PSS", "SHA384withRSA/PSS");
  }

  @ParameterizedTest
  @MethodSource("tokenHashNames")
  void tokenHashPathStreamsAndMatchesJavaHashing(String name) throws Exception {
    TokenContext t2 = tokenHash.tokenContext();
    assertThat(t2.has(CKM.RSA_PKCS)).isFalse();
    SignatureKeys.Pair k = SignatureKeys.imported(t2, "RSA", rsa.jdk());
    Case c = cases().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
    Signature s = Signature.getInstance(name, tokenHash);
    long discarded = t2.pool().stats().discarded();
    for (int size : new int[] {0, 1000, 200_000}) {
      byte[] msg = message(size, size);
      initSign(s, k.priv(), c.spec());
      feedOddly(s, msg);
      if (size > 64 * 1024) {
        assertThat(t2.pool().stats().borrowed()).as("streaming holds a session").isEqualTo(1);
      }
      byte[] sig = s.sign();
      assertThat(t2.pool().stats().borrowed()).isZero();
      assertThat(verify(jdk(c), k.jdk().getPublic(), c.spec(), msg, sig)).as(name + " " + size).isTrue();
      if (c.deterministic()) {
        assertThat(sig).isEqualTo(sign(hsm(c), rsa.priv(), null, msg)); // same as Java hashing + CKM_RSA_PKCS
      }
      initVerify(s, k.pub(), c.spec());
      feedOddly(s, msg);
      assertThat(s.verify(sig)).isTrue();
      initVerify(s, k.pub(), c.spec());
      feedOddly(s, msg);
      assertThat(s.verify(flipLastBit(sig))).isFalse();
      // A streamed operation given up by a new init is finished, not left for the pool to close.
      initSign(s, k.priv(), c.spec());
      s.update(msg);
      initVerify(s, k.pub(), c.spec());
      s.update(msg);
      initVerify(s, k.pub(), c.spec());
      assertThat(t2.pool().stats().borrowed()).isZero();
    }
    assertThat(t2.pool().stats().discarded()).as("sessions closed because an operation was left active").isEqualTo(discarded);
    // No raw RSA: NONEwithRSA is not offered by this provider.
    assertThatThrownBy(() -> Signature.getInstance("NONEwithRSA", tokenHash)).isInstanceOf(NoSuchAlgorithmException.class);
  }

  // ------------------------------------------------------------------ keys refused

  @Test
  void wrongKeyTypeIsInvalidKey() throws Exception {
    assertThatThrownBy(() -> Signature.getInstance("SHA256withECDSA", p).initSign(rsa.priv()))
        .isInstanceOf(InvalidKeyException.class).hasMessageContaining("EC key");
    assertThatThrownBy(() -> Signature.getInstance("SHA256withRSA", p).initSign(p256.priv()))
        .isInstanceOf(InvalidKeyException.class).hasMessageContaining("RSA key");
    assertThatThrownBy(() -> Signature.getInstance("Ed25519", p).initSign(p256.priv()))
        .isInstanceOf(InvalidKeyException.class).hasMessageContaining("Ed25519 key");
    assertThatThrownBy(() -> Signature.getInstance("RSASSA-PSS", p).initVerify(ed.pub()))
        .isInstanceOf(InvalidKeyException.class);
    assertThatThrownBy(() -> Signature.getInstance("SHA256withECDSA", p).initVerify(rsa.jdk().getPublic()))
        .as("a software key of the wrong type, for the JDK verifier").isInstanceOf(InvalidKeyException.class);
  }

  @ParameterizedTest
  @MethodSource("cases")
  void softwareKeysGivenToHsmKitAreUsedByTheJdk(Case c) throws Exception {
    byte[] msg = message(300, 8);
    Signature hsm = hsm(c);
    byte[] sig = sign(hsm, c.pair().jdk().getPrivate(), c.spec(), msg);
    assertThat(verify(jdk(c), c.pair().jdk().getPublic(), c.spec(), msg, sig)).isTrue();
    assertThat(verify(hsm, c.pair().pub(), c.spec(), msg, sig)).as("and the token agrees").isTrue();
  }

  @Test
  void parametersBeforeInitBindHsmKitAndSoftwareKeysStillWork() throws Exception {
    // JCA binds the first provider when parameters come before the key; HsmKit must then serve
    // software keys too (through the JDK), or callers that set parameters first would break.
    Security.insertProviderAt(p, 1);
    try {
      Signature s = Signature.getInstance("RSASSA-PSS");
      s.setParameter(PSS256);
      assertThat(s.getProvider()).isSameAs(p);
      s.initSign(rsa.jdk().getPrivate());
      s.update(new byte[9]);
      byte[] sig = s.sign();
      assertThat(verify(Signature.getInstance("RSASSA-PSS", "SunRsaSign"), rsa.jdk().getPublic(), PSS256, new byte[9], sig)).isTrue();
      s.initVerify(rsa.jdk().getPublic());
      s.update(new byte[9]);
      assertThat(s.verify(sig)).isTrue();
      assertThat(s.getParameters().getParameterSpec(PSSParameterSpec.class).getSaltLength()).isEqualTo(32);
    } finally {
      Security.removeProvider(p.getName());
    }
  }

  @Test
  void keyOfAnotherProviderInstanceIsInvalidKey() throws Exception {
    HsmKitProvider second = fx.provider(); // same configuration, same token, another instance
    try {
      SignatureKeys.Pair k = SignatureKeys.imported(second.tokenContext(), "EC", p256.jdk());
      assertThatThrownBy(() -> Signature.getInstance("SHA256withECDSA", p).initSign(k.priv()))
          .isInstanceOf(InvalidKeyException.class).hasMessageContaining("another token");
      assertThatThrownBy(() -> Signature.getInstance("SHA256withECDSA", p).initVerify(k.pub()))
          .isInstanceOf(InvalidKeyException.class).hasMessageContaining("another token");
      // ... and its own instance takes it.
      Signature s = Signature.getInstance("SHA256withECDSA", second);
      byte[] sig = sign(s, k.priv(), null, new byte[10]);
      assertThat(verify(Signature.getInstance("SHA256withECDSA", "SunEC"), p256.jdk().getPublic(), null, new byte[10], sig)).isTrue();
      assertThat(second.tokenContext().pool().stats().borrowed()).isZero();
    } finally {
      second.tokenContext().close();
    }
  }

  @Test
  void delayedSelectionSendsHsmKeysToHsmKitAndJdkKeysToTheJdk() throws Exception {
    Security.insertProviderAt(p, 1);
    try {
      Signature a = Signature.getInstance("SHA256withECDSA");
      a.initSign(p256.priv());
      assertThat(a.getProvider()).isSameAs(p);
      a.update(new byte[3]);
      byte[] sig = a.sign();

      Signature b = Signature.getInstance("SHA256withECDSA");
      b.initSign(p256.jdk().getPrivate());
      assertThat(b.getProvider().getName()).isEqualTo("SunEC");

      Signature v = Signature.getInstance("SHA256withECDSA");
      v.initVerify(p256.jdk().getPublic());
      assertThat(v.getProvider().getName()).isEqualTo("SunEC");
      v.update(new byte[3]);
      assertThat(v.verify(sig)).isTrue();

      Signature r = Signature.getInstance("SHA256withRSA");
      r.initSign(rsa.jdk().getPrivate());
      assertThat(r.getProvider().getName()).isEqualTo("SunRsaSign");
      Signature r2 = Signature.getInstance("SHA256withRSA");
      r2.initSign(rsa.priv());
      assertThat(r2.getProvider()).isSameAs(p);

      // TLS 1.3's RSASSA-PSS, parameters after init.
      Signature pss = Signature.getInstance("RSASSA-PSS");
      pss.initSign(rsa.priv());
      pss.setParameter(PSS256);
      assertThat(pss.getProvider()).isSameAs(p);
      pss.update(new byte[5]);
      byte[] pssSig = pss.sign();
      assertThat(verify(Signature.getInstance("RSASSA-PSS", "SunRsaSign"), rsa.jdk().getPublic(), PSS256, new byte[5], pssSig)).isTrue();

      Signature e = Signature.getInstance("Ed25519");
      e.initSign(ed.jdk().getPrivate());
      assertThat(e.getProvider().getName()).isEqualTo("SunEC");
      // By OID alias, as X.509 code may ask.
      Signature o = Signature.getInstance("1.2.840.10045.4.3.2");
      o.initSign(p256.priv());
      assertThat(o.getProvider()).isSameAs(p);
    } finally {
      Security.removeProvider(p.getName());
    }
  }

  // ------------------------------------------------------------------ encodings and parameters

  @Test
  void malformedDerIsAnExceptionOutOfRangeIsFalse() throws Exception {
    byte[] msg = message(50, 6);
    Signature s = Signature.getInstance("SHA256withECDSA", p);
    byte[] sig = sign(s, p256.priv(), null, msg);
    byte[] trailing = Arrays.copyOf(sig, sig.length + 1);
    initVerify(s, p256.pub(), null);
    s.update(msg);
    assertThatThrownBy(() -> s.verify(trailing)).isInstanceOf(SignatureException.class).hasMessageContaining("Invalid encoding");
    // The object is reset after the exception and verifies again.
    s.update(msg);
    assertThat(s.verify(sig)).isTrue();
    // r with 33 significant bytes: well formed, cannot be a P-256 signature.
    byte[] big = HexFormat.of().parseHex("302702220100" + "11".repeat(32) + "020101");
    assertThat(verify(s, p256.pub(), null, msg, big)).isFalse();
    // P1363 of the wrong length is false.
    Signature q = Signature.getInstance("SHA256withECDSAinP1363Format", p);
    byte[] rs = sign(q, p256.priv(), null, msg);
    assertThat(rs).hasSize(64);
    assertThat(verify(q, p256.pub(), null, msg, Arrays.copyOf(rs, 63))).isFalse();
    assertThat(verify(q, p256.pub(), null, msg, rs)).isTrue();
    // The token's r||s becomes the JDK's DER: SunEC's P1363 verifier takes the same r||s.
    assertThat(verify(Signature.getInstance("SHA256withECDSAinP1363Format", "SunEC"), p256.jdk().getPublic(), null, msg, rs)).isTrue();
  }

  @Test
  void pssParametersBehaveAsInTheJdk() throws Exception {
    Signature s = Signature.getInstance("RSASSA-PSS", p);
    s.initSign(rsa.priv());
    assertThat(s.getParameters()).isNull();
    assertThatThrownBy(() -> s.update(new byte[1])).isInstanceOf(SignatureException.class).hasMessageContaining("Parameters required");
    s.setParameter(PSS256);
    AlgorithmParameters ap = s.getParameters();
    PSSParameterSpec back = ap.getParameterSpec(PSSParameterSpec.class);
    assertThat(back.getDigestAlgorithm()).isEqualTo("SHA-256");
    assertThat(back.getSaltLength()).isEqualTo(32);
    s.update(new byte[1]);
    assertThatThrownBy(() -> s.setParameter(PSS256)).isInstanceOf(ProviderException.class);
    s.sign();
    assertThatThrownBy(() -> s.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA1, 32, 1)))
        .isInstanceOf(InvalidAlgorithmParameterException.class).hasMessageContaining("MGF1");
    assertThatThrownBy(() -> s.setParameter(new PSSParameterSpec("SHA-512", "MGF1", MGF1ParameterSpec.SHA512, 200, 1)))
        .isInstanceOf(InvalidAlgorithmParameterException.class).hasMessageContaining("too short");
    assertThatThrownBy(() -> s.setParameter(new PSSParameterSpec("SHA3-256", "MGF1", MGF1ParameterSpec.SHA3_256, 32, 1)))
        .isInstanceOf(InvalidAlgorithmParameterException.class);

    Signature fixed = Signature.getInstance("SHA384withRSA/PSS", p);
    PSSParameterSpec d = fixed.getParameters().getParameterSpec(PSSParameterSpec.class);
    assertThat(d.getDigestAlgorithm()).isEqualTo("SHA-384");
    assertThat(((MGF1ParameterSpec) d.getMGFParameters()).getDigestAlgorithm()).isEqualTo("SHA-384");
    assertThat(d.getSaltLength()).isEqualTo(48);
    assertThatThrownBy(() -> fixed.setParameter(PSS256)).isInstanceOf(InvalidAlgorithmParameterException.class);
  }

  @Test
  void tokenErrorsGoThroughErrorsAndReturnTheSession() throws Exception {
    // A private key the token may not sign with (CKA_SIGN false): CKR_KEY_FUNCTION_NOT_PERMITTED.
    byte[] params = Curves.ecParams("secp256r1");
    var h = ctx.execute(s -> s.generateKeyPair(Mechanism.of(CKM.EC_KEY_PAIR_GEN),
        new Attribute[] {Attribute.bool(CKA.TOKEN, false),
            Attribute.bytes(CKA.EC_PARAMS, params)},
        new Attribute[] {Attribute.bool(CKA.TOKEN, false),
            Attribute.bool(CKA.SIGN, false)}));
    PrivateKey noSign = (PrivateKey) ctx.execute(s -> HsmKeys.load(ctx, s, h.privateKey()));
    Signature s = Signature.getInstance("SHA256withECDSA", p);
    s.initSign(noSign);
    s.update(new byte[3]);
    assertThatThrownBy(s::sign).isInstanceOf(SignatureException.class).hasMessageContaining("CKR_KEY_FUNCTION_NOT_PERMITTED");
    assertThat(ctx.pool().stats().borrowed()).isZero();

    // A session key destroyed behind the Signature's back: CKR_KEY_HANDLE_INVALID, on the one-shot
    // path and on the streamed token-hash path (which fails in C_SignInit, at the first big update).
    SignatureKeys.Pair doomed = SignatureKeys.imported(ctx, "EC", p256.jdk());
    s.initSign(doomed.priv());
    ctx.execute(x -> {
      x.destroyObject(doomed.priv().handle());
      return null;
    });
    s.update(new byte[3]);
    assertThatThrownBy(s::sign).isInstanceOf(SignatureException.class).hasMessageContaining("HANDLE_INVALID");
    TokenContext t2 = tokenHash.tokenContext();
    SignatureKeys.Pair gone = SignatureKeys.imported(t2, "RSA", rsa.jdk());
    Signature r = Signature.getInstance("SHA256withRSA", tokenHash);
    r.initSign(gone.priv());
    r.update(new byte[1000]);
    t2.execute(x -> {
      x.destroyObject(gone.priv().handle());
      return null;
    });
    assertThatThrownBy(() -> r.update(new byte[100_000])).isInstanceOf(SignatureException.class).hasMessageContaining("HANDLE_INVALID");
    assertThat(ctx.pool().stats().borrowed()).isZero();
    assertThat(t2.pool().stats().borrowed()).isZero();
  }

  @Test
  void misuseIsASignatureException() throws Exception {
    Signature s = Signature.getInstance("SHA256withECDSA", p);
    assertThatThrownBy(() -> s.update(new byte[1])).isInstanceOf(SignatureException.class);
    s.initVerify(p256.pub());
    assertThatThrownBy(s::sign).isInstanceOf(SignatureException.class);
    HsmPublicKey pub = p256.pub();
    assertThat(pub.getEncoded()).isEqualTo(p256.jdk().getPublic().getEncoded());
  }
}
