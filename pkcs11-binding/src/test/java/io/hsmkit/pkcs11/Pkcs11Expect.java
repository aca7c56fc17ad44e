package io.hsmkit.pkcs11;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.raw.Attribute;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.AlgorithmParameters;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Assertions and small helpers shared by FunctionGroupsTest and NegativeTest. */
final class Pkcs11Expect {
  private Pkcs11Expect() {}

  /** What every Pkcs11Exception message looks like: function, CKR name, hex code, optional detail. */
  static final Pattern MESSAGE = Pattern.compile("C_[A-Za-z]+: CKR_[A-Z0-9_]+ \\(0x[0-9A-F]{8}\\)( \\([^)]*\\))?");

  /**
   * Runs {@code call} and checks that it throws a {@link Pkcs11Exception} for {@code function}
   * with exactly {@code ckr}; returns it for further checks.
   */
  static Pkcs11Exception expectCkr(long ckr, String function, ThrowingCallable call) {
    Throwable t = catchThrowable(call);
    assertThat(t).as("%s should fail with %s", function, CKR.name(ckr)).isInstanceOf(Pkcs11Exception.class);
    Pkcs11Exception e = (Pkcs11Exception) t;
    // Names first: a mismatch then reads "CKR_GENERAL_ERROR" instead of "5".
    assertThat(e.ckrName()).as("CKR of %s", function).isEqualTo(CKR.name(ckr));
    assertThat(e.ckr()).isEqualTo(ckr);
    assertThat(e.function()).isEqualTo(function);
    assertThat(e.is(ckr)).isTrue();
    assertThat(e.getMessage()).startsWith(function + ": " + CKR.name(ckr) + " (0x").matches(MESSAGE);
    return e;
  }

  /** A Pkcs11 whose C_* calls are recorded in {@code called} (the name is recorded also when the call throws). */
  static io.hsmkit.pkcs11.raw.Pkcs11 recording(io.hsmkit.pkcs11.raw.Pkcs11 real, Set<String> called) {
    return (io.hsmkit.pkcs11.raw.Pkcs11)
        Proxy.newProxyInstance(
            io.hsmkit.pkcs11.raw.Pkcs11.class.getClassLoader(),
            new Class<?>[] {io.hsmkit.pkcs11.raw.Pkcs11.class},
            (proxy, method, args) -> {
              if (method.getName().startsWith("C_")) {
                called.add(method.getName());
              } else if (method.getName().equals("initAndRun")) {
                // Both functions, in one crossing where the JNI fast path is loaded.
                io.hsmkit.pkcs11.raw.SinglePart op = (io.hsmkit.pkcs11.raw.SinglePart) args[0];
                called.add(op.initFunction());
                called.add(op.dataFunction());
              } else if (method.getName().equals("initAndVerify")) {
                called.add("C_VerifyInit");
                called.add("C_Verify");
              }
              try {
                return method.invoke(real, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  static byte[] hex(String h) {
    return HexFormat.of().parseHex(h);
  }

  static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }

  static byte[] flip(byte[] b, int index) {
    byte[] c = b.clone();
    c[index] ^= 0x01;
    return c;
  }

  static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 31 + seed);
    }
    return b;
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  /** The value of one attribute, failing when the token gave none. */
  static byte[] value(Session s, long object, long type) {
    Attribute a = s.getAttribute(object, type);
    assertThat(a.present()).as("attribute 0x%s present", Long.toHexString(type)).isTrue();
    return a.value();
  }

  /** CKA_EC_POINT is a DER OCTET STRING (04 len ...); returns its content. */
  static byte[] unwrapOctetString(byte[] der) {
    assertThat(der[0]).as("DER OCTET STRING tag").isEqualTo((byte) 0x04);
    int len = der[1] & 0xFF;
    assertThat(len).as("short-form length").isLessThan(0x80).isEqualTo(der.length - 2);
    return Arrays.copyOfRange(der, 2, der.length);
  }

  /** A JDK P-256 public key from an uncompressed point 04||x||y. */
  static PublicKey p256PublicKey(byte[] uncompressed) throws Exception {
    byte[] spkiPrefix = hex("3059301306072a8648ce3d020106082a8648ce3d030107034200");
    return KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(concat(spkiPrefix, uncompressed)));
  }

  static ECParameterSpec p256Params() throws Exception {
    AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
    p.init(new ECGenParameterSpec("secp256r1"));
    return p.getParameterSpec(ECParameterSpec.class);
  }

  /** A JDK Ed25519 public key from its 32-byte encoding. */
  static PublicKey ed25519PublicKey(byte[] raw32) throws Exception {
    return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(concat(hex("302a300506032b6570032100"), raw32)));
  }

