package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKC;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.session.Pin;
import io.hsmkit.provider.AdminGuard;
import io.hsmkit.provider.internal.Errors;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmKeys;
import io.hsmkit.provider.keys.HsmPrivateKey;
import io.hsmkit.provider.keys.KeyImport;
import io.hsmkit.provider.keys.KeyTemplates;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.KeyStoreSpi;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.UnrecoverableEntryException;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Date;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.CallbackHandler;
import javax.security.auth.callback.PasswordCallback;

/**
 * The {@code HsmKit} KeyStore: the token itself, seen through JCA.
 *
 * <ul>
 *   <li>Aliases are CKA_LABEL. A <b>private-key entry</b> is a private key plus the X.509
 *       certificates that share its CKA_ID, completed into a chain by issuer and subject. A private
 *       key without any certificate is still an entry: {@link #engineAliases()}, {@code getKey} and
 *       {@code isKeyEntry} show it, {@code getCertificateChain} returns null, and {@code getEntry}
 *       throws {@link UnrecoverableEntryException} saying so, because a
 *       {@link KeyStore.PrivateKeyEntry} cannot exist without a chain. A <b>secret-key entry</b> is
 *       a secret key object; a <b>trusted-certificate entry</b> is a certificate with no key.
 *   <li>{@code load(null, pin)}, a {@link KeyStore.LoadStoreParameter} with a password or a
 *       {@link CallbackHandler}, or the configuration's {@code pin} log the token in. {@code store}
 *       succeeds and writes nothing: the token is the store.
 *   <li>{@code setKeyEntry} with an HsmKit key makes it a labelled token object (a session key is
 *       copied into the token, with its public half) and writes its chain; with a software key it
 *       imports it as a sensitive, non-extractable token object.
 *   <li>Look-ups are targeted: one C_FindObjects by label, then by CKA_ID; what was found is cached
 *       and checked with one attribute read when used again, so a repeated look-up costs the same on
 *       a token with 10 objects as with 10,000. Only {@link #engineAliases()} lists the token.
 * </ul>
 */
public final class HsmKeyStore extends KeyStoreSpi {
  private static final DateTimeFormatter CK_DATE = DateTimeFormatter.ofPattern("yyyyMMdd");

  private final TokenContext token;
  /** alias -> what the last look-up found; entries are verified when used. */
  private final ConcurrentHashMap<String, Found> cache = new ConcurrentHashMap<>();

  /** Makes this KeyStore run {@code source}'s current {@link AdminGuard} before guarded changes. */
  public void guardedBy(Supplier<AdminGuard> source) {
    this.guard = Objects.requireNonNull(source, "source");
  }

  /** Runs the admin guard; a refusal becomes a KeyStoreException carrying its message (see AdminGuard). */
  private void check(String operation, Map<String, String> arguments) throws KeyStoreException {
    try {
      guard.get().check(operation, Collections.unmodifiableMap(new TreeMap<>(arguments)));
    } catch (SecurityException e) {
      throw new KeyStoreException(e.getMessage(), e);
    }
  }

  /** The arguments of an import: never the key's bytes, only its kind, algorithm and public half's digest. */
  private static Map<String, String> importArguments(String alias, Key key, Certificate[] chain) {
    Map<String, String> a = new TreeMap<>();
    a.put("alias", alias);
    a.put("type", key instanceof PrivateKey ? "private" : "secret");
    a.put("algorithm", String.valueOf(key.getAlgorithm()));
    if (key instanceof PrivateKey && chain != null && chain.length > 0) {
      try {
        byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(chain[0].getPublicKey().getEncoded());
        a.put("public-key-sha256", java.util.HexFormat.of().formatHex(d));
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-256 is required of every JDK", e);
      }
    }
    return a;
  }

  /** Where the admin guard comes from; read at each guarded call. */
  private volatile Supplier<AdminGuard> guard = () -> AdminGuard.ALLOW_ALL;

  public HsmKeyStore(TokenContext token) {
    this.token = token;
  }

