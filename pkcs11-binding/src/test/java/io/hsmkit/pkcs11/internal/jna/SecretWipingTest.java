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
 * the arena holds nothing but zeros, except the public output of the last data call (ciphertext,
 * a signature or MAC), which is zeroed before the memory is handed out as a structure again; PIN
 * objects wipe their characters on close.
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

  /** The arena holds {@code allowed} once and zeros everywhere else. */
  private static void assertArenaHoldsOnly(String after, byte[] allowed) {
    Arena a = Arena.begin(0);
    try {
      ByteBuffer b = a.buffer();
      byte[] all = new byte[b.capacity()];
      b.get(0, all);
      int at = indexOf(all, allowed);
      if (at < 0) {
        // Nothing public was left (the region was reused and zeroed): then everything is zero.
        at = 0;
        allowed = new byte[0];
      }
      for (int i = 0; i < all.length; i++) {
        if ((i < at || i >= at + allowed.length) && all[i] != 0) {
          throw new AssertionError("native scratch memory holds more than the public output after " + after + ": byte " + i + " is " + all[i]);
        }
      }
    } finally {
      a.end();
    }
  }

  private static void assertNoCopyOf(String after, byte[] secret) {
    Arena a = Arena.begin(0);
    try {
      ByteBuffer b = a.buffer();
      byte[] all = new byte[b.capacity()];
      b.get(0, all);
      assertThat(indexOf(all, Arrays.copyOf(secret, Math.min(secret.length, 16)))).as("a secret left in native memory after " + after).isNegative();
    } finally {
      a.end();
    }
  }

  /** A structure allocated over whatever earlier calls left behind starts from zeros. */
  private static void assertZeroWhenAllocated(String after) {
    Arena a = Arena.begin(0);
    int cap = a.buffer().capacity();
    a.end();
    a = Arena.begin(cap);
    try {
      long p = a.alloc(cap);
      ByteBuffer b = a.buffer();
      for (int i = (int) (p - a.base()); i < cap; i++) {
        if (b.get(i) != 0) {
          throw new AssertionError("alloc handed out non-zero memory after " + after + ": byte " + i + " is " + b.get(i));
        }
      }
    } finally {
      a.end();
    }
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    if (needle.length == 0) {
      return -1;
    }
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
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
      // Ciphertext is public and stays (zeroing it cost 3% of a 64 KiB AES-GCM); nothing else does.
      assertArenaHoldsOnly("C_Encrypt", ct);
      assertZeroWhenAllocated("C_Encrypt");
      assertArenaZero("a struct allocated over the ciphertext left by C_Encrypt");
      assertThat(s.decrypt(gcm, key, ct)).isEqualTo(plain);
      assertArenaHoldsOnly("C_Decrypt", ct);
      assertZeroWhenAllocated("C_Decrypt");

      // Every public/secret shape of the data calls, each with its secret checked gone.
      Mechanism cbc = Mechanism.of(CKM.AES_CBC_PAD, new byte[16]);
      byte[] cbcCt = s.encrypt(cbc, key, plain);
      assertNoCopyOf("C_Encrypt (CBC-PAD)", plain);
      byte[] back = new byte[cbcCt.length];
      int n = s.decrypt(cbc, key, cbcCt, 0, cbcCt.length, back, 0);
      assertThat(Arrays.copyOf(back, n)).isEqualTo(plain);
      assertNoCopyOf("C_Decrypt (CBC-PAD)", plain);
      s.encryptInit(cbc, key);
      byte[] part = new byte[64];
      int k = s.encryptUpdate(plain, 0, plain.length, part, 0, part.length);
      assertThat(k).isPositive();
      assertNoCopyOf("C_EncryptUpdate", plain);
      byte[] last = new byte[32];
      int l = s.encryptFinal(last, 0, last.length);
      assertThat(l).isPositive();
      assertNoCopyOf("C_EncryptFinal", plain);
      assertZeroWhenAllocated("C_EncryptFinal");
      byte[] random = s.generateRandom(64);
      assertThat(random).isNotEqualTo(new byte[64]);
      assertNoCopyOf("C_GenerateRandom", random);
      assertZeroWhenAllocated("C_GenerateRandom");
      assertArenaZero("a struct allocated after C_GenerateRandom");

      // A large call: the memset path of Arena.end, and the ciphertext left behind is zeroed before reuse.
      byte[] big = new byte[64 * 1024];
      Arrays.fill(big, (byte) 0x3C);
      byte[] bigCt = s.encrypt(gcm, key, big);
      assertNoCopyOf("a 64 KiB C_Encrypt", Arrays.copyOf(big, 64));
      assertArenaHoldsOnly("a 64 KiB C_Encrypt", bigCt);
      assertThat(s.decrypt(gcm, key, bigCt)).isEqualTo(big);
      assertNoCopyOf("a 64 KiB C_Decrypt", Arrays.copyOf(big, 64));
      assertZeroWhenAllocated("a 64 KiB C_Decrypt");
      assertArenaZero("a struct allocated after a 64 KiB C_Decrypt");

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
