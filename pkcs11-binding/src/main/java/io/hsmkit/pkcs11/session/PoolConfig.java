package io.hsmkit.pkcs11.session;

import java.time.Duration;

/**
 * Settings of a {@link SessionPool}, immutable.
 *
 * @param maxSessions the most sessions the pool opens at once. The pool's own cap, because many
 *     tokens (SoftHSM2 among them) report no limit, and every session costs the HSM memory
 * @param borrowTimeout how long {@link SessionPool#borrow()} waits for a free session
 * @param validateAfterIdle a session idle longer than this is checked with C_GetSessionInfo when
 *     borrowed; fresher ones are not, so the hot path makes no extra native call
 * @param recoveryTimeout how long the pool tries to get the token back after it disappeared or the
 *     library was restarted, before the caller gets the error
 * @param readWrite whether sessions are read-write (needed to create token objects)
 * @param userType CKU_USER or CKU_SO for the pool's login
 */
public record PoolConfig(int maxSessions, Duration borrowTimeout, Duration validateAfterIdle, Duration recoveryTimeout, boolean readWrite, long userType) {

  public PoolConfig {
    if (maxSessions < 1) {
      throw new IllegalArgumentException("maxSessions must be at least 1");
    }
    if (borrowTimeout.isNegative() || validateAfterIdle.isNegative() || recoveryTimeout.isNegative()) {
      throw new IllegalArgumentException("durations must not be negative");
    }
  }

  /** 16 sessions, 30 s borrow wait, validation after 30 s idle, 10 s to recover, read-write, CKU_USER. */
  public static PoolConfig defaults() {
    return new PoolConfig(16, Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofSeconds(10), true, 1L);
  }

  public PoolConfig withMaxSessions(int n) {
    return new PoolConfig(n, borrowTimeout, validateAfterIdle, recoveryTimeout, readWrite, userType);
  }

  public PoolConfig withBorrowTimeout(Duration d) {
    return new PoolConfig(maxSessions, d, validateAfterIdle, recoveryTimeout, readWrite, userType);
  }

  public PoolConfig withValidateAfterIdle(Duration d) {
    return new PoolConfig(maxSessions, borrowTimeout, d, recoveryTimeout, readWrite, userType);
  }

  public PoolConfig withRecoveryTimeout(Duration d) {
    return new PoolConfig(maxSessions, borrowTimeout, validateAfterIdle, d, readWrite, userType);
  }

  public PoolConfig withUserType(long u) {
    return new PoolConfig(maxSessions, borrowTimeout, validateAfterIdle, recoveryTimeout, readWrite, u);
  }
}
