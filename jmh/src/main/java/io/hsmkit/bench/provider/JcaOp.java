package io.hsmkit.bench.provider;

import io.hsmkit.bench.Op;
import java.util.Locale;

/**
 * The JCA operations of {@link ProviderBenchmark}, one per {@code @Benchmark} method (the method
 * name is {@link #method}), with the key each needs and, where the binding-vs-C loop
 * ({@code hsmbench_run}) does the same token work, its {@link Op}.
 */
public enum JcaOp {
  /** AES-256-GCM encryption of 1 KiB: init with a fresh 12-byte counter IV, one doFinal(byte[]). */
  GCM_ENCRYPT_1K("gcmEncrypt1k", Key.AES, Op.AES_GCM_1K, 50),
  /** The same with 64 KiB. */
  GCM_ENCRYPT_64K("gcmEncrypt64k", Key.AES, null, 5),
  /** AES-256-CBC/PKCS5Padding encryption of 1 KiB (init once; one doFinal(byte[]) per operation). */
  CBC_ENCRYPT_1K("cbcEncrypt1k", Key.AES, null, 50),
  /** HMAC-SHA256 of 1 KiB: one Mac.doFinal(byte[]). */
  HMAC_1K("hmac1k", Key.HMAC, Op.HMAC_SHA256_1K, 50),
  /** SHA256withECDSA (DER) of a 32-byte message, P-256. */
  ECDSA_SIGN("ecdsaSign", Key.EC, Op.ECDSA_P256, 10),
  /** SHA256withECDSA verification of a signature made in setup. */
  ECDSA_VERIFY("ecdsaVerify", Key.EC, null, 10),
  /** SHA256withRSA (PKCS#1 v1.5) of a 32-byte message, RSA-2048. */
  RSA_PKCS1_SIGN("rsaPkcs1Sign", Key.RSA, Op.RSA2048, 1),
  /** SHA256withRSA verification of a signature made in setup. */
  RSA_PKCS1_VERIFY("rsaPkcs1Verify", Key.RSA, null, 20),
  /** RSASSA-PSS (SHA-256, MGF1-SHA-256, 32-byte salt) of a 32-byte message, RSA-2048. */
  RSA_PSS_SIGN("rsaPssSign", Key.RSA, null, 1),
  /** RSASSA-PSS verification of a signature made in setup. */
  RSA_PSS_VERIFY("rsaPssVerify", Key.RSA, null, 20),
  /** RSA/ECB/OAEPWithSHA-1AndMGF1Padding decryption of a 32-byte message, RSA-2048. */
  RSA_OAEP_DECRYPT("rsaOaepDecrypt", Key.RSA, null, 1),
  /** ECDH P-256: doPhase(fixed peer key) + generateSecret() bytes. */
  ECDH_P256("ecdhP256", Key.EC, null, 5),
  /** SecureRandom "PKCS11": nextBytes(32 bytes). */
  RANDOM32("random32", Key.NONE, Op.RANDOM32, 400);

  /** The key kind an operation needs. */
  public enum Key {
    NONE,
    AES,
    HMAC,
    EC,
    RSA
  }

  /** The {@code @Benchmark} method of {@link ProviderBenchmark}. */
  public final String method;
  public final Key key;
  /** The binding-vs-C op doing the same token work, or null. */
  public final Op cOp;
  /** Operations per side and round in {@link ProviderInterleavedBenchmark}: about 0.5-1 ms of work on SoftHSM2. */
  public final int batch;

  JcaOp(String method, Key key, Op cOp, int batch) {
    this.method = method;
    this.key = key;
    this.cOp = cOp;
    this.batch = batch;
  }

  /** The op of a {@link ProviderBenchmark} method name (or of a fully qualified benchmark name). */
  public static JcaOp ofMethod(String name) {
    String m = name.substring(name.lastIndexOf('.') + 1);
    for (JcaOp o : values()) {
      if (o.method.equals(m)) {
        return o;
      }
    }
    throw new IllegalArgumentException("no JcaOp for benchmark method " + name);
  }

  /** By enum name or method name, case-insensitive. */
  public static JcaOp parse(String s) {
    String t = s.strip();
    for (JcaOp o : values()) {
      if (o.name().equalsIgnoreCase(t) || o.method.equalsIgnoreCase(t)) {
        return o;
      }
    }
    throw new IllegalArgumentException("unknown op " + s + " (one of " + java.util.Arrays.toString(values()).toLowerCase(Locale.ROOT) + ")");
  }
}