  /**
   * What one label look-up found. Handles may go stale: every use re-checks them. {@code chain} is
   * the completed, parsed chain of a private key entry once built, with the handles of every
   * certificate object in it (the key's own and issuers found by subject), re-checked on use.
   */
  private record Found(long key, long keyClass, byte[] id, List<Long> certificates,
      java.util.concurrent.atomic.AtomicReference<CachedChain> chain) {
    Found(long key, long keyClass, byte[] id, List<Long> certificates) {
      this(key, keyClass, id, certificates, new java.util.concurrent.atomic.AtomicReference<>());
    }

    boolean isKey() {
      return key != 0;
    }
  }

  /** A completed chain and the certificate objects it was read from. */
  private record CachedChain(X509Certificate[] chain, long[] handles) {}

  // ------------------------------------------------------------------ loading

  @Override
  public void engineLoad(InputStream stream, char[] password) throws IOException {
    if (stream != null) {
      throw new IOException("the HsmKit KeyStore is the token: load it with a null stream (keytool: -keystore NONE)");
    }
    if (password != null && password.length > 0) {
      login(password);
    }
    cache.clear();
  }

  @Override
  public void engineLoad(KeyStore.LoadStoreParameter param) throws IOException {
    if (param == null) {
      engineLoad(null, (char[]) null);
      return;
    }
    KeyStore.ProtectionParameter pp = param.getProtectionParameter();
    if (pp instanceof KeyStore.PasswordProtection p) {
      engineLoad(null, p.getPassword());
    } else if (pp instanceof KeyStore.CallbackHandlerProtection c) {
      PasswordCallback pc = new PasswordCallback("PIN for the HsmKit token: ", false);
      try {
        c.getCallbackHandler().handle(new Callback[] {pc});
      } catch (Exception e) {
        throw new IOException("the CallbackHandler gave no PIN: " + e.getMessage(), e);
      }
      char[] pin = pc.getPassword();
      pc.clearPassword();
      try {
        engineLoad(null, pin);
      } finally {
        if (pin != null) {
          Arrays.fill(pin, '\0');
        }
      }
    } else if (pp == null) {
      engineLoad(null, (char[]) null);
    } else {
      throw new IllegalArgumentException("unsupported protection parameter " + pp.getClass().getName());
    }
  }

  private void login(char[] password) throws IOException {
    if (token.pool().loggedIn()) {
      // One login per token and application: the token does not check a second PIN, so we do.
      if (!token.pool().pinMatches(password)) {
        throw new IOException("login failed: the PIN does not match the one the token is logged in with",
            new UnrecoverableKeyException("wrong PIN"));
      }
      return;
    }
    try {
      token.pool().login(Pin.of(password));
    } catch (Pkcs11Exception e) {
      if (Errors.kind(e) == Errors.Kind.FAILED_LOGIN) {
        // As the JDK's keystores do: a wrong password is an IOException caused by UnrecoverableKeyException.
        IOException io = new IOException("login failed: " + e.ckrName(), new UnrecoverableKeyException("wrong PIN"));
        io.getCause().initCause(Errors.failedLogin(e));
        throw io;
      }
      throw new IOException("login failed: " + e.getMessage(), e);
    }
  }

  @Override
  public void engineStore(OutputStream stream, char[] password) throws IOException {
    if (stream != null) {
      throw new IOException("the HsmKit KeyStore is the token: there is nothing to write to a stream (use -keystore NONE)");
    }
    // Everything is already in the token.
  }

  @Override
  public void engineStore(KeyStore.LoadStoreParameter param) {
    // Everything is already in the token.
  }

  // ------------------------------------------------------------------ look-ups

  private static Attribute label(String alias) {
    return Attribute.string(CKA.LABEL, alias);
  }

  /** Finds what the token holds under {@code alias}: a cached answer if it still holds, else a targeted search. */
  private Found find(String alias) throws KeyStoreException {
    Found f = cache.get(alias);
    if (f != null && stillValid(f, alias)) {
      return f;
    }
    cache.remove(alias);
    f = search(alias);
    if (f != null) {
      cache.put(alias, f);
    }
    return f;
  }

  /**
   * One attribute read: the cached object still exists, is of the same class and still carries the
   * alias (a handle the token gave to another object, e.g. the public half labelled the same, fails).
   */
  private boolean stillValid(Found f, String alias) {
    long h = f.isKey() ? f.key : f.certificates.isEmpty() ? 0 : f.certificates.get(0);
    if (h == 0) {
      return false;
    }
    long cls = f.isKey() ? f.keyClass : CKO.CERTIFICATE;
    try {
      Attribute[] a = token.execute(s -> s.getAttributes(h, CKA.CLASS, CKA.LABEL));
      return a[0].present() && a[0].asUlong() == cls && a[1].present() && alias.equals(a[1].asString());
    } catch (Pkcs11Exception e) {
      return false;
    }
  }

