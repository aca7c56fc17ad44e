package io.hsmkit.cli;

import io.hsmkit.quorum.ApprovalToken;
import io.hsmkit.quorum.AuditLog;
import io.hsmkit.quorum.Officer;
import io.hsmkit.quorum.QuorumAuthorizer;
import io.hsmkit.quorum.QuorumWindows;
import io.hsmkit.quorum.SignatureScheme;
import io.hsmkit.provider.AdminGuard;
import io.hsmkit.quorum.Action;
import io.hsmkit.quorum.QuorumException;
import io.hsmkit.quorum.Service;
import io.hsmkit.quorum.store.FileQuorumStore;
import io.hsmkit.quorum.store.QuorumStore;
import io.hsmkit.quorum.store.TokenQuorumStore;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;

/**
 * The quorum state the {@code hsmkit} command works on. By default it is on the token itself
 * ({@link TokenQuorumStore}: token data objects, the audit log MACed by a sensitive, non-extractable
 * key in the token), so the state travels with the token; {@code --state DIR} asks for a
 * {@link FileQuorumStore} in a directory instead, with its audit HMAC key in {@value #AUDIT_KEY}
 * (mode 0600, made on first use). Approvals recorded by {@code hsmkit quorum approve} are kept in the
 * store either way.
 */
final class QuorumState implements AutoCloseable {
  static final String AUDIT_KEY = "audit-hmac.key";

  /** Where the state is, for messages: "token 'LABEL'" or the directory. */
  final String where;
  final QuorumStore store;
  final AuditLog audit;
  final QuorumAuthorizer authorizer;
  /** The token this state opened (and closes), or null. */
  private final Token owned;

  private QuorumState(String where, QuorumStore store, AuditLog audit, Token owned) {
    this.where = where;
    this.store = store;
    this.audit = audit;
    this.authorizer = new QuorumAuthorizer(store, audit, Clock.systemUTC(), new SecureRandom(), QuorumWindows.CLOUDHSM);
    this.owned = owned;
  }

  /** The state on an open token; closing it leaves the token open. */
  static QuorumState onToken(Token t) {
    return onToken(t, null);
  }

  private static QuorumState onToken(Token t, Token owned) {
    TokenQuorumStore store = new TokenQuorumStore(t.provider.tokenContext().pool());
    try {
      return new QuorumState("token '" + t.label() + "'", store, new AuditLog(store, store.auditMac(), Clock.systemUTC()), owned);
    } catch (RuntimeException e) {
      throw new CliException("cannot open the quorum state on token '" + t.label() + "': " + HsmkitCommand.oneLine(e), e);
    }
  }

  /** The state on the token {@code options} open; closing the state closes the token. */
  static QuorumState openToken(TokenOptions options) {
    Token t = options.open();
    try {
      return onToken(t, t);
    } catch (RuntimeException e) {
      t.close();
      throw e;
    }
  }

  /**
   * The state on the token of a configuration file path or inline configuration text (as serve
   * takes them); closing the state closes the token.
   */
  static QuorumState openToken(String configArg) {
    Token t = TokenOptions.open(configArg);
    try {
      return onToken(t, t);
    } catch (RuntimeException e) {
      t.close();
      throw e;
    }
  }

