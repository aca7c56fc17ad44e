package io.hsmkit.pkcs11.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismParams;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Faults injected under the binding by the shim library: after each one the pool heals, the next
 * operation succeeds, and the shim counts exactly the sessions the pool says it holds.
 */
class FaultInjectionTest {
  static ShimFixture fx;
  static SessionPool pool;

  @BeforeAll
  static void setUp() throws Exception {
    fx = new ShimFixture("FaultInjectionTest");
    pool = fx.pool(4);
    fx.createKeys(pool);
  }

  @AfterAll
  static void tearDown() {
    pool.close();
    assertThat(fx.shim.openSessions()).as("sessions left open after the pool closed").isZero();
    fx.close();
  }

  @AfterEach
  void noLeak() {
    fx.shim.clear();
    PoolStats st = pool.stats();
    assertThat(st.borrowed()).as("sessions still lent out").isZero();
    assertThat(fx.shim.openSessions()).as("sessions the shim sees open vs the pool's count " + st).isEqualTo(st.open());
    assertThat(st.leaked()).isZero();
  }

  static byte[] sign(Session s) {
    byte[] digest = new byte[32];
    Arrays.fill(digest, (byte) 7);
    return s.sign(Mechanism.of(CKM.ECDSA), ShimFixture.privateKey(s, "ec"), digest);
  }

