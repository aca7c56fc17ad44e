package io.hsmkit.cli.readme;

import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Slot;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;
import io.hsmkit.pkcs11.session.Pin;
import io.hsmkit.pkcs11.session.PoolConfig;
import io.hsmkit.pkcs11.session.SessionPool;
import io.hsmkit.pkcs11.session.TokenSelector;
import java.nio.charset.StandardCharsets;

public class Example {
  public static void main(String[] args) throws Exception {
    // The variables of ~/.hsmkit/token.env: set -a; . ~/.hsmkit/token.env; set +a
    byte[] sealed = seal(System.getenv("HSMKIT_PKCS11_LIBRARY"), System.getenv("HSMKIT_TOKEN_LABEL"),
        Pin.fromEnv("HSMKIT_USER_PIN"), "hello".getBytes(StandardCharsets.UTF_8));
    System.out.println(sealed.length + " bytes: 12 of IV, 5 of ciphertext, 16 of GCM tag");
  }

  /** Encrypts with AES-256-GCM under a key that is made in the token and never leaves it. */
  static byte[] seal(String library, String label, Pin pin, byte[] plaintext) throws Exception {
    try (Pkcs11Module module = Pkcs11Module.open(library);
        SessionPool pool = SessionPool.open(module, TokenSelector.label(label),
            PoolConfig.defaults().withMaxSessions(4), pin)) { // the pool now owns the PIN
      Slot slot = module.slotByTokenLabel(label).orElseThrow();
      System.out.println(slot.tokenInfo().model() + ", " + slot.mechanisms().length + " mechanisms");
      // execute() borrows a logged-in session, and retries if the session or token went away.
      return pool.execute(session -> {
        long key = session.generateKey(Mechanism.of(CKM.AES_KEY_GEN),
            Attribute.ulong(CKA.VALUE_LEN, 32), Attribute.bool(CKA.ENCRYPT, true));
        try {
          byte[] iv = session.generateRandom(12);
          byte[] ct = session.encrypt(
              Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(iv, null, 128)), key, plaintext);
          byte[] out = new byte[iv.length + ct.length];
          System.arraycopy(iv, 0, out, 0, iv.length);
          System.arraycopy(ct, 0, out, iv.length, ct.length);
          return out;
        } finally {
          session.destroyObject(key); // a session object; pooled sessions stay open
        }
      });
    }
  }
}
