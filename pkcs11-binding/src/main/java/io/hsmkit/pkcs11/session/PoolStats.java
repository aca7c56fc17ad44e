package io.hsmkit.pkcs11.session;

/**
 * A snapshot of a pool's counters.
 *
 * @param open sessions open now: idle, borrowed, and the anchor session that holds the login
 * @param idle sessions waiting in the pool
 * @param borrowed sessions lent out now
 * @param cap the current cap (the configured one, or lower after the token said CKR_SESSION_COUNT)
 * @param leaked leases that were garbage-collected without being returned
 * @param recoveries times the pool got its token or library back
 * @param discarded sessions closed because they were broken, stale or had unfinished operations
 * @param cancelled unfinished operations cancelled with C_SessionCancel before reuse
 */
public record PoolStats(int open, int idle, int borrowed, int cap, long leaked, long recoveries, long discarded, long cancelled) {}
