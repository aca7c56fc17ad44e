package io.hsmkit.pkcs11.session;

import io.hsmkit.pkcs11.Session;

/**
 * Work done with a borrowed session; see {@link SessionPool#execute(SessionWork)} for when it may
 * run twice. {@code E} is the checked exception the work may throw (inferred as
 * {@link RuntimeException} for work that throws none).
 */
@FunctionalInterface
public interface SessionWork<T, E extends Exception> {
  T apply(Session session) throws E;
}
