package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmKey;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.ProviderException;
import java.security.Signature;
import java.security.SignatureException;
import java.security.interfaces.RSAKey;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;

/**
 * RSASSA-PSS in the token: {@code RSASSA-PSS} with a {@link PSSParameterSpec} (what JSSE uses for
 * TLS 1.3: {@code setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256,
 * 32, 1))}), and {@code SHA256withRSA/PSS}, {@code SHA384withRSA/PSS}, {@code SHA512withRSA/PSS}
 * whose parameters default to the hash, MGF1 with the same hash, a salt as long as the hash, and
 * trailer 1.
 *
 * <p>As with PKCS#1 (see {@link RsaPkcs1Signature} for the measurement), Java hashes and the
 * token signs the digest with CKM_RSA_PKCS_PSS; a token without it gets CKM_SHA*_RSA_PKCS_PSS.
 *
 * <p>Parameters: SHA-1, SHA-224, SHA-256, SHA-384 and SHA-512; MGF1 only, with the message's hash
 * (PKCS#11 has a field for a different MGF1 hash, but tokens commonly refuse the mix; SoftHSM2
 * answers CKR_ARGUMENTS_BAD, so HsmKit refuses it when the parameters are set, not when signing);
 * trailer field 1. {@code RSASSA-PSS} without parameters throws SignatureException on first use,
 * as the JDK does. Parameters may not change once data was given (ProviderException, as the JDK).
 */
public final class RsaPssSignature extends TokenSignatureSpi {
  /** The hash of the SHA*withRSA/PSS names, or null for RSASSA-PSS. */
  private final SignatureHash fixed;
  private PSSParameterSpec spec;
  private SignatureHash hash;
  private int modulusBits;

  /** @param fixed the hash of SHA*withRSA/PSS, or null for RSASSA-PSS */
  public RsaPssSignature(TokenContext token, String algorithm, SignatureHash fixed) {
    super(token, algorithm);
    this.fixed = fixed;
    if (fixed != null) {
      hash = fixed;
      spec = new PSSParameterSpec(fixed.jcaName, "MGF1", new MGF1ParameterSpec(fixed.jcaName), fixed.length, PSSParameterSpec.TRAILER_FIELD_BC);
    }
  }

  /** True when this token can sign PSS with {@code h} one way or the other. */
  private boolean tokenCan(SignatureHash h) {
    return token.has(CKM.RSA_PKCS_PSS) || token.has(h.rsaPss);
  }

  @Override
  protected void engineSetParameter(AlgorithmParameterSpec params) throws InvalidAlgorithmParameterException {
    if (params == null) {
      if (fixed != null) {
        return;
      }
      throw new InvalidAlgorithmParameterException(algorithm + " needs a PSSParameterSpec");
    }
    if (!(params instanceof PSSParameterSpec p)) {
      throw new InvalidAlgorithmParameterException(algorithm + " takes a PSSParameterSpec, not " + params.getClass().getName());
    }
    SignatureHash h = SignatureHash.byName(p.getDigestAlgorithm());
    if (h == null) {
      throw new InvalidAlgorithmParameterException(algorithm + ": unsupported digest " + p.getDigestAlgorithm() + " (SHA-1, SHA-224, SHA-256, SHA-384, SHA-512)");
    }
    if (fixed != null && h != fixed) {
      throw new InvalidAlgorithmParameterException(algorithm + " hashes with " + fixed.jcaName + ", not " + p.getDigestAlgorithm());
    }
    if (!"MGF1".equalsIgnoreCase(p.getMGFAlgorithm()) && !"1.2.840.113549.1.1.8".equals(p.getMGFAlgorithm())) {
      throw new InvalidAlgorithmParameterException(algorithm + ": only MGF1, not " + p.getMGFAlgorithm());
    }
    if (!(p.getMGFParameters() instanceof MGF1ParameterSpec mgf) || SignatureHash.byName(mgf.getDigestAlgorithm()) != h) {
      throw new InvalidAlgorithmParameterException(algorithm + ": MGF1 must use the message digest " + h.jcaName
          + " (PKCS#11 tokens such as SoftHSM2 refuse other MGF1 hashes)");
    }
    if (p.getTrailerField() != PSSParameterSpec.TRAILER_FIELD_BC) {
      throw new InvalidAlgorithmParameterException(algorithm + ": trailer field must be 1, not " + p.getTrailerField());
    }
    if (p.getSaltLength() < 0) {
      throw new InvalidAlgorithmParameterException(algorithm + ": negative salt length");
    }
    if (!tokenCan(h)) {
      throw new InvalidAlgorithmParameterException(algorithm + ": the token has no PSS mechanism for " + h.jcaName);
    }
    if (key() != null && !fits(modulusBits, h, p.getSaltLength())) {
      throw new InvalidAlgorithmParameterException(algorithm + ": a " + modulusBits + "-bit key is too short for " + h.jcaName
          + " with a " + p.getSaltLength() + "-byte salt");
    }
    if (started()) {
      throw new ProviderException("Cannot set parameters during operations");
    }
    if (software() != null) {
      software().setParameter(p);
    }
    this.spec = p;
    this.hash = h;
  }