  /** True when every certificate handle of a cached chain still names a certificate object. */
  private boolean chainStillValid(CachedChain c) {
    try {
      return token.execute(s -> {
        for (long h : c.handles()) {
          Attribute a = s.getAttribute(h, CKA.CLASS);
          if (!a.present() || a.asUlong() != CKO.CERTIFICATE) {
            return false;
          }
        }
        return true;
      });
    } catch (Pkcs11Exception e) {
      return false; // CKR_OBJECT_HANDLE_INVALID: an object was destroyed (the chain was replaced)
    }
  }

  private Found search(String alias) throws KeyStoreException {
    try {
      return token.execute(s -> {
        long[] objs = s.findObjects(16, label(alias));
        long key = 0;
        long keyClass = 0;
        List<Long> certs = new ArrayList<>();
        for (long o : objs) {
          Attribute c = attributeOfLiveObject(s, o, CKA.CLASS);
          if (c == null) {
            continue;
          }
          long cls = c.asUlong();
          if ((cls == CKO.PRIVATE_KEY || cls == CKO.SECRET_KEY) && key == 0) {
            key = o;
            keyClass = cls;
          } else if (cls == CKO.CERTIFICATE) {
            certs.add(o);
          }
        }
        if (key == 0 && certs.isEmpty()) {
          return null;
        }
        byte[] id = null;
        if (key != 0) {
          Attribute a = s.getAttribute(key, CKA.ID);
          id = a.present() && a.length() > 0 ? a.value() : null;
          if (id != null && keyClass == CKO.PRIVATE_KEY) {
            // The key's certificates are those with its CKA_ID, whatever their labels.
            for (long c : s.findObjects(16, Attribute.ulong(CKA.CLASS, CKO.CERTIFICATE), Attribute.bytes(CKA.ID, id))) {
              if (!certs.contains(c)) {
                certs.add(c);
              }
            }
          }
        }
        return new Found(key, keyClass, id, List.copyOf(certs));
      });
    } catch (Pkcs11Exception e) {
      throw new KeyStoreException("looking up " + alias + " failed: " + e.getMessage(), e);
    }
  }

  private static X509Certificate parse(byte[] der) throws KeyStoreException {
    try {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
    } catch (CertificateException e) {
      throw new KeyStoreException("a certificate object in the token does not parse: " + e.getMessage(), e);
    }
  }

  private List<X509Certificate> certificates(List<Long> handles) throws KeyStoreException {
    List<X509Certificate> out = new ArrayList<>();
    for (long h : handles) {
      byte[] der;
      try {
        der = token.execute(s -> s.getAttribute(h, CKA.VALUE).value());
      } catch (Pkcs11Exception e) {
        throw new KeyStoreException("cannot read certificate " + h + ": " + e.getMessage(), e);
      }
      if (der != null) {
        out.add(parse(der));
      }
    }
    return out;
  }

  @Override
  public Key engineGetKey(String alias, char[] password) throws UnrecoverableKeyException {
    try {
      Found f = find(alias);
      if (f == null || !f.isKey()) {
        return null;
      }
      return token.execute(s -> HsmKeys.load(token, s, f.key));
    } catch (KeyStoreException | InvalidKeyException | Pkcs11Exception e) {
      UnrecoverableKeyException u = new UnrecoverableKeyException("cannot read key " + alias + ": " + e.getMessage());
      u.initCause(e);
      throw u;
    }
  }

