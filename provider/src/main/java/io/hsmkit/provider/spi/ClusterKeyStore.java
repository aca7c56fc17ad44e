package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.cluster.ClusterAdmin;
import io.hsmkit.pkcs11.cluster.ClusterException;
import io.hsmkit.pkcs11.cluster.ClusterKey;
import io.hsmkit.pkcs11.cluster.KeyMissingException;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.provider.AdminGuard;
import io.hsmkit.provider.internal.Errors;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmKeys;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.KeyStoreSpi;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.util.Collections;
import java.util.Date;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The HsmKit KeyStore of a provider over a cluster: one entry per replicated key (a secret key, or
 * a key pair by its private key), its alias the key's CKA_LABEL. The listing is read from one
 * healthy member (healthy members are in sync: a returning member is SYNCING until it has every
 * key and has lost every deleted one). {@link #engineGetKey} gives a key named by class and CKA_ID,
 * usable on every member. {@link #engineDeleteEntry} deletes through the cluster: every object with
 * the key's CKA_ID on every healthy member, and a tombstone that the others apply when they return.
 *
 * <p>Keys are made through this provider's KeyGenerator (AES) and KeyPairGenerator (EC), which
 * replicate them; setting entries (importing keys or certificates) is refused, since an imported
 * key would exist on one member only. PINs come from the cluster file: a password given to load is
 * not used.
 */
public final class ClusterKeyStore extends KeyStoreSpi {
  private final TokenContext token;
  /** Where the admin guard comes from; read at each guarded call (as in {@link HsmKeyStore}). */
  private volatile Supplier<AdminGuard> guard = () -> AdminGuard.ALLOW_ALL;

  public ClusterKeyStore(TokenContext token) {
    this.token = token;
  }

  /** Makes this KeyStore run {@code source}'s current {@link AdminGuard} before a deletion. */
  public void guardedBy(Supplier<AdminGuard> source) {
    this.guard = Objects.requireNonNull(source, "source");
  }

  /** A replicated key as listed: its secret's class (CKO_SECRET_KEY or CKO_PRIVATE_KEY) and CKA_ID. */
  private record Entry(String label, long objectClass, byte[] id) {
    ClusterKey clusterKey() {
      return new ClusterKey(label, id, objectClass == CKO.PRIVATE_KEY);
    }
  }

  /** Alias -> entry, read from one member now (a CKA_LABEL given twice: the first object found). */
  private Map<String, Entry> entries() {
    try {
      return token.execute(s -> {
        Map<String, Entry> out = new LinkedHashMap<>();
        for (long h : s.findObjects(Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.WRAP_WITH_TRUSTED, true))) {
          Attribute[] a;
          try {
            a = s.getAttributes(h, CKA.CLASS, CKA.ID, CKA.LABEL);
          } catch (Pkcs11Exception e) {
            if (e.isAny(io.hsmkit.pkcs11.constants.CKR.OBJECT_HANDLE_INVALID)) {
              continue; // deleted between the search and the read
            }
            throw e;
          }
          if (!a[0].present() || !a[1].present() || !a[2].present()) {
            continue;
          }
          long cls = a[0].asUlong();
          String label = a[2].asString();
          if ((cls != CKO.SECRET_KEY && cls != CKO.PRIVATE_KEY) || label.equals(ClusterAdmin.WRAP_KEY_LABEL)) {
            continue; // the cluster wrapping key is the cluster's, not an entry
          }
          out.putIfAbsent(label, new Entry(label, cls, a[1].value()));
        }
        return out;
      });
    } catch (Pkcs11Exception e) {
      throw Errors.provider("KeyStore listing over the cluster", e);
    }
  }

  private Entry entry(String alias) {
    return alias == null ? null : entries().get(alias);
  }

  @Override
  public void engineLoad(InputStream stream, char[] password) throws IOException {
    if (stream != null) {
      throw new IOException("the HsmKit KeyStore is the cluster's tokens: load it with a null stream (keytool: -keystore NONE)");
    }
    // Each member's pool logged in with the PIN source of the cluster file.
  }

  @Override
  public void engineLoad(KeyStore.LoadStoreParameter param) throws IOException {
    engineLoad(null, (char[]) null);
  }

  @Override
  public void engineStore(OutputStream stream, char[] password) throws IOException {
    if (stream != null) {
      throw new IOException("the HsmKit KeyStore is the cluster's tokens: there is nothing to write to a stream");
    }
  }

  @Override
  public Key engineGetKey(String alias, char[] password) throws UnrecoverableKeyException {
    Entry e = entry(alias);
    if (e == null) {
      return null;
    }
    try {
      return token.executeWithKey(e.objectClass(), e.id(), (s, h) -> HsmKeys.load(token, s, h));
    } catch (KeyMissingException x) {
      return null; // deleted since the listing
    } catch (InvalidKeyException | Pkcs11Exception x) {
      UnrecoverableKeyException u = new UnrecoverableKeyException("cannot read the key " + alias + ": " + x.getMessage());
      u.initCause(x);
      throw u;
    }
  }

  @Override
  public Certificate[] engineGetCertificateChain(String alias) {
    return null;
  }

  @Override
  public Certificate engineGetCertificate(String alias) {
    return null;
  }

  @Override
  public Date engineGetCreationDate(String alias) {
    return null;
  }

  @Override
  public void engineSetKeyEntry(String alias, Key key, char[] password, Certificate[] chain) throws KeyStoreException {
    throw refused();
  }

  @Override
  public void engineSetKeyEntry(String alias, byte[] key, Certificate[] chain) throws KeyStoreException {
    throw refused();
  }

  @Override
  public void engineSetCertificateEntry(String alias, Certificate cert) throws KeyStoreException {
    throw refused();
  }

  private static KeyStoreException refused() {
    return new KeyStoreException("over a cluster, entries are made by this provider's KeyGenerator (AES) and KeyPairGenerator (EC), "
        + "which replicate them; an entry set here would be on one member only");
  }

  @Override
  public void engineDeleteEntry(String alias) throws KeyStoreException {
    Entry e = entry(alias);
    if (e == null) {
      return; // as the JDK's keystores: deleting what is not there is no error (and no guard call)
    }
    try {
      guard.get().check(AdminGuard.DELETE_KEY, Map.of("alias", alias));
    } catch (SecurityException x) {
      throw new KeyStoreException(x.getMessage(), x);
    }
    try {
      token.cluster().delete(e.clusterKey());
    } catch (ClusterException x) {
      throw new KeyStoreException("deleting " + alias + ": " + x.getMessage(), x);
    } catch (Pkcs11Exception x) {
      throw new KeyStoreException("deleting " + alias + ": " + x.getMessage(), x);
    }
  }

  @Override
  public Enumeration<String> engineAliases() {
    return Collections.enumeration(entries().keySet());
  }

  @Override
  public boolean engineContainsAlias(String alias) {
    return entry(alias) != null;
  }

  @Override
  public int engineSize() {
    return entries().size();
  }

  @Override
  public boolean engineIsKeyEntry(String alias) {
    return entry(alias) != null;
  }

  @Override
  public boolean engineIsCertificateEntry(String alias) {
    return false;
  }

  @Override
  public String engineGetCertificateAlias(Certificate cert) {
    return null;
  }
}
