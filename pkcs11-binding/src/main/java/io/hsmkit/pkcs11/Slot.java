package io.hsmkit.pkcs11;

import io.hsmkit.pkcs11.constants.CKF;
import io.hsmkit.pkcs11.raw.MechanismInfo;
import io.hsmkit.pkcs11.raw.SlotInfo;
import io.hsmkit.pkcs11.raw.TokenInfo;
import java.util.LinkedHashMap;
import java.util.Map;

/** A slot of a loaded module. Immutable; the slot id is as the library numbers it. */
public final class Slot {
  private final Pkcs11Module module;
  private final long id;

  Slot(Pkcs11Module module, long id) {
    this.module = module;
    this.id = id;
  }

  public Pkcs11Module module() {
    return module;
  }

  public long id() {
    return id;
  }

  public SlotInfo info() {
    return module.raw().C_GetSlotInfo(id);
  }

  public TokenInfo tokenInfo() {
    return module.raw().C_GetTokenInfo(id);
  }

  public long[] mechanisms() {
    return module.raw().C_GetMechanismList(id);
  }

  public MechanismInfo mechanismInfo(long mechanism) {
    return module.raw().C_GetMechanismInfo(id, mechanism);
  }

  /** Every mechanism with its info, in the token's order. */
  public Map<Long, MechanismInfo> mechanismInfos() {
    Map<Long, MechanismInfo> out = new LinkedHashMap<>();
    for (long m : mechanisms()) {
      out.put(m, mechanismInfo(m));
    }
    return out;
  }

  /** Opens a serial session, read-write when asked. */
  public Session openSession(boolean readWrite) {
    long flags = CKF.SERIAL_SESSION | (readWrite ? CKF.RW_SESSION : 0);
    return Session.wrap(module.raw(), id, module.raw().C_OpenSession(id, flags));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Slot s && s.id == id && s.module.libraryPath().equals(module.libraryPath());
  }

  @Override
  public int hashCode() {
    return Long.hashCode(id);
  }

  @Override
  public String toString() {
    return "Slot[" + id + "]";
  }
}