  @Override
  public Certificate[] engineGetCertificateChain(String alias) {
    try {
      Found f = find(alias);
      if (f != null && f.keyClass == CKO.PRIVATE_KEY && f.certificates.isEmpty()) {
        // A key without certificates: look again (another instance may have written its chain since).
        cache.remove(alias);
        f = find(alias);
      }
      if (f == null || f.keyClass != CKO.PRIVATE_KEY || f.certificates.isEmpty()) {
        return null;
      }
      CachedChain c = f.chain.get();
      if (c != null && chainStillValid(c)) {
        return c.chain().clone();
      }
      if (c != null) {
        // A certificate object went away (the chain was replaced elsewhere): search once more.
        cache.remove(alias);
        f = find(alias);
        if (f == null || f.keyClass != CKO.PRIVATE_KEY || f.certificates.isEmpty()) {
          return null;
        }
      }
      List<Long> used = new ArrayList<>(f.certificates);
      X509Certificate[] chain;
      try {
        chain = chain(certificates(f.certificates), used);
      } catch (KeyStoreException stale) {
        cache.remove(alias);
        f = find(alias);
        if (f == null || f.keyClass != CKO.PRIVATE_KEY || f.certificates.isEmpty()) {
          return null;
        }
        used = new ArrayList<>(f.certificates);
        chain = chain(certificates(f.certificates), used);
      }
      f.chain.set(new CachedChain(chain, used.stream().mapToLong(Long::longValue).toArray()));
      return chain.clone();
    } catch (KeyStoreException e) {
      return null;
    }
  }

  /** Orders the key's certificates leaf first and completes the chain from issuers found in the token by subject. */
  private X509Certificate[] chain(List<X509Certificate> certs, List<Long> used) throws KeyStoreException {
    // The leaf is the certificate that issued none of the others.
    X509Certificate leaf = certs.get(0);
    for (X509Certificate c : certs) {
      boolean issuesAnother = false;
      for (X509Certificate d : certs) {
        if (d != c && d.getIssuerX500Principal().equals(c.getSubjectX500Principal()) && !isSelfSigned(d)) {
          issuesAnother = true;
        }
      }
      if (!issuesAnother) {
        leaf = c;
        break;
      }
    }
    List<X509Certificate> out = new ArrayList<>();
    out.add(leaf);
    X509Certificate cur = leaf;
    for (int depth = 0; depth < 8 && !isSelfSigned(cur); depth++) {
      X509Certificate next = null;
      for (X509Certificate c : certs) {
        if (c.getSubjectX500Principal().equals(cur.getIssuerX500Principal()) && !out.contains(c)) {
          next = c;
        }
      }
      if (next == null) {
        next = issuerInToken(cur, used);
      }
      if (next == null) {
        break;
      }
      out.add(next);
      cur = next;
    }
    return out.toArray(new X509Certificate[0]);
  }

  private static boolean isSelfSigned(X509Certificate c) {
    return c.getSubjectX500Principal().equals(c.getIssuerX500Principal());
  }

  private X509Certificate issuerInToken(X509Certificate c, List<Long> used) throws KeyStoreException {
    byte[] issuer = c.getIssuerX500Principal().getEncoded();
    try {
      byte[] der = token.execute(s -> {
        long[] found = s.findObjects(1, Attribute.ulong(CKA.CLASS, CKO.CERTIFICATE), Attribute.bytes(CKA.SUBJECT, issuer));
        if (found.length == 0) {
          return null;
        }
        used.add(found[0]);
        return s.getAttribute(found[0], CKA.VALUE).value();
      });
      return der == null ? null : parse(der);
    } catch (Pkcs11Exception e) {
      return null;
    }
  }

  @Override
  public Certificate engineGetCertificate(String alias) {
    try {
      Found f = find(alias);
      if (f == null || f.certificates.isEmpty()) {
        return null;
      }
      if (f.keyClass == CKO.PRIVATE_KEY) {
        Certificate[] c = engineGetCertificateChain(alias);
        return c == null ? null : c[0];
      }
      return certificates(List.of(f.certificates.get(0))).get(0);
    } catch (KeyStoreException e) {
      return null;
    }
  }

  @Override
  public Date engineGetCreationDate(String alias) {
    try {
      Found f = find(alias);
      if (f == null) {
        return null;
      }
      long h = f.isKey() ? f.key : f.certificates.get(0);
      Attribute a = token.execute(s -> s.getAttribute(h, CKA.START_DATE));
      if (a.present() && a.length() == 8) {
        String d = a.asString();
        if (!d.isBlank() && !d.startsWith("\0")) {
          return Date.from(LocalDate.parse(d, CK_DATE).atStartOfDay(ZoneOffset.UTC).toInstant());
        }
      }
      return new Date(); // objects made elsewhere carry no date; as SunPKCS11 does, say "now"
    } catch (KeyStoreException | Pkcs11Exception | java.time.DateTimeException e) {
      return new Date();
    }
  }

