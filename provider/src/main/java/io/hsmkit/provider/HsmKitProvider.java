package io.hsmkit.provider;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.session.Pin;
import io.hsmkit.provider.internal.Errors;
import io.hsmkit.provider.internal.ServiceTable;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.spi.HsmKeyStore;
import io.hsmkit.provider.spi.Services;
import java.io.IOException;
import java.security.AuthProvider;
import java.security.ProviderException;
import java.security.Security;
import java.util.Arrays;
import java.util.List;
import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.LoginException;

/**
 * The HsmKit JCA provider: keys stay in a PKCS#11 token, JCE code stays unchanged.
 *
 * <p>Configured like SunPKCS11: {@code new HsmKitProvider("/path/hsmkit.cfg")}, or
 * {@code new HsmKitProvider().configure("--library=... tokenLabel=...")}, or in
 * {@code java.security} as {@code security.provider.N=HsmKit /path/hsmkit.cfg}, or with keytool's
 * {@code -providerClass io.hsmkit.provider.HsmKitProvider -providerArg /path/hsmkit.cfg}. See
 * {@link HsmKitConfig} for the keys. The unconfigured provider (found by {@link
 * java.util.ServiceLoader}) offers nothing until configured.
 *
 * <p>Only services whose mechanisms the token offers are registered, each with
 * {@code SupportedKeyClasses}, so JCA's delayed provider selection hands HsmKit keys to HsmKit and
 * software keys to the JDK.
 *
 * <p>Login: a {@code pin} in the configuration, {@link #login}, or {@code KeyStore.load} with the
 * PIN. A wrong PIN is a {@link javax.security.auth.login.FailedLoginException}.
 */
public final class HsmKitProvider extends AuthProvider {
  private static final long serialVersionUID = 1L;

  /** The provider's name when no {@code name} is configured. */
  public static final String BASE_NAME = "HsmKit";
  static final String VERSION = "0.1";

  private final transient HsmKitConfig config;
  private final transient TokenContext token;
  private transient volatile CallbackHandler handler;
  private transient volatile AdminGuard adminGuard = AdminGuard.ALLOW_ALL;

  /** The unconfigured provider: no services until {@link #configure(String)}. */
  public HsmKitProvider() {
    super(BASE_NAME, VERSION, "HsmKit PKCS#11 provider (not configured)");
    this.config = null;
    this.token = null;
  }

  /** A provider configured from a file path or inline text starting with {@code --}. */
  public HsmKitProvider(String configuration) {
    this(HsmKitConfig.parse(configuration));
  }

  private HsmKitProvider(HsmKitConfig config) {
    super(config.providerName(), VERSION, description(config));
    this.config = config;
    this.token = TokenContext.open(config, config.providerName());
    register(Services.table());
  }

  private static String description(HsmKitConfig c) {
    return c.description() != null ? c.description() : "HsmKit PKCS#11 provider for " + c.library();
  }

  private void register(ServiceTable table) {
    for (ServiceTable.Row row : table.rows()) {
      if (row.supportedBy(token)) {
        putService(new HsmService(this, row));
      }
    }
  }

  /** A service that constructs its SPI with this provider's token. */
  private static final class HsmService extends Service {
    private final ServiceTable.Row row;
    private final TokenContext token;
    private final HsmKitProvider provider;

    HsmService(HsmKitProvider p, ServiceTable.Row row) {
      super(p, row.type(), row.algorithm(), row.className(), row.aliases().isEmpty() ? null : List.copyOf(row.aliases()),
          row.attributes().isEmpty() ? null : row.attributes());
      this.row = row;
      this.token = p.token;
      this.provider = p;
    }

    @Override
    public Object newInstance(Object constructorParameter) {
      if (token.isCluster() && row.type().equals("KeyStore")) {
        // replicated keys only, listed and deleted through the cluster
        io.hsmkit.provider.spi.ClusterKeyStore ks = new io.hsmkit.provider.spi.ClusterKeyStore(token);
        ks.guardedBy(provider::adminGuard);
        return ks;
      }
      Object spi = row.newInstance(token);
      if (spi instanceof HsmKeyStore ks) {
        // Read at each guarded call, so a guard set after KeyStore.getInstance applies too.
        ks.guardedBy(provider::adminGuard);
      }
      return spi;
    }
  }

