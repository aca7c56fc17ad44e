package io.hsmkit.pkcs11.session;

import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.testing.FaultShim;
import io.hsmkit.pkcs11.testing.TestToken;
import java.time.Duration;

/** A fresh token reached through the fault shim, with persistent keys that tests find by label. */
final class ShimFixture implements AutoCloseable {
  static final byte[] P256 = {0x06, 0x08, 0x2A, (byte) 0x86, 0x48, (byte) 0xCE, 0x3D, 0x03, 0x01, 0x07};

  final TestToken token;
  final FaultShim shim;
  final Pkcs11Module module;

  ShimFixture(String name) {
    token = TestToken.create(name, name.length() > 32 ? name.substring(0, 32) : name);
    shim = FaultShim.forLibrary(token.library());
    module = Pkcs11Module.open(FaultShim.path());
  }

  SessionPool pool(int max) {
    return SessionPool.open(module, TokenSelector.label(token.label()),
        PoolConfig.defaults().withMaxSessions(max).withBorrowTimeout(Duration.ofSeconds(20)).withRecoveryTimeout(Duration.ofSeconds(10)),
        Pin.of(token.userPin()));
  }

  /** Token keys (they survive sessions closing and the library restarting): AES-256 "aes", HMAC "hmac", EC P-256 "ec". */
  void createKeys(SessionPool pool) throws Exception {
    pool.execute(s -> {
      s.generateKey(Mechanism.of(CKM.AES_KEY_GEN),
          Attribute.bool(CKA.TOKEN, true), Attribute.string(CKA.LABEL, "aes"), Attribute.ulong(CKA.VALUE_LEN, 32),
          Attribute.bool(CKA.ENCRYPT, true), Attribute.bool(CKA.DECRYPT, true), Attribute.bool(CKA.SENSITIVE, true),
          Attribute.bool(CKA.EXTRACTABLE, false));
      s.generateKey(Mechanism.of(CKM.GENERIC_SECRET_KEY_GEN),
          Attribute.bool(CKA.TOKEN, true), Attribute.string(CKA.LABEL, "hmac"), Attribute.ulong(CKA.VALUE_LEN, 32),
          Attribute.bool(CKA.SIGN, true), Attribute.bool(CKA.VERIFY, true), Attribute.bool(CKA.SENSITIVE, true));
      s.generateKeyPair(Mechanism.of(CKM.EC_KEY_PAIR_GEN),
          new Attribute[] {Attribute.bool(CKA.TOKEN, true), Attribute.string(CKA.LABEL, "ec"), Attribute.bytes(CKA.EC_PARAMS, P256), Attribute.bool(CKA.VERIFY, true)},
          new Attribute[] {Attribute.bool(CKA.TOKEN, true), Attribute.string(CKA.LABEL, "ec"), Attribute.bool(CKA.SIGN, true), Attribute.bool(CKA.SENSITIVE, true), Attribute.bool(CKA.PRIVATE, true)});
      return null;
    });
  }

  /** The handle of the key labelled {@code label} of class {@code cls}, looked up now. */
  static long find(Session s, String label, long cls) {
    long[] h = s.findObjects(2, Attribute.ulong(CKA.CLASS, cls), Attribute.string(CKA.LABEL, label));
    if (h.length != 1) {
      throw new IllegalStateException(h.length + " objects labelled " + label);
    }
    return h[0];
  }

  static long secret(Session s, String label) {
    return find(s, label, CKO.SECRET_KEY);
  }

  static long privateKey(Session s, String label) {
    return find(s, label, CKO.PRIVATE_KEY);
  }

  static long publicKey(Session s, String label) {
    return find(s, label, CKO.PUBLIC_KEY);
  }

  static final long UNUSED_CKK = CKK.AES;

  @Override
  public void close() {
    shim.clear();
    module.close();
  }
}
