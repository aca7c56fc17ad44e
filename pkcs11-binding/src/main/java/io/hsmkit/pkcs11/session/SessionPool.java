package io.hsmkit.pkcs11.session;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.Slot;
import io.hsmkit.pkcs11.constants.CKF;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.constants.CKS;
import io.hsmkit.pkcs11.raw.Pkcs11;
import io.hsmkit.pkcs11.raw.SessionInfo;
import java.lang.ref.Cleaner;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A bounded, blocking pool of logged-in sessions on one token, that heals itself.
 *
 * <ul>
 *   <li><b>Bounded and blocking.</b> At most {@link PoolConfig#maxSessions()} sessions; when all are
 *       lent out, {@link #borrow()} waits up to the borrow timeout and then throws {@link
 *       PoolTimeoutException}. If the token refuses a new session with CKR_SESSION_COUNT the pool
 *       lowers its cap to what the token allows and waits instead of failing.
 *   <li><b>Clean sessions only.</b> A session comes back with {@link Session#close()}. Operations it
 *       started and did not finish are cancelled with C_SessionCancel (v3.0) or, on v2.x libraries,
 *       which cannot cancel, the session is closed and replaced. A session idle longer than
 *       {@link PoolConfig#validateAfterIdle()} is checked with C_GetSessionInfo before it is lent.
 *   <li><b>Healing.</b> {@link #execute} turns the errors that mean "the session, the login, the
 *       token or the library went away" (CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED,
 *       CKR_USER_NOT_LOGGED_IN, CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT,
 *       CKR_CRYPTOKI_NOT_INITIALIZED) into a repair (a new session, a new login, finding the token
 *       again by its selector, C_Initialize again) and one more try, within the recovery timeout.
 *       A session that saw CKR_DEVICE_ERROR or another device fault is closed rather than reused.
 *   <li><b>Leaks.</b> A lease that is garbage-collected without being returned is reported (System.Logger
 *       WARNING, and {@link PoolStats#leaked()}), its session closed and its place given back.
 * </ul>
 *
 * <p>The login is per token and application (PKCS#11 shares it between sessions); the pool logs in
 * once per session generation and again whenever the token says it is not logged in. It keeps the
 * PIN for that, and wipes it on {@link #close()}.
 */
public final class SessionPool implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(SessionPool.class.getName());
  private static final Cleaner CLEANER = Cleaner.create();
  private static final boolean TRACK_BORROW_SITES = Boolean.getBoolean("hsmkit.pool.trackLeaks");
  private static final int MAX_ATTEMPTS = 4;

  private final Pkcs11Module module;
  private final Pkcs11 raw;
  private final TokenSelector selector;
  private final PoolConfig config;
  private volatile Pin pin;
  private final boolean canCancel;
  /** {@link PoolConfig#validateAfterIdle()} in nanoseconds, read on every borrow. */
  private final long validateAfterIdleNanos;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition available = lock.newCondition();
  private final ArrayDeque<Entry> idle = new ArrayDeque<>();
  private final Object recoveryMonitor = new Object();
  private int open;
  private int borrowed;
  private int cap;
  private volatile long generation;
  private volatile long libraryEpoch;
  private volatile long slotId;
  /**
   * A session the pool opens first and never lends. PKCS#11 logs the application out when its last
   * session on the token closes, and SoftHSM2 then renumbers private objects, so every handle held
   * by a caller would go stale whenever the pool happened to close its last session (after
   * discarding a broken one, say). The anchor keeps the login, and the handles, alive.
   */
  private volatile long anchor;
  private volatile long anchorEpoch;
  private boolean closed;

  private final AtomicLong leaked = new AtomicLong();
  private final AtomicLong recoveries = new AtomicLong();
  private final AtomicLong discarded = new AtomicLong();
  private final AtomicLong cancelled = new AtomicLong();

  /** One session handle the pool owns. */
  private static final class Entry {
    final long handle;
    final long generation;
    final long epoch;
    long lastUsed;

    Entry(long handle, long generation, long epoch) {
      this.handle = handle;
      this.generation = generation;
      this.epoch = epoch;
      this.lastUsed = System.nanoTime();
    }
  }

  private SessionPool(Pkcs11Module module, TokenSelector selector, PoolConfig config, Pin pin, long slotId) {
    this.module = module;
    this.raw = module.raw();
    this.selector = selector;
    this.config = config;
    this.pin = pin;
    this.cap = config.maxSessions();
    this.slotId = slotId;
    this.canCancel = raw.supports("C_SessionCancel");
    this.validateAfterIdleNanos = config.validateAfterIdle().toNanos();
  }

  /**
   * Opens a pool on the token that {@code selector} finds, logging in with {@code pin} (which the
   * pool now owns and wipes on close; null for a pool of public sessions). One session is opened
   * and logged in at once, so a wrong PIN fails here, with CKR_PIN_INCORRECT.
   */
  public static SessionPool open(Pkcs11Module module, TokenSelector selector, PoolConfig config, Pin pin) {
    Slot slot =
        selector.find(module).orElseThrow(() -> new IllegalStateException("no token found for " + selector));
    SessionPool pool = new SessionPool(module, selector, config, pin, slot.id());
    pool.lock.lock();
    pool.open++;
    pool.lock.unlock();
    try {
      pool.openAnchor();
      Entry e = pool.openEntry();
      pool.lock.lock();
      try {
        pool.idle.push(e);
      } finally {
        pool.lock.unlock();
      }
    } catch (RuntimeException ex) {
      pool.closeAnchor();
      if (pin != null) {
        pin.close();
      }
      throw ex;
    }
    return pool;
  }

  public Pkcs11Module module() {
    return module;
  }

  /** The slot the token is in now (it may change after the token comes back). */
  public long slotId() {
    return slotId;
  }

  public PoolConfig config() {
    return config;
  }

  public PoolStats stats() {
    lock.lock();
    try {
      return new PoolStats(open + (anchor != 0 ? 1 : 0), idle.size(), borrowed, cap, leaked.get(), recoveries.get(), discarded.get(), cancelled.get());
    } finally {
      lock.unlock();
    }
  }

  // ------------------------------------------------------------------ borrowing

  /** A logged-in session, waiting up to the borrow timeout; return it with {@link Session#close()}. */
  public Session borrow() {
    return borrow(true);
  }

  /**
   * @param tracked whether to watch the lease for leaks with a Cleaner. {@link #execute} returns
   *     its lease in {@code finally} and cannot leak it, so it skips the registration, which costs
   *     as much as a short native call on the hot path.
   */
  private Session borrow(boolean tracked) {
    long deadline = 0; // set when the first wait begins: the common case never waits, nor reads the clock for it
    while (true) {
      Entry e = null;
      boolean mustOpen = false;
      lock.lock();
      try {
        while (true) {
          if (closed) {
            throw new IllegalStateException("the session pool is closed");
          }
          e = idle.pollFirst();
          if (e != null) {
            break;
          }
          if (open < cap) {
            open++;
            mustOpen = true;
            break;
          }
          long now = System.nanoTime();
          if (deadline == 0) {
            deadline = now + config.borrowTimeout().toNanos();
          }
          long rem = deadline - now;
          if (rem <= 0) {
            throw new PoolTimeoutException("no session free within " + config.borrowTimeout().toMillis() + " ms: all " + open + " are lent out (cap " + cap + ")");
          }
          try {
            available.awaitNanos(rem);
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new PoolTimeoutException("interrupted while waiting for a session");
          }
        }
        borrowed++;
      } finally {
        lock.unlock();
      }
      if (mustOpen) {
        try {
          e = openEntry();
        } catch (Pkcs11Exception ex) {
          unreserve();
          if (ex.is(CKR.SESSION_COUNT)) {
            lowerCap();
            continue;
          }
          if (kindOf(ex) == Kind.TOKEN || kindOf(ex) == Kind.LIBRARY) {
            heal(kindOf(ex), ex, generation, deadline != 0 ? deadline : System.nanoTime() + config.borrowTimeout().toNanos());
            continue;
          }
          throw ex;
        } catch (RuntimeException ex) {
          unreserve();
          throw ex;
        }
      } else if (e.generation != generation || System.nanoTime() - e.lastUsed > validateAfterIdleNanos) {
        if (!validate(e)) {
          lock.lock();
          borrowed--;
          lock.unlock();
          discard(e);
          continue;
        }
      }
      return new Lease(this, e, tracked);
    }
  }

  private void unreserve() {
    lock.lock();
    try {
      open--;
      borrowed--;
      available.signal();
    } finally {
      lock.unlock();
    }
  }

  /** The token refused another session: live with the sessions it gave us. */
  private void lowerCap() {
    lock.lock();
    try {
      if (open == 0) {
        throw new Pkcs11Exception("C_OpenSession", CKR.SESSION_COUNT, -1, "the token allows no session to this application");
      }
      if (cap > open) {
        LOG.log(System.Logger.Level.WARNING, "token refused session {0} (CKR_SESSION_COUNT): pool cap lowered from {1} to {2}", Integer.toString(open + 1), Integer.toString(cap), Integer.toString(open));
        cap = open;
      }
    } finally {
      lock.unlock();
    }
  }

  /** Opens (and logs in through) the anchor session. */
  private void openAnchor() {
    long flags = CKF.SERIAL_SESSION | (config.readWrite() ? CKF.RW_SESSION : 0);
    long h = raw.C_OpenSession(slotId, flags);
    try {
      ensureLoggedIn(h, false);
    } catch (RuntimeException ex) {
      closeQuietly(h);
      throw ex;
    }
    anchorEpoch = libraryEpoch;
    anchor = h;
  }

  private final Object objectSessionLock = new Object();

  /**
   * Runs {@code work} on the pool's anchor session, the one session the pool never closes while
   * the token is there. Use it to create session objects (generated, imported, unwrapped or derived
   * keys that are not token objects): PKCS#11 destroys a session object when the session that made
   * it closes, and the pool closes its other sessions whenever they are broken or left with an
   * unfinished operation. Calls are serialised on the one session; do only object management here
   * (generate, create, copy, destroy, unwrap, derive), not data operations.
   */
  public <T, E extends Exception> T executeOnObjectSession(SessionWork<T, E> work) throws E {
    for (int attempt = 1; ; attempt++) {
      synchronized (objectSessionLock) {
        if (isClosed()) {
          // Never reopen anything for a closed pool: its handles may name another pool's objects by now.
          throw new IllegalStateException("the session pool is closed");
        }
        long h = anchor;
        if (h == 0) {
          checkAnchor();
          h = anchor;
        }
        if (h == 0) {
          return execute(work); // no anchor could be opened: objects live as long as a pooled session
        }
        Session s = Session.wrap(raw, slotId, h);
        try {
          return work.apply(s);
        } catch (Pkcs11Exception e) {
          Kind k = kindOf(e);
          if (attempt >= 2 || (k != Kind.SESSION && k != Kind.LOGIN)) {
            throw e;
          }
        }
      }
      checkAnchor();
    }
  }

  /** A session went away under us: if the anchor went with it (all sessions closed), open it again. */
  private void checkAnchor() {
    synchronized (recoveryMonitor) {
      if (isClosed()) {
        return;
      }
      long h = anchor;
      if (h != 0) {
        try {
          raw.C_GetSessionInfo(h);
          return;
        } catch (Pkcs11Exception e) {
          if (kindOf(e) != Kind.SESSION) {
            return; // the token or library: heal() deals with those
          }
        }
      }
      anchor = 0;
      try {
        openAnchor();
      } catch (Pkcs11Exception e) {
        // the next operation's error will say why; the pool still works without an anchor
      }
    }
  }

  private void closeAnchor() {
    long h = anchor;
    anchor = 0;
    if (h != 0 && anchorEpoch == libraryEpoch) {
      closeQuietly(h);
    }
  }

  private Entry openEntry() {
    long flags = CKF.SERIAL_SESSION | (config.readWrite() ? CKF.RW_SESSION : 0);
    long h = raw.C_OpenSession(slotId, flags);
    Entry e = new Entry(h, generation, libraryEpoch);
    if (pin != null) {
      try {
        ensureLoggedIn(h, false);
      } catch (RuntimeException ex) {
        closeQuietly(h);
        throw ex;
      }
    }
    return e;
  }

  /** Logs in unless the session says the token already is (one login serves every session). */
  private void ensureLoggedIn(long h, boolean knownLoggedOut) {
    Pin p = pin;
    if (p == null) {
      return;
    }
    if (!knownLoggedOut) {
      long state = raw.C_GetSessionInfo(h).state();
      if (state != CKS.RO_PUBLIC_SESSION && state != CKS.RW_PUBLIC_SESSION) {
        return;
      }
    }
    try {
      raw.C_Login(h, config.userType(), p.chars());
    } catch (Pkcs11Exception ex) {
      if (!ex.is(CKR.USER_ALREADY_LOGGED_IN)) {
        throw ex;
      }
    }
  }

  private boolean validate(Entry e) {
    if (e.generation != generation) {
      return false;
    }
    try {
      SessionInfo info = raw.C_GetSessionInfo(e.handle);
      if (pin != null && (info.state() == CKS.RO_PUBLIC_SESSION || info.state() == CKS.RW_PUBLIC_SESSION)) {
        ensureLoggedIn(e.handle, true);
      }
      return true;
    } catch (Pkcs11Exception ex) {
      return false;
    }
  }

  // ------------------------------------------------------------------ returning

  void release(Lease lease, Entry e, int activeOps, boolean broken) {
    boolean keep = !broken && e.generation == generation;
    if (keep && activeOps != 0) {
      keep = cancel(e, activeOps);
    }
    lock.lock();
    try {
      borrowed--;
      if (keep && !closed) {
        e.lastUsed = System.nanoTime();
        idle.push(e);
        available.signal();
        return;
      }
    } finally {
      lock.unlock();
    }
    discard(e);
  }

  private boolean cancel(Entry e, int activeOps) {
    try {
      if ((activeOps & Session.OP_FIND) != 0) {
        raw.C_FindObjectsFinal(e.handle);
        activeOps &= ~Session.OP_FIND;
      }
      if (activeOps == 0) {
        return true;
      }
      if (canCancel) {
        raw.C_SessionCancel(e.handle, activeOps);
        cancelled.incrementAndGet();
        return true;
      }
    } catch (Pkcs11Exception ex) {
      // fall through: a session we cannot clean is closed
    }
    return false; // v2.x has no way to cancel; closing the session ends every operation
  }

  /** Closes a session the pool gives up; it never fails the caller. */
  private void discard(Entry e) {
    lock.lock();
    try {
      if (e.generation == generation) {
        open--;
      }
      available.signal();
    } finally {
      lock.unlock();
    }
    discarded.incrementAndGet();
    // After a library restart, old handle numbers may already name someone else's new session.
    if (e.epoch == libraryEpoch) {
      closeQuietly(e.handle);
    }
  }

  private void closeQuietly(long h) {
    try {
      raw.C_CloseSession(h);
    } catch (Pkcs11Exception ignored) {
      // already gone with the token or the library; nothing to free
    }
  }

  void leaked(Entry e, Throwable site) {
    leaked.incrementAndGet();
    LOG.log(System.Logger.Level.WARNING, "a pooled PKCS#11 session was never returned (closed now)"
        + (site == null ? "; run with -Dhsmkit.pool.trackLeaks=true to see where it was borrowed" : ""), site);
    lock.lock();
    try {
      borrowed--;
    } finally {
      lock.unlock();
    }
    discard(e);
  }

  // ------------------------------------------------------------------ healing

  /** What an error says went away. */
  enum Kind {
    NONE,
    /** The session is unusable; close it and use another. */
    SESSION,
    LOGIN,
    TOKEN,
    LIBRARY,
    /** The device faulted: this session is not reused, the error goes to the caller. */
    DEVICE
  }

  static Kind kindOf(Pkcs11Exception e) {
    long c = e.ckr();
    if (c == CKR.SESSION_HANDLE_INVALID || c == CKR.SESSION_CLOSED) {
      return Kind.SESSION;
    }
    if (c == CKR.USER_NOT_LOGGED_IN) {
      return Kind.LOGIN;
    }
    if (c == CKR.DEVICE_REMOVED || c == CKR.TOKEN_NOT_PRESENT || c == CKR.TOKEN_NOT_RECOGNIZED || c == CKR.SLOT_ID_INVALID) {
      return Kind.TOKEN;
    }
    if (c == CKR.CRYPTOKI_NOT_INITIALIZED) {
      return Kind.LIBRARY;
    }
    if (c == CKR.DEVICE_ERROR || c == CKR.DEVICE_MEMORY || c == CKR.GENERAL_ERROR || c == CKR.HOST_MEMORY) {
      return Kind.DEVICE;
    }
    return Kind.NONE;
  }

  /**
   * Runs {@code work} on a borrowed session and returns its result, healing and retrying after the
   * errors that mean something went away (see the class comment), up to {@value #MAX_ATTEMPTS}
   * tries within the recovery timeout.
   *
   * <p>{@code work} may therefore run more than once: it must be a complete operation (Init to
   * final) whose repetition does no harm, such as a signature, an encryption or a look-up. An
   * earlier try failed because its session, login, token or library was gone, so it had no effect
   * on the token, except that a token removed in the middle of an object-creating call may or may
   * not have kept the object.
   *
   * @throws Pkcs11Exception the last error, when it is not one the pool can heal, or healing ran
   *     out of time or tries
   */
  public <T, E extends Exception> T execute(SessionWork<T, E> work) throws E {
    long deadline = 0; // the recovery time runs from the first failure: no clock read when all goes well
    for (int attempt = 1; ; attempt++) {
      Lease s = (Lease) borrow(false);
      long seen = s.entry.generation;
      Kind kind;
      Pkcs11Exception failure;
      try {
        return work.apply(s);
      } catch (Pkcs11Exception e) {
        failure = e;
        kind = kindOf(e);
        if (kind != Kind.NONE) {
          s.broken = kind != Kind.LOGIN;
        }
        if (kind == Kind.LOGIN && pin != null) {
          try {
            ensureLoggedIn(s.handle(), true);
          } catch (Pkcs11Exception again) {
            s.broken = true;
            kind = kindOf(again) == Kind.NONE ? Kind.NONE : kindOf(again);
            if (kind == Kind.NONE) {
              again.addSuppressed(e);
              throw again;
            }
          }
        }
      } finally {
        s.close();
      }
      if (deadline == 0) {
        deadline = System.nanoTime() + config.recoveryTimeout().toNanos();
      }
      if (kind == Kind.NONE || kind == Kind.DEVICE || attempt >= MAX_ATTEMPTS || System.nanoTime() > deadline) {
        throw failure;
      }
      if (kind == Kind.TOKEN || kind == Kind.LIBRARY) {
        heal(kind, failure, seen, deadline);
      } else if (kind == Kind.SESSION || kind == Kind.LOGIN) {
        checkAnchor();
      }
    }
  }

  /**
   * Gets the token back: a new session generation, C_Initialize again if the library was
   * finalized, the token found again through the selector, a session opened and logged in. One
   * thread heals; the others wait for it and find the new generation.
   */
  private void heal(Kind kind, Pkcs11Exception cause, long seenGeneration, long deadline) {
    synchronized (recoveryMonitor) {
      if (generation != seenGeneration) {
        return; // another thread healed while we waited
      }
      boolean libraryGone = kind == Kind.LIBRARY;
      List<Entry> stale;
      lock.lock();
      try {
        generation++;
        stale = new ArrayList<>(idle);
        idle.clear();
        open = 0;
        cap = config.maxSessions();
        available.signalAll();
      } finally {
        lock.unlock();
      }
      if (libraryGone) {
        libraryEpoch++;
      }
      for (Entry e : stale) {
        discarded.incrementAndGet();
        if (e.epoch == libraryEpoch) {
          closeQuietly(e.handle);
        }
      }
      closeAnchor();
      Pkcs11Exception last = cause;
      while (true) {
        try {
          if (libraryGone) {
            module.reinitialize();
            libraryGone = false;
          }
          Optional<Slot> slot = selector.find(module);
          if (slot.isPresent()) {
            slotId = slot.get().id();
            openAnchor();
            lock.lock();
            open++;
            lock.unlock();
            Entry e;
            try {
              e = openEntry();
            } catch (RuntimeException ex) {
              lock.lock();
              open--;
              lock.unlock();
              throw ex;
            }
            lock.lock();
            try {
              idle.push(e);
              available.signal();
            } finally {
              lock.unlock();
            }
            recoveries.incrementAndGet();
            LOG.log(System.Logger.Level.INFO, "PKCS#11 token back in slot {0} after {1}", Long.toString(slotId), cause.ckrName());
            return;
          }
        } catch (Pkcs11Exception ex) {
          last = ex;
          if (kindOf(ex) == Kind.LIBRARY) {
            libraryEpoch++;
            libraryGone = true;
          } else if (kindOf(ex) == Kind.NONE) {
            ex.addSuppressed(cause);
            throw ex;
          }
        }
        if (System.nanoTime() > deadline) {
          Pkcs11Exception out = new Pkcs11Exception(last.function(), last.ckr(), -1,
              "the token did not come back within " + config.recoveryTimeout().toMillis() + " ms");
          out.addSuppressed(cause);
          throw out;
        }
        try {
          TimeUnit.MILLISECONDS.sleep(25);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw cause;
        }
      }
    }
  }

  /**
   * Whether {@code candidate} is the PIN the pool logged in with, compared in constant time. A
   * token that is already logged in does not check a second C_Login's PIN (it answers
   * CKR_USER_ALREADY_LOGGED_IN), so this is how a second caller's PIN is checked. False when the
   * pool holds no PIN.
   */
  public boolean pinMatches(char[] candidate) {
    Pin p = pin;
    if (p == null || candidate == null) {
      return false;
    }
    byte[] a = new String(p.chars()).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] b = new String(candidate).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    try {
      return java.security.MessageDigest.isEqual(a, b);
    } finally {
      java.util.Arrays.fill(a, (byte) 0);
      java.util.Arrays.fill(b, (byte) 0);
    }
  }

  /** Whether {@link #close()} was called. */
  public boolean isClosed() {
    lock.lock();
    try {
      return closed;
    } finally {
      lock.unlock();
    }
  }

  /**
   * The pool's session generation: it changes whenever the pool recovered its token or library.
   * Handles of session objects made in an earlier generation are gone, and their numbers may have
   * been given to other objects since (a library restart starts numbering again).
   */
  public long generation() {
    return generation;
  }

  /** Whether the pool holds a PIN (and so keeps its sessions logged in). */
  public boolean loggedIn() {
    return pin != null;
  }

  /**
   * Logs the token in with {@code newPin} (which the pool now owns), after the pool was opened
   * without one. CKR_PIN_INCORRECT and the other login errors reach the caller, and the pool stays
   * logged out.
   */
  public void login(Pin newPin) {
    try (Session s = borrow()) {
      try {
        raw.C_Login(s.handle(), config.userType(), newPin.chars());
      } catch (Pkcs11Exception ex) {
        if (!ex.is(CKR.USER_ALREADY_LOGGED_IN)) {
          newPin.close();
          throw ex;
        }
      }
    }
    Pin old = pin;
    pin = newPin;
    if (old != null && old != newPin) {
      old.close();
    }
  }

  /**
   * Logs the token out (C_Logout, which ends the login of every session of this application on the
   * token) and wipes the PIN. Objects that need a login are out of reach until {@link #login}.
   */
  public void logout() {
    Pin old = pin;
    pin = null;
    try (Session s = borrow()) {
      raw.C_Logout(s.handle());
    } catch (Pkcs11Exception ex) {
      if (!ex.is(CKR.USER_NOT_LOGGED_IN)) {
        throw ex;
      }
    } finally {
      if (old != null) {
        old.close();
      }
    }
  }

  /** Closes idle sessions and wipes the PIN. Borrowed sessions are closed as they come back. */
  @Override
  public void close() {
    List<Entry> toClose;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      toClose = new ArrayList<>(idle);
      idle.clear();
      available.signalAll();
    } finally {
      lock.unlock();
    }
    for (Entry e : toClose) {
      discard(e);
    }
    closeAnchor();
    Pin p = pin;
    if (p != null) {
      p.close();
    }
  }

  // ------------------------------------------------------------------ the lease

  /** A borrowed session; close() gives it back. A lease lost without close() is reported as a leak. */
  static final class Lease extends Session {
    private final SessionPool pool;
    final Entry entry;
    /** The cleaner's view, for tracked leases only; null for execute()'s, which always return. */
    private final LeaseState state;
    private final Cleaner.Cleanable cleanable; // null when untracked
    /** Returned already (untracked leases; a tracked one keeps this in its state). */
    private boolean returned;
    boolean broken;

    Lease(SessionPool pool, Entry entry, boolean tracked) {
      super(pool.raw, pool.slotId, entry.handle);
      this.pool = pool;
      this.entry = entry;
      this.state = tracked ? new LeaseState(pool, entry, TRACK_BORROW_SITES ? new Throwable("borrowed here") : null) : null;
      this.cleanable = tracked ? CLEANER.register(this, state) : null;
    }

    @Override
    public void close() {
      if (state == null) {
        if (returned) {
          return;
        }
        returned = true;
      } else {
        if (state.returned) {
          return;
        }
        state.returned = true;
      }
      int ops = activeOperations();
      detach();
      if (cleanable != null) {
        cleanable.clean(); // runs LeaseState, which sees returned and does nothing
      }
      pool.release(this, entry, ops, broken);
    }
  }

  /** The cleaner's view of a lease: no reference back to the lease itself. */
  private static final class LeaseState implements Runnable {
    private final SessionPool pool;
    private final Entry entry;
    private final Throwable site;
    volatile boolean returned;

    LeaseState(SessionPool pool, Entry entry, Throwable site) {
      this.pool = pool;
      this.entry = entry;
      this.site = site;
    }

    @Override
    public void run() {
      if (!returned) {
        returned = true;
        pool.leaked(entry, site);
      }
    }
  }
}
