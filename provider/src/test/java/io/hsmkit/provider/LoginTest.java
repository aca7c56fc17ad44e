package io.hsmkit.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.provider.testing.ProviderFixture;
import javax.crypto.KeyGenerator;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.login.FailedLoginException;
import org.junit.jupiter.api.Test;

/** Login through the AuthProvider, in a JVM where nobody has logged in to the token yet. */
class LoginTest {
  @Test
  void wrongPinFailsTypedAndTheRightOneLogsIn() throws Exception {
    ProviderFixture fx = ProviderFixture.create("LoginTest");
    HsmKitProvider p = new HsmKitProvider().configure(fx.inlineConfigWithoutPin());
    try {
      assertThatThrownBy(() -> p.login(null, callbacks -> ((PasswordCallback) callbacks[0]).setPassword("000000".toCharArray())))
          .isInstanceOf(FailedLoginException.class)
          .hasMessageContaining("CKR_PIN_INCORRECT")
          .hasMessageNotContaining("000000");
      assertThatThrownBy(() -> p.login(null, null)).hasMessageContaining("CallbackHandler");
      char[] pin = fx.token.userPin();
      p.login(null, callbacks -> ((PasswordCallback) callbacks[0]).setPassword(pin));
      KeyGenerator g = KeyGenerator.getInstance("AES", p);
      assertThat(g.generateKey()).isNotNull();
      p.logout();
      assertThat(p.tokenContext().pool().loggedIn()).isFalse();
    } finally {
      p.tokenContext().close();
    }
  }
}
