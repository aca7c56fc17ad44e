package io.hsmkit.pkcs11.internal.jna;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.constants.CKU;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;
import io.hsmkit.pkcs11.session.Pin;
import io.hsmkit.pkcs11.testing.TestToken;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * PINs, imported key values and plaintext pass through the thread's native arena; after every call
 * the arena holds nothing but zeros, and PIN objects wipe their characters on close.
 */
class SecretWipingTest {

  private static void assertArenaZero(String after) {
    Arena a = Arena.begin(0);
    try {
      ByteBuffer b = a.buffer();
      for (int i = 0; i < b.capacity(); i++) {
        if (b.get(i) != 0) {
          throw new AssertionError("native scratch memory not wiped after " + after + ": byte " + i + " is " + b.get(i));
        }
      }
    } finally {
      a.end();
    }
  }

  @Test
  void nativeScratchMemoryIsZeroAfterEveryKindOfCall() {
    TestToken t = TestToken.create("SecretWipingTest", "wipe");
    try (Pkcs11Module m = Pkcs11Module.open(t.library());
        Session s = m.slotByTokenLabel("wipe").orElseThrow().openSession(true)) {
      s.login(CKU.USER, t.userPin());
      assertArenaZero("C_Login");

      byte[] keyValue = new byte[32];
      Arrays.fill(keyValue, (byte) 0x5A);
      long key = s.createObject(Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES),
          Attribute.secret(CKA.VALUE, keyValue), Attribute.bool(CKA.ENCRYPT, true), Attribute.bool(CKA.DECRYPT, true));
      assertArenaZero("C_CreateObject with a key value");

      Mechanism gcm = Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(new byte[12], new byte[] {1, 2}, 128));
      byte[] plain = "attack at dawn, attack at dawn!!".getBytes(StandardCharsets.US_ASCII);
      byte[] ct = s.encrypt(gcm, key, plain);
      assertArenaZero("C_Encrypt");
      assertThat(s.decrypt(gcm, key, ct)).isEqualTo(plain);
      assertArenaZero("C_Decrypt");

      assertThatThrownBy(() -> s.raw().C_Login(s.handle(), CKU.USER, "wrong-pin-1234".toCharArray()))
          .isInstanceOf(Pkcs11Exception.class)
          .satisfies(e -> assertThat(((Pkcs11Exception) e).ckr()).isIn(CKR.USER_ALREADY_LOGGED_IN, CKR.PIN_INCORRECT))
          .extracting(Throwable::getMessage).asString().doesNotContain("wrong-pin");
      assertArenaZero("a failed C_Login");
    }
  }

  @Test
  void attributeToStringNeverShowsSecretValues() {
    Attribute a = Attribute.secret(CKA.VALUE, new byte[] {0x12, 0x34});
    assertThat(a.toString()).doesNotContain("1234").contains("secret");
  }

  @Test
  void pinsAreWipedOnClose() throws Exception {
    char[] src = "123456".toCharArray();
    Pin p = Pin.of(src);
    char[] inside = p.chars();
    p.close();
    assertThat(inside).containsOnly('\0');
    assertThat(p.toString()).doesNotContain("123456");
    assertThatThrownBy(p::chars).isInstanceOf(IllegalStateException.class);

    Path f = Files.createTempFile(TestToken.buildDir(), "pin", ".txt");
    Files.writeString(f, "987654\n");
    try (Pin fromFile = Pin.fromFile(f)) {
      assertThat(new String(fromFile.chars())).isEqualTo("987654");
    } finally {
      Files.delete(f);
    }
  }
}
