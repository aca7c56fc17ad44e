package io.hsmkit.provider.keys;

import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.provider.HsmKitConfig;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.pkcs11.raw.Attribute;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * The attributes every key HsmKit creates gets: where it lives (token or session object, from
 * {@code keys.token}), and that it is private, sensitive and not extractable unless the caller or
 * the configuration ({@code keys.sensitive}, {@code keys.extractable}) says otherwise. Each key also
 * gets a random 16-byte CKA_ID, by which a token key is found again after a restart.
 */
public final class KeyTemplates {
  private KeyTemplates() {}

  private static final SecureRandom IDS = new SecureRandom();

  /** The choices for one new secret or private key. */
  public record Policy(boolean token, boolean sensitive, boolean extractable, byte[] id, String label) {
    public Policy {
      id = id == null ? null : id.clone();
    }

    @Override
    public byte[] id() {
      return id == null ? null : id.clone();
    }

    public Policy withToken(boolean t) {
      return new Policy(t, sensitive, extractable, id, label);
    }

    public Policy withExtractable(boolean e) {
      return new Policy(token, sensitive, e, id, label);
    }

    public Policy withSensitive(boolean s) {
      return new Policy(token, s, extractable, id, label);
    }

    public Policy withLabel(String l) {
      return new Policy(token, sensitive, extractable, id, l);
    }

    public Policy withId(byte[] i) {
      return new Policy(token, sensitive, extractable, i, label);
    }
  }

  /** The configuration's defaults, with a fresh random CKA_ID. */
  public static Policy defaults(TokenContext token) {
    HsmKitConfig c = token.config();
    return new Policy(c.keysToken(), c.keysSensitive(), c.keysExtractable(), newId(), null);
  }

  public static byte[] newId() {
    byte[] id = new byte[16];
    IDS.nextBytes(id);
    return id;
  }

  /** CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_ID and CKA_LABEL for a secret or private key. */
  public static List<Attribute> secretOrPrivate(Policy p) {
    List<Attribute> l = new ArrayList<>();
    l.add(Attribute.bool(CKA.TOKEN, p.token()));
    l.add(Attribute.bool(CKA.PRIVATE, true));
    l.add(Attribute.bool(CKA.SENSITIVE, p.sensitive()));
    l.add(Attribute.bool(CKA.EXTRACTABLE, p.extractable()));
    if (p.id() != null) {
      l.add(Attribute.bytes(CKA.ID, p.id()));
    }
    if (p.label() != null) {
      l.add(Attribute.string(CKA.LABEL, p.label()));
    }
    return l;
  }

  /**
   * Appends the usage of a secret key that is imported or derived as {@code ckk}: an AES key
   * encrypts, decrypts, wraps and unwraps; any secret signs and verifies (HMAC); a non-AES secret
   * derives (a generic secret is often a premaster or KDF input).
   */
  public static List<Attribute> secretUsage(List<Attribute> t, long ckk) {
    boolean aes = ckk == CKK.AES;
    t.add(Attribute.bool(CKA.ENCRYPT, aes));
    t.add(Attribute.bool(CKA.DECRYPT, aes));
    t.add(Attribute.bool(CKA.WRAP, aes));
    t.add(Attribute.bool(CKA.UNWRAP, aes));
    t.add(Attribute.bool(CKA.SIGN, true));
    t.add(Attribute.bool(CKA.VERIFY, true));
    t.add(Attribute.bool(CKA.DERIVE, !aes));
    return t;
  }

  /** CKA_TOKEN, CKA_PRIVATE false, CKA_ID and CKA_LABEL for a public key. */
  public static List<Attribute> publicKey(Policy p) {
    List<Attribute> l = new ArrayList<>();
    l.add(Attribute.bool(CKA.TOKEN, p.token()));
    l.add(Attribute.bool(CKA.PRIVATE, false));
    if (p.id() != null) {
      l.add(Attribute.bytes(CKA.ID, p.id()));
    }
    if (p.label() != null) {
      l.add(Attribute.string(CKA.LABEL, p.label()));
    }
    return l;
  }

  /** The key info of a key just made with policy {@code p}, without reading it back. */
  public static HsmKey.KeyInfo info(TokenContext token, long handle, long cls, long type, Policy p, boolean secret) {
    return new HsmKey.KeyInfo(token, handle, cls, type, p.id(), p.label(), p.token(), secret && p.sensitive(), !secret || p.extractable());
  }
}
