package io.hsmkit.pkcs11.cluster;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.session.PoolStats;
import io.hsmkit.pkcs11.session.SessionPool;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** One token of a cluster as the cluster sees it: its pool, health and counters. */
public final class Member {
  private final MemberConfig config;
  volatile Pkcs11Module module;
  volatile SessionPool pool;
  volatile MemberHealth health = MemberHealth.DOWN;
  volatile String lastError;
  volatile long downSince;
  private final AtomicInteger outstanding = new AtomicInteger();
  private final AtomicLong operations = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong returns = new AtomicLong();
  /** Keys created while this member was not HEALTHY: part of its lag until it syncs. */
  final AtomicInteger missedCreates = new AtomicInteger();
  /**
   * Handles of cluster keys on this token. Handles are only good for one login: the pool's
   * generation changes when it got its token or library back, and then the cache starts again.
   */
  private final ConcurrentHashMap<String, Long> handles = new ConcurrentHashMap<>();
  private volatile long handlesGeneration = -1;

  Member(MemberConfig config) {
    this.config = config;
  }

  public String name() {
    return config.name();
  }

  public MemberConfig config() {
    return config;
  }

  public MemberHealth health() {
    return health;
  }

  /** Operations running on this member now. */
  public int outstanding() {
    return outstanding.get();
  }

  /** Operations this member completed. */
  public long operations() {
    return operations.get();
  }

  /** Operations that failed here because the device was gone. */
  public long failures() {
    return failures.get();
  }

  /** Times this member came back from DOWN. */
  public long returns() {
    return returns.get();
  }

  /** The last error that took the member out (function and CKR name only), or null. */
  public String lastError() {
    return lastError;
  }

  /** The pool's counters, or null while no pool could be opened. */
  public PoolStats poolStats() {
    SessionPool p = pool;
    return p == null ? null : p.stats();
  }

  void begin() {
    outstanding.incrementAndGet();
  }

  void end(boolean ok) {
    outstanding.decrementAndGet();
    if (ok) {
      operations.incrementAndGet();
    } else {
      failures.incrementAndGet();
    }
  }

  void returned() {
    returns.incrementAndGet();
  }

  /** This member's handle for the key of class {@code cls} with CKA_ID {@code id}. */
  long handle(Session s, long cls, byte[] id) {
    SessionPool p = pool;
    long gen = p.generation();
    if (gen != handlesGeneration) {
      handles.clear();
      handlesGeneration = gen;
    }
    String k = cls + ":" + HexFormat.of().formatHex(id);
    Long h = handles.get(k);
    if (h != null) {
      return h;
    }
    long[] found = s.findObjects(2, Attribute.ulong(CKA.CLASS, cls), Attribute.bytes(CKA.ID, id));
    if (found.length == 0) {
      throw new KeyMissingException("member " + name() + " has no key with CKA_ID " + HexFormat.of().formatHex(id));
    }
    if (found.length > 1) {
      throw new IllegalStateException("member " + name() + " has " + found.length + " objects with CKA_ID " + HexFormat.of().formatHex(id));
    }
    handles.put(k, found[0]);
    return found[0];
  }

  void forgetHandles() {
    handles.clear();
  }

  static String describe(Throwable e) {
    if (e instanceof Pkcs11Exception p) {
      return p.function() + " " + p.ckrName();
    }
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  @Override
  public String toString() {
    return name() + " " + health;
  }
}