  /** A file store in {@code dir} (made with mode 0700 if missing). */
  static QuorumState openDirectory(Path dir) {
    try {
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir.toAbsolutePath().getParent());
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      }
    } catch (FileAlreadyExistsException e) {
      // made concurrently
    } catch (IOException e) {
      throw new CliException("cannot create the quorum state directory " + dir + ": " + e.getMessage(), e);
    }
    byte[] key = auditKey(dir);
    FileQuorumStore store = new FileQuorumStore(dir);
    return new QuorumState(dir.toString(), store, new AuditLog(store, key, Clock.systemUTC()), null);
  }

  /** Reads the audit key, or makes one (32 random bytes, mode 0600) without ever replacing an existing one. */
  private static byte[] auditKey(Path dir) {
    Path file = dir.resolve(AUDIT_KEY);
    try {
      if (!Files.exists(file)) {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        Path tmp = Files.createTempFile(dir, ".key-", ".tmp", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
          Files.write(tmp, k, StandardOpenOption.TRUNCATE_EXISTING);
          Files.createLink(file, tmp); // atomic, and never replaces a key made concurrently
        } catch (FileAlreadyExistsException e) {
          // another process made it first: use theirs
        } finally {
          Files.deleteIfExists(tmp);
        }
      }
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      if (!EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE).containsAll(perms)) {
        throw new CliException("the audit key " + file + " is readable by others (" + PosixFilePermissions.toString(perms)
            + "); chmod 600 " + file);
      }
      byte[] k = Files.readAllBytes(file);
      if (k.length < 16) {
        throw new CliException("the audit key " + file + " is shorter than 16 bytes");
      }
      return k;
    } catch (IOException e) {
      throw new CliException("cannot read or create the audit key " + file + ": " + e.getMessage(), e);
    }
  }

  /** The token and its recorded approvals, for a guarded change; null without a file. */
  QuorumAuthorizer.Authorization authorization(Path tokenFile) {
    if (tokenFile == null) {
      return null;
    }
    ApprovalToken t = readToken(tokenFile);
    return new QuorumAuthorizer.Authorization(t, authorizer.approvals(t));
  }

  /**
   * The gate of a guarded verb: runs {@code action} through the authorizer with the approval token in
   * {@code approval} (null: none). A refusal is a CliException that names the missing approvals and, when
   * no token was given, the command that requests one.
   */
  void authorize(Action action, Path approval) {
    try {
      authorizer.check(action, authorization(approval));
    } catch (QuorumException e) {
      throw new CliException(refusal(action, approval, e), e);
    }
  }

  /** An {@link AdminGuard} for the HsmKit KeyStore: its operations are key-management actions. */
  AdminGuard adminGuard(Path approval) {
    return (operation, arguments) -> {
      Action action = Action.of(Service.KEY_MANAGEMENT, operation, arguments);
      try {
        authorizer.check(action, authorization(approval));
      } catch (QuorumException e) {
        throw new SecurityException(refusal(action, approval, e), e);
      }
    };
  }

  static String refusal(Action action, Path approval, QuorumException e) {
    StringBuilder sb = new StringBuilder("quorum: ").append(e.getMessage());
    if (approval == null) {
      sb.append("; request approval with: ").append(requestCommand(action))
          .append(" --requester NAME --out TOKEN, then pass --approval TOKEN");
    }
    return sb.toString();
  }

  /**
   * The start of the command that requests approval of {@code action} (service, operation and
   * arguments, as the authorizer will compare them); callers add what else it needs.
   */
  static String requestCommand(Action action) {
    StringBuilder sb = new StringBuilder("hsmkit quorum token create --service ").append(action.service().wireName())
        .append(" --operation ").append(action.operation());
    action.arguments().forEach((k, v) -> sb.append(" --arg ").append(k).append('=').append(v));
    return sb.toString();
  }

  @Override
  public void close() {
    try {
      store.close();
    } finally {
      if (owned != null) {
        owned.close();
      }
    }
  }

  // ------------------------------------------------------------------ files

  static ApprovalToken readToken(Path file) {
    String text = readText(file, "token");
    try {
      return ApprovalToken.parseText(text);
    } catch (IllegalArgumentException e) {
      throw new CliException("not a valid quorum token file " + file + ": " + e.getMessage(), e);
    }
  }

  static String readText(Path file, String what) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new CliException("cannot read the " + what + " file " + file + ": no such file, or not readable", e);
    }
  }

  static byte[] readBytes(Path file, String what) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new CliException("cannot read the " + what + " file " + file + ": no such file, or not readable", e);
    }
  }

  static void write(Path file, byte[] data) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.write(file, data);
    } catch (IOException e) {
      throw new CliException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** ecdsa, rsa, rsa-pss or ed25519 (or the JCA names). */
  static SignatureScheme scheme(String name) {
    switch (name.toLowerCase(java.util.Locale.ROOT)) {
      case "ecdsa", "ec":
        return SignatureScheme.SHA256_WITH_ECDSA;
      case "rsa":
        return SignatureScheme.SHA256_WITH_RSA;
      case "rsa-pss", "pss":
        return SignatureScheme.RSASSA_PSS;
      case "ed25519":
        return SignatureScheme.ED25519;
      default:
        try {
          return SignatureScheme.fromJcaName(name);
        } catch (IllegalArgumentException e) {
          throw new CliException("unknown scheme '" + name + "': use ecdsa, rsa, rsa-pss or ed25519");
        }
    }
  }

  /** The short name of a scheme, as --scheme takes it. */
  static String schemeName(SignatureScheme s) {
    return switch (s) {
      case SHA256_WITH_ECDSA -> "ecdsa";
      case SHA256_WITH_RSA -> "rsa";
      case RSASSA_PSS -> "rsa-pss";
      case ED25519 -> "ed25519";
    };
  }

  private static byte[] pemBody(String text, String type, Path file) {
    String begin = "-----BEGIN " + type + "-----";
    String end = "-----END " + type + "-----";
    int b = text.indexOf(begin);
    int e = text.indexOf(end);
    if (b < 0 || e < b) {
      return null;
    }
    try {
      return Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
    } catch (IllegalArgumentException ex) {
      throw new CliException("bad base64 in " + file + ": " + ex.getMessage(), ex);
    }
  }

  /** A PEM "PUBLIC KEY" (X.509 SubjectPublicKeyInfo, what openssl pkey -pubout writes) for {@code scheme}. */
  static PublicKey readPublicKey(Path file, SignatureScheme scheme) {
    byte[] der = pemBody(readText(file, "public key"), "PUBLIC KEY", file);
    if (der == null) {
      throw new CliException(file + " is not a PEM public key (-----BEGIN PUBLIC KEY-----); make one with "
          + "openssl pkey -in KEY.pem -pubout -out PUB.pem");
    }
    try {
      return scheme.decodePublicKey(der);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new CliException("the public key in " + file + " is not a key for " + schemeName(scheme) + ": " + e.getMessage(), e);
    }
  }

  /** A PEM private key: PKCS#8 (BEGIN PRIVATE KEY, what openssl genpkey writes) or a traditional EC/RSA key. */
  static PrivateKey readPrivateKey(Path file, SignatureScheme scheme) {
    String text = readText(file, "private key");
    byte[] pkcs8 = pemBody(text, "PRIVATE KEY", file);
    if (pkcs8 == null) {
      try (PEMParser p = new PEMParser(new StringReader(text))) {
        Object o = p.readObject();
        if (o instanceof PEMKeyPair kp) {
          pkcs8 = kp.getPrivateKeyInfo().getEncoded();
        } else if (o instanceof PrivateKeyInfo pki) {
          pkcs8 = pki.getEncoded();
        }
      } catch (IOException e) {
        throw new CliException("cannot parse the private key " + file + ": " + e.getMessage(), e);
      }
    }
    if (pkcs8 == null) {
      throw new CliException(file + " is not an unencrypted PEM private key; convert it with "
          + "openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pem");
    }
    String alg = switch (scheme) {
      case SHA256_WITH_ECDSA -> "EC";
      case SHA256_WITH_RSA, RSASSA_PSS -> "RSA";
      case ED25519 -> "Ed25519";
    };
    try {
      return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
    } catch (GeneralSecurityException e) {
      throw new CliException("the private key in " + file + " is not a key for " + schemeName(scheme) + ": " + e.getMessage(), e);
    }
  }

  /** Officers by id, for display. */
  static Map<String, Object> describe(Officer o) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("id", o.id());
    m.put("scheme", schemeName(o.scheme()));
    m.put("keySha256", o.keyFingerprint());
    return m;
  }
}