  @Override
  public Enumeration<String> engineAliases() {
    Set<String> names = new LinkedHashSet<>();
    try {
      token.execute(s -> {
        for (long cls : new long[] {CKO.PRIVATE_KEY, CKO.SECRET_KEY, CKO.CERTIFICATE}) {
          for (long o : s.findObjects(Attribute.ulong(CKA.CLASS, cls))) {
            Attribute l = attributeOfLiveObject(s, o, CKA.LABEL);
            if (l != null && l.present() && l.length() > 0) {
              names.add(l.asString());
            }
          }
        }
        return null;
      });
    } catch (Pkcs11Exception e) {
      throw Errors.provider("listing the token", e);
    }
    return Collections.enumeration(names);
  }

  /**
   * An attribute of an object just found, or null when the object is gone: a search also sees the
   * session objects of other threads (ECDH results, imported public keys), which their owners may
   * destroy between C_FindObjects and this call.
   */
  private static Attribute attributeOfLiveObject(io.hsmkit.pkcs11.Session s, long o, long type) {
    try {
      return s.getAttribute(o, type);
    } catch (Pkcs11Exception e) {
      if (e.isAny(io.hsmkit.pkcs11.constants.CKR.OBJECT_HANDLE_INVALID)) {
        return null;
      }
      throw e;
    }
  }

  @Override
  public boolean engineContainsAlias(String alias) {
    try {
      return find(alias) != null;
    } catch (KeyStoreException e) {
      return false;
    }
  }

  @Override
  public int engineSize() {
    return Collections.list(engineAliases()).size();
  }

  @Override
  public boolean engineIsKeyEntry(String alias) {
    try {
      Found f = find(alias);
      return f != null && f.isKey();
    } catch (KeyStoreException e) {
      return false;
    }
  }

  @Override
  public boolean engineIsCertificateEntry(String alias) {
    try {
      Found f = find(alias);
      return f != null && !f.isKey();
    } catch (KeyStoreException e) {
      return false;
    }
  }

  @Override
  public String engineGetCertificateAlias(Certificate cert) {
    if (!(cert instanceof X509Certificate x)) {
      return null;
    }
    try {
      byte[] der = x.getEncoded();
      return token.execute(s -> {
        for (long o : s.findObjects(Attribute.ulong(CKA.CLASS, CKO.CERTIFICATE), Attribute.bytes(CKA.VALUE, der))) {
          Attribute l = s.getAttribute(o, CKA.LABEL);
          if (l.present() && l.length() > 0) { // an unlabelled certificate is a CA of some key's chain, not an entry
            return l.asString();
          }
        }
        return null;
      });
    } catch (CertificateEncodingException | Pkcs11Exception e) {
      return null;
    }
  }

  @Override
  public boolean engineEntryInstanceOf(String alias, Class<? extends KeyStore.Entry> entryClass) {
    try {
      Found f = find(alias);
      if (f == null) {
        return false;
      }
      if (entryClass == KeyStore.PrivateKeyEntry.class) {
        return f.keyClass == CKO.PRIVATE_KEY;
      }
      if (entryClass == KeyStore.SecretKeyEntry.class) {
        return f.keyClass == CKO.SECRET_KEY;
      }
      if (entryClass == KeyStore.TrustedCertificateEntry.class) {
        return !f.isKey();
      }
      return false;
    } catch (KeyStoreException e) {
      return false;
    }
  }

  /**
   * As JCA's, except that a private key without a certificate gives {@link UnrecoverableEntryException}
   * (a PrivateKeyEntry needs a chain): use {@code getKey} for such keys.
   */
  @Override
  public KeyStore.Entry engineGetEntry(String alias, KeyStore.ProtectionParameter protParam)
      throws KeyStoreException, UnrecoverableEntryException {
    Found f = find(alias);
    if (f == null) {
      return null;
    }
    if (!f.isKey()) {
      return new KeyStore.TrustedCertificateEntry(engineGetCertificate(alias));
    }
    Key k;
    try {
      k = engineGetKey(alias, null);
    } catch (UnrecoverableKeyException e) {
      UnrecoverableEntryException u = new UnrecoverableEntryException(e.getMessage());
      u.initCause(e);
      throw u;
    }
    if (k instanceof javax.crypto.SecretKey sk) {
      return new KeyStore.SecretKeyEntry(sk);
    }
    Certificate[] chain = engineGetCertificateChain(alias);
    if (chain == null) {
      throw new UnrecoverableEntryException(alias + " is a private key without a certificate: read it with getKey");
    }
    return new KeyStore.PrivateKeyEntry((PrivateKey) k, chain);
  }

