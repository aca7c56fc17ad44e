package io.hsmkit.provider.e2e;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.Security;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * An ordinary JCE program: it names no HsmKit class. It only finds the provider by name (when told
 * to register it), asks JCA for algorithms without naming a provider, and prints which provider JCA
 * chose for each key.
 */
public final class PlainJceProgram {
  public static void main(String[] args) throws Exception {
    Provider hsm;
    if (args[0].equals("addProvider")) {
      Provider unconfigured = Security.getProvider("HsmKit") != null ? Security.getProvider("HsmKit")
          : java.util.ServiceLoader.load(Provider.class).stream().map(java.util.ServiceLoader.Provider::get)
              .filter(p -> p.getName().equals("HsmKit")).findFirst().orElseThrow();
      hsm = unconfigured.configure(args[1]);
      Security.insertProviderAt(hsm, 1);
    } else {
      hsm = Security.getProvider("HsmKit");
      if (hsm == null) {
        throw new IllegalStateException("HsmKit was not configured from java.security");
      }
    }
    byte[] msg = "unchanged JCE code".getBytes(StandardCharsets.UTF_8);

    KeyGenerator kg = KeyGenerator.getInstance("AES", hsm);
    SecretKey tokenKey = kg.generateKey();
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(Cipher.ENCRYPT_MODE, tokenKey, new GCMParameterSpec(128, new byte[12]));
    byte[] ct = c.doFinal(msg);
    System.out.println("AES/GCM/NoPadding with a token key: " + c.getProvider().getName().replaceAll("-.*", ""));
    Cipher d = Cipher.getInstance("AES/GCM/NoPadding");
    d.init(Cipher.DECRYPT_MODE, tokenKey, new GCMParameterSpec(128, new byte[12]));
    check(Arrays.equals(d.doFinal(ct), msg));

    Cipher soft = Cipher.getInstance("AES/GCM/NoPadding");
    soft.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(new byte[16], "AES"), new GCMParameterSpec(128, new byte[12]));
    soft.doFinal(msg);
    System.out.println("AES/GCM/NoPadding with a software key: " + soft.getProvider().getName());

    if (args[0].equals("addProvider")) {
      KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC", hsm);
      kpg.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair kp = kpg.generateKeyPair();
      Signature s = Signature.getInstance("SHA256withECDSA");
      s.initSign(kp.getPrivate());
      s.update(msg);
      byte[] sig = s.sign();
      System.out.println("SHA256withECDSA: " + s.getProvider().getName());
      Signature v = Signature.getInstance("SHA256withECDSA");
      v.initVerify(kp.getPublic());
      v.update(msg);
      check(v.verify(sig));

      SecretKey hk = KeyGenerator.getInstance("HmacSHA256", hsm).generateKey();
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(hk);
      check(m.doFinal(msg).length == 32);
      System.out.println("HmacSHA256: " + m.getProvider().getName());
    }
    System.out.println("OK");
  }

  private static void check(boolean ok) {
    if (!ok) {
      throw new AssertionError("check failed");
    }
  }
}