  /** Returns a new provider configured by {@code configArg} (a path, or text starting with {@code --}). */
  @Override
  public HsmKitProvider configure(String configArg) {
    return new HsmKitProvider(configArg);
  }

  @Override
  public boolean isConfigured() {
    return token != null;
  }

  /**
   * Sets the check the HsmKit KeyStores of this provider run before deleting an entry or importing a
   * key (see {@link AdminGuard} for the contract); null restores {@link AdminGuard#ALLOW_ALL}.
   */
  public void setAdminGuard(AdminGuard guard) {
    this.adminGuard = guard == null ? AdminGuard.ALLOW_ALL : guard;
  }

  /** The current admin guard, {@link AdminGuard#ALLOW_ALL} unless set. */
  public AdminGuard adminGuard() {
    return adminGuard;
  }

  /** The configuration, or null when not configured. */
  public HsmKitConfig config() {
    return config;
  }

  /** The token context; for HsmKit's own modules (KMS, CLI), not part of the JCA contract. */
  public TokenContext tokenContext() {
    requireConfigured();
    return token;
  }

  private void requireConfigured() {
    if (token == null) {
      throw new ProviderException("HsmKit is not configured: use new HsmKitProvider(config) or configure(config)");
    }
  }

  /**
   * Logs the token in with a PIN asked through a {@link PasswordCallback}: from {@code handler},
   * else the one set with {@link #setCallbackHandler}, else the {@code auth.login.defaultCallbackHandler}
   * security property's.
   */
  @Override
  public void login(Subject subject, CallbackHandler handler) throws LoginException {
    requireConfigured();
    CallbackHandler h = handler != null ? handler : this.handler != null ? this.handler : defaultHandler();
    if (h == null) {
      throw new LoginException("no CallbackHandler to ask the PIN with (pass one, call setCallbackHandler, or set auth.login.defaultCallbackHandler)");
    }
    PasswordCallback pc = new PasswordCallback("PIN for the HsmKit token: ", false);
    try {
      h.handle(new Callback[] {pc});
    } catch (IOException | UnsupportedCallbackException e) {
      LoginException le = new LoginException("the CallbackHandler gave no PIN: " + e.getMessage());
      le.initCause(e);
      throw le;
    }
    char[] pin = pc.getPassword();
    pc.clearPassword();
    if (pin == null) {
      throw new LoginException("no PIN given");
    }
    try {
      login(pin);
    } finally {
      Arrays.fill(pin, '\0');
    }
  }

  /** Logs the token in with {@code pin} (copied; the caller wipes its array). */
  public void login(char[] pin) throws LoginException {
    requireConfigured();
    if (token.isCluster()) {
      throw new LoginException("over a cluster each member logs in with the PIN source of the cluster file (" + config().cluster() + ")");
    }
    try {
      token.pool().login(Pin.of(pin));
    } catch (Pkcs11Exception e) {
      if (Errors.kind(e) == Errors.Kind.FAILED_LOGIN) {
        throw Errors.failedLogin(e);
      }
      LoginException le = new LoginException("login failed: " + e.getMessage());
      le.initCause(e);
      throw le;
    }
  }

  private static CallbackHandler defaultHandler() throws LoginException {
    String cls = Security.getProperty("auth.login.defaultCallbackHandler");
    if (cls == null) {
      return null;
    }
    try {
      return (CallbackHandler) Class.forName(cls, true, Thread.currentThread().getContextClassLoader()).getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException | ClassCastException e) {
      LoginException le = new LoginException("cannot create auth.login.defaultCallbackHandler " + cls);
      le.initCause(e);
      throw le;
    }
  }

  /** Logs the token out and forgets the PIN. */
  @Override
  public void logout() throws LoginException {
    requireConfigured();
    if (token.isCluster()) {
      throw new LoginException("over a cluster the members stay logged in with the PINs of the cluster file until the provider is closed");
    }
    try {
      token.pool().logout();
    } catch (Pkcs11Exception e) {
      LoginException le = new LoginException("logout failed: " + e.getMessage());
      le.initCause(e);
      throw le;
    }
  }

  @Override
  public void setCallbackHandler(CallbackHandler handler) {
    this.handler = handler;
  }

  @Override
  public synchronized boolean equals(Object o) {
    return this == o;
  }

  @Override
  public synchronized int hashCode() {
    return System.identityHashCode(this);
  }
}