  // ------------------------------------------------------------------ writing

  private static String today() {
    return LocalDate.now(ZoneOffset.UTC).format(CK_DATE);
  }

  @Override
  public void engineSetKeyEntry(String alias, Key key, char[] password, Certificate[] chain) throws KeyStoreException {
    if (alias == null || alias.isEmpty()) {
      throw new KeyStoreException("an alias is required");
    }
    if (key instanceof PrivateKey && (chain == null || chain.length == 0)) {
      throw new KeyStoreException("a private key entry needs its certificate chain");
    }
    if (key instanceof PrivateKey) {
      checkMatches(key, chain[0]);
    }
    if (key != null && !(key instanceof HsmKey) && (key instanceof PrivateKey || key instanceof javax.crypto.SecretKey)) {
      // A software key becomes a token key: an import (AdminGuard). Checked before anything is touched.
      check(AdminGuard.IMPORT_KEY, importArguments(alias, key, chain));
    }
    Found existing = find(alias);
    try {
      byte[] id = key instanceof HsmKey hk0 && hk0.id() != null ? hk0.id() : KeyTemplates.newId();
      if (existing != null && !(existing.isKey() && Arrays.equals(existing.id, id))) {
        deleteFound(existing, alias); // the alias is given to another key: the old entry goes first
      }
      if (key instanceof HsmKey hk) {
        if (!hk.belongsTo(token)) {
          throw new KeyStoreException("the key belongs to another token");
        }
        adopt(hk, alias, id);
      } else if (key instanceof PrivateKey pk) {
        KeyImport.privateKey(token, pk, KeyTemplates.defaults(token).withToken(true).withLabel(alias).withId(id));
        if (chain != null && chain.length > 0) {
          KeyImport.publicKey(token, chain[0].getPublicKey(), KeyTemplates.defaults(token).withToken(true).withLabel(alias).withId(id));
        }
      } else if (key instanceof javax.crypto.SecretKey sk) {
        byte[] raw = sk.getEncoded();
        if (raw == null) {
          throw new KeyStoreException("the secret key has no encoding to import");
        }
        try {
          long ckk = "AES".equalsIgnoreCase(sk.getAlgorithm()) ? io.hsmkit.pkcs11.constants.CKK.AES : io.hsmkit.pkcs11.constants.CKK.GENERIC_SECRET;
          KeyImport.secret(token, raw, ckk, sk.getAlgorithm(), KeyTemplates.defaults(token).withToken(true).withLabel(alias).withId(id));
        } finally {
          Arrays.fill(raw, (byte) 0);
        }
      } else {
        throw new KeyStoreException("cannot store a " + (key == null ? "null key" : key.getClass().getName()));
      }
      if (chain != null && chain.length > 0) {
        writeChain(alias, id, chain);
      }
    } catch (InvalidKeyException | Pkcs11Exception e) {
      throw new KeyStoreException("storing " + alias + " failed: " + e.getMessage(), e);
    } finally {
      cache.remove(alias);
    }
  }

  /** The certificate's public key must be the private key's other half (compared by modulus or curve and point). */
  private void checkMatches(Key key, Certificate cert) throws KeyStoreException {
    PublicKey pub = cert.getPublicKey();
    if (key instanceof RSAKey r) {
      if (!(pub instanceof RSAKey rp) || !rp.getModulus().equals(r.getModulus())) {
        throw new KeyStoreException("the certificate chain does not match the key (another RSA modulus)");
      }
    } else if (key instanceof ECKey e) {
      if (!(pub instanceof ECKey ep) || !ep.getParams().getCurve().equals(e.getParams().getCurve())) {
        throw new KeyStoreException("the certificate chain does not match the key (another curve)");
      }
      if (key instanceof HsmPrivateKey hk && hk.id() != null) {
        matchTokenPublicKey(hk, pub);
      }
    } else if (!key.getAlgorithm().equalsIgnoreCase(pub.getAlgorithm())
        && !(key.getAlgorithm().startsWith("Ed") && pub.getAlgorithm().startsWith("Ed"))) {
      throw new KeyStoreException("the certificate chain does not match the key (" + pub.getAlgorithm() + " vs " + key.getAlgorithm() + ")");
    }
  }

