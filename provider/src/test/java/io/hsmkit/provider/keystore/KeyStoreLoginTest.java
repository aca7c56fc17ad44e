package io.hsmkit.provider.keystore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.testing.ProviderFixture;
import java.io.IOException;
import java.security.KeyStore;
import java.security.UnrecoverableKeyException;
import javax.security.auth.callback.PasswordCallback;
import org.junit.jupiter.api.Test;

/** KeyStore.load logs in (no PIN in the configuration), in a JVM where nobody logged in yet. */
class KeyStoreLoginTest {
  @Test
  void loadWithTheWrongPinFailsAsJdkKeyStoresDoAndTheRightOneLogsIn() throws Exception {
    ProviderFixture fx = ProviderFixture.create("KeyStoreLoginTest");
    HsmKitProvider p = new HsmKitProvider().configure(fx.inlineConfigWithoutPin());
    try {
      KeyStore ks = KeyStore.getInstance("HsmKit", p);
      assertThatThrownBy(() -> ks.load(null, "000000".toCharArray()))
          .isInstanceOf(IOException.class).hasCauseInstanceOf(UnrecoverableKeyException.class).hasMessageNotContaining("000000");
      char[] pin = fx.token.userPin();
      ks.load(new KeyStore.LoadStoreParameter() {
        @Override
        public KeyStore.ProtectionParameter getProtectionParameter() {
          return new KeyStore.CallbackHandlerProtection(cbs -> ((PasswordCallback) cbs[0]).setPassword(pin));
        }
      });
      assertThat(p.tokenContext().pool().loggedIn()).isTrue();
      assertThat(ks.size()).isZero();
      assertThatThrownBy(() -> ks.load(new java.io.ByteArrayInputStream(new byte[1]), pin)).isInstanceOf(IOException.class).hasMessageContaining("NONE");
    } finally {
      p.tokenContext().close();
    }
  }
}
