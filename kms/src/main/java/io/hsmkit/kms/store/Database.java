package io.hsmkit.kms.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Objects;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * The KMS metadata database: embedded H2 (a file under the service's directory) by default, or
 * PostgreSQL when configured, so several service nodes share one state. Flyway brings the schema
 * up to date from {@code classpath:db/migration} when the database is opened. Migration files are
 * owned by area, so parallel work never clashes: {@code V1_*} the service core (keys, versions,
 * aliases, tags, audit), {@code V2_*} access (principals, grants, policies), {@code V3_*} custom
 * key stores.
 *
 * <p>Every state change runs in one transaction through {@link #inTransaction}, at SERIALIZABLE
 * isolation on PostgreSQL (retried with a short random pause on a serialization failure) so concurrent nodes never
 * interleave half-changes.
 */
public final class Database implements AutoCloseable {
  private final DataSource dataSource;
  private final boolean postgres;

  private Database(DataSource dataSource, boolean postgres) {
    this.dataSource = dataSource;
    this.postgres = postgres;
  }

  /**
   * Opens (and migrates) the database at a JDBC URL: {@code jdbc:h2:file:/path/kms} or
   * {@code jdbc:postgresql://host:port/db}. {@code password} is not kept beyond the data source.
   */
  public static Database open(String jdbcUrl, String user, String password) {
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    DataSource ds;
    boolean pg;
    if (jdbcUrl.startsWith("jdbc:postgresql:")) {
      org.postgresql.ds.PGSimpleDataSource p = new org.postgresql.ds.PGSimpleDataSource();
      p.setUrl(jdbcUrl);
      if (user != null) {
        p.setUser(user);
      }
      if (password != null) {
        p.setPassword(password);
      }
      ds = p;
      pg = true;
    } else if (jdbcUrl.startsWith("jdbc:h2:")) {
      org.h2.jdbcx.JdbcDataSource h = new org.h2.jdbcx.JdbcDataSource();
      // H2 writes committed changes to its file up to WRITE_DELAY ms later (500 by default): a
      // process killed within that time loses them. 0 writes at each commit (to the OS, which
      // keeps them across the death of this process), so nothing committed is lost to kill -9.
      h.setURL(jdbcUrl.toUpperCase(java.util.Locale.ROOT).contains(";WRITE_DELAY=") ? jdbcUrl : jdbcUrl + ";WRITE_DELAY=0");
      h.setUser(user == null ? "sa" : user);
      h.setPassword(password == null ? "" : password);
      ds = h;
      pg = false;
    } else {
      throw new IllegalArgumentException("unsupported database URL (jdbc:h2: or jdbc:postgresql:): " + jdbcUrl.replaceAll("password=[^&;]*", "password=***"));
    }
    Flyway.configure().dataSource(ds).locations("classpath:db/migration").load().migrate();
    return new Database(ds, pg);
  }

  public DataSource dataSource() {
    return dataSource;
  }

  public boolean isPostgres() {
    return postgres;
  }

  /** Work done inside one transaction. */
  @FunctionalInterface
  public interface TxWork<T> {
    T run(Connection c) throws SQLException;
  }

  /**
   * Runs {@code work} in one transaction: committed when it returns, rolled back when it throws.
   * A serialization failure or deadlock (SQLState 40001 / 40P01) is retried a few times;
   * a {@link RuntimeException} from {@code work} (a KmsException among them) is rethrown as is.
   */
  public <T> T inTransaction(TxWork<T> work) {
    return inTransaction(postgres ? Connection.TRANSACTION_SERIALIZABLE : Connection.TRANSACTION_READ_COMMITTED, work);
  }

  /**
   * The same at another isolation level, for work that serialises itself with row locks
   * ({@code SELECT ... FOR UPDATE}): under SERIALIZABLE, PostgreSQL answers a writer that waited
   * for such a lock with a serialization failure, so a hot row (the audit chain's head) would make
   * concurrent callers retry over and over; under READ COMMITTED the waiter reads the new row and
   * goes on.
   */
  public <T> T inTransaction(int isolation, TxWork<T> work) {
    for (int attempt = 1; ; attempt++) {
      Connection c = null;
      boolean reusable = false;
      try {
        c = borrow();
        c.setAutoCommit(false);
        c.setTransactionIsolation(isolation);
        try {
          T result = work.run(c);
          c.commit();
          reusable = true;
          return result;
        } catch (SQLException | RuntimeException | Error e) {
          c.rollback();
          reusable = true; // rolled back cleanly: the connection is fit for the next transaction
          throw e;
        }
      } catch (SQLException e) {
        String state = e.getSQLState();
        boolean retry = "40001".equals(state) || "40P01".equals(state)
            // A pooled connection the server dropped (08xxx): the next attempt opens a new one.
            || (state != null && state.startsWith("08"));
        if (attempt < 10 && retry) {
          // A short random pause, growing with the attempts, so that colliding transactions spread out.
          try {
            Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextLong(1, 1L << Math.min(attempt + 1, 7)));
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new io.hsmkit.kms.KmsException(io.hsmkit.kms.KmsError.KMS_INTERNAL, "interrupted while retrying a metadata transaction", e);
          }
          continue;
        }
        throw new io.hsmkit.kms.KmsException(io.hsmkit.kms.KmsError.KMS_INTERNAL, "metadata database error (SQLState " + state + ")", e);
      } finally {
        if (c != null) {
          giveBack(c, reusable);
        }
      }
    }
  }

  /**
   * Idle connections kept for the next transaction. Opening a PostgreSQL connection costs a TCP
   * and authentication round trip (milliseconds), more than most KMS transactions; a few idle
   * ones make a call's transactions cheap. Connections that failed are closed, not kept.
   */
  private final java.util.concurrent.BlockingQueue<Connection> idle = new java.util.concurrent.LinkedBlockingQueue<>();
  private static final int MAX_IDLE = 8;

  private Connection borrow() throws SQLException {
    Connection c;
    while ((c = idle.poll()) != null) {
      if (!c.isClosed()) {
        return c;
      }
    }
    return dataSource.getConnection();
  }

  private void giveBack(Connection c, boolean reusable) {
    if (reusable && idle.size() < MAX_IDLE && idle.offer(c)) {
      return;
    }
    try {
      c.close();
    } catch (SQLException e) {
      // already broken; nothing to keep
    }
  }

  /** Closes the idle connections (an embedded H2 database closes with its last connection). */
  public void close() {
    Connection c;
    while ((c = idle.poll()) != null) {
      giveBack(c, false);
    }
  }
}
