package io.hsmkit.pkcs11;

import static io.hsmkit.pkcs11.Pkcs11Expect.V240_FUNCTIONS;
import static io.hsmkit.pkcs11.Pkcs11Expect.bytes;
import static io.hsmkit.pkcs11.Pkcs11Expect.concat;
import static io.hsmkit.pkcs11.Pkcs11Expect.expectCkr;
import static io.hsmkit.pkcs11.Pkcs11Expect.flip;
import static io.hsmkit.pkcs11.Pkcs11Expect.hex;
import static io.hsmkit.pkcs11.Pkcs11Expect.unwrapOctetString;
import static io.hsmkit.pkcs11.Pkcs11Expect.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import io.hsmkit.pkcs11.raw.Info;
import io.hsmkit.pkcs11.raw.KeyPairHandles;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismInfo;
import io.hsmkit.pkcs11.raw.MechanismParams;
import io.hsmkit.pkcs11.raw.Pkcs11;
import io.hsmkit.pkcs11.raw.Platform;
import io.hsmkit.pkcs11.raw.SessionInfo;
import io.hsmkit.pkcs11.raw.SlotInfo;
import io.hsmkit.pkcs11.raw.TokenInfo;
import io.hsmkit.pkcs11.raw.Version;
import io.hsmkit.pkcs11.testing.TestToken;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestClassOrder;

/**
 * Every PKCS#11 function group against a real SoftHSM2 2.6.1 token, through the typed {@link Pkcs11}
 * layer and {@link Session}. All calls go through a recording proxy of {@link Pkcs11}, so the last
 * group can check that each of the 68 v2.40 functions was really called.
 *
 * <p>Where SoftHSM2 departs from what one might expect, the assertion names the exact code it gives.
 */
@TestClassOrder(ClassOrderer.OrderAnnotation.class)
class FunctionGroupsTest {
  private static final String LABEL = "fngroups";
  private static final byte[] P256_OID = hex("06082a8648ce3d030107");
  /** CKA_EC_PARAMS for Ed25519 as a PrintableString "edwards25519" (the v3.0 curve-name form). */
  private static final byte[] ED25519_NAME = hex("130c656477617264733235353139");
  /** CKA_EC_PARAMS for Ed25519 as the OID 1.3.101.112 (RFC 8410). */
  private static final byte[] ED25519_OID = hex("06032b6570");

  static final Set<String> CALLED = ConcurrentHashMap.newKeySet();
  static TestToken token;
  static Pkcs11Module module;
  static Pkcs11 raw;
  static Slot slot;
  static long slotId;
  static Session s;
  private static KeyPairHandles rsa;
  private static KeyPairHandles ecdsa;

  @BeforeAll
  static void setUp() {
    token = TestToken.create("FunctionGroupsTest", LABEL);
    module = Pkcs11Module.open(token.library());
    raw = Pkcs11Expect.recording(module.raw(), CALLED);
    slot = module.slotByTokenLabel(LABEL).orElseThrow();
    slotId = slot.id();
    s = openUserSession();
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

  /** An RW session through the recording layer, logged in as the user. */
  static Session openUserSession() {
    Session x = openRw();
    x.login(CKU.USER, token.userPin());
    return x;
  }

  static Session openRw() {
    return Session.wrap(raw, slotId, raw.C_OpenSession(slotId, CKF.SERIAL_SESSION | CKF.RW_SESSION));
  }

  // ------------------------------------------------------------------ keys shared by several groups

  /** RSA-2048, generated once; token objects so that closing sessions cannot destroy them. */
  static synchronized KeyPairHandles rsa() {
    if (rsa == null) {
      rsa =
          s.generateKeyPair(
              Mechanism.of(CKM.RSA_PKCS_KEY_PAIR_GEN),
              new Attribute[] {
                Attribute.bool(CKA.TOKEN, true), Attribute.ulong(CKA.MODULUS_BITS, 2048), Attribute.bytes(CKA.PUBLIC_EXPONENT, hex("010001")),
                Attribute.bool(CKA.ENCRYPT, true), Attribute.bool(CKA.VERIFY, true), Attribute.bool(CKA.WRAP, true),
                Attribute.string(CKA.LABEL, "fg-rsa")
              },
              new Attribute[] {
                Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, true), Attribute.bool(CKA.SENSITIVE, true),
                Attribute.bool(CKA.DECRYPT, true), Attribute.bool(CKA.SIGN, true), Attribute.bool(CKA.UNWRAP, true),
                Attribute.bool(CKA.SIGN_RECOVER, true), Attribute.string(CKA.LABEL, "fg-rsa")
              });
    }
    return rsa;
  }

  static synchronized KeyPairHandles ecdsa() {
    if (ecdsa == null) {
      ecdsa = ecPair(true, false);
    }
    return ecdsa;
  }

  static KeyPairHandles ecPair(boolean token, boolean extractablePrivate) {
    return s.generateKeyPair(
        Mechanism.of(CKM.EC_KEY_PAIR_GEN),
        new Attribute[] {Attribute.bool(CKA.TOKEN, token), Attribute.bytes(CKA.EC_PARAMS, P256_OID), Attribute.bool(CKA.VERIFY, true)},
        new Attribute[] {
          Attribute.bool(CKA.TOKEN, token), Attribute.bool(CKA.SIGN, true), Attribute.bool(CKA.DERIVE, true),
          Attribute.bool(CKA.SENSITIVE, !extractablePrivate), Attribute.bool(CKA.EXTRACTABLE, extractablePrivate)
        });
  }