  static PublicKey rsaPublicKey(byte[] modulus, byte[] exponent) throws Exception {
    return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(new BigInteger(1, modulus), new BigInteger(1, exponent)));
  }

  /** Where ../shared lives: the build passes hsmkit.shared.dir; else beside the project root. */
  static Path sharedDir() {
    String p = System.getProperty("hsmkit.shared.dir");
    return p != null ? Path.of(p) : io.hsmkit.pkcs11.testing.TestToken.rootDir().resolveSibling("shared");
  }

  /**
   * The string fields of the Wycheproof tests {@code tcIds} in {@code file}: a minimal reader for
   * the flat test objects (hex strings, a flags array, no nested objects), not a JSON parser.
   */
  static Map<Integer, Map<String, String>> wycheproofTests(String file, Set<Integer> tcIds) throws Exception {
    Path p = sharedDir().resolve("testvectors/wycheproof").resolve(file);
    assertThat(p).as("Wycheproof vectors (hsmkit.shared.dir)").exists();
    String json = Files.readString(p);
    Pattern test = Pattern.compile("\\{\\s*\"tcId\":\\s*(\\d+),([^{}]*)\\}");
    Pattern field = Pattern.compile("\"(\\w+)\":\\s*\"([^\"]*)\"");
    Map<Integer, Map<String, String>> out = new LinkedHashMap<>();
    Matcher m = test.matcher(json);
    while (m.find()) {
      int id = Integer.parseInt(m.group(1));
      if (tcIds.contains(id)) {
        Map<String, String> f = new LinkedHashMap<>();
        Matcher fm = field.matcher(m.group(2));
        while (fm.find()) {
          f.put(fm.group(1), fm.group(2));
        }
        out.put(id, f);
      }
    }
    assertThat(out.keySet()).as("tcIds found in %s", file).containsExactlyInAnyOrderElementsOf(tcIds);
    return out;
  }

  /** All 68 functions of CK_FUNCTION_LIST v2.40, in table order. */
  static final List<String> V240_FUNCTIONS =
      List.of(
          "C_Initialize", "C_Finalize", "C_GetInfo", "C_GetFunctionList", "C_GetSlotList", "C_GetSlotInfo",
          "C_GetTokenInfo", "C_GetMechanismList", "C_GetMechanismInfo", "C_InitToken", "C_InitPIN", "C_SetPIN",
          "C_OpenSession", "C_CloseSession", "C_CloseAllSessions", "C_GetSessionInfo", "C_GetOperationState",
          "C_SetOperationState", "C_Login", "C_Logout", "C_CreateObject", "C_CopyObject", "C_DestroyObject",
          "C_GetObjectSize", "C_GetAttributeValue", "C_SetAttributeValue", "C_FindObjectsInit", "C_FindObjects",
          "C_FindObjectsFinal", "C_EncryptInit", "C_Encrypt", "C_EncryptUpdate", "C_EncryptFinal", "C_DecryptInit",
          "C_Decrypt", "C_DecryptUpdate", "C_DecryptFinal", "C_DigestInit", "C_Digest", "C_DigestUpdate",
          "C_DigestKey", "C_DigestFinal", "C_SignInit", "C_Sign", "C_SignUpdate", "C_SignFinal", "C_SignRecoverInit",
          "C_SignRecover", "C_VerifyInit", "C_Verify", "C_VerifyUpdate", "C_VerifyFinal", "C_VerifyRecoverInit",
          "C_VerifyRecover", "C_DigestEncryptUpdate", "C_DecryptDigestUpdate", "C_SignEncryptUpdate",
          "C_DecryptVerifyUpdate", "C_GenerateKey", "C_GenerateKeyPair", "C_WrapKey", "C_UnwrapKey", "C_DeriveKey",
          "C_SeedRandom", "C_GenerateRandom", "C_GetFunctionStatus", "C_CancelFunction", "C_WaitForSlotEvent");
}
