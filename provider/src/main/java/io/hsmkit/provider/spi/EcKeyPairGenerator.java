package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.KeyPairHandles;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismInfo;
import io.hsmkit.provider.internal.Curves;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmEcPrivateKey;
import io.hsmkit.provider.keys.HsmEcPublicKey;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.InvalidParameterException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * EC key pairs generated in the token (CKM_EC_KEY_PAIR_GEN) on a named curve: P-256 unless asked
 * otherwise; by key size (224, 256, 384, 521), by name ({@link ECGenParameterSpec}: "secp256r1",
 * "P-256", "NIST P-256", "prime256v1", an OID, and any other curve the JDK names), or by an {@link
 * ECParameterSpec} equal to a named curve. A curve is accepted when the token generates a key on
 * it, tried once per token and remembered ({@link TokenContext#probe}), since the mechanism info
 * only gives a size range. The private half can sign and derive (SoftHSM2 leaves CKA_DERIVE off
 * unless asked, and ECDH needs it); the public half can verify.
 */
public final class EcKeyPairGenerator extends HsmKeyPairGenerator {
  /** Names the JDK's curve table does not know (it has "secp256r1" and "NIST P-256", not "P-256"). */
  private static final Map<String, String> ALIASES = Map.of(
      "p-224", "secp224r1",
      "p-256", "secp256r1",
      "p-384", "secp384r1",
      "p-521", "secp521r1",
      "prime256v1", "secp256r1",
      "prime192v1", "secp192r1");

  /** Key sizes and their curves, as SunEC maps them. */
  private static final Map<Integer, String> BY_SIZE = Map.of(
      224, "secp224r1",
      256, "secp256r1",
      384, "secp384r1",
      521, "secp521r1");

  /** The curves {@link #supportedCurves} tries. */
  static final List<String> CANDIDATES = List.of(
      "secp256r1", "secp384r1", "secp521r1", "secp224r1", "secp256k1", "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1");

  /** A named curve: its CKA_EC_PARAMS (DER OID) and the JDK's parameters. */
  record Curve(String name, byte[] ecParams, ECParameterSpec spec) {}

  private Curve curve;

  public EcKeyPairGenerator(TokenContext token) {
    super(token);
  }

  @Override
  public void initialize(int keysize, SecureRandom random) {
    String name = BY_SIZE.get(keysize);
    if (name == null) {
      throw new InvalidParameterException("EC key sizes are 224, 256, 384 or 521 bits, not " + keysize);
    }
    try {
      curve = supported(token, byName(name));
    } catch (InvalidAlgorithmParameterException e) {
      throw new InvalidParameterException(e.getMessage());
    }
  }

  @Override
  public void initialize(AlgorithmParameterSpec params, SecureRandom random) throws InvalidAlgorithmParameterException {
    Curve c;
    if (params instanceof ECGenParameterSpec g) {
      c = byName(g.getName());
    } else if (params instanceof ECParameterSpec spec) {
      c = bySpec(spec);
    } else {
      throw new InvalidAlgorithmParameterException("EC key generation takes an ECGenParameterSpec or ECParameterSpec, not "
          + (params == null ? "null" : params.getClass().getName()));
    }
    curve = supported(token, c);
  }

  /** The curve called {@code name} (case-insensitive aliases, then the JDK's names and OIDs). */
  static Curve byName(String name) throws InvalidAlgorithmParameterException {
    if (name == null) {
      throw new InvalidAlgorithmParameterException("no curve name");
    }
    String n = ALIASES.getOrDefault(name.trim().toLowerCase(Locale.ROOT), name.trim());
    try {
      byte[] der = Curves.ecParams(n);
      return new Curve(n, der, Curves.ecSpec(der));
    } catch (GeneralSecurityException e) {
      throw new InvalidAlgorithmParameterException("unknown curve " + name + " (the JDK does not name it)", e);
    }
  }

  /** The named curve equal to {@code spec}; explicit parameters of an unnamed curve are refused. */
  static Curve bySpec(ECParameterSpec spec) throws InvalidAlgorithmParameterException {
    try {
      byte[] der = Curves.ecParams(spec);
      ECParameterSpec named = Curves.ecSpec(der);
      return new Curve(named.toString(), der, named);
    } catch (InvalidKeyException e) {
      throw new InvalidAlgorithmParameterException("only named curves are supported: " + e.getMessage(), e);
    }
  }

  /** {@code c} when the token generates keys on it, else InvalidAlgorithmParameterException. */
  static Curve supported(TokenContext token, Curve c) throws InvalidAlgorithmParameterException {
    if (!supportsCurve(token, c)) {
      throw new InvalidAlgorithmParameterException("the token does not generate EC keys on " + c.name());
    }
    return c;
  }

  /** Whether the token makes keys on {@code c}: the mechanism info's size range, then one trial key pair (remembered). */
  static boolean supportsCurve(TokenContext token, Curve c) {
    MechanismInfo info = token.mechanisms().get(CKM.EC_KEY_PAIR_GEN);
    int bits = c.spec().getCurve().getField().getFieldSize();
    if (info == null || (info.maxKeySize() > 0 && (bits < info.minKeySize() || bits > info.maxKeySize()))) {
      return false;
    }
    return token.probe("EC curve " + HexFormat.of().formatHex(c.ecParams()), t -> t.execute(s -> {
      try {
        KeyPairHandles kp = s.generateKeyPair(Mechanism.of(CKM.EC_KEY_PAIR_GEN),
            new Attribute[] {Attribute.bool(CKA.TOKEN, false), Attribute.bytes(CKA.EC_PARAMS, c.ecParams()), Attribute.bool(CKA.VERIFY, true)},
            new Attribute[] {Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.SIGN, true)});
        destroyQuietly(s, kp.privateKey());
        destroyQuietly(s, kp.publicKey());
        return true;
      } catch (Pkcs11Exception e) {
        return false;
      }
    }));
  }

  /** The {@link #CANDIDATES} the token generates keys on (each tried once per token). */
  public static List<String> supportedCurves(TokenContext token) {
    List<String> out = new ArrayList<>();
    for (String n : CANDIDATES) {
      try {
        if (supportsCurve(token, byName(n))) {
          out.add(n);
        }
      } catch (InvalidAlgorithmParameterException e) {
        // the JDK does not know it: neither do we
      }
    }
    return out;
  }

  @Override
  public KeyPair generateKeyPair() {
    if (curve == null) {
      try {
        curve = supported(token, byName("secp256r1"));
      } catch (InvalidAlgorithmParameterException e) {
        throw new IllegalStateException("no curve chosen, and the token does not generate P-256 keys", e);
      }
    }
    Curve c = curve;
    if (token.isCluster()) {
      return ClusterKeyGen.ec(token, c.ecParams(), "EC " + c.name());
    }
    List<Attribute> pub = List.of(Attribute.bytes(CKA.EC_PARAMS, c.ecParams()), Attribute.bool(CKA.VERIFY, true));
    List<Attribute> priv = List.of(Attribute.bool(CKA.SIGN, true), Attribute.bool(CKA.DERIVE, true));
    return generate("EC " + c.name(), CKM.EC_KEY_PAIR_GEN, CKK.EC, pub, priv,
        (info, pk) -> new HsmEcPrivateKey(info, ((HsmEcPublicKey) pk).getParams()));
  }
}