  static KeyPairHandles ed25519(byte[] params) {
    return s.generateKeyPair(
        Mechanism.of(CKM.EC_EDWARDS_KEY_PAIR_GEN),
        new Attribute[] {Attribute.bool(CKA.TOKEN, false), Attribute.bytes(CKA.EC_PARAMS, params), Attribute.bool(CKA.VERIFY, true)},
        new Attribute[] {
          Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.SIGN, true), Attribute.bool(CKA.SENSITIVE, true), Attribute.bool(CKA.EXTRACTABLE, false)
        });
  }

  /** An AES session key imported with a known value (readable back: not sensitive, extractable). */
  static long importAes(byte[] value, Attribute... extra) {
    Attribute[] base = {
      Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES), Attribute.secret(CKA.VALUE, value),
      Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.SENSITIVE, false), Attribute.bool(CKA.EXTRACTABLE, true),
      Attribute.bool(CKA.ENCRYPT, true), Attribute.bool(CKA.DECRYPT, true)
    };
    Attribute[] all = Arrays.copyOf(base, base.length + extra.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    return s.createObject(all);
  }

  static long generateAes(int bytes, Attribute... extra) {
    Attribute[] base = {
      Attribute.bool(CKA.TOKEN, false), Attribute.ulong(CKA.VALUE_LEN, bytes), Attribute.bool(CKA.ENCRYPT, true), Attribute.bool(CKA.DECRYPT, true)
    };
    Attribute[] all = Arrays.copyOf(base, base.length + extra.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    return s.generateKey(Mechanism.of(CKM.AES_KEY_GEN), all);
  }

  static byte[] jdk(String transformation, int mode, byte[] key, byte[] iv, byte[] in) throws Exception {
    Cipher c = Cipher.getInstance(transformation);
    SecretKeySpec k = new SecretKeySpec(key, "AES");
    if (iv == null) {
      c.init(mode, k);
    } else {
      c.init(mode, k, new IvParameterSpec(iv));
    }
    return c.doFinal(in);
  }

  static byte[] sha256(byte[]... parts) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    for (byte[] p : parts) {
      md.update(p);
    }
    return md.digest();
  }

  // ================================================================== groups

  /** General purpose: C_Initialize, C_GetInfo, C_GetFunctionList. */
  @Nested
  @Order(1)
  class InitAndInfo {
    @Test
    void infoNamesSoftHsmAndCryptoki240() {
      Info info = raw.C_GetInfo();
      assertThat(info.cryptokiVersion()).isEqualTo(new Version(2, 40));
      assertThat(info.manufacturerId()).isEqualTo("SoftHSM");
      assertThat(info.libraryDescription()).isEqualTo("Implementation of PKCS11");
      assertThat(info.libraryVersion()).isEqualTo(new Version(2, 6));
      assertThat(info.flags()).isZero();
      assertThat(module.info()).isEqualTo(info);
    }

    @Test
    void functionTableIsV240WithAll68Functions() {
      assertThat(raw.functionTableVersion()).isEqualTo(new Version(2, 40));
      assertThat(raw.C_GetFunctionList()).isEqualTo(new Version(2, 40));
      assertThat(raw.supports("C_Sign")).isTrue();
      assertThat(V240_FUNCTIONS).hasSize(68).doesNotHaveDuplicates().allSatisfy(f -> assertThat(raw.supports(f)).as(f).isTrue());
      // SoftHSM2 2.6.1 is a v2.40 library: no v3.0 entries, and no C_GetInterface export.
      assertThat(raw.supports("C_SessionCancel")).isFalse();
      assertThat(raw.supports("C_LoginUser")).isFalse();
      assertThat(raw.supports("C_GetInterfaceList")).isFalse();
      assertThat(raw.supports("C_GetInterface")).isFalse();
      assertThat(raw.supports("C_NoSuchFunction")).isFalse();
    }

    @Test
    void secondInitializeSaysAlreadyInitialized() {
      expectCkr(CKR.CRYPTOKI_ALREADY_INITIALIZED, "C_Initialize", () -> raw.C_Initialize(CKF.OS_LOCKING_OK));
      // ...and the library is still usable.
      assertThat(raw.C_GetInfo().manufacturerId()).isEqualTo("SoftHSM");
    }

    @Test
    void libraryPathIsTheLoadedOne() throws Exception {
      assertThat(raw.libraryPath()).isEqualTo(token.library());
      assertThat(Path.of(module.libraryPath())).isEqualTo(Path.of(token.library()).toRealPath());
    }

    @Test
    void the68FunctionsAreExactlyThePkcs11InterfaceMinusV3() {
      Set<String> declared =
          Arrays.stream(Pkcs11.class.getMethods()).map(java.lang.reflect.Method::getName).filter(n -> n.startsWith("C_")).collect(Collectors.toCollection(TreeSet::new));
      Set<String> expected = new TreeSet<>(V240_FUNCTIONS);
      expected.addAll(List.of("C_GetInterfaceList", "C_LoginUser", "C_SessionCancel"));
      assertThat(declared).isEqualTo(expected);
    }
  }

  /** Slots and tokens. */
  @Nested
  @Order(2)
  class SlotsAndTokens {
    @Test
    void slotListsContainTheTestToken() {
      long[] present = raw.C_GetSlotList(true);
      long[] all = raw.C_GetSlotList(false);
      assertThat(present).contains(token.slotId());
      assertThat(all).contains(present);
      // SoftHSM2 always offers one more slot with a free (uninitialised) token.
      assertThat(present).hasSize(2);
      assertThat(slotId).isEqualTo(token.slotId());
      assertThat(module.slots(true)).extracting(Slot::id).containsExactly(Arrays.stream(present).boxed().toArray(Long[]::new));
      long free = Arrays.stream(present).filter(id -> id != slotId).findFirst().orElseThrow();
      TokenInfo freeToken = raw.C_GetTokenInfo(free);
      assertThat(freeToken.initialized()).isFalse();
      assertThat(freeToken.label()).isEmpty();
    }

    @Test
    void slotInfo() {
      SlotInfo info = raw.C_GetSlotInfo(slotId);
      assertThat(info.slotDescription()).isEqualTo("SoftHSM slot ID 0x" + Long.toHexString(slotId));
      assertThat(info.manufacturerId()).isEqualTo("SoftHSM project");
      assertThat(info.tokenPresent()).isTrue();
      assertThat(info.flags() & CKF.TOKEN_PRESENT).isEqualTo(CKF.TOKEN_PRESENT);
      assertThat(info.hardwareVersion()).isEqualTo(new Version(2, 6));
      assertThat(slot.info()).isEqualTo(info);
    }

    @Test
    void tokenInfo() {
      TokenInfo ti = raw.C_GetTokenInfo(slotId);
      assertThat(ti.label()).isEqualTo(LABEL);
      assertThat(ti.manufacturerId()).isEqualTo("SoftHSM project");
      assertThat(ti.model()).isEqualTo("SoftHSM v2");
      assertThat(ti.serialNumber()).matches("[0-9a-f]{16}");
      assertThat(ti.initialized()).isTrue();
      assertThat(ti.loginRequired()).isTrue();
      assertThat(ti.flags() & (CKF.RNG | CKF.USER_PIN_INITIALIZED | CKF.TOKEN_INITIALIZED | CKF.LOGIN_REQUIRED))
          .isEqualTo(CKF.RNG | CKF.USER_PIN_INITIALIZED | CKF.TOKEN_INITIALIZED | CKF.LOGIN_REQUIRED);
      assertThat(ti.minPinLen()).isEqualTo(4);
      assertThat(ti.maxPinLen()).isEqualTo(255);
      assertThat(ti.maxSessionCount()).as("CK_EFFECTIVELY_INFINITE").isZero();
      assertThat(ti.sessionCount()).isEqualTo(Platform.UNAVAILABLE_INFORMATION);
      assertThat(ti.freePublicMemory()).isEqualTo(Platform.UNAVAILABLE_INFORMATION);
      assertThat(ti.utcTime()).matches("\\d{14}00");
      TokenInfo viaSlot = slot.tokenInfo();
      assertThat(viaSlot.serialNumber()).isEqualTo(ti.serialNumber());
      assertThat(viaSlot.label()).isEqualTo(ti.label());
    }

    @Test
    void mechanismList() {
      long[] mechs = raw.C_GetMechanismList(slotId);
      assertThat(mechs)
          .hasSize(70)
          .contains(
              CKM.AES_KEY_GEN, CKM.AES_ECB, CKM.AES_CBC_PAD, CKM.AES_CTR, CKM.AES_GCM, CKM.AES_KEY_WRAP, CKM.AES_KEY_WRAP_PAD, CKM.ECDSA,
              CKM.EC_KEY_PAIR_GEN, CKM.ECDH1_DERIVE, CKM.EDDSA, CKM.EC_EDWARDS_KEY_PAIR_GEN, CKM.RSA_PKCS, CKM.RSA_PKCS_OAEP,
              CKM.RSA_PKCS_PSS, CKM.SHA256_RSA_PKCS, CKM.SHA256_RSA_PKCS_PSS, CKM.SHA256, CKM.SHA256_HMAC, CKM.GENERIC_SECRET_KEY_GEN)
          // No hash-then-sign ECDSA, and KWP only under its pre-3.0 number 0x210A.
          .doesNotContain(CKM.ECDSA_SHA256, CKM.AES_KEY_WRAP_KWP);
      assertThat(slot.mechanisms()).containsExactly(mechs);
      Map<Long, MechanismInfo> infos = slot.mechanismInfos();
      assertThat(infos.keySet()).containsExactly(Arrays.stream(mechs).boxed().toArray(Long[]::new));
    }

    @Test
    void mechanismInfo() {
      MechanismInfo aes = raw.C_GetMechanismInfo(slotId, CKM.AES_KEY_GEN);
      assertThat(aes.minKeySize()).isEqualTo(16);
      assertThat(aes.maxKeySize()).isEqualTo(32);
      assertThat(aes.has(CKF.GENERATE)).isTrue();
      assertThat(aes.has(CKF.ENCRYPT)).isFalse();
      MechanismInfo gcm = raw.C_GetMechanismInfo(slotId, CKM.AES_GCM);
      assertThat(gcm.has(CKF.ENCRYPT | CKF.DECRYPT)).isTrue();
      MechanismInfo hmac = slot.mechanismInfo(CKM.SHA256_HMAC);
      assertThat(hmac.minKeySize()).as("HMAC-SHA256 key at least the hash length").isEqualTo(32);
      assertThat(hmac.has(CKF.SIGN | CKF.VERIFY)).isTrue();
      MechanismInfo ecdsaInfo = raw.C_GetMechanismInfo(slotId, CKM.ECDSA);
      assertThat(ecdsaInfo.has(CKF.SIGN | CKF.VERIFY)).isTrue();
      expectCkr(CKR.MECHANISM_INVALID, "C_GetMechanismInfo", () -> raw.C_GetMechanismInfo(slotId, CKM.AES_KEY_WRAP_KWP));
    }

    @Test
    void slotLookups() {
      long[] present = raw.C_GetSlotList(true);
      int index = Arrays.stream(present).boxed().toList().indexOf(token.slotId());
      assertThat(module.slotByIndex(index).id()).isEqualTo(token.slotId());
      assertThat(module.slotByIndex(index)).isEqualTo(slot);
      assertThatThrownBy(() -> module.slotByIndex(present.length)).isInstanceOf(IllegalArgumentException.class);
      assertThat(module.slotByTokenLabel("no such token")).isEmpty();
      assertThat(module.slotByTokenLabel(LABEL + "  ")).contains(slot);
      assertThat(module.slot(slotId)).isEqualTo(slot);
      expectCkr(CKR.SLOT_ID_INVALID, "C_GetSlotInfo", () -> raw.C_GetSlotInfo(0x7EADBEEFL));
      expectCkr(CKR.SLOT_ID_INVALID, "C_GetTokenInfo", () -> raw.C_GetTokenInfo(0x7EADBEEFL));
    }
  }

  /** Sessions and login. */
  @Nested
  @Order(3)
  class SessionsAndLogin {
    @Test
    void sessionStatesLoginLogoutPinsAndCloseAll() {
      long rw = raw.C_OpenSession(slotId, CKF.SERIAL_SESSION | CKF.RW_SESSION);
      long ro = raw.C_OpenSession(slotId, CKF.SERIAL_SESSION);
      try {
        // The user is logged in through s: login is per application, so new sessions share it.
        SessionInfo rwInfo = raw.C_GetSessionInfo(rw);
        assertThat(rwInfo.slotId()).isEqualTo(slotId);
        assertThat(rwInfo.state()).isEqualTo(CKS.RW_USER_FUNCTIONS);
        assertThat(rwInfo.flags()).isEqualTo(CKF.SERIAL_SESSION | CKF.RW_SESSION);
        assertThat(rwInfo.deviceError()).isZero();
        SessionInfo roInfo = raw.C_GetSessionInfo(ro);
        assertThat(roInfo.state()).isEqualTo(CKS.RO_USER_FUNCTIONS);
        assertThat(roInfo.flags()).isEqualTo(CKF.SERIAL_SESSION);

        raw.C_Logout(rw);
        assertThat(raw.C_GetSessionInfo(rw).state()).isEqualTo(CKS.RW_PUBLIC_SESSION);
        assertThat(raw.C_GetSessionInfo(ro).state()).isEqualTo(CKS.RO_PUBLIC_SESSION);
        assertThat(s.info().state()).isEqualTo(CKS.RW_PUBLIC_SESSION);

        char[] wrong = "wrong-Pin-7319".toCharArray();
        Pkcs11Exception e = expectCkr(CKR.PIN_INCORRECT, "C_Login", () -> raw.C_Login(rw, CKU.USER, wrong));
        assertThat(e.getMessage()).contains("CKR_PIN_INCORRECT").doesNotContain("wrong-Pin-7319").doesNotContain(new String(token.userPin()));
        assertThat(e.requiredLength()).isEqualTo(-1);
        assertThat(raw.C_GetSessionInfo(rw).state()).isEqualTo(CKS.RW_PUBLIC_SESSION);

        raw.C_Login(ro, CKU.USER, token.userPin());
        assertThat(raw.C_GetSessionInfo(rw).state()).isEqualTo(CKS.RW_USER_FUNCTIONS);
        assertThat(raw.C_GetSessionInfo(ro).state()).isEqualTo(CKS.RO_USER_FUNCTIONS);
        // The raw call reports a second login; Session.login counts it as success.
        expectCkr(CKR.USER_ALREADY_LOGGED_IN, "C_Login", () -> raw.C_Login(rw, CKU.USER, token.userPin()));
        Session.wrap(raw, slotId, rw).login(CKU.USER, token.userPin());

        // C_SetPIN: change the user PIN and back.
        char[] changed = "changed-PIN-42".toCharArray();
        raw.C_SetPIN(rw, token.userPin(), changed);
        raw.C_Logout(rw);
        raw.C_Login(rw, CKU.USER, changed);
        assertThat(raw.C_GetSessionInfo(rw).state()).isEqualTo(CKS.RW_USER_FUNCTIONS);
        raw.C_SetPIN(rw, changed, token.userPin());
        raw.C_Logout(rw);

        // C_InitPIN as SO: an RO session blocks the SO login, as the spec says.
        expectCkr(CKR.SESSION_READ_ONLY_EXISTS, "C_Login", () -> raw.C_Login(rw, CKU.SO, token.soPin()));
        raw.C_CloseSession(ro);
        raw.C_Login(rw, CKU.SO, token.soPin());
        assertThat(raw.C_GetSessionInfo(rw).state()).isEqualTo(CKS.RW_SO_FUNCTIONS);
        char[] reset = "reset-by-SO-99".toCharArray();
        raw.C_InitPIN(rw, reset);
        raw.C_Logout(rw);
        raw.C_Login(rw, CKU.USER, reset);
        assertThat(raw.C_GetSessionInfo(rw).state()).isEqualTo(CKS.RW_USER_FUNCTIONS);
        raw.C_SetPIN(rw, reset, token.userPin());
        raw.C_Logout(rw);
        raw.C_Login(rw, CKU.USER, token.userPin());
        assertThat(s.info().state()).isEqualTo(CKS.RW_USER_FUNCTIONS);

        // C_InitToken needs every session closed: with sessions open SoftHSM refuses, and nothing changes.
        expectCkr(CKR.SESSION_EXISTS, "C_InitToken", () -> raw.C_InitToken(slotId, token.soPin(), LABEL));
        assertThat(raw.C_GetTokenInfo(slotId).label()).isEqualTo(LABEL);
      } finally {
        // C_CloseAllSessions closes s too (and logs out): reopen it for the other groups.
        raw.C_CloseAllSessions(slotId);
        expectCkr(CKR.SESSION_HANDLE_INVALID, "C_GetSessionInfo", () -> raw.C_GetSessionInfo(rw));
        expectCkr(CKR.SESSION_HANDLE_INVALID, "C_GetSessionInfo", () -> raw.C_GetSessionInfo(s.handle()));
        s = openUserSession();
      }
      assertThat(s.info().state()).isEqualTo(CKS.RW_USER_FUNCTIONS);
    }

    @Test
    void openAndCloseThroughSlotAndSession() {
      Session ro = slot.openSession(false);
      long h = ro.handle();
      assertThat(h).isNotZero();
      assertThat(ro.slotId()).isEqualTo(slotId);
      assertThat(ro.info().flags()).isEqualTo(CKF.SERIAL_SESSION);
      assertThat(ro.info().state()).isEqualTo(CKS.RO_USER_FUNCTIONS);
      ro.close();
      assertThat(ro.handle()).isZero();
      ro.close(); // idempotent
      expectCkr(CKR.SESSION_HANDLE_INVALID, "C_GetSessionInfo", () -> raw.C_GetSessionInfo(h));

      long other = raw.C_OpenSession(slotId, CKF.SERIAL_SESSION);
      raw.C_CloseSession(other);
      expectCkr(CKR.SESSION_HANDLE_INVALID, "C_CloseSession", () -> raw.C_CloseSession(other));
      // Parallel sessions do not exist since v2.20: CKF_SERIAL_SESSION is required.
      expectCkr(CKR.SESSION_PARALLEL_NOT_SUPPORTED, "C_OpenSession", () -> raw.C_OpenSession(slotId, CKF.RW_SESSION));
    }
  }

  /** Objects. */
  @Nested
  @Order(4)
  class Objects {
    @Test
    void dataObjectCreateReadSetCopyFindDestroy() {
      byte[] data = bytes(40, 7);
      long obj =
          s.createObject(
              Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.bool(CKA.TOKEN, false), Attribute.string(CKA.LABEL, "fg-data"),
              Attribute.string(CKA.APPLICATION, "hsmkit"), Attribute.bytes(CKA.VALUE, data));
      Attribute[] got = s.getAttributes(obj, CKA.CLASS, CKA.LABEL, CKA.APPLICATION, CKA.VALUE, CKA.TOKEN, CKA.MODIFIABLE);
      assertThat(got[0].asUlong()).isEqualTo(CKO.DATA);
      assertThat(got[1].asString()).isEqualTo("fg-data");
      assertThat(got[2].asString()).isEqualTo("hsmkit");
      assertThat(got[3].value()).isEqualTo(data);
      assertThat(got[4].asBool()).isFalse();
      assertThat(got[5].asBool()).isTrue();
      assertThat(got).extracting(Attribute::type).containsExactly(CKA.CLASS, CKA.LABEL, CKA.APPLICATION, CKA.VALUE, CKA.TOKEN, CKA.MODIFIABLE);

      // Find by label through the raw three calls and through Session.findObjects.
      raw.C_FindObjectsInit(s.handle(), Attribute.string(CKA.LABEL, "fg-data"));
      long[] found = raw.C_FindObjects(s.handle(), 10);
      long[] rest = raw.C_FindObjects(s.handle(), 10);
      raw.C_FindObjectsFinal(s.handle());
      assertThat(found).containsExactly(obj);
      assertThat(rest).isEmpty();
      assertThat(s.findObjects(Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.string(CKA.LABEL, "fg-data"))).containsExactly(obj);
      assertThat(s.findObjects(Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.string(CKA.LABEL, "fg-data"))).isEmpty();
      assertThat(s.findObjects()).contains(obj);
      assertThat(s.activeOperations()).isZero();

      s.setAttributes(obj, Attribute.string(CKA.LABEL, "fg-renamed"));
      assertThat(s.getAttribute(obj, CKA.LABEL).asString()).isEqualTo("fg-renamed");
      assertThat(s.findObjects(Attribute.string(CKA.LABEL, "fg-data"))).isEmpty();

      long copy = s.copyObject(obj, Attribute.string(CKA.LABEL, "fg-copy"));
      assertThat(copy).isNotEqualTo(obj);
      assertThat(s.getAttribute(copy, CKA.LABEL).asString()).isEqualTo("fg-copy");
      assertThat(value(s, copy, CKA.VALUE)).isEqualTo(data);
      assertThat(s.getAttribute(obj, CKA.LABEL).asString()).isEqualTo("fg-renamed");

      // SoftHSM2 does not tell object sizes: CK_UNAVAILABLE_INFORMATION, not an error.
      assertThat(raw.C_GetObjectSize(s.handle(), obj)).isEqualTo(Platform.UNAVAILABLE_INFORMATION);

      raw.C_DestroyObject(s.handle(), obj);
      s.destroyObject(copy);
      assertThat(s.findObjects(Attribute.string(CKA.LABEL, "fg-renamed"))).isEmpty();
      assertThat(s.findObjects(Attribute.string(CKA.LABEL, "fg-copy"))).isEmpty();
      expectCkr(CKR.OBJECT_HANDLE_INVALID, "C_GetAttributeValue", () -> s.getAttributes(obj, CKA.LABEL));
    }

    @Test
    void importedAesKeyReadsBackWithCheckValue() throws Exception {
      byte[] k = bytes(16, 3);
      long key = importAes(k, Attribute.string(CKA.LABEL, "fg-imported"));
      Attribute[] a = s.getAttributes(key, CKA.CLASS, CKA.KEY_TYPE, CKA.VALUE, CKA.VALUE_LEN, CKA.LOCAL, CKA.CHECK_VALUE);
      assertThat(a[0].asUlong()).isEqualTo(CKO.SECRET_KEY);
      assertThat(a[1].asUlong()).isEqualTo(CKK.AES);
      assertThat(a[2].value()).isEqualTo(k);
      assertThat(a[3].asUlong()).isEqualTo(16);
      assertThat(a[4].asBool()).as("imported, so not CKA_LOCAL").isFalse();
      // CKA_CHECK_VALUE of an AES key: the first 3 bytes of E(K, 0^128).
      byte[] kcv = Arrays.copyOf(jdk("AES/ECB/NoPadding", Cipher.ENCRYPT_MODE, k, null, new byte[16]), 3);
      assertThat(a[5].value()).isEqualTo(kcv);
      assertThat(s.findObjects(Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.string(CKA.LABEL, "fg-imported"))).containsExactly(key);
      // Attribute.secret never prints its value.
      assertThat(Attribute.secret(CKA.VALUE, k).toString()).doesNotContain(hex(k)).contains("16 secret bytes");
    }

    @Test
    void sensitiveAndInvalidAttributesComeBackWithoutValue() {
      long key = generateAes(32, Attribute.bool(CKA.SENSITIVE, true), Attribute.string(CKA.LABEL, "fg-sensitive"));
      Attribute[] a = s.getAttributes(key, CKA.VALUE, CKA.LABEL, 0x7FFF0001L, CKA.VALUE_LEN, CKA.SENSITIVE);
      assertThat(a[0].present()).as("CKA_VALUE of a sensitive key").isFalse();
      assertThat(a[0].length()).isEqualTo(-1);
      assertThat(a[1].asString()).isEqualTo("fg-sensitive");
      assertThat(a[2].present()).as("undefined attribute type").isFalse();
      assertThat(a[3].asUlong()).isEqualTo(32);
      assertThat(a[4].asBool()).isTrue();
      assertThat(s.getAttributes(key)).isEmpty();
    }

    @Test
    void longValuesTakeTheTwoCallPath() {
      byte[] big = bytes(3000, 11);
      String longLabel = "L".repeat(300);
      long obj =
          s.createObject(
              Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.bool(CKA.TOKEN, false), Attribute.string(CKA.LABEL, longLabel), Attribute.bytes(CKA.VALUE, big));
      assertThat(value(s, obj, CKA.VALUE)).isEqualTo(big);
      // Mixed: a long value, an invalid type, a long label and a short value in one read.
      Attribute[] a = s.getAttributes(obj, CKA.VALUE, 0x7FFF0001L, CKA.LABEL, CKA.CLASS);
      assertThat(a[0].value()).isEqualTo(big);
      assertThat(a[1].present()).isFalse();
      assertThat(a[2].asString()).isEqualTo(longLabel);
      assertThat(a[3].asUlong()).isEqualTo(CKO.DATA);
      // Sensitive value and a long label together.
      long key = s.createObject(
          Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES), Attribute.secret(CKA.VALUE, bytes(16, 1)),
          Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.SENSITIVE, true), Attribute.string(CKA.LABEL, longLabel));
      Attribute[] b = s.getAttributes(key, CKA.VALUE, CKA.LABEL, CKA.VALUE_LEN);
      assertThat(b[0].present()).isFalse();
      assertThat(b[1].asString()).isEqualTo(longLabel);
      assertThat(b[2].asUlong()).isEqualTo(16);
      // Exactly the guessed size (256) and one past it; an empty value is present with length 0.
      long edge = s.createObject(
          Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.bool(CKA.TOKEN, false), Attribute.bytes(CKA.VALUE, bytes(256, 2)),
          Attribute.bytes(CKA.LABEL, bytes(257, 3)), Attribute.bytes(CKA.APPLICATION, new byte[0]));
      Attribute[] c = s.getAttributes(edge, CKA.VALUE, CKA.LABEL, CKA.APPLICATION);
      assertThat(c[0].value()).isEqualTo(bytes(256, 2));
      assertThat(c[1].value()).isEqualTo(bytes(257, 3));
      assertThat(c[2].present()).isTrue();
      assertThat(c[2].length()).isZero();
    }

    @Test
    void findObjectsPagesThroughManyResults() {
      Set<Long> made = new HashSet<>();
      for (int i = 0; i < 70; i++) {
        made.add(s.createObject(Attribute.ulong(CKA.CLASS, CKO.DATA), Attribute.bool(CKA.TOKEN, false), Attribute.string(CKA.LABEL, "fg-page"), Attribute.bytes(CKA.VALUE, new byte[] {(byte) i})));
      }
      long[] all = s.findObjects(Attribute.string(CKA.LABEL, "fg-page"));
      assertThat(all).hasSize(70).doesNotHaveDuplicates();
      assertThat(Arrays.stream(all).boxed().collect(Collectors.toSet())).isEqualTo(made);
      assertThat(s.findObjects(5, Attribute.string(CKA.LABEL, "fg-page"))).hasSize(5);
      raw.C_FindObjectsInit(s.handle(), Attribute.string(CKA.LABEL, "fg-page"));
      try {
        assertThat(raw.C_FindObjects(s.handle(), 64)).hasSize(64);
        assertThat(raw.C_FindObjects(s.handle(), 64)).hasSize(6);
        assertThat(raw.C_FindObjects(s.handle(), 64)).isEmpty();
      } finally {
        raw.C_FindObjectsFinal(s.handle());
      }
      for (long h : all) {
        s.destroyObject(h);
      }
      assertThat(s.findObjects(Attribute.string(CKA.LABEL, "fg-page"))).isEmpty();
    }
  }

  /** Key generation. */
  @Nested
  @Order(5)
  class KeyGeneration {
    @Test
    void aes128And256() {
      for (int len : new int[] {16, 32}) {
        long key = s.generateKey(
            Mechanism.of(CKM.AES_KEY_GEN), Attribute.bool(CKA.TOKEN, false), Attribute.ulong(CKA.VALUE_LEN, len),
            Attribute.bool(CKA.SENSITIVE, true), Attribute.bool(CKA.EXTRACTABLE, false), Attribute.bool(CKA.ENCRYPT, true));
        Attribute[] a = s.getAttributes(key, CKA.CLASS, CKA.KEY_TYPE, CKA.VALUE_LEN, CKA.VALUE, CKA.LOCAL, CKA.KEY_GEN_MECHANISM, CKA.ALWAYS_SENSITIVE, CKA.NEVER_EXTRACTABLE);
        assertThat(a[0].asUlong()).isEqualTo(CKO.SECRET_KEY);
        assertThat(a[1].asUlong()).isEqualTo(CKK.AES);
        assertThat(a[2].asUlong()).isEqualTo(len);
        assertThat(a[3].present()).isFalse();
        assertThat(a[4].asBool()).isTrue();
        assertThat(a[5].asUlong()).isEqualTo(CKM.AES_KEY_GEN);
        assertThat(a[6].asBool()).isTrue();
        assertThat(a[7].asBool()).isTrue();
      }
    }

    @Test
    void softHsmGeneratesAes192TooDespiteTheNotes() throws Exception {
      // SOFTHSM-NOTES says "AES 16/32 bytes only"; C_GenerateKey accepts 24 and the key works.
      long key = generateAes(24, Attribute.bool(CKA.SENSITIVE, false), Attribute.bool(CKA.EXTRACTABLE, true));
      byte[] k = value(s, key, CKA.VALUE);
      assertThat(k).hasSize(24);
      byte[] pt = bytes(32, 5);
      assertThat(s.encrypt(Mechanism.of(CKM.AES_ECB), key, pt)).isEqualTo(jdk("AES/ECB/NoPadding", Cipher.ENCRYPT_MODE, k, null, pt));
    }

    @Test
    void defaultsOfAGeneratedSecretKey() {
      // SoftHSM2 2.6.1: a generated secret key with no CKA_SENSITIVE/CKA_EXTRACTABLE in the template is
      // not sensitive but also not extractable, so its value cannot be read either way.
      long key = generateAes(16);
      Attribute[] a = s.getAttributes(key, CKA.SENSITIVE, CKA.EXTRACTABLE, CKA.VALUE, CKA.PRIVATE);
      assertThat(a[0].asBool()).isFalse();
      assertThat(a[1].asBool()).isFalse();
      assertThat(a[2].present()).isFalse();
      assertThat(a[3].asBool()).isTrue();
    }

    @Test
    void rsa2048() {
      KeyPairHandles kp = rsa();
      Attribute[] pub = s.getAttributes(kp.publicKey(), CKA.CLASS, CKA.KEY_TYPE, CKA.MODULUS, CKA.PUBLIC_EXPONENT, CKA.MODULUS_BITS, CKA.TOKEN);
      assertThat(pub[0].asUlong()).isEqualTo(CKO.PUBLIC_KEY);
      assertThat(pub[1].asUlong()).isEqualTo(CKK.RSA);
      assertThat(pub[2].length()).isEqualTo(256);
      assertThat(pub[2].value()[0] & 0x80).as("top bit of a 2048-bit modulus").isNotZero();
      assertThat(pub[3].value()).isEqualTo(hex("010001"));
      assertThat(pub[4].asUlong()).isEqualTo(2048);
      assertThat(pub[5].asBool()).isTrue();
      Attribute[] priv = s.getAttributes(kp.privateKey(), CKA.CLASS, CKA.PRIVATE_EXPONENT, CKA.PRIME_1, CKA.MODULUS, CKA.SENSITIVE, CKA.LOCAL);
      assertThat(priv[0].asUlong()).isEqualTo(CKO.PRIVATE_KEY);
      assertThat(priv[1].present()).isFalse();
      assertThat(priv[2].present()).isFalse();
      assertThat(priv[3].value()).isEqualTo(pub[2].value());
      assertThat(priv[4].asBool()).isTrue();
      assertThat(priv[5].asBool()).isTrue();
      assertThat(s.findObjects(Attribute.ulong(CKA.CLASS, CKO.PRIVATE_KEY), Attribute.string(CKA.LABEL, "fg-rsa"))).containsExactly(kp.privateKey());
    }

    @Test
    void ecP256() {
      KeyPairHandles kp = ecdsa();
      byte[] point = value(s, kp.publicKey(), CKA.EC_POINT);
      assertThat(point).hasSize(67);
      assertThat(Arrays.copyOf(point, 3)).as("DER OCTET STRING of an uncompressed point").isEqualTo(hex("044104"));
      assertThat(value(s, kp.publicKey(), CKA.EC_PARAMS)).isEqualTo(P256_OID);
      Attribute[] priv = s.getAttributes(kp.privateKey(), CKA.KEY_TYPE, CKA.EC_PARAMS, CKA.VALUE, CKA.DERIVE);
      assertThat(priv[0].asUlong()).isEqualTo(CKK.EC);
      assertThat(priv[1].value()).isEqualTo(P256_OID);
      assertThat(priv[2].present()).isFalse();
      assertThat(priv[3].asBool()).isTrue();
    }

    @Test
    void ed25519AcceptsBothCurveEncodings() {
      for (byte[] params : new byte[][] {ED25519_NAME, ED25519_OID}) {
        KeyPairHandles kp = ed25519(params);
        Attribute[] pub = s.getAttributes(kp.publicKey(), CKA.KEY_TYPE, CKA.EC_POINT, CKA.EC_PARAMS);
        assertThat(pub[0].asUlong()).isEqualTo(CKK.EC_EDWARDS);
        assertThat(pub[1].length()).isEqualTo(34);
        assertThat(Arrays.copyOf(pub[1].value(), 2)).isEqualTo(hex("0420"));
        assertThat(pub[2].value()).isEqualTo(params);
        Attribute[] priv = s.getAttributes(kp.privateKey(), CKA.VALUE, CKA.SENSITIVE, CKA.EXTRACTABLE, CKA.ALWAYS_SENSITIVE);
        assertThat(priv[0].present()).isFalse();
        assertThat(priv[1].asBool()).isTrue();
        assertThat(priv[2].asBool()).isFalse();
        assertThat(priv[3].asBool()).isTrue();
      }
    }

    @Test
    void genericSecret() {
      long key = s.generateKey(
          Mechanism.of(CKM.GENERIC_SECRET_KEY_GEN), Attribute.bool(CKA.TOKEN, false), Attribute.ulong(CKA.VALUE_LEN, 48),
          Attribute.bool(CKA.SENSITIVE, false), Attribute.bool(CKA.EXTRACTABLE, true));
      assertThat(s.getAttribute(key, CKA.KEY_TYPE).asUlong()).isEqualTo(CKK.GENERIC_SECRET);
      assertThat(value(s, key, CKA.VALUE)).hasSize(48).isNotEqualTo(new byte[48]);
    }
  }

  /** Encrypt and decrypt. */
  @Nested
  @Order(6)
  class EncryptDecrypt {
    @Test
    void aesGcmWycheproofKnownAnswers() throws Exception {
      // Valid vectors, 96-bit IV, 128-bit tag: tcId 2 and 3 (AES-128), 91 and 100 (AES-256).
      Map<Integer, Map<String, String>> vectors = Pkcs11Expect.wycheproofTests("aes_gcm_test.json", Set.of(2, 3, 91, 100));
      for (Map.Entry<Integer, Map<String, String>> v : vectors.entrySet()) {
        Map<String, String> f = v.getValue();
        assertThat(f.get("result")).isEqualTo("valid");
        byte[] key = hex(f.get("key"));
        byte[] iv = hex(f.get("iv"));
        byte[] aad = hex(f.get("aad"));
        byte[] msg = hex(f.get("msg"));
        byte[] expected = concat(hex(f.get("ct")), hex(f.get("tag")));
        assertThat(iv).hasSize(12);
        long k = importAes(key);
        Mechanism m = Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(iv, aad, 128));
        assertThat(s.encrypt(m, k, msg)).as("tcId %d", v.getKey()).isEqualTo(expected);
        assertThat(s.decrypt(m, k, expected)).as("tcId %d", v.getKey()).isEqualTo(msg);
        // A 96-bit tag is the full tag cut to 12 bytes.
        Mechanism m96 = Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(iv, aad, 96));
        byte[] ct96 = s.encrypt(m96, k, msg);
        assertThat(ct96).as("tcId %d, 96-bit tag", v.getKey()).isEqualTo(Arrays.copyOf(expected, msg.length + 12));
        assertThat(s.decrypt(m96, k, ct96)).isEqualTo(msg);
        s.destroyObject(k);
      }
    }

    @Test
    void aesGcmRoundTripWithGeneratedKeyAndAad() {
      long key = generateAes(32);
      byte[] iv = s.generateRandom(12);
      byte[] pt = bytes(1000, 9);
      Mechanism m = Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(iv, "header".getBytes(StandardCharsets.UTF_8), 128));
      byte[] ct = s.encrypt(m, key, pt);
      assertThat(ct).hasSize(1016);
      assertThat(s.decrypt(m, key, ct)).isEqualTo(pt);
      // Multi-part GCM gives the same bytes as single-part.
      s.encryptInit(m, key);
      byte[] out = new byte[1100];
      int n = s.encryptUpdate(pt, 0, 300, out, 0, out.length);
      n += s.encryptUpdate(pt, 300, 700, out, n, out.length - n);
      n += s.encryptFinal(out, n, out.length - n);
      assertThat(Arrays.copyOf(out, n)).isEqualTo(ct);
      assertThat(s.activeOperations()).isZero();
    }

    @Test
    void aesCbcPadCtrEcbMatchTheJdk() throws Exception {
      byte[] k = bytes(32, 17);
      long key = importAes(k);
      byte[] iv = bytes(16, 99);
      for (int len : new int[] {0, 1, 15, 16, 33, 100}) {
        byte[] pt = bytes(len, len);
        byte[] cbc = s.encrypt(Mechanism.of(CKM.AES_CBC_PAD, iv), key, pt);
        assertThat(cbc).as("CBC-PAD %d bytes", len).isEqualTo(jdk("AES/CBC/PKCS5Padding", Cipher.ENCRYPT_MODE, k, iv, pt));
        assertThat(s.decrypt(Mechanism.of(CKM.AES_CBC_PAD, iv), key, cbc)).isEqualTo(pt);
        if (len > 0) {
          byte[] ctr = s.encrypt(Mechanism.of(CKM.AES_CTR, new MechanismParams.AesCtr(128, iv)), key, pt);
          assertThat(ctr).as("CTR %d bytes", len).isEqualTo(jdk("AES/CTR/NoPadding", Cipher.ENCRYPT_MODE, k, iv, pt));
          assertThat(s.decrypt(Mechanism.of(CKM.AES_CTR, new MechanismParams.AesCtr(128, iv)), key, ctr)).isEqualTo(pt);
        }
        if (len > 0 && len % 16 == 0) {
          byte[] ecb = s.encrypt(Mechanism.of(CKM.AES_ECB), key, pt);
          assertThat(ecb).as("ECB %d bytes", len).isEqualTo(jdk("AES/ECB/NoPadding", Cipher.ENCRYPT_MODE, k, null, pt));
          assertThat(s.decrypt(Mechanism.of(CKM.AES_ECB), key, ecb)).isEqualTo(pt);
        }
      }
    }

    @Test
    void multiPartCbcPadThroughTheRawCalls() throws Exception {
      byte[] k = bytes(16, 23);
      long key = importAes(k);
      byte[] iv = bytes(16, 1);
      byte[] pt = bytes(68, 4);
      byte[] expected = jdk("AES/CBC/PKCS5Padding", Cipher.ENCRYPT_MODE, k, iv, pt);
      long h = s.handle();
      raw.C_EncryptInit(h, Mechanism.of(CKM.AES_CBC_PAD, iv), key);
      byte[] out = new byte[96];
      int n = 0;
      int[] chunks = {7, 20, 1, 40};
      int off = 0;
      for (int c : chunks) {
        n += raw.C_EncryptUpdate(h, pt, off, c, out, n, out.length - n);
        off += c;
      }
      assertThat(n).as("whole blocks so far").isEqualTo(64);
      assertThat(raw.C_EncryptFinal(h, null, 0, 0)).as("length query").isEqualTo(16);
      n += raw.C_EncryptFinal(h, out, n, out.length - n);
      assertThat(Arrays.copyOf(out, n)).isEqualTo(expected);

      raw.C_DecryptInit(h, Mechanism.of(CKM.AES_CBC_PAD, iv), key);
      byte[] back = new byte[96];
      int m = raw.C_DecryptUpdate(h, expected, 0, 50, back, 0, back.length);
      m += raw.C_DecryptUpdate(h, expected, 50, expected.length - 50, back, m, back.length - m);
      m += raw.C_DecryptFinal(h, back, m, back.length - m);
      assertThat(Arrays.copyOf(back, m)).isEqualTo(pt);
    }

    @Test
    void multiPartThroughSession() {
      long key = generateAes(16);
      byte[] iv = bytes(16, 2);
      byte[] pt = bytes(50, 6);
      Mechanism m = Mechanism.of(CKM.AES_CBC_PAD, iv);
      byte[] single = s.encrypt(m, key, pt);
      s.encryptInit(m, key);
      assertThat(s.activeOperations()).isEqualTo(Session.OP_ENCRYPT);
      byte[] out = new byte[64];
      int n = s.encryptUpdate(pt, 0, 25, out, 0, 64);
      n += s.encryptUpdate(pt, 25, 25, out, n, 64 - n);
      n += s.encryptFinal(out, n, 64 - n);
      assertThat(s.activeOperations()).isZero();
      assertThat(Arrays.copyOf(out, n)).isEqualTo(single);
      s.decryptInit(m, key);
      byte[] back = new byte[64];
      int b = s.decryptUpdate(single, 0, single.length, back, 0, 64);
      b += s.decryptFinal(back, b, 64 - b);
      assertThat(Arrays.copyOf(back, b)).isEqualTo(pt);
      // The offset forms of single-part encrypt/decrypt.
      byte[] buf = new byte[80];
      int w = s.encrypt(m, key, pt, 0, pt.length, buf, 8);
      assertThat(Arrays.copyOfRange(buf, 8, 8 + w)).isEqualTo(single);
      byte[] dec = new byte[80];
      int d = s.decrypt(m, key, buf, 8, w, dec, 3);
      assertThat(Arrays.copyOfRange(dec, 3, 3 + d)).isEqualTo(pt);
    }

    @Test
    void rsaPkcs1AndOaepSha1RoundTripsAndJdkInterop() throws Exception {
      KeyPairHandles kp = rsa();
      PublicKey jdkPub = Pkcs11Expect.rsaPublicKey(value(s, kp.publicKey(), CKA.MODULUS), value(s, kp.publicKey(), CKA.PUBLIC_EXPONENT));
      byte[] pt = "attack at dawn".getBytes(StandardCharsets.UTF_8);

      Mechanism pkcs1 = Mechanism.of(CKM.RSA_PKCS);
      byte[] c1 = s.encrypt(pkcs1, kp.publicKey(), pt);
      assertThat(c1).hasSize(256);
      assertThat(s.encrypt(pkcs1, kp.publicKey(), pt)).as("random padding").isNotEqualTo(c1);
      assertThat(s.decrypt(pkcs1, kp.privateKey(), c1)).isEqualTo(pt);
      Cipher jc = Cipher.getInstance("RSA/ECB/PKCS1Padding");
      jc.init(Cipher.ENCRYPT_MODE, jdkPub);
      assertThat(s.decrypt(pkcs1, kp.privateKey(), jc.doFinal(pt))).isEqualTo(pt);

      Mechanism oaep = Mechanism.of(CKM.RSA_PKCS_OAEP, new MechanismParams.Oaep(CKM.SHA_1, CKG.MGF1_SHA1, CKZ.DATA_SPECIFIED, null));
      byte[] c2 = s.encrypt(oaep, kp.publicKey(), pt);
      assertThat(c2).hasSize(256);
      assertThat(s.decrypt(oaep, kp.privateKey(), c2)).isEqualTo(pt);
      Cipher jo = Cipher.getInstance("RSA/ECB/OAEPWithSHA-1AndMGF1Padding");
      jo.init(Cipher.ENCRYPT_MODE, jdkPub);
      assertThat(s.decrypt(oaep, kp.privateKey(), jo.doFinal(pt))).isEqualTo(pt);
    }
  }

  /** Sign and verify. */
  @Nested
  @Order(7)
  class SignVerify {
    private final byte[] msg = "the quick brown fox".getBytes(StandardCharsets.UTF_8);

    @Test
    void ecdsaP256OverSha256VerifiedByTheJdk() throws Exception {
      KeyPairHandles kp = ecdsa();
      byte[] digest = sha256(msg);
      byte[] sig = s.sign(Mechanism.of(CKM.ECDSA), kp.privateKey(), digest);
      assertThat(sig).as("r||s").hasSize(64);
      assertThat(s.verify(Mechanism.of(CKM.ECDSA), kp.publicKey(), digest, sig)).isTrue();
      assertThat(s.verify(Mechanism.of(CKM.ECDSA), kp.publicKey(), digest, flip(sig, 10))).isFalse();
      assertThat(s.verify(Mechanism.of(CKM.ECDSA), kp.publicKey(), flip(digest, 0), sig)).isFalse();
      PublicKey pub = Pkcs11Expect.p256PublicKey(unwrapOctetString(value(s, kp.publicKey(), CKA.EC_POINT)));
      Signature v = Signature.getInstance("SHA256withECDSAinP1363Format");
      v.initVerify(pub);
      v.update(msg);
      assertThat(v.verify(sig)).isTrue();
      v.initVerify(pub);
      v.update(msg);
      assertThat(v.verify(flip(sig, 40))).isFalse();
    }

    @Test
    void ecdsaHasNoMultiPartInSoftHsm() {
      // CKM_ECDSA signs a digest in one part; SoftHSM2 answers C_SignUpdate with
      // CKR_OPERATION_NOT_INITIALIZED (not CKR_FUNCTION_NOT_SUPPORTED) and ends the operation.
      s.signInit(Mechanism.of(CKM.ECDSA), ecdsa().privateKey());
      expectCkr(CKR.OPERATION_NOT_INITIALIZED, "C_SignUpdate", () -> s.signUpdate(new byte[32], 0, 32));
      assertThat(s.activeOperations()).isZero();
      expectCkr(CKR.OPERATION_NOT_INITIALIZED, "C_SignFinal", () -> raw.C_SignFinal(s.handle(), new byte[64], 0, 64));
    }

    @Test
    void rsaPkcs1Sha256VerifiedByTheJdk() throws Exception {
      KeyPairHandles kp = rsa();
      Mechanism m = Mechanism.of(CKM.SHA256_RSA_PKCS);
      byte[] sig = s.sign(m, kp.privateKey(), msg);
      assertThat(sig).hasSize(256);
      assertThat(s.sign(m, kp.privateKey(), msg)).as("PKCS#1 v1.5 is deterministic").isEqualTo(sig);
      assertThat(s.verify(m, kp.publicKey(), msg, sig)).isTrue();
      assertThat(s.verify(m, kp.publicKey(), msg, flip(sig, 100))).isFalse();
      assertThat(s.verify(m, kp.publicKey(), flip(msg, 3), sig)).isFalse();
      assertThat(s.verify(m, kp.publicKey(), msg, Arrays.copyOf(sig, 10))).as("short signature: CKR_SIGNATURE_LEN_RANGE").isFalse();
      PublicKey pub = Pkcs11Expect.rsaPublicKey(value(s, kp.publicKey(), CKA.MODULUS), value(s, kp.publicKey(), CKA.PUBLIC_EXPONENT));
      Signature v = Signature.getInstance("SHA256withRSA");
      v.initVerify(pub);
      v.update(msg);
      assertThat(v.verify(sig)).isTrue();
    }

    @Test
    void rsaPssSha256VerifiedByTheJdk() throws Exception {
      KeyPairHandles kp = rsa();
      Mechanism m = Mechanism.of(CKM.SHA256_RSA_PKCS_PSS, new MechanismParams.Pss(CKM.SHA256, CKG.MGF1_SHA256, 32));
      byte[] sig = s.sign(m, kp.privateKey(), msg);
      assertThat(sig).hasSize(256);
      assertThat(s.sign(m, kp.privateKey(), msg)).as("random salt").isNotEqualTo(sig);
      assertThat(s.verify(m, kp.publicKey(), msg, sig)).isTrue();
      assertThat(s.verify(m, kp.publicKey(), msg, flip(sig, 255))).isFalse();
      PublicKey pub = Pkcs11Expect.rsaPublicKey(value(s, kp.publicKey(), CKA.MODULUS), value(s, kp.publicKey(), CKA.PUBLIC_EXPONENT));
      Signature v = Signature.getInstance("RSASSA-PSS");
      v.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
      v.initVerify(pub);
      v.update(msg);
      assertThat(v.verify(sig)).isTrue();
    }

    @Test
    void ed25519VerifiedByTheJdk() throws Exception {
      KeyPairHandles kp = ed25519(ED25519_NAME);
      byte[] sig = s.sign(Mechanism.of(CKM.EDDSA), kp.privateKey(), msg);
      assertThat(sig).hasSize(64);
      assertThat(s.sign(Mechanism.of(CKM.EDDSA), kp.privateKey(), msg)).as("Ed25519 is deterministic").isEqualTo(sig);
      // CK_EDDSA_PARAMS without pre-hash and context is plain Ed25519.
      assertThat(s.sign(Mechanism.of(CKM.EDDSA, new MechanismParams.Eddsa(false, null)), kp.privateKey(), msg)).isEqualTo(sig);
      assertThat(s.verify(Mechanism.of(CKM.EDDSA), kp.publicKey(), msg, sig)).isTrue();
      assertThat(s.verify(Mechanism.of(CKM.EDDSA), kp.publicKey(), msg, flip(sig, 1))).isFalse();
      PublicKey pub = Pkcs11Expect.ed25519PublicKey(unwrapOctetString(value(s, kp.publicKey(), CKA.EC_POINT)));
      Signature v = Signature.getInstance("Ed25519");
      v.initVerify(pub);
      v.update(msg);
      assertThat(v.verify(sig)).isTrue();
    }

    @Test
    void hmacSha256MatchesTheJdk() throws Exception {
      long key = s.generateKey(
          Mechanism.of(CKM.GENERIC_SECRET_KEY_GEN), Attribute.bool(CKA.TOKEN, false), Attribute.ulong(CKA.VALUE_LEN, 32),
          Attribute.bool(CKA.SIGN, true), Attribute.bool(CKA.VERIFY, true), Attribute.bool(CKA.SENSITIVE, false), Attribute.bool(CKA.EXTRACTABLE, true));
      Mechanism m = Mechanism.of(CKM.SHA256_HMAC);
      byte[] mac = s.sign(m, key, msg);
      Mac jm = Mac.getInstance("HmacSHA256");
      jm.init(new SecretKeySpec(value(s, key, CKA.VALUE), "HmacSHA256"));
      assertThat(mac).hasSize(32).isEqualTo(jm.doFinal(msg));
      assertThat(s.verify(m, key, msg, mac)).isTrue();
      assertThat(s.verify(m, key, msg, flip(mac, 31))).isFalse();
      assertThat(s.verify(m, key, msg, Arrays.copyOf(mac, 16))).isFalse();
      // Multi-part.
      s.signInit(m, key);
      s.signUpdate(msg, 0, 4);
      s.signUpdate(msg, 4, msg.length - 4);
      byte[] out = new byte[40];
      assertThat(s.signFinal(out, 0, 40)).isEqualTo(32);
      assertThat(Arrays.copyOf(out, 32)).isEqualTo(mac);
      // A key shorter than the hash: SoftHSM2 refuses it at C_SignInit.
      long shortKey = s.generateKey(Mechanism.of(CKM.GENERIC_SECRET_KEY_GEN), Attribute.bool(CKA.TOKEN, false), Attribute.ulong(CKA.VALUE_LEN, 16), Attribute.bool(CKA.SIGN, true));
      expectCkr(CKR.KEY_SIZE_RANGE, "C_SignInit", () -> s.sign(m, shortKey, msg));
    }

    @Test
    void multiPartRsaSignAndVerify() {
      KeyPairHandles kp = rsa();
      Mechanism m = Mechanism.of(CKM.SHA256_RSA_PKCS);
      byte[] single = s.sign(m, kp.privateKey(), msg);
      long h = s.handle();
      raw.C_SignInit(h, m, kp.privateKey());
      raw.C_SignUpdate(h, msg, 0, 5);
      raw.C_SignUpdate(h, msg, 5, msg.length - 5);
      byte[] sig = new byte[300];
      int n = raw.C_SignFinal(h, sig, 0, sig.length);
      assertThat(Arrays.copyOf(sig, n)).isEqualTo(single);

      raw.C_VerifyInit(h, m, kp.publicKey());
      raw.C_VerifyUpdate(h, msg, 0, 10);
      raw.C_VerifyUpdate(h, msg, 10, msg.length - 10);
      raw.C_VerifyFinal(h, single, 0, single.length);

      s.verifyInit(m, kp.publicKey());
      s.verifyUpdate(msg, 0, msg.length);
      assertThat(s.verifyFinal(flip(single, 7))).isFalse();
      assertThat(s.activeOperations()).isZero();

      raw.C_VerifyInit(h, m, kp.publicKey());
      raw.C_Verify(h, msg, 0, msg.length, single, 0, single.length);
      raw.C_VerifyInit(h, m, kp.publicKey());
      expectCkr(CKR.SIGNATURE_INVALID, "C_Verify", () -> raw.C_Verify(h, msg, 0, msg.length, flip(single, 0), 0, single.length));
    }
  }

  /** Digest. */
  @Nested
  @Order(8)
  class Digest {
    @Test
    void sha256SingleAndMultiPartMatchTheJdk() throws Exception {
      byte[] data = bytes(1000, 13);
      byte[] expected = sha256(data);
      assertThat(s.digest(Mechanism.of(CKM.SHA256), data)).isEqualTo(expected);
      assertThat(s.digest(Mechanism.of(CKM.SHA256), new byte[0])).isEqualTo(sha256(new byte[0]));
      long h = s.handle();
      raw.C_DigestInit(h, Mechanism.of(CKM.SHA256));
      raw.C_DigestUpdate(h, data, 0, 1);
      raw.C_DigestUpdate(h, data, 1, 499);
      raw.C_DigestUpdate(h, data, 500, 500);
      byte[] out = new byte[32];
      assertThat(raw.C_DigestFinal(h, out, 0, 32)).isEqualTo(32);
      assertThat(out).isEqualTo(expected);
      // Through Session, and the length query of C_Digest.
      s.digestInit(Mechanism.of(CKM.SHA256));
      s.digestUpdate(data, 0, data.length);
      byte[] out2 = new byte[32];
      s.digestFinal(out2, 0, 32);
      assertThat(out2).isEqualTo(expected);
      raw.C_DigestInit(h, Mechanism.of(CKM.SHA256));
      assertThat(raw.C_Digest(h, data, 0, data.length, null, 0, 0)).isEqualTo(32);
      byte[] out3 = new byte[40];
      assertThat(raw.C_Digest(h, data, 0, data.length, out3, 8, 32)).isEqualTo(32);
      assertThat(Arrays.copyOfRange(out3, 8, 40)).isEqualTo(expected);
      assertThat(s.digest(Mechanism.of(CKM.SHA_1), data)).isEqualTo(MessageDigest.getInstance("SHA-1").digest(data));
      assertThat(s.digest(Mechanism.of(CKM.SHA512), data)).isEqualTo(MessageDigest.getInstance("SHA-512").digest(data));
    }

    @Test
    void digestKeyHashesTheKeyValue() throws Exception {
      byte[] k = bytes(32, 77);
      long key = importAes(k);
      byte[] prefix = "prefix".getBytes(StandardCharsets.UTF_8);
      long h = s.handle();
      raw.C_DigestInit(h, Mechanism.of(CKM.SHA256));
      raw.C_DigestUpdate(h, prefix, 0, prefix.length);
      raw.C_DigestKey(h, key);
      byte[] out = new byte[32];
      raw.C_DigestFinal(h, out, 0, 32);
      assertThat(out).isEqualTo(sha256(prefix, k));
    }
  }

  /** Wrap and unwrap. */
  @Nested
  @Order(9)
  class WrapUnwrap {
    private long unwrapAes(Mechanism m, long unwrappingKey, byte[] wrapped) {
      return s.unwrapKey(
          m, unwrappingKey, wrapped, Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES),
          Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.ENCRYPT, true), Attribute.bool(CKA.SENSITIVE, true));
    }

    @Test
    void aesKeyWrapAndKwpMatchTheJdkAndUnwrap() throws Exception {
      byte[] kek = bytes(32, 41);
      long wrapping = importAes(kek, Attribute.bool(CKA.WRAP, true), Attribute.bool(CKA.UNWRAP, true));
      byte[] target = bytes(16, 42);
      long key = importAes(target);
      byte[] probe = bytes(32, 43);
      byte[] expectedCt = s.encrypt(Mechanism.of(CKM.AES_ECB), key, probe);

      for (long mech : new long[] {CKM.AES_KEY_WRAP, CKM.AES_KEY_WRAP_PAD}) {
        Mechanism m = Mechanism.of(mech);
        byte[] wrapped = s.wrapKey(m, wrapping, key);
        assertThat(wrapped).as(CKM.name(mech)).hasSize(24);
        Cipher jdk = Cipher.getInstance(mech == CKM.AES_KEY_WRAP ? "AES/KW/NoPadding" : "AES/KWP/NoPadding");
        jdk.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(kek, "AES"));
        assertThat(wrapped).as("%s equals the JDK's", CKM.name(mech)).isEqualTo(jdk.doFinal(target));
        long unwrapped = unwrapAes(m, wrapping, wrapped);
        // SoftHSM2 2.6.1 leaves CKA_VALUE_LEN at 0 on an unwrapped key (and refuses it in the
        // unwrap template with CKR_ATTRIBUTE_READ_ONLY); the key itself is right.
        assertThat(s.getAttribute(unwrapped, CKA.VALUE_LEN).asUlong()).isZero();
        assertThat(s.getAttribute(unwrapped, CKA.VALUE).present()).isFalse();
        assertThat(s.encrypt(Mechanism.of(CKM.AES_ECB), unwrapped, probe)).isEqualTo(expectedCt);
      }
      // A 32-byte key wraps to 40 bytes under both.
      long key32 = generateAes(32, Attribute.bool(CKA.EXTRACTABLE, true), Attribute.bool(CKA.SENSITIVE, true));
      assertThat(s.wrapKey(Mechanism.of(CKM.AES_KEY_WRAP), wrapping, key32)).hasSize(40);
      assertThat(raw.C_WrapKey(s.handle(), Mechanism.of(CKM.AES_KEY_WRAP_PAD), wrapping, key32)).hasSize(40);
      // Non-extractable keys stay in.
      long locked = generateAes(32, Attribute.bool(CKA.EXTRACTABLE, false));
      expectCkr(CKR.KEY_UNEXTRACTABLE, "C_WrapKey", () -> s.wrapKey(Mechanism.of(CKM.AES_KEY_WRAP), wrapping, locked));
    }

    @Test
    void rsaOaepWrapOfAnAesKey() {
      KeyPairHandles kp = rsa();
      long key = generateAes(32, Attribute.bool(CKA.EXTRACTABLE, true), Attribute.bool(CKA.SENSITIVE, true));
      byte[] probe = bytes(16, 8);
      byte[] expected = s.encrypt(Mechanism.of(CKM.AES_ECB), key, probe);
      Mechanism oaep = Mechanism.of(CKM.RSA_PKCS_OAEP, new MechanismParams.Oaep(CKM.SHA_1, CKG.MGF1_SHA1, CKZ.DATA_SPECIFIED, null));
      byte[] wrapped = raw.C_WrapKey(s.handle(), oaep, kp.publicKey(), key);
      assertThat(wrapped).hasSize(256);
      long unwrapped = raw.C_UnwrapKey(
          s.handle(), oaep, kp.privateKey(), wrapped, Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES),
          Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.ENCRYPT, true));
      assertThat(s.getAttribute(unwrapped, CKA.VALUE_LEN).asUlong()).as("SoftHSM2 2.6.1: 0 on unwrapped keys").isZero();
      assertThat(s.encrypt(Mechanism.of(CKM.AES_ECB), unwrapped, probe)).isEqualTo(expected);
      expectCkr(CKR.ATTRIBUTE_READ_ONLY, "C_UnwrapKey", () -> raw.C_UnwrapKey(
          s.handle(), oaep, kp.privateKey(), wrapped, Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES),
          Attribute.bool(CKA.TOKEN, false), Attribute.ulong(CKA.VALUE_LEN, 32)));
    }
  }

  /** Derive. */
  @Nested
  @Order(10)
  class Derive {
    private final Attribute[] derived = {
      Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.GENERIC_SECRET), Attribute.ulong(CKA.VALUE_LEN, 32),
      Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.SENSITIVE, false), Attribute.bool(CKA.EXTRACTABLE, true)
    };

    @Test
    void ecdhBothSidesAgreeAndMatchTheJdk() throws Exception {
      KeyPairHandles a = ecPair(false, true);
      KeyPairHandles b = ecPair(false, false);
      byte[] pointA = value(s, a.publicKey(), CKA.EC_POINT);
      byte[] pointB = value(s, b.publicKey(), CKA.EC_POINT);
      byte[] rawA = unwrapOctetString(pointA);
      byte[] rawB = unwrapOctetString(pointB);
      assertThat(rawA).hasSize(65).startsWith(0x04);

      long ab = s.deriveKey(Mechanism.of(CKM.ECDH1_DERIVE, new MechanismParams.Ecdh1Derive(CKD.NULL, null, rawB)), a.privateKey(), derived);
      long ba = raw.C_DeriveKey(s.handle(), Mechanism.of(CKM.ECDH1_DERIVE, new MechanismParams.Ecdh1Derive(CKD.NULL, null, rawA)), b.privateKey(), derived);
      byte[] secret = value(s, ab, CKA.VALUE);
      assertThat(secret).hasSize(32).isNotEqualTo(new byte[32]);
      assertThat(value(s, ba, CKA.VALUE)).isEqualTo(secret);
      assertThat(s.getAttribute(ab, CKA.KEY_TYPE).asUlong()).isEqualTo(CKK.GENERIC_SECRET);
      // SoftHSM2 also takes the peer point still DER-wrapped.
      long abDer = s.deriveKey(Mechanism.of(CKM.ECDH1_DERIVE, new MechanismParams.Ecdh1Derive(CKD.NULL, null, pointB)), a.privateKey(), derived);
      assertThat(value(s, abDer, CKA.VALUE)).isEqualTo(secret);

      // The JDK computes the same x-coordinate from A's (extractable) scalar and B's point.
      PrivateKey jdkA = KeyFactory.getInstance("EC").generatePrivate(new ECPrivateKeySpec(new BigInteger(1, value(s, a.privateKey(), CKA.VALUE)), Pkcs11Expect.p256Params()));
      KeyAgreement ka = KeyAgreement.getInstance("ECDH");
      ka.init(jdkA);
      ka.doPhase(Pkcs11Expect.p256PublicKey(rawB), true);
      assertThat(ka.generateSecret()).isEqualTo(secret);
    }

    @Test
    void ecdhNeedsCkaDeriveOnThePrivateKey() {
      KeyPairHandles noDerive = s.generateKeyPair(
          Mechanism.of(CKM.EC_KEY_PAIR_GEN),
          new Attribute[] {Attribute.bool(CKA.TOKEN, false), Attribute.bytes(CKA.EC_PARAMS, P256_OID)},
          new Attribute[] {Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.SIGN, true)});
      assertThat(s.getAttribute(noDerive.privateKey(), CKA.DERIVE).asBool()).isFalse();
      byte[] peer = unwrapOctetString(value(s, ecdsa().publicKey(), CKA.EC_POINT));
      expectCkr(CKR.KEY_FUNCTION_NOT_PERMITTED, "C_DeriveKey",
          () -> s.deriveKey(Mechanism.of(CKM.ECDH1_DERIVE, new MechanismParams.Ecdh1Derive(CKD.NULL, null, peer)), noDerive.privateKey(), derived));
    }
  }

  /** Random. */
  @Nested
  @Order(11)
  class Random {
    @Test
    void generateRandom() {
      byte[] a = s.generateRandom(32);
      byte[] b = s.generateRandom(32);
      assertThat(a).isNotEqualTo(new byte[32]);
      assertThat(a).isNotEqualTo(b);
      byte[] big = new byte[10000];
      s.generateRandom(big);
      assertThat(big).isNotEqualTo(new byte[10000]);
      // At least 200 distinct 4-byte windows among the first 250: not a repeating pattern.
      Set<Integer> windows = new HashSet<>();
      for (int i = 0; i < 1000; i += 4) {
        windows.add(java.nio.ByteBuffer.wrap(big, i, 4).getInt());
      }
      assertThat(windows.size()).isGreaterThan(200);
      // Only [off, off+len) is written.
      byte[] part = new byte[40];
      Arrays.fill(part, (byte) 0x5A);
      raw.C_GenerateRandom(s.handle(), part, 5, 30);
      assertThat(Arrays.copyOfRange(part, 0, 5)).containsOnly(0x5A);
      assertThat(Arrays.copyOfRange(part, 35, 40)).containsOnly(0x5A);
      assertThat(Arrays.copyOfRange(part, 5, 35)).isNotEqualTo(Arrays.copyOfRange(new byte[40], 5, 35));
      raw.C_GenerateRandom(s.handle(), new byte[0], 0, 0);
    }

    @Test
    void seedRandomIsAccepted() {
      byte[] seed = bytes(64, 12);
      raw.C_SeedRandom(s.handle(), seed, 0, seed.length);
      raw.C_SeedRandom(s.handle(), seed, 10, 20);
      assertThat(s.generateRandom(16)).isNotEqualTo(new byte[16]);
    }
  }

  /** The rest: state, recover, dual-function, legacy, events, v3.0. */
  @Nested
  @Order(12)
  class TheRest {
    @Test
    void operationStateIsNotSupported() {
      long h = s.handle();
      raw.C_DigestInit(h, Mechanism.of(CKM.SHA256));
      try {
        expectCkr(CKR.FUNCTION_NOT_SUPPORTED, "C_GetOperationState", () -> raw.C_GetOperationState(h));
      } finally {
        raw.C_DigestFinal(h, new byte[32], 0, 32);
      }
      expectCkr(CKR.FUNCTION_NOT_SUPPORTED, "C_SetOperationState", () -> raw.C_SetOperationState(h, new byte[16], 0, 0));
    }

    @Test
    void signAndVerifyRecoverAreNotSupported() {
      KeyPairHandles kp = rsa();
      long h = s.handle();
      // SoftHSM2 registers no recover mechanism: even CKM_RSA_PKCS with a CKA_SIGN_RECOVER key is refused.
      expectCkr(CKR.FUNCTION_NOT_SUPPORTED, "C_SignRecoverInit", () -> raw.C_SignRecoverInit(h, Mechanism.of(CKM.RSA_PKCS), kp.privateKey()));
      expectCkr(CKR.FUNCTION_NOT_SUPPORTED, "C_SignRecover", () -> raw.C_SignRecover(h, new byte[8], 0, 8, new byte[256], 0, 256));
      expectCkr(CKR.FUNCTION_NOT_SUPPORTED, "C_VerifyRecoverInit", () -> raw.C_VerifyRecoverInit(h, Mechanism.of(CKM.RSA_X_509), kp.publicKey()));
      expectCkr(CKR.FUNCTION_NOT_SUPPORTED, "C_VerifyRecover", () -> raw.C_VerifyRecover(h, new byte[256], 0, 256, new byte[256], 0, 256));
    }

    @Test
    void dualFunctionUpdatesAreNotSupported() {
      long h = s.handle();
      byte[] in = new byte[16];
      expectCkr(CKR.FUNCTION_NOT_SUPPORTED, "C_DigestEncryptUpdate", () -> raw.C_DigestEncryptUpdate(h, in, 0, 16, new byte[32], 0, 32));
      expectCkr(CKR.FUNCTION_NOT_SUPPORTED, "C_DecryptDigestUpdate", () -> raw.C_DecryptDigestUpdate(h, in, 0, 16, new byte[32], 0, 32));
      expectCkr(CKR.FUNCTION_NOT_SUPPORTED, "C_SignEncryptUpdate", () -> raw.C_SignEncryptUpdate(h, in, 0, 16, new byte[32], 0, 32));
      expectCkr(CKR.FUNCTION_NOT_SUPPORTED, "C_DecryptVerifyUpdate", () -> raw.C_DecryptVerifyUpdate(h, in, 0, 16, new byte[32], 0, 32));
    }

    @Test
    void legacyParallelFunctions() {
      expectCkr(CKR.FUNCTION_NOT_PARALLEL, "C_GetFunctionStatus", () -> raw.C_GetFunctionStatus(s.handle()));
      expectCkr(CKR.FUNCTION_NOT_PARALLEL, "C_CancelFunction", () -> raw.C_CancelFunction(s.handle()));
    }

    @Test
    void waitForSlotEvent() {
      // SoftHSM2 2.6.1 answers CKF_DONT_BLOCK with CKR_NO_EVENT (the binding's -1), and a blocking
      // wait with CKR_FUNCTION_NOT_SUPPORTED at once.
      assertThat(raw.C_WaitForSlotEvent(CKF.DONT_BLOCK)).isEqualTo(-1);
      expectCkr(CKR.FUNCTION_NOT_SUPPORTED, "C_WaitForSlotEvent", () -> raw.C_WaitForSlotEvent(0));
    }

    @Test
    void v30FunctionsAreAbsentFromA240Table() {
      Pkcs11Exception e = expectCkr(CKR.FUNCTION_NOT_SUPPORTED, "C_LoginUser", () -> raw.C_LoginUser(s.handle(), CKU.USER, token.userPin(), "alice"));
      assertThat(e.getMessage()).contains("not in the library's function table").doesNotContain(new String(token.userPin()));
      expectCkr(CKR.FUNCTION_NOT_SUPPORTED, "C_SessionCancel", () -> raw.C_SessionCancel(s.handle(), CKF.ENCRYPT));
      expectCkr(CKR.FUNCTION_NOT_SUPPORTED, "C_GetInterfaceList", () -> raw.C_GetInterfaceList());
    }
  }

  /** Every v2.40 function was called. */
  @Nested
  @Order(99)
  class EveryFunction {
    @Test
    void all68FunctionsWereCalledThroughTheTypedLayer() {
      // C_Finalize last: finalize, see that the library is down, initialise it again.
      raw.C_Finalize();
      expectCkr(CKR.CRYPTOKI_NOT_INITIALIZED, "C_GetInfo", () -> raw.C_GetInfo());
      raw.C_Initialize(CKF.OS_LOCKING_OK);
      assertThat(raw.C_GetInfo().manufacturerId()).isEqualTo("SoftHSM");
      s = openUserSession();
      assertThat(s.generateRandom(8)).hasSize(8);

      Set<String> missing = new TreeSet<>(V240_FUNCTIONS);
      missing.removeAll(CALLED);
      assertThat(missing).as("v2.40 functions no test called (run the whole class)").isEmpty();
      assertThat(CALLED).contains("C_LoginUser", "C_SessionCancel", "C_GetInterfaceList");
    }
  }
}