  /** For EC keys of the token, compares the certificate's point with the public key object of the same CKA_ID. */
  private void matchTokenPublicKey(HsmPrivateKey hk, PublicKey pub) throws KeyStoreException {
    try {
      byte[] id = hk.id();
      Key tokenPub = token.execute(s -> {
        long[] p = s.findObjects(1, Attribute.ulong(CKA.CLASS, CKO.PUBLIC_KEY), Attribute.bytes(CKA.ID, id));
        return p.length == 0 ? null : HsmKeys.load(token, s, p[0]);
      });
      if (tokenPub != null && !Arrays.equals(((PublicKey) tokenPub).getEncoded(), pub.getEncoded())) {
        throw new KeyStoreException("the certificate chain does not match the key (another public key)");
      }
    } catch (InvalidKeyException | Pkcs11Exception e) {
      // no public key object to compare with: the curve check stands
    }
  }

  /** Makes an HsmKit key a token object labelled {@code alias} with CKA_ID {@code id}, its public half too. */
  private void adopt(HsmKey hk, String alias, byte[] id) throws Pkcs11Exception {
    byte[] oldId = hk.id();
    token.executeForObjects(s -> {
      Attribute[] attrs = {Attribute.string(CKA.LABEL, alias), Attribute.bytes(CKA.ID, id), Attribute.bytes(CKA.START_DATE, today().getBytes(StandardCharsets.US_ASCII))};
      if (hk.isTokenObject()) {
        s.setAttributes(hk.handle(), attrs);
      } else {
        s.copyObject(hk.handle(), concat(attrs, Attribute.bool(CKA.TOKEN, true)));
      }
      if (hk instanceof HsmPrivateKey && oldId != null) {
        for (long p : s.findObjects(2, Attribute.ulong(CKA.CLASS, CKO.PUBLIC_KEY), Attribute.bytes(CKA.ID, oldId))) {
          if (s.getAttribute(p, CKA.TOKEN).asBool()) {
            s.setAttributes(p, Attribute.string(CKA.LABEL, alias), Attribute.bytes(CKA.ID, id));
          } else {
            s.copyObject(p, Attribute.bool(CKA.TOKEN, true), Attribute.string(CKA.LABEL, alias), Attribute.bytes(CKA.ID, id));
          }
        }
      }
      return null;
    });
  }

  private static Attribute[] concat(Attribute[] a, Attribute b) {
    Attribute[] out = Arrays.copyOf(a, a.length + 1);
    out[a.length] = b;
    return out;
  }

  /**
   * Replaces the certificates of key {@code id} with {@code chain}: the leaf labelled {@code alias}, the
   * CA certificates with the key's CKA_ID but no label (as SunPKCS11 writes them), so that they are
   * part of the key's chain and never entries of their own; a labelled certificate without a key is
   * a trusted-certificate entry, and a chain's CA must not become trusted by being stored.
   */
  private void writeChain(String alias, byte[] id, Certificate[] chain) throws KeyStoreException, Pkcs11Exception {
    List<Attribute[]> templates = new ArrayList<>();
    for (int i = 0; i < chain.length; i++) {
      if (!(chain[i] instanceof X509Certificate x)) {
        throw new KeyStoreException("only X.509 certificates can be stored");
      }
      try {
        templates.add(certificateTemplate(i == 0 ? alias : null, id, x));
      } catch (CertificateEncodingException e) {
        throw new KeyStoreException(e);
      }
    }
    token.executeForObjects(s -> {
      for (long old : s.findObjects(16, Attribute.ulong(CKA.CLASS, CKO.CERTIFICATE), Attribute.bytes(CKA.ID, id))) {
        s.destroyObject(old);
      }
      for (Attribute[] t : templates) {
        s.createObject(t);
      }
      return null;
    });
  }

