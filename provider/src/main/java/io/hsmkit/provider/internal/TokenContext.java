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
 */
public final class TokenContext implements AutoCloseable {
  private final HsmKitConfig config;
  private final String providerName;
  private final Pkcs11Module module;
  private final SessionPool pool;
  private final Map<Long, MechanismInfo> mechanisms;

  private TokenContext(HsmKitConfig config, String providerName, Pkcs11Module module, SessionPool pool, Map<Long, MechanismInfo> mechanisms) {
    this.config = config;
    this.providerName = providerName;
    this.module = module;
    this.pool = pool;
    this.mechanisms = mechanisms;
  }

  /** Loads the library, finds the token, opens the pool (logged in when the configuration has a PIN). */
  public static TokenContext open(HsmKitConfig config, String providerName) {
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
      return new TokenContext(config, providerName, module, pool, Collections.unmodifiableMap(mechs));
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

  public Pkcs11Module module() {
    return module;
  }

  public SessionPool pool() {
    return pool;
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
    return pool.execute(work);
  }

  /**
   * Runs object management (generating, importing, unwrapping or deriving session keys) on the
   * pool's long-lived object session, so that session keys live as long as the provider and are not
   * destroyed with a pooled session the pool closes.
   */
  public <T, E extends Exception> T executeForObjects(SessionWork<T, E> work) throws E {
    return pool.executeOnObjectSession(work);
  }

  /** A session for a multi-part operation; the caller closes it (returns it) in finally. */
  public Session borrow() {
    return pool.borrow();
  }

  @Override
  public void close() {
    try {
      pool.close();
    } catch (Pkcs11Exception ignored) {
      // closing sessions of a token that is gone
    }
    module.close();
  }

  @Override
  public String toString() {
    return providerName + "@" + config.library();
  }
}
