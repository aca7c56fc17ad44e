package io.hsmkit.provider.internal;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.Slot;
import io.hsmkit.pkcs11.raw.MechanismInfo;
import io.hsmkit.pkcs11.session.Pin;
import io.hsmkit.pkcs11.session.PoolConfig;
import io.hsmkit.pkcs11.session.SessionPool;
import io.hsmkit.pkcs11.session.SessionWork;
import io.hsmkit.pkcs11.session.TokenSelector;
import io.hsmkit.pkcs11.cluster.Cluster;
import io.hsmkit.pkcs11.cluster.ClusterConfig;
import io.hsmkit.pkcs11.cluster.ClusterConfigFile;
import io.hsmkit.pkcs11.cluster.ClusterException;
import io.hsmkit.pkcs11.raw.Pkcs11;
import io.hsmkit.provider.ClusterOperationException;
import io.hsmkit.provider.HsmKitConfig;
import java.io.IOException;
import java.security.ProviderException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything a configured provider knows about its token: the module, the session pool, and the
 * mechanisms it may use (the token's list, filtered by the configuration). Every SPI instance gets
 * the context of the provider that made it, and a key remembers the context it lives in, so a key
 * of another token is recognised by identity.
 *
 * <p><b>Over a cluster</b> ({@code cluster = file} in the configuration) there is no one module or
 * pool: {@link #execute} runs the work on a member the {@link Cluster} chooses, with failover, and
 * {@link #executeWithKey} gives the work that member's handle for a key named by class and CKA_ID
 * (cached by the cluster per member and pool generation). Session objects and multi-part
 * operations on a held session would live on one member only: {@link #executeForObjects},
 * {@link #borrow} and {@link #pool} refuse, and the SPIs that support a cluster buffer instead of
 * streaming. The single-token path is unchanged: the cluster branches test one final field.
 */
public final class TokenContext implements AutoCloseable {
  private final HsmKitConfig config;
  private final String providerName;
  private final Pkcs11Module module;
  private final SessionPool pool;
  private final Map<Long, MechanismInfo> mechanisms;
  /** The cluster, or null for one token (then module and pool are set). */
  private final Cluster cluster;

  private TokenContext(HsmKitConfig config, String providerName, Pkcs11Module module, SessionPool pool, Map<Long, MechanismInfo> mechanisms,
      Cluster cluster) {
    this.config = config;
    this.providerName = providerName;
    this.module = module;
    this.pool = pool;
    this.mechanisms = mechanisms;
    this.cluster = cluster;
  }

  /** Work on a member's session with that member's handle for a key. */
  @FunctionalInterface
  public interface KeyedWork<T, E extends Exception> {
    T apply(Session s, long handle) throws E;
  }

  /** Opens the cluster of the configuration's cluster file, with {@code maxSessions} sessions per member. */
  private static TokenContext openCluster(HsmKitConfig config, String providerName) {
    ClusterConfig cc;
    try {
      cc = ClusterConfigFile.read(config.cluster()).config().withSessionsPerMember(config.maxSessions());
    } catch (IOException e) {
      throw new ProviderException("HsmKit: cannot read the cluster file " + config.cluster() + " (configured in " + config.source() + "): " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new ProviderException("HsmKit: " + e.getMessage() + " (cluster file configured in " + config.source() + ")", e);
    }
    Cluster c;
    try {
      c = Cluster.open(cc);
    } catch (ClusterException e) {
      throw new ClusterOperationException("HsmKit: cannot open the cluster " + config.cluster() + ": " + e.getMessage(), e.membersTried(), e);
    }
    try {
      // The mechanisms of the member that answers first: members of one cluster are expected to be
      // the same kind of token (replication needs the same key types and wrap mechanism anyway).
      Map<Long, MechanismInfo> mechs = c.execute((s, keys) -> {
        Pkcs11 raw = s.raw();
        Map<Long, MechanismInfo> m = new LinkedHashMap<>();
        for (long mech : raw.C_GetMechanismList(s.slotId())) {
          if (config.allows(mech)) {
            m.put(mech, raw.C_GetMechanismInfo(s.slotId(), mech));
          }
        }
        return m;
      });
      return new TokenContext(config, providerName, null, null, Collections.unmodifiableMap(mechs), c);
    } catch (ClusterException e) {
      c.close();
      throw clusterFailure("HsmKit: cannot read the mechanisms of the cluster " + config.cluster(), e);
    } catch (RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /** Loads the library, finds the token, opens the pool (logged in when the configuration has a PIN). */
  public static TokenContext open(HsmKitConfig config, String providerName) {
    if (config.isCluster()) {
      return openCluster(config, providerName);
    }
    Pkcs11Module module = Pkcs11Module.open(config.library());
    try {
      TokenSelector selector = switch (config.slotChoice()) {
        case LABEL -> TokenSelector.label(config.tokenLabel());
        case SLOT_ID -> TokenSelector.slotId(config.slot());
        case SLOT_LIST_INDEX -> TokenSelector.slotListIndex(config.slotListIndex());
      };
      Slot slot = selector.find(module).orElseThrow(() -> new ProviderException(
          "HsmKit: no token for " + selector + " in " + config.library() + " (configured in " + config.source() + ")"));
      Map<Long, MechanismInfo> mechs = new LinkedHashMap<>();
      for (Map.Entry<Long, MechanismInfo> e : slot.mechanismInfos().entrySet()) {
        if (config.allows(e.getKey())) {
          mechs.put(e.getKey(), e.getValue());
        }
      }
      Pin pin = null;
      if (config.hasPin()) {
        try {
          pin = config.readPin();
        } catch (IOException | IllegalArgumentException e) {
          throw new ProviderException("HsmKit: cannot read the configured PIN: " + e.getMessage(), e);
        }
      }
      PoolConfig pc = PoolConfig.defaults().withMaxSessions(config.maxSessions()).withBorrowTimeout(config.sessionWait());
      SessionPool pool = SessionPool.open(module, selector, pc, pin);
      return new TokenContext(config, providerName, module, pool, Collections.unmodifiableMap(mechs), null);
    } catch (RuntimeException e) {
      module.close();
      throw e;
    }
  }

  public HsmKitConfig config() {
    return config;
  }

  public String providerName() {
    return providerName;
  }

  /** The module; null over a cluster. */
  public Pkcs11Module module() {
    return module;
  }

  /** The session pool of the one token; over a cluster there is none (a ProviderException). */
  public SessionPool pool() {
    if (cluster != null) {
      throw notOverCluster("a single session pool");
    }
    return pool;
  }

  /** Whether this provider presents a cluster. */
  public boolean isCluster() {
    return cluster != null;
  }

  /** The cluster, or null for one token. */
  public Cluster cluster() {
    return cluster;
  }

  private ProviderException notOverCluster(String what) {
    return new ProviderException("HsmKit: " + what + " is not supported over a cluster (" + config.cluster()
        + "): only replicated token keys, and operations that run whole on one member");
  }

  /** The cluster's failure as a ProviderException naming the members tried. */
  public static ClusterOperationException clusterFailure(String what, ClusterException e) {
    return new ClusterOperationException(what + ": " + e.getMessage(), e.membersTried(), e);
  }

  /**
   * Runs {@code work} on one member with that member's handle for the key of class
   * {@code objectClass} and CKA_ID {@code id}; the cluster moves it to another member after a
   * device error. The token's own answers (a bad tag, a refused key) come out as
   * {@link Pkcs11Exception}; a key no healthy member holds as
   * {@link io.hsmkit.pkcs11.cluster.KeyMissingException}; a failure of the cluster as
   * {@link ClusterOperationException}. Only over a cluster.
   */
  public <T, E extends Exception> T executeWithKey(long objectClass, byte[] id, KeyedWork<T, E> work) throws E {
    try {
      return cluster.execute((s, keys) -> work.apply(s, keys.handle(objectClass, id)));
    } catch (ClusterException e) {
      throw clusterFailure(providerName, e);
    }
  }

  /** The mechanisms the provider may use on this token, with their info. */
  public Map<Long, MechanismInfo> mechanisms() {
    return mechanisms;
  }

  /** True when the token offers (and the configuration allows) {@code mechanism}. */
  public boolean has(long mechanism) {
    return mechanisms.containsKey(mechanism);
  }

  private final java.util.concurrent.ConcurrentHashMap<String, Boolean> probes = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Whether the token can do something its mechanism list does not tell (AES-192 keys, say),
   * found out once by trying, then remembered.
   */
  public boolean probe(String what, java.util.function.Predicate<TokenContext> test) {
    return probes.computeIfAbsent(what, k -> {
      try {
        return test.test(this);
      } catch (RuntimeException e) {
        return false;
      }
    });
  }

  /** Runs a complete operation on a pooled session, healing and retrying as the pool does. */
  public <T, E extends Exception> T execute(SessionWork<T, E> work) throws E {
    if (cluster != null) {
      try {
        return cluster.execute((s, keys) -> work.apply(s));
      } catch (ClusterException e) {
        throw clusterFailure(providerName, e);
      }
    }
    return pool.execute(work);
  }

  /**
   * Runs object management (generating, importing, unwrapping or deriving session keys) on the
   * pool's long-lived object session, so that session keys live as long as the provider and are not
   * destroyed with a pooled session the pool closes.
   */
  public <T, E extends Exception> T executeForObjects(SessionWork<T, E> work) throws E {
    if (cluster != null) {
      throw notOverCluster("a session object (generated, imported, unwrapped or derived outside the cluster's replication)");
    }
    return pool.executeOnObjectSession(work);
  }

  /** A session for a multi-part operation; the caller closes it (returns it) in finally. */
  public Session borrow() {
    if (cluster != null) {
      throw notOverCluster("a multi-part operation held on one session");
    }
    return pool.borrow();
  }

  @Override
  public void close() {
    if (cluster != null) {
      cluster.close();
      return;
    }
    try {
      pool.close();
    } catch (Pkcs11Exception ignored) {
      // closing sessions of a token that is gone
    }
    module.close();
  }

  @Override
  public String toString() {
    return providerName + "@" + (cluster != null ? "cluster " + config.cluster() : config.library());
  }
}