  private static Attribute[] certificateTemplate(String label, byte[] id, X509Certificate x) throws CertificateEncodingException {
    List<Attribute> t = new ArrayList<>();
    t.add(Attribute.ulong(CKA.CLASS, CKO.CERTIFICATE));
    t.add(Attribute.ulong(CKA.CERTIFICATE_TYPE, CKC.X_509));
    t.add(Attribute.bool(CKA.TOKEN, true));
    t.add(Attribute.bool(CKA.PRIVATE, false));
    if (label != null) {
      t.add(Attribute.string(CKA.LABEL, label));
    }
    if (id != null) {
      t.add(Attribute.bytes(CKA.ID, id));
    }
    t.add(Attribute.bytes(CKA.SUBJECT, x.getSubjectX500Principal().getEncoded()));
    t.add(Attribute.bytes(CKA.ISSUER, x.getIssuerX500Principal().getEncoded()));
    t.add(Attribute.bytes(CKA.SERIAL_NUMBER, derInteger(x.getSerialNumber())));
    t.add(Attribute.bytes(CKA.VALUE, x.getEncoded()));
    t.add(Attribute.bytes(CKA.START_DATE, today().getBytes(StandardCharsets.US_ASCII)));
    return t.toArray(new Attribute[0]);
  }

  /** CKA_SERIAL_NUMBER is the DER INTEGER, as PKCS#11 says and other tools write it. */
  private static byte[] derInteger(java.math.BigInteger v) {
    byte[] b = v.toByteArray();
    byte[] out = new byte[b.length + 2];
    out[0] = 0x02;
    out[1] = (byte) b.length;
    System.arraycopy(b, 0, out, 2, b.length);
    return out;
  }

  @Override
  public void engineSetKeyEntry(String alias, byte[] key, Certificate[] chain) throws KeyStoreException {
    throw new KeyStoreException("protected key bytes cannot be stored in the token: pass a Key");
  }

  @Override
  public void engineSetCertificateEntry(String alias, Certificate cert) throws KeyStoreException {
    Found existing = find(alias);
    if (existing != null && existing.isKey()) {
      throw new KeyStoreException(alias + " is a key entry; use setKeyEntry to change its chain");
    }
    if (!(cert instanceof X509Certificate x)) {
      throw new KeyStoreException("only X.509 certificates can be stored");
    }
    try {
      Attribute[] t = certificateTemplate(alias, null, x);
      token.executeForObjects(s -> {
        if (existing != null) {
          for (long c : existing.certificates) {
            s.destroyObject(c);
          }
        }
        s.createObject(t);
        return null;
      });
    } catch (CertificateEncodingException | Pkcs11Exception e) {
      throw new KeyStoreException("storing certificate " + alias + " failed: " + e.getMessage(), e);
    } finally {
      cache.remove(alias);
    }
  }

  @Override
  public void engineDeleteEntry(String alias) throws KeyStoreException {
    Found f = find(alias);
    if (f == null) {
      return;
    }
    check(AdminGuard.DELETE_KEY, Map.of("alias", alias));
    try {
      deleteFound(f, alias);
    } catch (Pkcs11Exception e) {
      throw new KeyStoreException("deleting " + alias + " failed: " + e.getMessage(), e);
    } finally {
      cache.remove(alias);
    }
  }

  /** Destroys the key, its public half and its certificates (by CKA_ID), and other objects labelled alias. */
  private void deleteFound(Found f, String alias) throws Pkcs11Exception {
    token.executeForObjects(s -> {
      Set<Long> doomed = new LinkedHashSet<>();
      if (f.id != null) {
        for (long o : s.findObjects(64, Attribute.bytes(CKA.ID, f.id))) {
          doomed.add(o);
        }
      }
      if (f.isKey()) {
        doomed.add(f.key);
      }
      doomed.addAll(f.certificates);
      for (long o : s.findObjects(64, label(alias))) {
        doomed.add(o);
      }
      for (long o : doomed) {
        try {
          s.destroyObject(o);
        } catch (Pkcs11Exception e) {
          if (!e.isAny(io.hsmkit.pkcs11.constants.CKR.OBJECT_HANDLE_INVALID)) {
            throw e;
          }
        }
      }
      return null;
    });
  }
}
