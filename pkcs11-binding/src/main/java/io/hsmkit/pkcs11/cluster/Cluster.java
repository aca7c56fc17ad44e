package io.hsmkit.pkcs11.cluster;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.session.PoolConfig;
import io.hsmkit.pkcs11.session.PoolTimeoutException;
import io.hsmkit.pkcs11.session.SessionPool;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Several tokens as one logical HSM.
 *
 * <ul>
 *   <li><b>Spreading and failover.</b> {@link #execute} runs work on one HEALTHY member chosen by
 *       the {@link SelectionPolicy}. An error meaning the device is gone (CKR_DEVICE_REMOVED,
 *       CKR_DEVICE_ERROR, CKR_TOKEN_NOT_PRESENT, a library failure, a token not found) takes the
 *       member out (DOWN) and the work runs again on another member, until the retry budget is
 *       spent. Other errors are the token's answer to the work (a bad tag, a wrong signature) and
 *       reach the caller unchanged, as {@link Pkcs11Exception}. A failure of the cluster itself is
 *       a {@link ClusterException} that lists every member tried and its error.
 *   <li><b>Health.</b> A background check probes DOWN members every health interval; one that
 *       answers is SYNCING until it has the keys it missed and lost the keys deleted meanwhile,
 *       then HEALTHY again.
 *   <li><b>Replication.</b> {@link #generateSecretKey} and {@link #generateEcKeyPair} make a key on
 *       one member (CKA_EXTRACTABLE and CKA_WRAP_WITH_TRUSTED set, sensitive) and copy it, wrapped
 *       under the trusted cluster wrapping key (see {@link ClusterAdmin}), to every other healthy
 *       member with the same CKA_ID and label. The key is handed out only once it is on
 *       {@code minReplicas} members; otherwise it is destroyed where it was made.
 *       {@link #delete} removes a key everywhere; a tombstone (a CKO_DATA token object, see
 *       {@link Tombstones}) is written on every reachable member first, so that a member that was
 *       not healthy loses the key when it returns, even to another process: every Cluster reads the
 *       tombstones at open and at each sync. A tombstone is erased once every member of the
 *       configuration has been seen without the key. CKA_IDs are 16 random bytes and never reused,
 *       so a tombstone can only ever match the key it was written for.
 * </ul>
 */
public final class Cluster implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Cluster.class.getName());
  private static final SecureRandom RANDOM = new SecureRandom();
  /** Wrap mechanism for replication: AES key wrap with padding, so private keys (PKCS#8) of any length fit. */
  static final Mechanism REPLICATION_WRAP = Mechanism.of(CKM.AES_KEY_WRAP_PAD);

  private final ClusterConfig config;
  private final List<Member> members;
  private final ScheduledExecutorService health;
  /**
   * Key creation and deletion hold the read lock from start to end; a member's sync holds the
   * write lock, so no key appears or goes between its listing and its return to HEALTHY.
   */
  private final ReentrantReadWriteLock keyLock = new ReentrantReadWriteLock();
  /**
   * CKA_ID (hex) of a deleted key -> the members not yet seen without it. A cache of the
   * tombstones in the tokens (see {@link Tombstones}), which are the record.
   */
  private final Map<String, Set<String>> tombstones = new ConcurrentHashMap<>();
  /** CKA_ID (hex) of a deleted key -> when it was deleted (epoch ms), as written in its tombstone. */
  private final Map<String, Long> deletedAt = new ConcurrentHashMap<>();
  private volatile boolean closed;

  private Cluster(ClusterConfig config) {
    this.config = config;
    List<Member> ms = new ArrayList<>();
    for (MemberConfig mc : config.members()) {
      ms.add(new Member(mc));
    }
    this.members = List.copyOf(ms);
    this.health = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "hsmkit-cluster-health");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Opens a pool on every member that answers; members that do not start DOWN and are probed by
   * the health check. Fails when no member answers.
   */
  public static Cluster open(ClusterConfig config) {
    Cluster c = new Cluster(config);
    List<ClusterException.Attempt> failed = new ArrayList<>();
    Throwable last = null;
    for (Member m : c.members) {
      try {
        c.connect(m);
        m.health = MemberHealth.HEALTHY;
      } catch (RuntimeException e) {
        m.lastError = Member.describe(e);
        m.downSince = System.nanoTime();
        failed.add(new ClusterException.Attempt(m.name(), m.lastError));
        last = e;
      }
    }
    if (failed.size() == c.members.size()) {
      c.close();
      throw new ClusterException("no member of the cluster answered", failed, last);
    }
    // Deletions made by another process (or one that ended) while a member now reachable was away:
    // applied before any work runs here, so a deleted key is never used again.
    c.keyLock.writeLock().lock();
    try {
      c.loadTombstones();
      for (Member m : c.members) {
        if (m.health == MemberHealth.HEALTHY) {
          c.applyTombstones(m);
        }
      }
    } finally {
      c.keyLock.writeLock().unlock();
    }
    long every = config.healthInterval().toMillis();
    c.health.scheduleWithFixedDelay(c::checkHealth, every, every, TimeUnit.MILLISECONDS);
    return c;
  }

  private void connect(Member m) {
    if (m.pool != null) {
      return;
    }
    if (m.module == null) {
      m.module = Pkcs11Module.open(m.config().library());
    }
    SessionPool pool = SessionPool.open(m.module, m.config().token(),
        // A pool that cannot open a session heals within its borrow timeout: keep both short, so
        // that a member whose token is gone fails fast and the cluster moves the work elsewhere.
        PoolConfig.defaults().withMaxSessions(config.sessionsPerMember()).withBorrowTimeout(config.memberRecovery().multipliedBy(2))
            .withRecoveryTimeout(config.memberRecovery()),
        m.config().userPin().get());
    try {
      pool.execute(ClusterAdmin::wrapKey); // a member without the cluster key cannot hold replicated keys
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
    m.pool = pool;
  }

  public ClusterConfig config() {
    return config;
  }

  /** The members, in configuration order. */
  public List<Member> members() {
    return members;
  }

  public Member member(String name) {
    return members.stream().filter(m -> m.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no member " + name));
  }

  private List<Member> healthy(Set<Member> skip) {
    List<Member> h = new ArrayList<>(members.size());
    for (Member m : members) {
      if (m.health == MemberHealth.HEALTHY && !skip.contains(m)) {
        h.add(m);
      }
    }
    return h;
  }

  /**
   * Whether {@code e} means the member's device, token or library is gone (the member is taken
   * out), as opposed to the token's answer to the work.
   */
  static boolean deviceGone(Throwable e) {
    if (e instanceof Pkcs11Exception p) {
      return p.isAny(CKR.DEVICE_REMOVED, CKR.DEVICE_ERROR, CKR.DEVICE_MEMORY, CKR.TOKEN_NOT_PRESENT, CKR.TOKEN_NOT_RECOGNIZED,
          CKR.SLOT_ID_INVALID, CKR.CRYPTOKI_NOT_INITIALIZED, CKR.HOST_MEMORY,
          CKR.SESSION_HANDLE_INVALID, CKR.SESSION_CLOSED, CKR.USER_NOT_LOGGED_IN);
    }
    // SessionPool.open and healing: "no token found for ..."
    return e instanceof MemberUnavailableException
        || e instanceof IllegalStateException && String.valueOf(e.getMessage()).startsWith("no token found");
  }

  /**
   * Errors that may mean a failing library or only bad input: SoftHSM2 2.6.1 answers a GCM
   * decryption with a wrong tag with CKR_GENERAL_ERROR. The member is probed: if it fails the
   * probe it is gone; if not, the work runs once on another member, and the same answer there is
   * the token's answer to the work.
   */
  static boolean suspect(Throwable e) {
    return e instanceof Pkcs11Exception p && p.isAny(CKR.GENERAL_ERROR, CKR.FUNCTION_FAILED);
  }

  /** Thrown when a member's pool is being replaced: the member counts as gone for the moment. */
  static final class MemberUnavailableException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    MemberUnavailableException(String member) {
      super("member " + member + " is being reconnected");
    }
  }

  private static SessionPool pool(Member m) {
    SessionPool p = m.pool;
    if (p == null) {
      throw new MemberUnavailableException(m.name());
    }
    return p;
  }

  /** Whether the member answers a cheap call: session info and the cluster wrapping key's handle. */
  private boolean probe(Member m) {
    try {
      pool(m).execute(s -> {
        s.info();
        return ClusterAdmin.wrapKey(s);
      });
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static boolean staleHandle(Pkcs11Exception e) {
    return e.isAny(CKR.OBJECT_HANDLE_INVALID, CKR.KEY_HANDLE_INVALID, CKR.WRAPPING_KEY_HANDLE_INVALID,
        CKR.UNWRAPPING_KEY_HANDLE_INVALID);
  }

  void markDown(Member m, Throwable cause) {
    synchronized (m) {
      m.lastError = Member.describe(cause);
      if (m.health != MemberHealth.DOWN) {
        m.health = MemberHealth.DOWN;
        m.downSince = System.nanoTime();
        m.forgetHandles();
        LOG.log(System.Logger.Level.WARNING, "cluster member {0} taken out: {1}", m.name(), m.lastError);
      }
    }
  }

  /** Runs idempotent {@code work} (a complete operation that may run again on another member). */
  public <T, E extends Exception> T execute(ClusterWork<T, E> work) throws E {
    return execute(work, true);
  }

  /**
   * Runs {@code work} on one healthy member. Idempotent work moves to another member after a
   * device error, within the retry budget; work that is not idempotent fails with a
   * {@link ClusterException} instead, since it may have taken effect.
   *
   * @throws ClusterException no member could do it; lists the members tried
   * @throws KeyMissingException no healthy member holds a key the work asked for
   */
  public <T, E extends Exception> T execute(ClusterWork<T, E> work, boolean idempotent) throws E {
    return run(work, idempotent).value();
  }

  /** A result and the member that produced it. */
  private record Ran<T>(Member member, T value) {}

  private <T, E extends Exception> Ran<T> run(ClusterWork<T, E> work, boolean idempotent) throws E {
    long deadline = System.nanoTime() + config.retryBudget().toNanos();
    List<ClusterException.Attempt> attempts = new ArrayList<>();
    Set<Member> lacking = new LinkedHashSet<>();
    Throwable last = null;
    int staleRetries = 0;
    Member suspectMember = null;
    Pkcs11Exception suspectError = null;
    while (true) {
      if (closed) {
        throw new ClusterException("the cluster is closed", attempts, last);
      }
      List<Member> candidates = healthy(lacking);
      if (candidates.isEmpty()) {
        if (!lacking.isEmpty() && healthy(Set.of()).stream().allMatch(lacking::contains) && last instanceof KeyMissingException km) {
          throw km;
        }
        if (suspectError != null && healthy(lacking).isEmpty() && healthy(Set.of()).stream().allMatch(lacking::contains)) {
          throw suspectError;
        }
        if (System.nanoTime() > deadline) {
          throw new ClusterException("no healthy member within " + config.retryBudget().toMillis() + " ms", attempts, last);
        }
        sleep(20); // the health check may bring one back
        continue;
      }
      Member m = config.policy().choose(candidates);
      SessionPool pool = m.pool;
      if (pool == null) {
        continue; // being reset by the health check
      }
      m.begin();
      boolean ok = false;
      try {
        T r = pool.execute(s -> work.apply(s, (cls, id) -> m.handle(s, cls, id)));
        ok = true;
        if (suspectMember != null) {
          markDown(suspectMember, suspectError); // it failed what another member did: it is not well
        }
        return new Ran<>(m, r);
      } catch (KeyMissingException e) {
        ok = true; // the member works; it just has not got the key (yet)
        attempts.add(new ClusterException.Attempt(m.name(), "key missing"));
        lacking.add(m);
        last = e;
        continue;
      } catch (Pkcs11Exception e) {
        if (staleHandle(e) && staleRetries++ < 2) {
          ok = true;
          m.forgetHandles();
          continue;
        }
        if (suspect(e)) {
          if (suspectMember != null && suspectError.ckr() == e.ckr()) {
            ok = true;
            throw suspectError; // two members gave the same answer: it is the work's
          }
          if (probe(m)) {
            ok = true;
            if (!idempotent) {
              throw e; // the member is well, and the work may not run twice: it is the token's answer
            }
            attempts.add(new ClusterException.Attempt(m.name(), Member.describe(e)));
            if (suspectMember == null) {
              suspectMember = m;
              suspectError = e;
              lacking.add(m);
              if (healthy(lacking).isEmpty()) {
                throw e;
              }
            }
            last = e;
            continue;
          }
        } else if (!deviceGone(e)) {
          ok = true;
          throw e; // the token's own answer to this work
        }
        last = e;
        attempts.add(new ClusterException.Attempt(m.name(), Member.describe(e)));
        markDown(m, e);
      } catch (PoolTimeoutException | IllegalStateException e) {
        if (e instanceof IllegalStateException && !deviceGone(e) && !(pool == null || pool.isClosed())) {
          ok = true;
          throw e;
        }
        last = e;
        attempts.add(new ClusterException.Attempt(m.name(), Member.describe(e)));
        if (deviceGone(e)) {
          markDown(m, e);
        }
      } finally {
        m.end(ok);
      }
      if (!idempotent) {
        throw new ClusterException("the operation failed and is not safe to repeat", attempts, last);
      }
      if (System.nanoTime() > deadline) {
        throw new ClusterException("the retry budget of " + config.retryBudget().toMillis() + " ms is spent", attempts, last);
      }
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ClusterException("interrupted", List.of(), e);
    }
  }

  // ------------------------------------------------------------------ keys

  private static byte[] newId() {
    byte[] id = new byte[16];
    RANDOM.nextBytes(id);
    return id;
  }

  private static List<Attribute> replicable(String label, byte[] id) {
    return new ArrayList<>(List.of(Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, true),
        Attribute.bool(CKA.SENSITIVE, true), Attribute.bool(CKA.EXTRACTABLE, true), Attribute.bool(CKA.WRAP_WITH_TRUSTED, true),
        Attribute.string(CKA.LABEL, label), Attribute.bytes(CKA.ID, id)));
  }

  /**
   * Makes an AES key of {@code bytes} bytes (16 or 32 on SoftHSM2) for encrypt/decrypt, on at least
   * {@code minReplicas} members.
   */
  public ClusterKey generateSecretKey(String label, int bytes) {
    byte[] id = newId();
    List<Attribute> t = replicable(label, id);
    t.add(Attribute.ulong(CKA.VALUE_LEN, bytes));
    t.add(Attribute.bool(CKA.ENCRYPT, true));
    t.add(Attribute.bool(CKA.DECRYPT, true));
    // SoftHSM2 would default these to true; a data key does nothing else
    for (long off : new long[] {CKA.SIGN, CKA.VERIFY, CKA.WRAP, CKA.UNWRAP, CKA.DERIVE}) {
      t.add(Attribute.bool(off, false));
    }
    Attribute[] template = t.toArray(Attribute[]::new);
    return create(new ClusterKey(label, id, false), s -> {
      s.generateKey(Mechanism.of(CKM.AES_KEY_GEN), template);
      return null;
    });
  }

  /** Makes an EC key pair on the curve {@code ecParams} (DER OID) for signing, on at least {@code minReplicas} members. */
  public ClusterKey generateEcKeyPair(String label, byte[] ecParams) {
    byte[] id = newId();
    List<Attribute> priv = replicable(label, id);
    priv.add(Attribute.bool(CKA.SIGN, true));
    for (long off : new long[] {CKA.DECRYPT, CKA.UNWRAP, CKA.DERIVE}) {
      priv.add(Attribute.bool(off, false));
    }
    Attribute[] pub = {Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, false), Attribute.string(CKA.LABEL, label),
        Attribute.bytes(CKA.ID, id), Attribute.bytes(CKA.EC_PARAMS, ecParams), Attribute.bool(CKA.VERIFY, true)};
    Attribute[] privT = priv.toArray(Attribute[]::new);
    return create(new ClusterKey(label, id, true), s -> {
      return s.generateKeyPair(Mechanism.of(CKM.EC_KEY_PAIR_GEN), pub, privT);
    });
  }

  /**
   * Makes a secret key with {@code mechanism} (CKM_GENERIC_SECRET_KEY_GEN for an HMAC key, ...) on
   * at least {@code minReplicas} members, as {@link #generateSecretKey}: the cluster adds the
   * replication attributes (token, private, sensitive, CKA_EXTRACTABLE and CKA_WRAP_WITH_TRUSTED,
   * label, a fresh CKA_ID); {@code attributes} give the key type's own (CKA_VALUE_LEN, CKA_KEY_TYPE)
   * and its usage. Usage not given stays as the token defaults it.
   */
  public ClusterKey generateKey(String label, Mechanism mechanism, Attribute... attributes) {
    byte[] id = newId();
    List<Attribute> t = replicable(label, id);
    t.addAll(List.of(attributes));
    Attribute[] template = t.toArray(Attribute[]::new);
    return create(new ClusterKey(label, id, false), s -> {
      s.generateKey(mechanism, template);
      return null;
    });
  }

  /**
   * Makes a key pair with {@code mechanism} (CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_EC_KEY_PAIR_GEN) on at
   * least {@code minReplicas} members: {@code publicAttributes} and {@code privateAttributes} give
   * the key's parameters and usage; the cluster adds the label, a shared fresh CKA_ID, token and
   * (for the private key) the replication attributes. The public key is public (CKA_PRIVATE false).
   */
  public ClusterKey generateKeyPair(String label, Mechanism mechanism, Attribute[] publicAttributes, Attribute[] privateAttributes) {
    byte[] id = newId();
    List<Attribute> priv = replicable(label, id);
    priv.addAll(List.of(privateAttributes));
    List<Attribute> pub = new ArrayList<>(List.of(Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, false),
        Attribute.string(CKA.LABEL, label), Attribute.bytes(CKA.ID, id)));
    pub.addAll(List.of(publicAttributes));
    Attribute[] pubT = pub.toArray(Attribute[]::new);
    Attribute[] privT = priv.toArray(Attribute[]::new);
    return create(new ClusterKey(label, id, true), s -> s.generateKeyPair(mechanism, pubT, privT));
  }

  /**
   * Runs {@code work} once on every HEALTHY member (objects that are not replicated keys, such as
   * certificates, which every member should hold) and returns how many members did it. A member
   * whose device fails is taken out and skipped; the token's other answers reach the caller.
   * Members that are not healthy are not caught up later: readers fall back to another member.
   */
  public int executeOnEachHealthy(io.hsmkit.pkcs11.session.SessionWork<Void, RuntimeException> work) {
    int done = 0;
    for (Member m : members) {
      if (m.health != MemberHealth.HEALTHY) {
        continue;
      }
      try {
        pool(m).execute(work);
        m.forgetHandles();
        done++;
      } catch (RuntimeException e) {
        if (!deviceGone(e)) {
          throw e;
        }
        markDown(m, e);
      }
    }
    return done;
  }

  private ClusterKey create(ClusterKey key, io.hsmkit.pkcs11.session.SessionWork<Object, RuntimeException> make) {
    return create(key, (ClusterWork<Object, RuntimeException>) (s, keys) -> make.apply(s));
  }

  /**
   * Makes a key with {@code make} on one member, then replicates it as {@link #generateSecretKey}
   * does: on {@code minReplicas} members before it is returned, or destroyed and a
   * {@link ClusterException}. For keys the cluster does not generate itself (imported, unwrapped,
   * derived): {@code make} runs once (it is not repeated elsewhere after a device error), with that
   * member's handles for cluster keys it uses (an unwrapping key, a private key to derive from), and
   * must create the secret or private key as a token object with {@code key.id()} as CKA_ID, its
   * label, CKA_EXTRACTABLE and CKA_WRAP_WITH_TRUSTED true (the copy wraps it under the trusted
   * cluster key), and for a pair the public key with the same CKA_ID.
   */
  public ClusterKey create(ClusterKey key, ClusterWork<?, RuntimeException> make) {
    keyLock.readLock().lock();
    try {
      Member origin;
      try {
        origin = run(make, false).member();
      } catch (ClusterException e) {
        // it may exist where the device failed: a tombstone removes it when that member returns
        tombstone(key.idHex(), e.membersTried());
        throw e;
      }
      List<ClusterException.Attempt> failed = new ArrayList<>();
      int replicas = 1;
      for (Member m : members) {
        if (m == origin) {
          continue;
        }
        if (m.health != MemberHealth.HEALTHY) {
          m.missedCreates.incrementAndGet();
          continue;
        }
        try {
          copy(origin, m, key.id());
          replicas++;
        } catch (RuntimeException e) {
          failed.add(new ClusterException.Attempt(m.name(), Member.describe(e)));
          if (deviceGone(e)) {
            markDown(m, e);
          }
          m.missedCreates.incrementAndGet();
        }
      }
      if (replicas < config.minReplicas()) {
        List<String> all = members.stream().map(Member::name).toList();
        tombstone(key.idHex(), all);
        for (Member m : members) {
          if (m.health == MemberHealth.HEALTHY) {
            destroyOn(m, key.id(), key.idHex());
          }
        }
        throw new ClusterException("the key reached " + replicas + " of the " + config.minReplicas()
            + " members it needs and was destroyed", failed, null);
      }
      return key;
    } finally {
      keyLock.readLock().unlock();
    }
  }

  /** Deletes the key (every object with its CKA_ID) from every member; those not healthy get it at their sync. */
  public void delete(ClusterKey key) {
    keyLock.readLock().lock();
    try {
      String hex = key.idHex();
      tombstone(hex, members.stream().map(Member::name).toList());
      for (Member m : members) {
        if (m.health == MemberHealth.HEALTHY) {
          destroyOn(m, key.id(), hex);
        }
      }
    } finally {
      keyLock.readLock().unlock();
    }
  }

  /**
   * Records that the key {@code hex} may still be on {@code memberNames}, and writes its tombstone
   * on every member that is reachable now, before any copy of the key is destroyed: if this
   * process ends half-way, the tokens still say the key is deleted.
   */
  private void tombstone(String hex, List<String> memberNames) {
    tombstones.computeIfAbsent(hex, k -> ConcurrentHashMap.newKeySet()).addAll(memberNames);
    long at = deletedAt.computeIfAbsent(hex, k -> System.currentTimeMillis());
    for (Member m : members) {
      if (m.health == MemberHealth.HEALTHY) {
        persist(m, new Tombstones.Stone(hex, at));
      }
    }
  }

  /** Writes a tombstone on {@code m}; a member whose device is gone is taken out (its sync writes it later). */
  private void persist(Member m, Tombstones.Stone stone) {
    try {
      pool(m).execute(s -> {
        Tombstones.write(s, stone);
        return null;
      });
    } catch (RuntimeException e) {
      if (!deviceGone(e)) {
        throw e;
      }
      markDown(m, e);
    }
  }

  /** Adds the tombstones found on every reachable member to the ones this process knows. */
  private void loadTombstones() {
    List<String> all = members.stream().map(Member::name).toList();
    for (Member m : members) {
      if (m.health == MemberHealth.DOWN || m.pool == null) {
        continue;
      }
      Map<String, Tombstones.Stone> found;
      try {
        found = pool(m).execute(Tombstones::read);
      } catch (RuntimeException e) {
        if (!deviceGone(e)) {
          throw e;
        }
        markDown(m, e);
        continue;
      }
      for (Tombstones.Stone st : found.values()) {
        if (Tombstones.reserved(st.idHex())) {
          continue; // never the cluster's own keys, whoever wrote it
        }
        deletedAt.merge(st.idHex(), st.deletedAtMillis(), Math::min);
        // Unknown here: which members still hold the key. Every one must be seen without it.
        tombstones.computeIfAbsent(st.idHex(), k -> {
          Set<String> pending = ConcurrentHashMap.newKeySet();
          pending.addAll(all);
          return pending;
        });
      }
    }
  }

  /**
   * Destroys on {@code m} the keys of every tombstone that names it, and writes on {@code m} the
   * tombstones other members still wait for. Returns the number of tombstones applied.
   */
  private int applyTombstones(Member m) {
    int applied = 0;
    for (Map.Entry<String, Set<String>> t : List.copyOf(tombstones.entrySet())) {
      if (t.getValue().contains(m.name())) {
        destroyOn(m, HexFormat.of().parseHex(t.getKey()), t.getKey());
        if (m.health == MemberHealth.DOWN) {
          return applied;
        }
        applied++;
      }
      if (tombstones.containsKey(t.getKey())) {
        persist(m, new Tombstones.Stone(t.getKey(), deletedAt.getOrDefault(t.getKey(), System.currentTimeMillis())));
      }
    }
    return applied;
  }

  /** Every member has been seen without the key: its tombstone goes from every reachable token. */
  private void forgetTombstone(String hex) {
    deletedAt.remove(hex);
    for (Member m : members) {
      if (m.health == MemberHealth.DOWN || m.pool == null) {
        continue; // a DOWN member's own tombstone comes back at its sync, and is erased again then
      }
      try {
        pool(m).execute(s -> Tombstones.erase(s, hex));
      } catch (RuntimeException e) {
        if (!deviceGone(e)) {
          throw e;
        }
        markDown(m, e);
      }
    }
  }

  /** Destroys every object with CKA_ID {@code id} on {@code m}; clears m's tombstone when done. */
  private void destroyOn(Member m, byte[] id, String hex) {
    if (Tombstones.reserved(hex)) {
      throw new IllegalArgumentException("CKA_ID " + hex + " is the cluster's own key");
    }
    try {
      pool(m).execute(s -> {
        for (long h : s.findObjects(8, Attribute.bytes(CKA.ID, id))) {
          s.destroyObject(h);
        }
        return null;
      });
      m.forgetHandles();
      Set<String> pending = tombstones.get(hex);
      if (pending != null) {
        pending.remove(m.name());
        if (pending.isEmpty() && tombstones.remove(hex, pending)) {
          forgetTombstone(hex);
        }
      }
    } catch (RuntimeException e) {
      if (!deviceGone(e)) {
        throw e;
      }
      markDown(m, e);
    }
  }

  /** Deletions still to reach {@code member}. */
  public int pendingDeletions(String member) {
    int n = 0;
    for (Set<String> s : tombstones.values()) {
      if (s.contains(member)) {
        n++;
      }
    }
    return n;
  }

  /** CKA_IDs (hex) of the replicated keys on a member: secret and private keys with CKA_WRAP_WITH_TRUSTED, less the cluster key. */
  static Map<String, Long> replicatedKeys(Session s) {
    Map<String, Long> out = new LinkedHashMap<>();
    String cwk = HexFormat.of().formatHex(ClusterAdmin.WRAP_KEY_ID);
    for (long h : s.findObjects(Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.WRAP_WITH_TRUSTED, true))) {
      Attribute[] a = s.getAttributes(h, CKA.ID, CKA.CLASS);
      String id = HexFormat.of().formatHex(a[0].value());
      if (!id.equals(cwk)) {
        out.put(id, a[1].asUlong());
      }
    }
    return out;
  }

  /** The number of replicated keys on the member, or -1 when it cannot be asked now. */
  public int keyCount(Member m) {
    if (m.health == MemberHealth.DOWN || m.pool == null) {
      return -1;
    }
    try {
      return pool(m).execute(Cluster::replicatedKeys).size();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  /** Keys the member is behind by: creations it missed plus deletions still to reach it. */
  public int lag(Member m) {
    return m.missedCreates.get() + pendingDeletions(m.name());
  }

  // ----------------------------------------------------------- replication

  private static final long[] SECRET_USAGE = {CKA.ENCRYPT, CKA.DECRYPT, CKA.SIGN, CKA.VERIFY, CKA.WRAP, CKA.UNWRAP, CKA.DERIVE};
  private static final long[] PRIVATE_USAGE = {CKA.SIGN, CKA.DECRYPT, CKA.UNWRAP, CKA.DERIVE};

  /**
   * Copies the key with CKA_ID {@code id} from {@code src} to {@code dst}: the secret (or private)
   * key wrapped under the cluster wrapping key and unwrapped with the same attributes; the public
   * key of a pair (not secret) by its attributes.
   */
  void copy(Member src, Member dst, byte[] id) {
    record Exported(long cls, long keyType, String label, Attribute[] usage, byte[] wrapped, Attribute[] publicKey) {}
    Exported ex = pool(src).execute(s -> {
      long cwk = ClusterAdmin.wrapKey(s);
      long[] secret = s.findObjects(2, Attribute.bytes(CKA.ID, id), Attribute.bool(CKA.WRAP_WITH_TRUSTED, true));
      if (secret.length != 1) {
        throw new KeyMissingException("member " + src.name() + " has " + secret.length + " replicable keys with CKA_ID " + HexFormat.of().formatHex(id));
      }
      Attribute[] base = s.getAttributes(secret[0], CKA.CLASS, CKA.KEY_TYPE, CKA.LABEL);
      long cls = base[0].asUlong();
      Attribute[] usage = s.getAttributes(secret[0], cls == CKO.SECRET_KEY ? SECRET_USAGE : PRIVATE_USAGE);
      byte[] wrapped = s.wrapKey(REPLICATION_WRAP, cwk, secret[0]);
      Attribute[] pub = null;
      if (cls == CKO.PRIVATE_KEY) {
        long[] p = s.findObjects(2, Attribute.ulong(CKA.CLASS, CKO.PUBLIC_KEY), Attribute.bytes(CKA.ID, id));
        if (p.length == 1) {
          long kt = base[1].asUlong();
          pub = kt == CKK.EC || kt == CKK.EC_EDWARDS
              ? s.getAttributes(p[0], CKA.EC_PARAMS, CKA.EC_POINT, CKA.VERIFY)
              : s.getAttributes(p[0], CKA.MODULUS, CKA.PUBLIC_EXPONENT, CKA.VERIFY, CKA.ENCRYPT);
        }
      }
      return new Exported(cls, base[1].asUlong(), base[2].asString(), usage, wrapped, pub);
    });
    pool(dst).execute(s -> {
      long cwk = ClusterAdmin.wrapKey(s);
      // a half-done earlier copy, or a key that was deleted and is back: start clean
      for (long h : s.findObjects(8, Attribute.bytes(CKA.ID, id))) {
        s.destroyObject(h);
      }
      List<Attribute> t = replicable(ex.label(), id);
      t.add(Attribute.ulong(CKA.CLASS, ex.cls()));
      t.add(Attribute.ulong(CKA.KEY_TYPE, ex.keyType()));
      for (Attribute u : ex.usage()) {
        if (u.present()) {
          t.add(u);
        }
      }
      s.unwrapKey(REPLICATION_WRAP, cwk, ex.wrapped(), t.toArray(Attribute[]::new));
      if (ex.publicKey() != null) {
        List<Attribute> p = new ArrayList<>(List.of(Attribute.ulong(CKA.CLASS, CKO.PUBLIC_KEY), Attribute.ulong(CKA.KEY_TYPE, ex.keyType()),
            Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, false), Attribute.string(CKA.LABEL, ex.label()),
            Attribute.bytes(CKA.ID, id)));
        for (Attribute a : ex.publicKey()) {
          if (a.present()) {
            p.add(a);
          }
        }
        s.createObject(p.toArray(Attribute[]::new));
      }
      return null;
    });
    dst.forgetHandles();
  }

  // ------------------------------------------------------------ health, sync

  private void checkHealth() {
    try {
      checkMembers();
    } catch (RuntimeException e) {
      // a scheduled task that throws is never run again: the check must outlive any one failure
      LOG.log(System.Logger.Level.WARNING, "cluster health check failed: {0}", Member.describe(e));
    }
  }

  private void checkMembers() {
    for (Member m : members) {
      if (closed) {
        return;
      }
      if (m.health != MemberHealth.DOWN) {
        continue;
      }
      try {
        if (m.pool != null) {
          m.pool.execute(s -> {
            s.info();
            return ClusterAdmin.wrapKey(s);
          });
          reset(m);
        }
        connect(m);
      } catch (RuntimeException e) {
        m.lastError = Member.describe(e);
        continue;
      }
      try {
        sync(m);
      } catch (RuntimeException e) {
        markDown(m, e);
      }
    }
  }

  /**
   * Starts a returning member with a clean slate: its pool closed and every session of this
   * application on its token closed. A failing device may have refused C_CloseSession for the
   * sessions the pool discarded while it was down; they would stay open on the token for good.
   * Safe because the member is DOWN: nothing new is sent to it, and the calls that were in flight
   * when it went down are waited for. The cluster owns its members' tokens: another user of the
   * same token in this process would lose its sessions too.
   */
  private void reset(Member m) {
    long end = System.nanoTime() + config.retryBudget().toNanos();
    while (m.outstanding() > 0 && System.nanoTime() < end) {
      sleep(5);
    }
    SessionPool old = m.pool;
    m.pool = null;
    long slot = old.slotId();
    old.close();
    try {
      m.module.raw().C_CloseAllSessions(slot);
    } catch (Pkcs11Exception e) {
      // the token went again: the next health check starts over
      throw e;
    }
  }

  /**
   * Brings a member that answers up to date and puts it back: deletions it missed, then the keys a
   * healthy member has and it lacks. Runs under the key write lock.
   *
   * @return the number of keys copied and deleted
   */
  public int sync(Member m) {
    keyLock.writeLock().lock();
    try {
      m.health = MemberHealth.SYNCING;
      m.forgetHandles();
      loadTombstones(); // another process may have deleted keys meanwhile
      if (m.health == MemberHealth.DOWN) {
        throw new ClusterException("member " + m.name() + " failed during sync", List.of(), null);
      }
      for (Member o : members) {
        if (o != m && o.health == MemberHealth.HEALTHY) {
          applyTombstones(o); // tombstones just read may name healthy members too
        }
      }
      int changed = applyTombstones(m);
      if (m.health == MemberHealth.DOWN) {
        throw new ClusterException("member " + m.name() + " failed during sync", List.of(), null);
      }
      Member source = null;
      for (Member o : members) {
        if (o != m && o.health == MemberHealth.HEALTHY) {
          source = o;
          break;
        }
      }
      if (source != null) {
        Map<String, Long> have = pool(m).execute(Cluster::replicatedKeys);
        Map<String, Long> want = pool(source).execute(Cluster::replicatedKeys);
        for (String id : want.keySet()) {
          if (!have.containsKey(id) && !tombstones.containsKey(id)) {
            copy(source, m, HexFormat.of().parseHex(id));
            changed++;
          }
        }
      }
      m.missedCreates.set(0);
      m.health = MemberHealth.HEALTHY;
      m.returned();
      LOG.log(System.Logger.Level.INFO, "cluster member {0} is back ({1} keys synced)", m.name(), changed);
      return changed;
    } finally {
      keyLock.writeLock().unlock();
    }
  }

  /** Runs one health check now (tests, and {@code hsmkit cluster sync}). */
  public void checkNow() {
    checkHealth();
  }

  /** One line per member: name, health, outstanding, operations, key count, lag, last error. */
  public List<MemberStatus> status() {
    List<MemberStatus> out = new ArrayList<>();
    for (Member m : members) {
      out.add(new MemberStatus(m.name(), m.health, m.outstanding(), m.operations(), keyCount(m), lag(m), m.lastError()));
    }
    return out;
  }

  /** A member's state at one moment. */
  public record MemberStatus(String name, MemberHealth health, int outstanding, long operations, int keys, int lag, String lastError) {}

  @Override
  public void close() {
    closed = true;
    health.shutdownNow();
    try {
      health.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Member m : members) {
      SessionPool p = m.pool;
      if (p != null) {
        p.close();
      }
      Pkcs11Module mod = m.module;
      if (mod != null) {
        mod.close();
      }
    }
  }
}
