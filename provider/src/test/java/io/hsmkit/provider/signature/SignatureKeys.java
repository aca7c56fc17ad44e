package io.hsmkit.provider.signature;

import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.KeyPairHandles;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.internal.Curves;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmKeys;
import io.hsmkit.provider.keys.HsmPrivateKey;
import io.hsmkit.provider.keys.HsmPublicKey;
import io.hsmkit.provider.keys.KeyImport;
import io.hsmkit.provider.keys.KeyTemplates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.RSAKeyGenParameterSpec;

/**
 * Test keys for the signature tests: JDK-generated pairs imported into the token (the
 * KeyPairGenerator SPI is written elsewhere), and one EC pair generated in the token through the
 * binding.
 */
final class SignatureKeys {
  private SignatureKeys() {}

  /** One key pair, in software and in the token. */
  record Pair(String family, KeyPair jdk, HsmPrivateKey priv, HsmPublicKey pub) {}

  static KeyPair jdk(String alg, AlgorithmParameterSpec spec) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance(alg);
    if (spec != null) {
      g.initialize(spec);
    }
    return g.generateKeyPair();
  }

  static Pair imported(TokenContext ctx, String family, KeyPair kp) throws Exception {
    HsmPrivateKey priv = KeyImport.privateKey(ctx, kp.getPrivate(), KeyTemplates.defaults(ctx).withToken(false));
    HsmPublicKey pub = KeyImport.publicKey(ctx, kp.getPublic(), KeyTemplates.defaults(ctx).withToken(false));
    return new Pair(family, kp, priv, pub);
  }

  static Pair ecP256(TokenContext ctx) throws Exception {
    return imported(ctx, "EC", jdk("EC", new ECGenParameterSpec("secp256r1")));
  }

  static Pair ecP384(TokenContext ctx) throws Exception {
    return imported(ctx, "EC", jdk("EC", new ECGenParameterSpec("secp384r1")));
  }

  static Pair rsa2048(TokenContext ctx) throws Exception {
    return imported(ctx, "RSA", jdk("RSA", new RSAKeyGenParameterSpec(2048, RSAKeyGenParameterSpec.F4)));
  }

  static Pair ed25519(TokenContext ctx) throws Exception {
    return imported(ctx, "Ed25519", jdk("Ed25519", null));
  }

  /** A P-256 pair generated in the token with C_GenerateKeyPair (no software private key). */
  static Pair tokenGeneratedP256(TokenContext ctx) throws Exception {
    byte[] params = Curves.ecParams("secp256r1");
    KeyPairHandles h = ctx.execute(s -> s.generateKeyPair(Mechanism.of(CKM.EC_KEY_PAIR_GEN),
        new Attribute[] {Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.VERIFY, true), Attribute.bytes(CKA.EC_PARAMS, params)},
        new Attribute[] {Attribute.bool(CKA.TOKEN, false), Attribute.bool(CKA.SIGN, true), Attribute.bool(CKA.PRIVATE, true),
            Attribute.bool(CKA.SENSITIVE, true), Attribute.bool(CKA.EXTRACTABLE, false)}));
    HsmPrivateKey priv = (HsmPrivateKey) ctx.execute(s -> HsmKeys.load(ctx, s, h.privateKey()));
    HsmPublicKey pub = (HsmPublicKey) ctx.execute(s -> HsmKeys.load(ctx, s, h.publicKey()));
    PublicKey soft = java.security.KeyFactory.getInstance("EC").generatePublic(new java.security.spec.X509EncodedKeySpec(pub.getEncoded()));
    return new Pair("EC", new KeyPair(soft, (PrivateKey) null), priv, pub);
  }

  /**
   * A second provider on the same token, with {@code extra} configuration lines (name, disabled
   * mechanisms) added to the fixture's configuration file.
   */
  static HsmKitProvider sibling(Path configFile, String suffix, String... extra) throws Exception {
    StringBuilder cfg = new StringBuilder(Files.readString(configFile));
    for (String e : extra) {
      cfg.append(e).append('\n');
    }
    Path f = configFile.resolveSibling("hsmkit-" + suffix + ".cfg");
    Files.writeString(f, cfg.toString());
    return new HsmKitProvider(f.toString());
  }
}
