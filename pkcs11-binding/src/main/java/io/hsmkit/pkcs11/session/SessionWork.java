package io.hsmkit.pkcs11.session;

import io.hsmkit.pkcs11.Session;

/** Work done with a borrowed session; see {@link SessionPool#execute(SessionWork)} for when it may run twice. */
@FunctionalInterface
public interface SessionWork<T> {
  T apply(Session session) throws Exception;
}