  static byte[] encrypt(Session s) {
    Mechanism gcm = Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(new byte[12], new byte[0], 128));
    return s.encrypt(gcm, ShimFixture.secret(s, "aes"), new byte[1024]);
  }

  @Test
  void deviceErrorEveryThirdSignReachesTheCallerAndTheNextSignSucceeds() throws Exception {
    fx.shim.rules("C_Sign:rv=CKR_DEVICE_ERROR:every=3");
    int ok = 0;
    int failed = 0;
    for (int i = 0; i < 12; i++) {
      try {
        assertThat(pool.execute(FaultInjectionTest::sign)).hasSize(64);
        ok++;
      } catch (Pkcs11Exception e) {
        assertThat(e.ckr()).isEqualTo(CKR.DEVICE_ERROR);
        assertThat(e.function()).isEqualTo("C_Sign");
        assertThat(e.getMessage()).contains("C_Sign").contains("CKR_DEVICE_ERROR");
        failed++;
      }
    }
    assertThat(failed).isEqualTo(4);
    assertThat(ok).isEqualTo(8);
    fx.shim.clear();
    assertThat(pool.execute(FaultInjectionTest::sign)).hasSize(64);
    assertThat(pool.stats().discarded()).as("a session that saw a device error is not reused").isGreaterThanOrEqualTo(4);
  }

  @Test
  void sessionHandleInvalidOnceIsHealedTransparently() throws Exception {
    fx.shim.rules("C_Encrypt:rv=CKR_SESSION_HANDLE_INVALID:once");
    assertThat(pool.execute(FaultInjectionTest::encrypt)).hasSize(1040);
    assertThat(fx.shim.injected()).isPositive();
  }

  @Test
  void sessionClosedAndNotLoggedInAreHealed() throws Exception {
    fx.shim.rules("C_Sign:rv=CKR_SESSION_CLOSED:once");
    assertThat(pool.execute(FaultInjectionTest::sign)).hasSize(64);
    fx.shim.rules("C_Sign:rv=CKR_USER_NOT_LOGGED_IN:once");
    assertThat(pool.execute(FaultInjectionTest::sign)).hasSize(64);
  }

  @Test
  void sessionCountMakesBorrowWaitInsteadOfFailing() throws Exception {
    // Hold every idle session so the next borrow must open one, which the token refuses once.
    int open = pool.stats().open();
    Session[] held = new Session[open];
    for (int i = 0; i < open; i++) {
      held[i] = pool.borrow();
    }
    fx.shim.rules("C_OpenSession:rv=CKR_SESSION_COUNT:once");
    CompletableFuture<byte[]> waiting = CompletableFuture.supplyAsync(() -> {
      try {
        return pool.execute(FaultInjectionTest::sign);
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    if (open == 0) {
      assertThat(waiting.get(10, TimeUnit.SECONDS)).hasSize(64);
    } else {
      TimeUnit.MILLISECONDS.sleep(200);
      assertThat(waiting).as("the borrow waits for a session to come back").isNotDone();
      for (Session s : held) {
        s.close();
      }
      assertThat(waiting.get(10, TimeUnit.SECONDS)).hasSize(64);
    }
    assertThat(pool.stats().cap()).isLessThanOrEqualTo(Math.max(open, 1));
  }

  @Test
  void tokenRemovedAndBackIsRecovered() throws Exception {
    assertThat(pool.execute(FaultInjectionTest::sign)).hasSize(64);
    long before = pool.stats().recoveries();
    fx.shim.rules("absent");
    CompletableFuture<byte[]> during = CompletableFuture.supplyAsync(() -> {
      try {
        return pool.execute(FaultInjectionTest::encrypt);
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    TimeUnit.MILLISECONDS.sleep(300);
    assertThat(during).as("the pool waits for the token while it is gone").isNotDone();
    fx.shim.clear();
    assertThat(during.get(10, TimeUnit.SECONDS)).hasSize(1040);
    assertThat(pool.stats().recoveries()).isGreaterThan(before);
    assertThat(pool.execute(FaultInjectionTest::sign)).hasSize(64);
  }

  @Test
  void tokenThatStaysAwayGivesATypedErrorAfterTheRecoveryTimeout() {
    try (SessionPool quick = SessionPool.open(fx.module, TokenSelector.label(fx.token.label()),
        PoolConfig.defaults().withMaxSessions(2).withRecoveryTimeout(java.time.Duration.ofMillis(300)),
        Pin.of(fx.token.userPin()))) {
      fx.shim.rules("absent");
      assertThatThrownBy(() -> quick.execute(FaultInjectionTest::sign))
          .isInstanceOf(Pkcs11Exception.class)
          .satisfies(e -> assertThat(((Pkcs11Exception) e).ckr()).isIn(CKR.DEVICE_REMOVED, CKR.TOKEN_NOT_PRESENT))
          .hasMessageContaining("did not come back");
      fx.shim.clear();
      assertThat(quick.execute(FaultInjectionTest::sign)).hasSize(64);
    }
    // The token's absence closed the shared pool's idle session too; its next use heals that.
    assertThat(pool.execute(FaultInjectionTest::sign)).hasSize(64);
  }

  @Test
  void deviceRemovedOnceIsRecovered() throws Exception {
    fx.shim.rules("C_Sign:rv=CKR_DEVICE_REMOVED:once");
    assertThat(pool.execute(FaultInjectionTest::sign)).hasSize(64);
  }

  @Test
  void libraryRestartIsRecoveredWithoutRestartingTheJvm() throws Exception {
    assertThat(pool.execute(FaultInjectionTest::encrypt)).hasSize(1040);
    long before = pool.stats().recoveries();
    fx.shim.rules("finalize");
    assertThat(pool.execute(FaultInjectionTest::encrypt)).hasSize(1040);
    assertThat(pool.execute(FaultInjectionTest::sign)).hasSize(64);
    assertThat(pool.stats().recoveries()).isGreaterThan(before);
  }

  @Test
  void unfinishedOperationIsNotHandedToTheNextBorrower() throws Exception {
    long discarded = pool.stats().discarded();
    try (Session s = pool.borrow()) {
      s.encryptInit(Mechanism.of(CKM.AES_GCM, new MechanismParams.Gcm(new byte[12], null, 128)), ShimFixture.secret(s, "aes"));
      assertThat(s.activeOperations()).isEqualTo(Session.OP_ENCRYPT);
    }
    // SoftHSM2 2.6.1 has no C_SessionCancel: the pool closes that session rather than reuse it.
    assertThat(pool.stats().discarded()).isEqualTo(discarded + 1);
    for (int i = 0; i < 8; i++) {
      assertThat(pool.execute(FaultInjectionTest::encrypt)).hasSize(1040);
    }
  }

  @Test
  void borrowTimesOutWithATypedErrorWhenAllSessionsAreLent() {
    try (SessionPool one = SessionPool.open(fx.module, TokenSelector.label(fx.token.label()),
        PoolConfig.defaults().withMaxSessions(1).withBorrowTimeout(java.time.Duration.ofMillis(150)), Pin.of(fx.token.userPin()))) {
      try (Session held = one.borrow()) {
        assertThatThrownBy(one::borrow).isInstanceOf(PoolTimeoutException.class).hasMessageContaining("150 ms");
        assertThat(held.handle()).isNotZero();
      }
      assertThat(one.execute(FaultInjectionTest::sign)).hasSize(64);
    }
  }

  @Test
  void aLeakedLeaseIsDetectedReportedAndItsPlaceGivenBack() throws Exception {
    try (SessionPool small = SessionPool.open(fx.module, TokenSelector.label(fx.token.label()),
        PoolConfig.defaults().withMaxSessions(1).withBorrowTimeout(java.time.Duration.ofSeconds(5)), Pin.of(fx.token.userPin()))) {
      leak(small);
      for (int i = 0; i < 100 && small.stats().leaked() == 0; i++) {
        System.gc();
        TimeUnit.MILLISECONDS.sleep(20);
      }
      assertThat(small.stats().leaked()).isEqualTo(1);
      assertThat(small.stats().borrowed()).isZero();
      assertThat(small.execute(FaultInjectionTest::sign)).as("the leaked place is free again").hasSize(64);
    }
  }

  private static void leak(SessionPool p) {
    Session s = p.borrow();
    assertThat(s.handle()).isNotZero();
  }
}