  /** RFC 8017 9.1.1 step 3: emLen >= hLen + sLen + 2, with emLen = ceil((modBits - 1) / 8). */
  private static boolean fits(int modBits, SignatureHash h, int salt) {
    int emLen = (modBits - 1 + 7) / 8;
    return (long) emLen >= (long) h.length + salt + 2;
  }

  @Override
  protected AlgorithmParameters engineGetParameters() {
    if (spec == null) {
      return null;
    }
    try {
      AlgorithmParameters ap = AlgorithmParameters.getInstance("RSASSA-PSS");
      ap.init(spec);
      return ap;
    } catch (GeneralSecurityException e) {
      throw new ProviderException(algorithm + ": cannot encode the PSS parameters", e);
    }
  }

  @Override
  protected void checkKey(HsmKey key) throws InvalidKeyException {
    RsaPkcs1Signature.modulusBytes(key, algorithm);
    int bits = ((RSAKey) key).getModulus().bitLength();
    if (spec != null && !fits(bits, hash, spec.getSaltLength())) {
      throw new InvalidKeyException(algorithm + ": a " + bits + "-bit key is too short for " + hash.jcaName + " with a "
          + spec.getSaltLength() + "-byte salt");
    }
    modulusBits = bits;
  }

  private void requireParams() throws SignatureException {
    if (spec == null) {
      throw new SignatureException("Parameters required for RSASSA-PSS signatures");
    }
  }

  private boolean raw() {
    return token.has(CKM.RSA_PKCS_PSS);
  }

  @Override
  protected SignatureHash javaHash() throws SignatureException {
    requireParams();
    return raw() ? hash : null;
  }

  @Override
  protected boolean tokenHashes() {
    return !raw();
  }

  @Override
  protected Mechanism mechanism() throws SignatureException {
    requireParams();
    MechanismParams.Pss p = new MechanismParams.Pss(hash.ckm, hash.mgf1, spec.getSaltLength());
    return Mechanism.of(raw() ? CKM.RSA_PKCS_PSS : hash.rsaPss, p);
  }

  @Override
  protected int tokenSignatureLength() {
    return (modulusBits + 7) / 8;
  }

  @Override
  protected byte[] toToken(byte[] sig) {
    return sig.length == (modulusBits + 7) / 8 ? sig : null;
  }

  @Override
  protected Signature jdkSignature() throws GeneralSecurityException {
    return jdk("RSASSA-PSS", "SunRsaSign");
  }

  @Override
  protected void configureJdk(Signature s) throws GeneralSecurityException {
    if (spec != null) {
      s.setParameter(spec);
    }
  }
}
