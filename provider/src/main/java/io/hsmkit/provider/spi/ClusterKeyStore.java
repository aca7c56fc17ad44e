package io.hsmkit.provider.spi;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.cluster.ClusterAdmin;
import io.hsmkit.pkcs11.cluster.ClusterException;
import io.hsmkit.pkcs11.cluster.ClusterKey;
import io.hsmkit.pkcs11.cluster.KeyMissingException;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKC;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.provider.AdminGuard;
import io.hsmkit.provider.internal.Errors;
import io.hsmkit.provider.internal.TokenContext;
import io.hsmkit.provider.keys.HsmKey;
import io.hsmkit.provider.keys.HsmKeys;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.KeyStoreSpi;
import java.security.UnrecoverableKeyException;
import java.security.ProviderException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
 * <p>Keys are made through this provider's KeyGenerator and KeyPairGenerator, which replicate
 * them; importing a key is refused, since an imported key would exist on one member only.
 * {@link #engineSetKeyEntry(String, Key, char[], Certificate[])} with a key of this cluster under
 * the alias it was made with (its CKA_LABEL) stores the certificate chain as CKO_CERTIFICATE
 * objects with the key's CKA_ID on every healthy member (the leaf labelled with the alias), which
 * is what a TLS server needs; a member that was down then lacks them (sync copies keys only), so
 * reading a chain moves to a member that has it. Relabelling a key (setKeyEntry under another
 * alias) and trusted-certificate entries are refused: a member that is down would keep the old
 * state for good. Deleting an entry deletes its certificates with it (every object with the key's
 * CKA_ID). PINs come from the cluster file: a password given to load is not used.
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
    Entry e = entry(alias);
    if (e == null || e.objectClass() != CKO.PRIVATE_KEY) {
      return null;
    }
    List<byte[]> ders;
    try {
      ders = token.execute(s -> {
        long[] found = s.findObjects(16, Attribute.ulong(CKA.CLASS, CKO.CERTIFICATE), Attribute.bytes(CKA.ID, e.id()));
        if (found.length == 0) {
          // a member that was down when the chain was stored: let the cluster ask another one
          throw new KeyMissingException("no certificate with the key's CKA_ID");
        }
        List<byte[]> out = new ArrayList<>();
        for (long h : found) {
          out.add(s.getAttribute(h, CKA.VALUE).value());
        }
        return out;
      });
    } catch (KeyMissingException x) {
      return null; // a key without certificates
    } catch (Pkcs11Exception x) {
      throw Errors.provider("reading the certificates of " + alias + " over the cluster", x);
    }
    try {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      List<X509Certificate> certs = new ArrayList<>();
      for (byte[] der : ders) {
        certs.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(der)));
      }
      return leafFirst(certs);
    } catch (CertificateException x) {
      throw new ProviderException("the certificates of " + alias + " in the cluster cannot be parsed: " + x.getMessage(), x);
    }
  }

  /**
   * Orders the certificates of one key leaf first: the leaf is the one that issued none of the
   * others, then each certificate's issuer among them.
   */
  static X509Certificate[] leafFirst(List<X509Certificate> certs) {
    X509Certificate leaf = null;
    for (X509Certificate c : certs) {
      boolean issuesAnother = false;
      for (X509Certificate o : certs) {
        if (o != c && o.getIssuerX500Principal().equals(c.getSubjectX500Principal())) {
          issuesAnother = true;
          break;
        }
      }
      if (!issuesAnother) {
        leaf = c;
        break;
      }
    }
    if (leaf == null) {
      leaf = certs.get(0);
    }
    List<X509Certificate> chain = new ArrayList<>(List.of(leaf));
    List<X509Certificate> rest = new ArrayList<>(certs);
    rest.remove(leaf);
    X509Certificate cur = leaf;
    while (!rest.isEmpty()) {
      X509Certificate next = null;
      for (X509Certificate o : rest) {
        if (o.getSubjectX500Principal().equals(cur.getIssuerX500Principal())) {
          next = o;
          break;
        }
      }
      if (next == null) {
        break; // the rest do not continue this chain: left out
      }
      chain.add(next);
      rest.remove(next);
      cur = next;
    }
    return chain.toArray(X509Certificate[]::new);
  }

  @Override
  public Certificate engineGetCertificate(String alias) {
    Certificate[] chain = engineGetCertificateChain(alias);
    return chain == null ? null : chain[0];
  }

  @Override
  public Date engineGetCreationDate(String alias) {
    return null;
  }

  @Override
  public void engineSetKeyEntry(String alias, Key key, char[] password, Certificate[] chain) throws KeyStoreException {
    if (!(key instanceof HsmKey hk) || !hk.isClustered() || hk.token() != token) {
      throw refused();
    }
    Entry e = entry(alias);
    if (e == null || e.objectClass() != hk.objectClass() || !Arrays.equals(e.id(), hk.id())) {
      throw new KeyStoreException("over a cluster a key keeps the alias it was made with (" + hk.label() + "), so that a member that is "
          + "down cannot keep another one: it cannot be stored as " + alias);
    }
    if (chain == null || chain.length == 0) {
      return; // the key is already the entry
    }
    if (hk.objectClass() != CKO.PRIVATE_KEY) {
      throw new KeyStoreException("only a private key has a certificate chain");
    }
    List<Attribute[]> templates = new ArrayList<>();
    try {
      for (int i = 0; i < chain.length; i++) {
        if (!(chain[i] instanceof X509Certificate x)) {
          throw new KeyStoreException("only X.509 certificates are stored, not " + chain[i].getType());
        }
        templates.add(new Attribute[] {Attribute.ulong(CKA.CLASS, CKO.CERTIFICATE), Attribute.ulong(CKA.CERTIFICATE_TYPE, CKC.X_509),
            Attribute.bool(CKA.TOKEN, true), Attribute.bool(CKA.PRIVATE, false), Attribute.bytes(CKA.ID, hk.id()),
            // the leaf carries the alias; the CA certificates of the chain are labelled alias/1, alias/2, ...
            Attribute.string(CKA.LABEL, i == 0 ? alias : alias + "/" + i),
            Attribute.bytes(CKA.SUBJECT, x.getSubjectX500Principal().getEncoded()), Attribute.bytes(CKA.VALUE, x.getEncoded())});
      }
    } catch (java.security.cert.CertificateEncodingException x) {
      throw new KeyStoreException("cannot encode the certificate chain of " + alias + ": " + x.getMessage(), x);
    }
    int stored;
    try {
      stored = token.cluster().executeOnEachHealthy(s -> {
        for (long h : s.findObjects(16, Attribute.ulong(CKA.CLASS, CKO.CERTIFICATE), Attribute.bytes(CKA.ID, hk.id()))) {
          s.destroyObject(h); // the chain is replaced as a whole
        }
        for (Attribute[] t : templates) {
          s.createObject(t);
        }
        return null;
      });
    } catch (ClusterException x) {
      throw new KeyStoreException("storing the certificates of " + alias + ": " + x.getMessage(), x);
    } catch (Pkcs11Exception x) {
      throw new KeyStoreException("storing the certificates of " + alias + ": " + x.getMessage(), x);
    }
    if (stored == 0) {
      throw new KeyStoreException("storing the certificates of " + alias + ": no healthy member of the cluster");
    }
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
    return new KeyStoreException("over a cluster, entries are made by this provider's KeyGenerator and KeyPairGenerator, "
        + "which replicate them (a key of the cluster takes its certificate chain here); an entry set here would be on one member only");
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
    for (String alias : entries().keySet()) {
      Certificate c = engineGetCertificate(alias);
      if (c != null && c.equals(cert)) {
        return alias;
      }
    }
    return null;
  }
}
