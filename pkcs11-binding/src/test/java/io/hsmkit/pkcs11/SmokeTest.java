package io.hsmkit.pkcs11;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.constants.*;
import io.hsmkit.pkcs11.raw.*;
import io.hsmkit.pkcs11.testing.TestToken;
import org.junit.jupiter.api.Test;

class SmokeTest {
  @Test
  void smoke() {
    TestToken t = TestToken.create("SmokeTest", "smoke");
    try (Pkcs11Module m = Pkcs11Module.open(t.library())) {
      System.out.println(m.info());
      Slot slot = m.slotByTokenLabel("smoke").orElseThrow();
      System.out.println(slot.tokenInfo());
      try (Session s = slot.openSession(true)) {
        s.login(CKU.USER, t.userPin());
        long key = s.generateKey(Mechanism.of(CKM.AES_KEY_GEN), Attribute.ulong(CKA.VALUE_LEN, 32), Attribute.bool(CKA.ENCRYPT, true), Attribute.bool(CKA.DECRYPT, true));
        byte[] iv = new byte[12];
        byte[] ct = s.encrypt(Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(iv, new byte[] {1}, 128)), key, new byte[1024]);
        assertThat(ct).hasSize(1040);
        byte[] pt = s.decrypt(Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(iv, new byte[] {1}, 128)), key, ct);
        assertThat(pt).hasSize(1024);
        System.out.println(java.util.Arrays.toString(s.getAttributes(key, CKA.CLASS, CKA.VALUE_LEN, CKA.VALUE, CKA.SENSITIVE)));
      }
    }
  }
}
