package io.hsmkit.provider.e2e;

import java.security.Provider;
import java.util.ServiceLoader;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/** Run on the class path with HsmKit on the module path: finds it through ServiceLoader and uses it. */
public final class ModulePathMain {
  public static void main(String[] args) throws Exception {
    Provider unconfigured = ServiceLoader.load(Provider.class).stream().map(ServiceLoader.Provider::get)
        .filter(p -> p.getName().equals("HsmKit")).findFirst().orElseThrow(() -> new IllegalStateException("HsmKit not found by ServiceLoader"));
    System.out.println("module: " + unconfigured.getClass().getModule().getName());
    Provider p = unconfigured.configure(args[0]);
    KeyGenerator g = KeyGenerator.getInstance("AES", p);
    SecretKey k = g.generateKey();
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding", p);
    c.init(Cipher.ENCRYPT_MODE, k, new GCMParameterSpec(128, new byte[12]));
    System.out.println("ciphertext bytes: " + c.doFinal(new byte[32]).length);
  }
}
