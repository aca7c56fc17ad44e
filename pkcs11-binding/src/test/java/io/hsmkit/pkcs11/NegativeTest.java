package io.hsmkit.pkcs11;

import static io.hsmkit.pkcs11.Pkcs11Expect.bytes;
import static io.hsmkit.pkcs11.Pkcs11Expect.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.jna.Memory;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKD;
import io.hsmkit.pkcs11.constants.CKF;
import io.hsmkit.pkcs11.constants.CKG;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.constants.CKS;
import io.hsmkit.pkcs11.constants.CKU;
import io.hsmkit.pkcs11.constants.CKZ;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.KeyPairHandles;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;
import io.hsmkit.pkcs11.raw.Pkcs11;
import io.hsmkit.pkcs11.testing.TestToken;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Bad inputs give a typed {@link Pkcs11Exception} (the right function, the exact CKR that SoftHSM2
 * 2.6.1 gives) or a Java exception before any native call, never a crash; the session is still
 * usable afterwards, and no message carries a PIN or data. The finalized-library test runs last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NegativeTest {
  private static final String LABEL = "negative";
  private static final long BAD_HANDLE = 0xDEADBEEFL;
  /** Data whose bytes must never show up in an exception message. */
  private static final byte[] SECRET_DATA = "SECRET-DATA-0123".getBytes(StandardCharsets.US_ASCII);
  private static final String WRONG_PIN = "Wrong-Pin-4711";

  private static final List<Pkcs11Exception> SEEN = new ArrayList<>();
  static TestToken token;
  static Pkcs11Module module;
  static Pkcs11 raw;
  static Slot slot;
  static Session s;
  static long h;
  static byte[] aesValue = bytes(16, 21);
  static long aes;

  @BeforeAll
  static void setUp() {
    token = TestToken.create("NegativeTest", LABEL);
    module = Pkcs11Module.open(token.library());
    raw = module.raw();
    slot = module.slotByTokenLabel(LABEL).orElseThrow();
    s = slot.openSession(true);
    s.login(CKU.USER, token.userPin());
    h = s.handle();
    aes = s.createObject(
        Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES), Attribute.secret(CKA.VALUE, aesValue),
        Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.SENSITIVE, true), Attribute.bool(CKA.ENCRYPT, true), Attribute.bool(CKA.DECRYPT, true),
        Attribute.bool(CKA.SIGN, true),
        // Public, so that it outlives the logout in loginErrors: C_Logout destroys private session objects.
        Attribute.bool(CKA.PRIVATE, false));
  }

  @AfterAll
  static void tearDown() {
    try {
      if (s != null) {
        s.close();
      }
    } finally {
      if (module != null) {
        module.close();
      }
    }
  }

  /** {@link Pkcs11Expect#expectCkr}, remembering the exception for the message check. */
  static Pkcs11Exception expect(long ckr, String function, ThrowingCallable call) {
    Pkcs11Exception e = Pkcs11Expect.expectCkr(ckr, function, call);
    synchronized (SEEN) {
      SEEN.add(e);
    }
    return e;
  }

  static byte[] ecb(byte[] in) throws Exception {
    Cipher c = Cipher.getInstance("AES/ECB/NoPadding");
    c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(aesValue, "AES"));
    return c.doFinal(in);
  }

  @Test
  @Order(1)
  void invalidSessionHandle() {
    long bad = BAD_HANDLE;
    expect(CKR.SESSION_HANDLE_INVALID, "C_GetSessionInfo", () -> raw.C_GetSessionInfo(bad));
    expect(CKR.SESSION_HANDLE_INVALID, "C_EncryptInit", () -> raw.C_EncryptInit(bad, Mechanism.of(CKM.AES_ECB), aes));
    expect(CKR.SESSION_HANDLE_INVALID, "C_Encrypt", () -> raw.C_Encrypt(bad, SECRET_DATA, 0, 16, new byte[16], 0, 16));
    expect(CKR.SESSION_HANDLE_INVALID, "C_FindObjectsInit", () -> raw.C_FindObjectsInit(bad, Attribute.string(CKA.LABEL, "x")));
    expect(CKR.SESSION_HANDLE_INVALID, "C_GenerateRandom", () -> raw.C_GenerateRandom(bad, new byte[8], 0, 8));
    expect(CKR.SESSION_HANDLE_INVALID, "C_Login", () -> raw.C_Login(bad, CKU.USER, WRONG_PIN.toCharArray()));
    expect(CKR.SESSION_HANDLE_INVALID, "C_CreateObject", () -> raw.C_CreateObject(bad, Attribute.ulong(CKA.CLASS, CKO.DATA)));
    expect(CKR.SESSION_HANDLE_INVALID, "C_CloseSession", () -> raw.C_CloseSession(bad));
    expect(CKR.SESSION_HANDLE_INVALID, "C_GetSessionInfo", () -> Session.wrap(raw, slot.id(), bad).info());
  }

  @Test
  @Order(2)
  void invalidObjectAndKeyHandles() {
    long bad = 0xDEADL;
    // SoftHSM2 says CKR_OBJECT_HANDLE_INVALID for a bad key in the Init calls, not CKR_KEY_HANDLE_INVALID...
    expect(CKR.OBJECT_HANDLE_INVALID, "C_GetAttributeValue", () -> raw.C_GetAttributeValue(h, bad, CKA.LABEL));
    expect(CKR.OBJECT_HANDLE_INVALID, "C_SetAttributeValue", () -> raw.C_SetAttributeValue(h, bad, Attribute.string(CKA.LABEL, "x")));
    expect(CKR.OBJECT_HANDLE_INVALID, "C_CopyObject", () -> raw.C_CopyObject(h, bad, Attribute.string(CKA.LABEL, "x")));
    expect(CKR.OBJECT_HANDLE_INVALID, "C_DestroyObject", () -> raw.C_DestroyObject(h, bad));
    expect(CKR.OBJECT_HANDLE_INVALID, "C_GetObjectSize", () -> raw.C_GetObjectSize(h, bad));
    expect(CKR.OBJECT_HANDLE_INVALID, "C_EncryptInit", () -> raw.C_EncryptInit(h, Mechanism.of(CKM.AES_ECB), bad));
    expect(CKR.OBJECT_HANDLE_INVALID, "C_SignInit", () -> raw.C_SignInit(h, Mechanism.of(CKM.SHA256_HMAC), bad));
    expect(CKR.OBJECT_HANDLE_INVALID, "C_DeriveKey",
        () -> raw.C_DeriveKey(h, Mechanism.of(CKM.ECDH1_DERIVE, new MechanismParams.Ecdh1Derive(CKD.NULL, null, new byte[65])), bad,
            Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.GENERIC_SECRET)));
    // ...but the specific codes in the wrap, unwrap and digest-key calls.
    expect(CKR.WRAPPING_KEY_HANDLE_INVALID, "C_WrapKey", () -> raw.C_WrapKey(h, Mechanism.of(CKM.AES_KEY_WRAP), bad, aes));
    expect(CKR.KEY_HANDLE_INVALID, "C_WrapKey", () -> raw.C_WrapKey(h, Mechanism.of(CKM.AES_KEY_WRAP), aes, bad));
    expect(CKR.UNWRAPPING_KEY_HANDLE_INVALID, "C_UnwrapKey",
        () -> raw.C_UnwrapKey(h, Mechanism.of(CKM.AES_KEY_WRAP), bad, new byte[24], Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES)));
    raw.C_DigestInit(h, Mechanism.of(CKM.SHA256));
    expect(CKR.KEY_HANDLE_INVALID, "C_DigestKey", () -> raw.C_DigestKey(h, bad));
    // The digest survived the bad key: it still finishes.
    assertThat(raw.C_DigestFinal(h, new byte[32], 0, 32)).isEqualTo(32);
  }

  @Test
  @Order(3)
  void operationNotInitialized() {
    expect(CKR.OPERATION_NOT_INITIALIZED, "C_Encrypt", () -> raw.C_Encrypt(h, SECRET_DATA, 0, 16, new byte[16], 0, 16));
    expect(CKR.OPERATION_NOT_INITIALIZED, "C_EncryptUpdate", () -> raw.C_EncryptUpdate(h, SECRET_DATA, 0, 16, new byte[16], 0, 16));
    expect(CKR.OPERATION_NOT_INITIALIZED, "C_EncryptFinal", () -> raw.C_EncryptFinal(h, new byte[16], 0, 16));
    expect(CKR.OPERATION_NOT_INITIALIZED, "C_Decrypt", () -> raw.C_Decrypt(h, new byte[16], 0, 16, new byte[16], 0, 16));
    expect(CKR.OPERATION_NOT_INITIALIZED, "C_Sign", () -> raw.C_Sign(h, SECRET_DATA, 0, 16, new byte[64], 0, 64));
    expect(CKR.OPERATION_NOT_INITIALIZED, "C_SignUpdate", () -> raw.C_SignUpdate(h, SECRET_DATA, 0, 16));
    expect(CKR.OPERATION_NOT_INITIALIZED, "C_Verify", () -> raw.C_Verify(h, SECRET_DATA, 0, 16, new byte[32], 0, 32));
    expect(CKR.OPERATION_NOT_INITIALIZED, "C_VerifyFinal", () -> raw.C_VerifyFinal(h, new byte[32], 0, 32));
    expect(CKR.OPERATION_NOT_INITIALIZED, "C_Digest", () -> raw.C_Digest(h, SECRET_DATA, 0, 16, new byte[32], 0, 32));
    expect(CKR.OPERATION_NOT_INITIALIZED, "C_DigestUpdate", () -> raw.C_DigestUpdate(h, SECRET_DATA, 0, 16));
    expect(CKR.OPERATION_NOT_INITIALIZED, "C_DigestKey", () -> raw.C_DigestKey(h, aes));
    expect(CKR.OPERATION_NOT_INITIALIZED, "C_FindObjects", () -> raw.C_FindObjects(h, 5));
    expect(CKR.OPERATION_NOT_INITIALIZED, "C_FindObjectsFinal", () -> raw.C_FindObjectsFinal(h));
  }

  @Test
  @Order(4)
  void operationActive() throws Exception {
    raw.C_EncryptInit(h, Mechanism.of(CKM.AES_ECB), aes);
    expect(CKR.OPERATION_ACTIVE, "C_EncryptInit", () -> raw.C_EncryptInit(h, Mechanism.of(CKM.AES_ECB), aes));
    // SoftHSM2 keeps one operation per session: another kind is refused too.
    expect(CKR.OPERATION_ACTIVE, "C_SignInit", () -> raw.C_SignInit(h, Mechanism.of(CKM.AES_CMAC), aes));
    expect(CKR.OPERATION_ACTIVE, "C_DigestInit", () -> raw.C_DigestInit(h, Mechanism.of(CKM.SHA256)));
    // The first operation is untouched and finishes.
    byte[] out = new byte[16];
    assertThat(raw.C_Encrypt(h, SECRET_DATA, 0, 16, out, 0, 16)).isEqualTo(16);
    assertThat(out).isEqualTo(ecb(SECRET_DATA));

    raw.C_FindObjectsInit(h);
    try {
      expect(CKR.OPERATION_ACTIVE, "C_FindObjectsInit", () -> raw.C_FindObjectsInit(h));
    } finally {
      raw.C_FindObjectsFinal(h);
    }
  }

  @Test
  @Order(5)
  void bufferTooSmallKeepsTheOperationAndGivesTheLength() throws Exception {
    byte[] in = bytes(32, 1);
    raw.C_EncryptInit(h, Mechanism.of(CKM.AES_ECB), aes);
    Pkcs11Exception e = expect(CKR.BUFFER_TOO_SMALL, "C_Encrypt", () -> raw.C_Encrypt(h, in, 0, 32, new byte[1], 0, 1));
    assertThat(e.requiredLength()).isEqualTo(32);
    // out == null asks the length only; the operation goes on.
    assertThat(raw.C_Encrypt(h, in, 0, 32, null, 0, 0)).isEqualTo(32);
    byte[] out = new byte[40];
    assertThat(raw.C_Encrypt(h, in, 0, 32, out, 4, 36)).isEqualTo(32);
    assertThat(Arrays.copyOfRange(out, 4, 36)).isEqualTo(ecb(in));
    assertThat(out).startsWith(0, 0, 0, 0).endsWith(0, 0, 0, 0);

    // The same for C_EncryptUpdate, C_EncryptFinal, C_Digest and C_DigestFinal.
    raw.C_EncryptInit(h, Mechanism.of(CKM.AES_CBC_PAD, new byte[16]), aes);
    assertThat(expect(CKR.BUFFER_TOO_SMALL, "C_EncryptUpdate", () -> raw.C_EncryptUpdate(h, in, 0, 20, new byte[1], 0, 1)).requiredLength()).isEqualTo(16);
    assertThat(raw.C_EncryptUpdate(h, in, 0, 20, new byte[16], 0, 16)).isEqualTo(16);
    assertThat(expect(CKR.BUFFER_TOO_SMALL, "C_EncryptFinal", () -> raw.C_EncryptFinal(h, new byte[1], 0, 1)).requiredLength()).isEqualTo(16);
    assertThat(raw.C_EncryptFinal(h, new byte[16], 0, 16)).isEqualTo(16);

    raw.C_DigestInit(h, Mechanism.of(CKM.SHA256));
    assertThat(expect(CKR.BUFFER_TOO_SMALL, "C_Digest", () -> raw.C_Digest(h, in, 0, 32, new byte[31], 0, 31)).requiredLength()).isEqualTo(32);
    byte[] d = new byte[32];
    raw.C_Digest(h, in, 0, 32, d, 0, 32);
    assertThat(d).isEqualTo(java.security.MessageDigest.getInstance("SHA-256").digest(in));
    raw.C_DigestInit(h, Mechanism.of(CKM.SHA256));
    raw.C_DigestUpdate(h, in, 0, 32);
    assertThat(expect(CKR.BUFFER_TOO_SMALL, "C_DigestFinal", () -> raw.C_DigestFinal(h, new byte[0], 0, 0)).requiredLength()).isEqualTo(32);
    raw.C_DigestFinal(h, d, 0, 32);
    assertThat(d).isEqualTo(java.security.MessageDigest.getInstance("SHA-256").digest(in));

    // Session's byte[] forms size the output themselves (RSA: the guess is too small, one retry).
    KeyPairHandles rsa = s.generateKeyPair(
        Mechanism.of(CKM.RSA_PKCS_KEY_PAIR_GEN),
        new Attribute[] {Attribute.bool(CKA.TOKEN, false), Attribute.ulong(CKA.MODULUS_BITS, 2048), Attribute.bool(CKA.ENCRYPT, true)},
        new Attribute[] {Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.DECRYPT, true)});
    byte[] ct = s.encrypt(Mechanism.of(CKM.RSA_PKCS), rsa.publicKey(), SECRET_DATA);
    assertThat(ct).hasSize(256);
    assertThat(s.decrypt(Mechanism.of(CKM.RSA_PKCS), rsa.privateKey(), ct)).isEqualTo(SECRET_DATA);
    assertThat(s.activeOperations()).isZero();
    // Mechanism parameters SoftHSM2 refuses for OAEP: any hash but SHA-1, and any label.
    expect(CKR.ARGUMENTS_BAD, "C_EncryptInit",
        () -> s.encrypt(Mechanism.of(CKM.RSA_PKCS_OAEP, new MechanismParams.Oaep(CKM.SHA256, CKG.MGF1_SHA256, CKZ.DATA_SPECIFIED, null)), rsa.publicKey(), SECRET_DATA));
    expect(CKR.ARGUMENTS_BAD, "C_EncryptInit",
        () -> s.encrypt(Mechanism.of(CKM.RSA_PKCS_OAEP, new MechanismParams.Oaep(CKM.SHA_1, CKG.MGF1_SHA1, CKZ.DATA_SPECIFIED, "label".getBytes(StandardCharsets.UTF_8))), rsa.publicKey(), SECRET_DATA));
    expect(CKR.KEY_FUNCTION_NOT_PERMITTED, "C_SignInit", () -> s.sign(Mechanism.of(CKM.SHA256_RSA_PKCS), rsa.publicKey(), SECRET_DATA));
    expect(CKR.KEY_FUNCTION_NOT_PERMITTED, "C_EncryptInit", () -> s.encrypt(Mechanism.of(CKM.RSA_PKCS), rsa.privateKey(), SECRET_DATA));
    expect(CKR.GENERAL_ERROR, "C_Decrypt", () -> s.decrypt(Mechanism.of(CKM.RSA_PKCS), rsa.privateKey(), new byte[256]));
  }

  @Test
  @Order(6)
  void templateErrors() {
    // No CKA_KEY_TYPE for a secret key.
    expect(CKR.TEMPLATE_INCOMPLETE, "C_CreateObject",
        () -> s.createObject(Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.secret(CKA.VALUE, new byte[16]), Attribute.bool(CKA.TOKEN, false)));
    expect(CKR.TEMPLATE_INCOMPLETE, "C_CreateObject", () -> s.createObject(Attribute.bool(CKA.TOKEN, false)));
    // AES_KEY_GEN: SoftHSM2 answers a bad CKA_VALUE_LEN with CKR_ATTRIBUTE_VALUE_INVALID (not
    // CKR_KEY_SIZE_RANGE), and takes 24 (AES-192) although the notes say 16/32 only.
    for (int len : new int[] {8, 20, 33, 64}) {
      expect(CKR.ATTRIBUTE_VALUE_INVALID, "C_GenerateKey",
          () -> s.generateKey(Mechanism.of(CKM.AES_KEY_GEN), Attribute.bool(CKA.TOKEN, false), Attribute.ulong(CKA.VALUE_LEN, len)));
    }
    assertThat(s.generateKey(Mechanism.of(CKM.AES_KEY_GEN), Attribute.bool(CKA.TOKEN, false), Attribute.ulong(CKA.VALUE_LEN, 24))).isNotZero();
    expect(CKR.TEMPLATE_INCOMPLETE, "C_GenerateKey", () -> s.generateKey(Mechanism.of(CKM.AES_KEY_GEN), Attribute.bool(CKA.TOKEN, false)));
    // Values and types the object cannot have.
    expect(CKR.ATTRIBUTE_VALUE_INVALID, "C_CreateObject",
        () -> s.createObject(Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.bytes(CKA.TOKEN, new byte[] {1, 2, 3})));
    expect(CKR.ATTRIBUTE_VALUE_INVALID, "C_CreateObject", () -> s.createObject(Attribute.ulong(CKA.CLASS, 0x7777L), Attribute.bool(CKA.TOKEN, false)));
    expect(CKR.ATTRIBUTE_VALUE_INVALID, "C_CreateObject",
        () -> s.createObject(Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, 0x7FFFFFF0L), Attribute.secret(CKA.VALUE, new byte[16]), Attribute.bool(CKA.TOKEN, false)));
    expect(CKR.ATTRIBUTE_TYPE_INVALID, "C_CreateObject",
        () -> s.createObject(Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.bool(CKA.TOKEN, false), Attribute.ulong(CKA.KEY_TYPE, CKK.AES)));
    expect(CKR.ATTRIBUTE_TYPE_INVALID, "C_CreateObject",
        () -> s.createObject(Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.bool(CKA.TOKEN, false), Attribute.bool(0x7FFF0001L, true)));
    // Read-only attributes and one-way switches.
    expect(CKR.ATTRIBUTE_READ_ONLY, "C_SetAttributeValue", () -> s.setAttributes(aes, Attribute.ulong(CKA.CLASS, CKO.DATA)));
    expect(CKR.ATTRIBUTE_READ_ONLY, "C_SetAttributeValue", () -> s.setAttributes(aes, Attribute.bool(CKA.SENSITIVE, false)));
    long locked = s.generateKey(Mechanism.of(CKM.AES_KEY_GEN), Attribute.bool(CKA.TOKEN, false), Attribute.ulong(CKA.VALUE_LEN, 16), Attribute.bool(CKA.EXTRACTABLE, false));
    expect(CKR.ATTRIBUTE_READ_ONLY, "C_SetAttributeValue", () -> s.setAttributes(locked, Attribute.bool(CKA.EXTRACTABLE, true)));
    expect(CKR.KEY_UNEXTRACTABLE, "C_WrapKey", () -> s.wrapKey(Mechanism.of(CKM.AES_KEY_WRAP), aes, locked));
    // A key that is not an AES key (20 bytes) imports, and only fails at use.
    long odd = s.createObject(
        Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES), Attribute.secret(CKA.VALUE, new byte[20]),
        Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.ENCRYPT, true));
    expect(CKR.MECHANISM_INVALID, "C_EncryptInit", () -> s.encrypt(Mechanism.of(CKM.AES_ECB), odd, new byte[16]));
    // A read-only session cannot create objects.
    try (Session ro = slot.openSession(false)) {
      expect(CKR.SESSION_READ_ONLY, "C_CreateObject", () -> ro.createObject(Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.bool(CKA.TOKEN, true)));
    }
  }

  @Test
  @Order(7)
  void mechanismAndParameterErrors() {
    long invalid = 0x7FFFFFF0L;
    expect(CKR.MECHANISM_INVALID, "C_EncryptInit", () -> raw.C_EncryptInit(h, Mechanism.of(invalid), aes));
    // SoftHSM2 checks the key before the mechanism.
    expect(CKR.OBJECT_HANDLE_INVALID, "C_EncryptInit", () -> raw.C_EncryptInit(h, Mechanism.of(invalid), 0xDEADL));
    expect(CKR.MECHANISM_INVALID, "C_DigestInit", () -> raw.C_DigestInit(h, Mechanism.of(invalid)));
    expect(CKR.MECHANISM_INVALID, "C_GenerateKey", () -> raw.C_GenerateKey(h, Mechanism.of(invalid), Attribute.bool(CKA.TOKEN, false)));
    expect(CKR.MECHANISM_INVALID, "C_GetMechanismInfo", () -> raw.C_GetMechanismInfo(slot.id(), invalid));
    expect(CKR.KEY_TYPE_INCONSISTENT, "C_SignInit", () -> s.sign(Mechanism.of(CKM.SHA256_HMAC), aes, SECRET_DATA));
    // Parameters: GCM tag of 200 bits; a 5-byte CBC IV (SoftHSM2 says CKR_MECHANISM_INVALID).
    expect(CKR.ARGUMENTS_BAD, "C_EncryptInit", () -> s.encrypt(Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(new byte[12], null, 200)), aes, SECRET_DATA));
    expect(CKR.MECHANISM_INVALID, "C_EncryptInit", () -> s.encrypt(Mechanism.of(CKM.AES_CBC_PAD, new byte[5]), aes, SECRET_DATA));
    // Data lengths.
    expect(CKR.DATA_LEN_RANGE, "C_Encrypt", () -> s.encrypt(Mechanism.of(CKM.AES_ECB), aes, Arrays.copyOf(SECRET_DATA, 5)));
    expect(CKR.ENCRYPTED_DATA_LEN_RANGE, "C_Decrypt", () -> s.decrypt(Mechanism.of(CKM.AES_ECB), aes, new byte[5]));
    // Bad padding: SoftHSM2 says CKR_GENERAL_ERROR (no distinguishable padding oracle code).
    expect(CKR.GENERAL_ERROR, "C_Decrypt", () -> s.decrypt(Mechanism.of(CKM.AES_CBC_PAD, new byte[16]), aes, new byte[16]));
    assertThat(s.activeOperations()).isZero();
  }

  @Test
  @Order(8)
  void gcmTamperingIsRefused() {
    byte[] iv = bytes(12, 4);
    byte[] aad = "aad".getBytes(StandardCharsets.UTF_8);
    Mechanism m = Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(iv, aad, 128));
    byte[] ct = s.encrypt(m, aes, SECRET_DATA);
    assertThat(s.decrypt(m, aes, ct)).isEqualTo(SECRET_DATA);
    // SoftHSM2 2.6.1 reports a failed tag check as CKR_GENERAL_ERROR, not CKR_ENCRYPTED_DATA_INVALID.
    for (int i : new int[] {0, SECRET_DATA.length - 1, SECRET_DATA.length, ct.length - 1}) {
      expect(CKR.GENERAL_ERROR, "C_Decrypt", () -> s.decrypt(m, aes, Pkcs11Expect.flip(ct, i)));
    }
    Mechanism otherAad = Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(iv, "aaD".getBytes(StandardCharsets.UTF_8), 128));
    expect(CKR.GENERAL_ERROR, "C_Decrypt", () -> s.decrypt(otherAad, aes, ct));
    expect(CKR.GENERAL_ERROR, "C_Decrypt", () -> s.decrypt(m, aes, Arrays.copyOf(ct, ct.length - 1)));
    assertThat(s.activeOperations()).isZero();
    // SoftHSM2 accepts what Wycheproof says must be refused: an empty IV, and a 0-bit tag.
    assertThat(s.encrypt(Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(new byte[0], null, 128)), aes, SECRET_DATA)).hasSize(SECRET_DATA.length + 16);
    assertThat(s.encrypt(Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(iv, null, 0)), aes, SECRET_DATA)).hasSize(SECRET_DATA.length);
  }

  @Test
  @Order(9)
  void closedSessionAndBadSlot() {
    Session x = slot.openSession(true);
    long handle = x.handle();
    x.close();
    expect(CKR.SESSION_HANDLE_INVALID, "C_GetSessionInfo", () -> raw.C_GetSessionInfo(handle));
    expect(CKR.SESSION_HANDLE_INVALID, "C_EncryptInit", () -> raw.C_EncryptInit(handle, Mechanism.of(CKM.AES_ECB), aes));
    expect(CKR.SESSION_HANDLE_INVALID, "C_GenerateRandom", () -> raw.C_GenerateRandom(handle, new byte[4], 0, 4));
    // The closed Session object holds handle 0, which is never valid.
    expect(CKR.SESSION_HANDLE_INVALID, "C_GetSessionInfo", () -> x.info());
    expect(CKR.SESSION_HANDLE_INVALID, "C_GenerateRandom", () -> x.generateRandom(4));
    x.close();
    expect(CKR.SLOT_ID_INVALID, "C_OpenSession", () -> raw.C_OpenSession(0x7EADBEEFL, CKF.SERIAL_SESSION));
    expect(CKR.SLOT_ID_INVALID, "C_GetMechanismList", () -> raw.C_GetMechanismList(0x7EADBEEFL));
    expect(CKR.SLOT_ID_INVALID, "C_CloseAllSessions", () -> raw.C_CloseAllSessions(0x7EADBEEFL));
  }

  @Test
  @Order(10)
  void loginErrors() {
    Pkcs11Exception e = expect(CKR.PIN_INCORRECT, "C_Login", () -> {
      // One wrong attempt while logged out; the user is logged in again afterwards.
      s.logout();
      try {
        raw.C_Login(h, CKU.USER, WRONG_PIN.toCharArray());
      } finally {
        s.login(CKU.USER, token.userPin());
      }
    });
    assertThat(e.getMessage()).contains("CKR_PIN_INCORRECT").doesNotContain(WRONG_PIN);
    assertThat(s.info().state()).isEqualTo(CKS.RW_USER_FUNCTIONS);
    expect(CKR.USER_ALREADY_LOGGED_IN, "C_Login", () -> raw.C_Login(h, CKU.USER, token.userPin()));
    expect(CKR.USER_ANOTHER_ALREADY_LOGGED_IN, "C_Login", () -> raw.C_Login(h, CKU.SO, token.soPin()));
    expect(CKR.USER_TYPE_INVALID, "C_Login", () -> raw.C_Login(h, 7, token.userPin()));
    expect(CKR.USER_NOT_LOGGED_IN, "C_InitPIN", () -> raw.C_InitPIN(h, "new-pin-1234".toCharArray()));
    expect(CKR.PIN_LEN_RANGE, "C_SetPIN", () -> raw.C_SetPIN(h, token.userPin(), "12".toCharArray()));
    expect(CKR.SESSION_EXISTS, "C_InitToken", () -> raw.C_InitToken(slot.id(), token.soPin(), LABEL));
    // Still logged in, still the same PIN.
    assertThat(s.info().state()).isEqualTo(CKS.RW_USER_FUNCTIONS);
  }

  @Test
  @Order(11)
  void javaArgumentErrorsComeBeforeAnyNativeCall() throws Exception {
    byte[] in = bytes(32, 9);
    raw.C_EncryptInit(h, Mechanism.of(CKM.AES_ECB), aes);
    // Each of these would end the operation had it reached the library.
    assertThatThrownBy(() -> raw.C_Encrypt(h, in, 20, 16, new byte[16], 0, 16)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> raw.C_Encrypt(h, in, -1, 16, new byte[16], 0, 16)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> raw.C_Encrypt(h, in, 0, -16, new byte[16], 0, 16)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> raw.C_Encrypt(h, in, 0, 16, new byte[16], 8, 16)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> raw.C_Encrypt(h, in, 0, 16, new byte[16], 0, 17)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> raw.C_Encrypt(h, null, 0, 16, new byte[16], 0, 16)).isInstanceOf(NullPointerException.class);
    byte[] out = new byte[16];
    assertThat(raw.C_Encrypt(h, in, 0, 16, out, 0, 16)).isEqualTo(16);
    assertThat(out).isEqualTo(ecb(Arrays.copyOf(in, 16)));

    raw.C_DigestInit(h, Mechanism.of(CKM.SHA256));
    assertThatThrownBy(() -> raw.C_DigestUpdate(h, in, 30, 3)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> raw.C_DigestFinal(h, new byte[32], 1, 32)).isInstanceOf(IndexOutOfBoundsException.class);
    raw.C_DigestUpdate(h, in, 0, 32);
    byte[] d = new byte[32];
    raw.C_DigestFinal(h, d, 0, 32);
    assertThat(d).isEqualTo(java.security.MessageDigest.getInstance("SHA-256").digest(in));

    raw.C_SignInit(h, Mechanism.of(CKM.AES_CMAC), aes);
    assertThatThrownBy(() -> raw.C_SignUpdate(h, in, 33, 0)).isInstanceOf(IndexOutOfBoundsException.class);
    raw.C_SignUpdate(h, in, 0, 32);
    assertThat(raw.C_SignFinal(h, new byte[16], 0, 16)).isEqualTo(16);

    raw.C_VerifyInit(h, Mechanism.of(CKM.AES_CMAC), aes);
    assertThatThrownBy(() -> raw.C_Verify(h, in, 0, 32, new byte[16], 4, 16)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> raw.C_VerifyUpdate(h, in, 0, 33)).isInstanceOf(IndexOutOfBoundsException.class);
    expect(CKR.SIGNATURE_INVALID, "C_Verify", () -> raw.C_Verify(h, in, 0, 32, new byte[16], 0, 16));

    assertThatThrownBy(() -> raw.C_GenerateRandom(h, new byte[8], 4, 8)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> raw.C_SeedRandom(h, new byte[8], 9, 0)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> raw.C_FindObjects(h, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> raw.C_FindObjects(h, -1)).isInstanceOf(IllegalArgumentException.class);
    // 2^31-1 handles would need 16 GiB of native memory: refused before the call (no search is active either).
    assertThatThrownBy(() -> raw.C_FindObjects(h, Integer.MAX_VALUE)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> raw.C_InitToken(slot.id(), token.soPin(), "L".repeat(33))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new MechanismParams.AesCtr(128, new byte[15])).isInstanceOf(IllegalArgumentException.class);
    assertThat(s.activeOperations()).isZero();
    // Nothing is left active in the library either: a new encryption starts.
    assertThat(s.encrypt(Mechanism.of(CKM.AES_ECB), aes, in)).isEqualTo(ecb(in));
  }

  @Test
  @Order(12)
  @DisplayName("BINDING BUG: Session.encrypt(..., out, outOff) checks the output range after C_EncryptInit")
  void sessionRangeErrorLeavesNoOperationBehind() throws Exception {
    byte[] in = bytes(16, 3);
    try {
      assertThatThrownBy(() -> s.encrypt(Mechanism.of(CKM.AES_ECB), aes, in, 0, 16, new byte[16], 17)).isInstanceOf(IndexOutOfBoundsException.class);
      // Expected: nothing started. Today C_EncryptInit has already run: Session records OP_ENCRYPT
      // and the library keeps the operation, so the next encrypt gets CKR_OPERATION_ACTIVE.
      assertThat(s.activeOperations()).as("operations left active by a Java argument error").isZero();
      assertThat(s.encrypt(Mechanism.of(CKM.AES_ECB), aes, in)).isEqualTo(ecb(in));
    } finally {
      // Leave the session clean for the tests after this one: finish a leftover operation in the
      // library, then let one successful single-part call clear Session's record of it.
      try {
        raw.C_Encrypt(h, in, 0, 16, new byte[16], 0, 16);
      } catch (Pkcs11Exception ignored) {
        // nothing was active
      }
      s.encrypt(Mechanism.of(CKM.AES_ECB), aes, in);
    }
  }

  @Test
  @Order(13)
  @DisplayName("BINDING BUG (interop): an empty template is passed as NULL, which SoftHSM2 refuses")
  void emptyTemplateIsNotNull() {
    long obj = s.createObject(
        Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.PRIVATE, false), Attribute.string(CKA.LABEL, "to-copy"));
    // Private session objects die with C_Logout (spec: "all private session objects ... are destroyed").
    long priv = s.createObject(Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.PRIVATE, true));
    s.logout();
    s.login(CKU.USER, token.userPin());
    expect(CKR.OBJECT_HANDLE_INVALID, "C_GetAttributeValue", () -> s.getAttributes(priv, CKA.CLASS));
    assertThat(s.getAttribute(obj, CKA.LABEL).asString()).isEqualTo("to-copy");
    // C_FindObjectsInit takes (NULL, 0) and C_GenerateKey says what is missing...
    assertThat(s.findObjects()).contains(obj);
    expect(CKR.TEMPLATE_INCOMPLETE, "C_GenerateKey", () -> raw.C_GenerateKey(h, Mechanism.of(CKM.AES_KEY_GEN)));
    // ...but SoftHSM2 answers pTemplate == NULL with CKR_ARGUMENTS_BAD in C_CopyObject (and C_CreateObject,
    // C_SetAttributeValue, C_UnwrapKey), even with ulCount 0. "Copy it as it is" is a normal call:
    // the binding should pass a non-NULL pointer for an empty template.
    long copy = s.copyObject(obj);
    assertThat(s.getAttribute(copy, CKA.LABEL).asString()).isEqualTo("to-copy");
  }

  @Test
  @Order(90)
  void messagesNeverCarryPinsOrData() {
    assertThat(SEEN).hasSizeGreaterThan(60);
    String dataHex = hex(SECRET_DATA);
    String dataText = new String(SECRET_DATA, StandardCharsets.US_ASCII);
    for (Pkcs11Exception e : SEEN) {
      assertThat(e.getMessage())
          .matches(Pkcs11Expect.MESSAGE)
          .doesNotContain(new String(token.userPin()))
          .doesNotContain(new String(token.soPin()))
          .doesNotContain(WRONG_PIN)
          .doesNotContainIgnoringCase(dataHex)
          .doesNotContain(dataText)
          .doesNotContain("SECRET");
      assertThat(e.toString()).doesNotContain(new String(token.userPin()));
    }
  }

  @Test
  @Order(95)
  void theSessionIsNotPoisoned() throws Exception {
    assertThat(s.handle()).isEqualTo(h);
    assertThat(s.info().state()).isEqualTo(CKS.RW_USER_FUNCTIONS);
    assertThat(s.activeOperations()).isZero();
    assertThat(s.encrypt(Mechanism.of(CKM.AES_ECB), aes, SECRET_DATA)).isEqualTo(ecb(SECRET_DATA));
    Mechanism gcm = Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(bytes(12, 1), null, 128));
    assertThat(s.decrypt(gcm, aes, s.encrypt(gcm, aes, SECRET_DATA))).isEqualTo(SECRET_DATA);
    assertThat(s.findObjects(Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY))).contains(aes);
    assertThat(s.generateRandom(16)).isNotEqualTo(new byte[16]);
  }

  @Test
  @Order(100)
  void finalizedLibraryGivesTypedErrorsAndReinitializes() throws Exception {
    raw.C_Finalize();
    try {
      expect(CKR.CRYPTOKI_NOT_INITIALIZED, "C_GetInfo", () -> raw.C_GetInfo());
      expect(CKR.CRYPTOKI_NOT_INITIALIZED, "C_GetSlotList", () -> raw.C_GetSlotList(true));
      expect(CKR.CRYPTOKI_NOT_INITIALIZED, "C_GetSessionInfo", () -> raw.C_GetSessionInfo(h));
      expect(CKR.CRYPTOKI_NOT_INITIALIZED, "C_EncryptInit", () -> raw.C_EncryptInit(h, Mechanism.of(CKM.AES_ECB), aes));
      expect(CKR.CRYPTOKI_NOT_INITIALIZED, "C_Finalize", () -> raw.C_Finalize());
      expect(CKR.CRYPTOKI_NOT_INITIALIZED, "C_OpenSession", () -> raw.C_OpenSession(token.slotId(), CKF.SERIAL_SESSION));
    } finally {
      module.reinitialize();
    }
    module.reinitialize(); // a second time is harmless
    assertThat(module.info().manufacturerId()).isEqualTo("SoftHSM");
    // Old handles died with the finalize; Session.close() tolerates that.
    expect(CKR.SESSION_HANDLE_INVALID, "C_GetSessionInfo", () -> raw.C_GetSessionInfo(h));
    s.close();
    s = module.slotByTokenLabel(LABEL).orElseThrow().openSession(true);
    assertThat(s.info().state()).isEqualTo(CKS.RW_PUBLIC_SESSION);
    s.login(CKU.USER, token.userPin());
    long key = s.generateKey(Mechanism.of(CKM.AES_KEY_GEN), Attribute.bool(CKA.TOKEN, false), Attribute.ulong(CKA.VALUE_LEN, 16));
    byte[] ct = s.encrypt(Mechanism.of(CKM.AES_CBC_PAD, new byte[16]), key, SECRET_DATA);
    assertThat(s.decrypt(Mechanism.of(CKM.AES_CBC_PAD, new byte[16]), key, ct)).isEqualTo(SECRET_DATA);
  }

  @Test
  @Order(101)
  @DisplayName("regression: C_Initialize must not pass uninitialised CK_C_INITIALIZE_ARGS fields")
  void initializeArgsAreFullyWritten() throws Exception {
    // JnaPkcs11.C_Initialize writes only CK_C_INITIALIZE_ARGS.flags; CreateMutex..UnlockMutex and
    // pReserved are whatever the arena memory holds. Before Arena.allocate zeroed new blocks, that
    // was malloc garbage: the first module open in a JVM failed with CKR_ARGUMENTS_BAD about once
    // in eight runs. A fresh thread's arena shows it every time: free a poisoned block of the
    // arena's size, then let the thread's first call (C_Initialize) malloc it back. SoftHSM2 checks
    // pReserved first and answers CKR_ARGUMENTS_BAD; a library that trusted the mutex pointers
    // would call garbage.
    raw.C_Finalize();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    try {
      Thread t = new Thread(() -> {
        try (Memory poison = new Memory(16 << 10)) {
          poison.setMemory(0, 16 << 10, (byte) 0xA5);
        }
        try {
          raw.C_Initialize(CKF.OS_LOCKING_OK);
        } catch (Throwable e) {
          failure.set(e);
        }
      }, "fresh-arena");
      t.start();
      t.join();
      assertThat(failure.get()).as("C_Initialize from a thread with a fresh arena").isNull();
      assertThat(raw.C_GetInfo().manufacturerId()).isEqualTo("SoftHSM");
    } finally {
      module.reinitialize();
      s.close();
      s = null;
    }
  }
}
