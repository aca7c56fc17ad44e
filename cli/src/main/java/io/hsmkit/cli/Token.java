package io.hsmkit.cli;

import io.hsmkit.provider.HsmKitConfig;
import io.hsmkit.provider.HsmKitProvider;
import io.hsmkit.provider.keys.HsmPrivateKey;
import java.security.Key;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** An open token: the configured provider (logged in) and its KeyStore. Closing it closes the library. */
final class Token implements AutoCloseable {
  final HsmKitProvider provider;
  final HsmKitConfig config;
  final KeyStore keyStore;

  Token(HsmKitProvider provider, HsmKitConfig config, KeyStore keyStore) {
    this.provider = provider;
    this.config = config;
    this.keyStore = keyStore;
  }

  /** The token label (or how the token was chosen). */
  String label() {
    return config.tokenLabel() != null ? config.tokenLabel() : config.source();
  }

  List<String> aliases() {
    try {
      List<String> l = Collections.list(keyStore.aliases());
      Collections.sort(l);
      return l;
    } catch (KeyStoreException e) {
      throw new CliException("cannot list the token: " + HsmkitCommand.oneLine(e), e);
    }
  }

  boolean contains(String alias) {
    try {
      return keyStore.containsAlias(alias);
    } catch (KeyStoreException e) {
      throw new CliException("cannot look up " + alias + ": " + HsmkitCommand.oneLine(e), e);
    }
  }

  /** Fails with the standard message when {@code alias} is not in the token. */
  void requireEntry(String alias) {
    if (!contains(alias)) {
      throw noEntry(alias);
    }
  }

  static CliException noEntry(String alias) {
    return new CliException("no entry " + alias + "; see hsmkit keys list");
  }

  Key key(String alias) {
    try {
      return keyStore.getKey(alias, null);
    } catch (Exception e) {
      throw new CliException("cannot read the key " + alias + ": " + HsmkitCommand.oneLine(e), e);
    }
  }

  /** The private key of {@code alias}; a clear error when the entry has none. */
  HsmPrivateKey privateKey(String alias) {
    requireEntry(alias);
    Key k = key(alias);
    if (!(k instanceof HsmPrivateKey pk)) {
      throw new CliException(alias + " is " + (k == null ? "a certificate" : "a secret key") + ", not a private key entry; see hsmkit keys list");
    }
    return pk;
  }

  /** The certificate chain of {@code alias}, leaf first; empty when there is none. */
  List<X509Certificate> chain(String alias) {
    try {
      Certificate[] c = keyStore.getCertificateChain(alias);
      List<X509Certificate> out = new ArrayList<>();
      if (c == null) {
        Certificate one = keyStore.getCertificate(alias);
        if (one instanceof X509Certificate x) {
          out.add(x);
        }
        return out;
      }
      for (Certificate x : c) {
        out.add((X509Certificate) x);
      }
      return out;
    } catch (KeyStoreException e) {
      throw new CliException("cannot read the certificates of " + alias + ": " + HsmkitCommand.oneLine(e), e);
    }
  }

  /** The leaf certificate of a private key entry, with an error that says how to get one. */
  X509Certificate leaf(String alias) {
    List<X509Certificate> c = chain(alias);
    if (c.isEmpty()) {
      throw new CliException(alias + " has no certificate, so its public key is unknown: store one with hsmkit certs import " + alias
          + " --file CHAIN.pem");
    }
    return c.get(0);
  }

  @Override
  public void close() {
    provider.tokenContext().close();
  }
}
