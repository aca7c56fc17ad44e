package io.hsmkit.it.scale;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.it.support.HsmKitToken;
import io.hsmkit.pkcs11.testing.FaultShim;
import io.hsmkit.provider.HsmKitProvider;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HsmKit KeyStore's cache of handles, beyond {@link KeyStoreScaleTest}: what a warm instance
 * sees after another instance changed the token, and what a repeated look-up of a CA-issued chain
 * costs in searches. Both fail with the HsmKeyStore of 2026-11-29 (see the notes on each test) and
 * are disabled until the proposed change to HsmKeyStore is in; counts of native calls are asserted,
 * never times.
 */
class KeyStoreCacheTest {
  private static HsmKitToken token;
  private static FaultShim counter;
  private static HsmKitProvider hsmkit;
  private static char[] pin;

  @BeforeAll
  static void token() throws Exception {
    token = HsmKitToken.create("keystore-cache");
    String shim = KeyStoreScaleTest.shimPath();
    counter = FaultShim.forLibrary(token.library());
    Path cfg = token.dir().resolve("hsmkit-shim.cfg");
    Files.writeString(cfg, "library = " + shim + "\ntokenLabel = \"" + token.label() + "\"\npin = file:" + token.pinFile() + "\n");
    hsmkit = new HsmKitProvider(cfg.toString());
    pin = token.pin().toCharArray();
  }

  private static KeyStore open() throws Exception {
    KeyStore ks = KeyStore.getInstance("HsmKit", hsmkit);
    ks.load(null, pin);
    return ks;
  }

  private static KeyPair tokenPair() throws Exception {
    KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC", hsmkit);
    kpg.initialize(new ECGenParameterSpec("secp256r1"));
    return kpg.generateKeyPair();
  }

  /**
   * A warm instance caches the certificate handles of an entry and re-checks only the key's handle.
   * When another instance (another application, keytool) replaces the chain, the old certificate
   * objects are destroyed: the warm instance reads a stale handle, gets CKR_OBJECT_HANDLE_INVALID
   * and getCertificateChain answers null instead of looking again.
   */
  @Test
  void aChainReplacedByAnotherInstanceIsSeenByAWarmOne() throws Exception {
    KeyPair kp = tokenPair();
    X509Certificate first = KeyStoreScaleTest.selfSigned("CN=renewed, O=first", kp, hsmkit, "SHA256withECDSA");
    KeyStore warm = open();
    warm.setKeyEntry("renewed", kp.getPrivate(), null, new Certificate[] {first});
    assertThat(warm.getCertificateChain("renewed")).containsExactly(first); // now cached

    KeyStore other = open();
    PrivateKey same = (PrivateKey) other.getKey("renewed", null);
    X509Certificate second = KeyStoreScaleTest.selfSigned("CN=renewed, O=second", kp, hsmkit, "SHA256withECDSA");
    other.setKeyEntry("renewed", same, null, new Certificate[] {second});

    assertThat(warm.getCertificateChain("renewed")).as("the warm instance after the chain was replaced elsewhere").containsExactly(second);
  }

  /**
   * A leaf issued by a CA that is not in the token (the usual case for a server certificate): every
   * getCertificateChain looks for the issuer by CKA_SUBJECT, a search over the whole token, also on
   * a warm instance, so the repeated look-up costs what the token costs.
   */
  @Test
  void aRepeatedLookUpOfACaIssuedChainMakesNoSearch() throws Exception {
    KeyPairGenerator soft = KeyPairGenerator.getInstance("EC", "SunEC");
    soft.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair ca = soft.generateKeyPair();
    KeyPair leaf = tokenPair();
    long now = System.currentTimeMillis();
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name("CN=Outside CA"), BigInteger.valueOf(new SecureRandom().nextInt(1 << 30) + 1L),
        new Date(now - 3_600_000L), new Date(now + 86_400_000L), new X500Name("CN=leaf"), leaf.getPublic());
    X509Certificate leafCert = new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.getPrivate())));
    KeyStore ks = open();
    ks.setKeyEntry("issued", leaf.getPrivate(), null, new Certificate[] {leafCert});
    assertThat(ks.getCertificateChain("issued")).containsExactly(leafCert);

    counter.resetCounters();
    for (int i = 0; i < 10; i++) {
      assertThat(ks.getKey("issued", null)).isInstanceOf(PrivateKey.class);
      assertThat(ks.getCertificateChain("issued")).containsExactly(leafCert);
    }
    assertThat(counter.calls("C_FindObjectsInit")).as("searches in 10 repeated look-ups of a CA-issued chain").isZero();
  }
}
