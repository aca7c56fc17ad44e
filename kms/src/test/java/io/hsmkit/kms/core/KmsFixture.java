package io.hsmkit.kms.core;

import io.hsmkit.kms.audit.AuditSeal;
import io.hsmkit.kms.audit.AuditTrail;
import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsService;
import io.hsmkit.kms.access.AccessControl;
import io.hsmkit.kms.backing.token.DefaultKeyBackings;
import io.hsmkit.kms.backing.token.TokenKeyBacking;
import io.hsmkit.kms.store.Database;
import io.hsmkit.kms.testing.TestDatabases;
import io.hsmkit.pkcs11.testing.TestToken;
import io.hsmkit.provider.HsmKitProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One SoftHSM2 token per test class (made on first use) with an HsmKit provider on it, and a
 * fresh KMS service per test on a fresh database of the asked kind. Each service gets its own
 * random account id, so the keys of two services on the shared token never look alike.
 */
public final class KmsFixture {
  private static TestToken token;
  private static HsmKitProvider provider;

  public final Database db;
  public final TokenKeyBacking backing;
  public final MutableClock clock;
  public final KmsService kms;
  public final Caller caller;

  private KmsFixture(Database db, AccessControl access) {
    this.db = db;
    this.backing = new TokenKeyBacking(provider());
    this.clock = new MutableClock(Instant.parse("2026-11-29T20:00:00Z"));
    String account = String.valueOf(100000000000L + ThreadLocalRandom.current().nextLong(899999999999L));
    this.kms = new KmsService(db, new DefaultKeyBackings(backing), access, clock, "eu-west-1", account, sealedTrail(db));
    this.caller = Caller.of("arn:aws:iam::" + account + ":user/alice", account, null);
  }

  public static KmsFixture create(TestDatabases.Kind kind) {
    return new KmsFixture(TestDatabases.fresh(kind), AccessControl.ALLOW_ALL);
  }

  public static KmsFixture create(TestDatabases.Kind kind, AccessControl access) {
    return new KmsFixture(TestDatabases.fresh(kind), access);
  }

  /** A second service on the same database and token (a restart, or a second node). */
  public KmsService another() {
    return new KmsService(db, new DefaultKeyBackings(backing), AccessControl.ALLOW_ALL, clock, "eu-west-1", kms.accountId(), sealedTrail(db));
  }

  /** The trail as the server has it: MACed in the token by its audit key. */
  public static AuditTrail sealedTrail(Database db) {
    return new AuditTrail(db, AuditSeal.onToken(provider()));
  }

  public static synchronized HsmKitProvider provider() {
    if (provider == null) {
      String name = "kms-" + ProcessHandle.current().pid();
      token = TestToken.create(name, name);
      provider = new HsmKitProvider(writeConfig(token, name).toString());
    }
    return provider;
  }

  /** A provider configuration file for {@code t} with the user PIN in a 0600 file beside it. */
  public static Path writeConfig(TestToken t, String name) {
    Path dir = TestToken.buildDir().resolve("tokens").resolve(name);
    try {
      Path pin = dir.resolve("user.pin");
      Files.writeString(pin, new String(t.userPin()));
      pin.toFile().setReadable(false, false);
      pin.toFile().setReadable(true, true);
      Path cfg = dir.resolve("hsmkit.cfg");
      Files.writeString(cfg, "library = " + t.library() + "\ntokenLabel = " + t.label() + "\npin = file:" + pin + "\n");
      return cfg;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A clock the tests move forward (deletion windows, rotation periods). */
  public static final class MutableClock extends Clock {
    private volatile Instant now;

    MutableClock(Instant start) {
      this.now = start;
    }

    public void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
