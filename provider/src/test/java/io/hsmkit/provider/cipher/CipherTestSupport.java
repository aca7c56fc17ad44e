package io.hsmkit.provider.cipher;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.session.PoolStats;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.keys.KeyImport;
import io.hsmkit.provider.keys.KeyTemplates;
import java.io.ByteArrayOutputStream;
import java.security.GeneralSecurityException;
import java.security.Provider;
import java.security.Security;
import java.util.List;
import javax.crypto.Cipher;

/** What the cipher tests share. */
final class CipherTestSupport {
  private CipherTestSupport() {}

  /** Imports {@code value} as an AES session key with the configuration's defaults. */
  static HsmSecretKey aes(TokenContext tc, byte[] value) throws GeneralSecurityException {
    return KeyImport.secret(tc, value, CKK.AES, "AES", KeyTemplates.defaults(tc));
  }

  static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 31 + seed);
    }
    return b;
  }

  /** {@code input} through update in pieces of {@code chunk} bytes, then doFinal. */
  static byte[] inPieces(Cipher c, byte[] input, int chunk) throws GeneralSecurityException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int off = 0; off < input.length; off += chunk) {
      byte[] part = c.update(input, off, Math.min(chunk, input.length - off));
      if (part != null) {
        out.writeBytes(part);
      }
    }
    out.writeBytes(c.doFinal());
    return out.toByteArray();
  }

  /** No session lent out, none leaked. */
  static void assertSessionsReturned(TokenContext tc) {
    PoolStats s = tc.pool().stats();
    assertThat(s.borrowed()).as("sessions still lent out: %s", s).isZero();
    assertThat(s.leaked()).as("sessions leaked: %s", s).isZero();
  }

  /** Runs {@code body} with {@code p} as the most preferred provider, restoring the list afterwards. */
  static void withProviderFirst(Provider p, ThrowingRunnable body) throws Exception {
    List<Provider> before = List.of(Security.getProviders());
    assertThat(Security.insertProviderAt(p, 1)).as("a provider named %s is already installed", p.getName()).isEqualTo(1);
    try {
      body.run();
    } finally {
      Security.removeProvider(p.getName());
      assertThat(List.of(Security.getProviders())).isEqualTo(before);
    }
  }

  @FunctionalInterface
  interface ThrowingRunnable {
    void run() throws Exception;
  }
}
