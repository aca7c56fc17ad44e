package io.hsmkit.provider.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.testing.ProviderFixture;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.Provider;
import java.security.Security;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HsmKit and SunPKCS11 on the same token in one JVM: keys made by one work through the other,
 * signatures cross-verify and ciphertexts cross-decrypt, and pkcs11-tool sees HsmKit's keys with the
 * attributes HsmKit claims.
 */
class SunPkcs11InteropTest {
  static ProviderFixture fx;
  static HsmKitProvider hsmkit;
  static Provider sun;
  static KeyStore sunStore;

  @BeforeAll
  static void setUp() throws Exception {
    fx = ProviderFixture.create("SunPkcs11InteropTest", "keys.token = true");
    hsmkit = fx.provider();
    sun = Security.getProvider("SunPKCS11").configure("--name=Soft\nlibrary=" + fx.token.library() + "\nslot=" + fx.token.slotId() + "\n");
    sunStore = KeyStore.getInstance("PKCS11", sun);
    sunStore.load(null, fx.token.userPin());
  }

  @AfterAll
  static void tearDown() {
    hsmkit.tokenContext().close();
  }

  private static void label(Key key, String label) throws Exception {
    long h = ((HsmKey) key).handle();
    hsmkit.tokenContext().execute(s -> {
      s.setAttributes(h, Attribute.string(CKA.LABEL, label));
      return null;
    });
  }

  @Test
  void anAesKeyMadeByHsmKitEncryptsThroughSunPkcs11AndBack() throws Exception {
    KeyGenerator g = KeyGenerator.getInstance("AES", hsmkit);
    g.init(256);
    SecretKey key = g.generateKey();
    label(key, "interop-aes");
    sunStore.load(null, fx.token.userPin()); // SunPKCS11 lists the token again
    Key sunView = sunStore.getKey("interop-aes", null);
    assertThat(sunView).as("SunPKCS11 sees the HsmKit key by its label").isNotNull();

    byte[] iv = new byte[12];
    iv[0] = 1;
    byte[] msg = "the same key in two providers".getBytes(StandardCharsets.UTF_8);
    Cipher sunEnc = Cipher.getInstance("AES/GCM/NoPadding", sun);
    sunEnc.init(Cipher.ENCRYPT_MODE, sunView, new GCMParameterSpec(128, iv));
    byte[] ct = sunEnc.doFinal(msg);
    Cipher ours = Cipher.getInstance("AES/GCM/NoPadding", hsmkit);
    ours.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, iv));
    assertThat(ours.doFinal(ct)).isEqualTo(msg);

    iv[0] = 2;
    ours.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, iv));
    byte[] ct2 = ours.doFinal(msg);
    Cipher sunDec = Cipher.getInstance("AES/GCM/NoPadding", sun);
    sunDec.init(Cipher.DECRYPT_MODE, sunView, new GCMParameterSpec(128, iv));
    assertThat(sunDec.doFinal(ct2)).isEqualTo(msg);
  }

  @Test
  void signaturesCrossVerifyBothWays() throws Exception {
    byte[] msg = "signed by one, checked by the other".getBytes(StandardCharsets.UTF_8);
    for (String[] alg : new String[][] {{"EC", "SHA256withECDSA"}, {"RSA", "SHA256withRSA"}}) {
      KeyPairGenerator ours = KeyPairGenerator.getInstance(alg[0], hsmkit);
      if (alg[0].equals("EC")) {
        ours.initialize(new ECGenParameterSpec("secp256r1"));
      } else {
        ours.initialize(2048);
      }
      KeyPair a = ours.generateKeyPair();
      Signature s = Signature.getInstance(alg[1], hsmkit);
      s.initSign(a.getPrivate());
      s.update(msg);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg[1], sun);
      v.initVerify(a.getPublic());
      v.update(msg);
      assertThat(v.verify(sig)).as(alg[1] + " HsmKit -> SunPKCS11").isTrue();

      KeyPairGenerator theirs = KeyPairGenerator.getInstance(alg[0], sun);
      if (alg[0].equals("EC")) {
        theirs.initialize(new ECGenParameterSpec("secp256r1"));
      } else {
        theirs.initialize(2048);
      }
      KeyPair b = theirs.generateKeyPair();
      Signature s2 = Signature.getInstance(alg[1], sun);
      s2.initSign(b.getPrivate());
      s2.update(msg);
      byte[] sig2 = s2.sign();
      Signature v2 = Signature.getInstance(alg[1], hsmkit);
      v2.initVerify(b.getPublic());
      v2.update(msg);
      assertThat(v2.verify(sig2)).as(alg[1] + " SunPKCS11 -> HsmKit").isTrue();
      sig2[sig2.length - 1] ^= 1;
      v2.initVerify(b.getPublic());
      v2.update(msg);
      assertThat(v2.verify(sig2)).isFalse();
    }
  }

  @Test
  void pkcs11ToolSeesTheAttributesHsmKitClaims() throws Exception {
    KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC", hsmkit);
    kpg.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair kp = kpg.generateKeyPair();
    label(kp.getPrivate(), "tool-visible");
    ProcessBuilder pb = new ProcessBuilder("pkcs11-tool", "--module", fx.token.library(), "--login", "--pin", new String(fx.token.userPin()),
        "--list-objects", "--type", "privkey");
    pb.environment().put("SOFTHSM2_CONF", fx.token.conf());
    pb.redirectErrorStream(true);
    Process proc;
    try {
      proc = pb.start();
    } catch (java.io.IOException e) {
      throw new AssertionError("pkcs11-tool is missing: run bash softhsm-config/install.sh (Debian package opensc)", e);
    }
    String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(proc.waitFor(30, TimeUnit.SECONDS)).isTrue();
    int at = out.indexOf("label:      tool-visible");
    assertThat(at).as(out).isNotNegative();
    String block = out.substring(at, Math.min(out.length(), at + 400));
    String access = block.lines().filter(l -> l.trim().startsWith("Access:")).findFirst().orElseThrow(() -> new AssertionError(block));
    assertThat(access).contains("sensitive").contains("never extractable");
    assertThat(access.replace("never extractable", "")).doesNotContain("extractable");
  }
}
