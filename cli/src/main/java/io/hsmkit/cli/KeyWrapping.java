package io.hsmkit.cli;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.constants.CKF;
import io.hsmkit.pkcs11.constants.CKK;
import io.hsmkit.pkcs11.constants.CKM;
import io.hsmkit.pkcs11.constants.CKO;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.raw.Mechanism;
import io.hsmkit.pkcs11.raw.MechanismInfo;
import io.hsmkit.provider.keys.HsmSecretKey;
import io.hsmkit.provider.keys.KeyTemplates;
import io.hsmkit.quorum.Action;
import io.hsmkit.quorum.Service;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.Key;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code hsmkit keys wrap} and {@code keys unwrap}: an AES token key out of the token encrypted under
 * another AES token key (C_WrapKey), and back in as a new token key (C_UnwrapKey). Both are
 * key-management quorum actions: exporting and importing keys are what the issue's
 * {@code key-management} value guards.
 *
 * <p>The file holds the token's wrapped bytes and nothing else, in the format of the mechanism
 * (CKM_AES_KEY_WRAP_PAD: what SoftHSM2 2.6.1 computes under 0x210A, RFC 5649 for keys whose length
 * is a multiple of 8), so that other tools can read it. The mechanism is chosen the same way on both
 * sides from what the token offers ({@link #mechanism}); a token that offers another one cannot
 * unwrap the file.
 */
final class KeyWrapping {
  private KeyWrapping() {}

  /** Wrap mechanisms in order of preference: padded (any key length) before plain RFC 3394. */
  private static final long[] MECHANISMS = {CKM.AES_KEY_WRAP_PAD, CKM.AES_KEY_WRAP_KWP, CKM.AES_KEY_WRAP};

  /**
   * The attributes of every AES token key hsmkit makes (generate, unwrap): a private, sensitive token
   * object with a random CKA_ID (how the provider finds it again) and the alias as CKA_LABEL, usable to
   * encrypt, decrypt, wrap and unwrap.
   */
  static Attribute[] secretKeyTemplate(String alias, boolean extractable, Attribute... extra) {
    List<Attribute> l = new ArrayList<>(KeyTemplates.secretOrPrivate(new KeyTemplates.Policy(true, true, extractable, KeyTemplates.newId(), alias)));
    for (long usage : new long[] {CKA.ENCRYPT, CKA.DECRYPT, CKA.WRAP, CKA.UNWRAP}) {
      l.add(Attribute.bool(usage, true));
    }
    l.addAll(List.of(extra));
    return l.toArray(new Attribute[0]);
  }

  /** The first of {@link #MECHANISMS} the token can wrap (or unwrap) with. */
  static long mechanism(Token t, boolean wrap) {
    Map<Long, MechanismInfo> infos = t.provider.tokenContext().mechanisms();
    for (long m : MECHANISMS) {
      MechanismInfo i = infos.get(m);
      if (i != null && i.has(wrap ? CKF.WRAP : CKF.UNWRAP)) {
        return m;
      }
    }
    throw new CliException("the token has no AES key wrap mechanism (CKM_AES_KEY_WRAP_PAD, CKM_AES_KEY_WRAP_KWP, CKM_AES_KEY_WRAP) that can "
        + (wrap ? "wrap" : "unwrap") + "; see hsmkit info for its mechanisms");
  }

  /** The AES secret key of {@code alias}; {@code role} names it in errors ("the key", "the wrapping key"). */
  static HsmSecretKey aesKey(Token t, String alias, String role) {
    t.requireEntry(alias);
    Key k = t.key(alias);
    if (!(k instanceof HsmSecretKey s)) {
      throw new CliException(role + " " + alias + " is " + (k == null ? "a certificate" : "a private key entry")
          + ", not an AES secret key; see hsmkit keys list");
    }
    if (s.keyType() != CKK.AES) {
      throw new CliException(role + " " + alias + " is a " + CKK.name(s.keyType()) + " key, not an AES key: hsmkit wraps and unwraps AES keys only");
    }
    return s;
  }

  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JDK", e);
    }
  }

  /** The token's refusal of C_WrapKey or C_UnwrapKey, named, with what usually causes it. */
  private static CliException refused(String what, Pkcs11Exception e, String key, String wrappingKey) {
    String why;
    if (e.is(CKR.KEY_UNEXTRACTABLE)) {
      why = key + " is not extractable";
    } else if (e.is(CKR.KEY_NOT_WRAPPABLE)) {
      why = key + " may only be wrapped under a trusted key (CKA_WRAP_WITH_TRUSTED), and " + wrappingKey + " is not one";
    } else if (e.is(CKR.KEY_FUNCTION_NOT_PERMITTED)) {
      why = wrappingKey + " is not allowed to do this (CKA_WRAP or CKA_UNWRAP false)";
    } else if (e.isAny(CKR.WRAPPED_KEY_INVALID, CKR.WRAPPED_KEY_LEN_RANGE, CKR.ENCRYPTED_DATA_INVALID)) {
      why = "the file was not wrapped under " + wrappingKey + " with this mechanism, or was altered";
    } else {
      why = null;
    }
    return new CliException(what + ": the token refuses (" + e.ckrName() + ")" + (why == null ? "" : ": " + why), e);
  }

  @Command(name = "wrap", mixinStandardHelpOptions = true,
      description = {"Export an extractable AES key encrypted under another AES key of the token (C_WrapKey).",
        "A key-management action: with key-management's quorum value above 1 it needs --approval TOKEN."})
  static final class Wrap implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin TokenOptions token;

    @Parameters(index = "0", paramLabel = "ALIAS", description = "The key to wrap (made with hsmkit keys generate --type aes --extractable).")
    String alias;

    @Option(names = "--wrapping-key", required = true, paramLabel = "WALIAS", description = "The AES key of the token to wrap it under.")
    String wrappingAlias;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write the wrapped key (mode 0600; replaced if it exists).")
    Path out;

    @Option(names = "--approval", paramLabel = "TOKEN",
        description = "Approved quorum token for key-management/wrap-key alias=ALIAS wrapping-alias=WALIAS (needed when key-management's value is above 1).")
    Path approval;

    @Override
    public Integer call() {
      byte[] wrapped;
      long mechanism;
      try (Token t = token.open(); QuorumState quorum = QuorumState.onToken(t)) {
        HsmSecretKey key = aesKey(t, alias, "the key");
        HsmSecretKey wrapping = aesKey(t, wrappingAlias, "the wrapping key");
        // Checked before the quorum so that approvals are not spent on a wrap the token must refuse:
        // CKA_EXTRACTABLE cannot be set true again once false.
        if (!key.isExtractable()) {
          throw new CliException("cannot wrap " + alias + ": it is not extractable (CKA_EXTRACTABLE false, for good), so C_WrapKey "
              + "would fail with CKR_KEY_UNEXTRACTABLE; only keys made with hsmkit keys generate --type aes --extractable can be wrapped");
        }
        mechanism = mechanism(t, true);
        Map<String, String> arguments = new LinkedHashMap<>();
        arguments.put("alias", alias);
        arguments.put("wrapping-alias", wrappingAlias);
        quorum.authorize(Action.of(Service.KEY_MANAGEMENT, "wrap-key", arguments), approval);
        try {
          wrapped = t.provider.tokenContext().execute(s -> s.wrapKey(Mechanism.of(mechanism), wrapping.handle(), key.handle()));
        } catch (Pkcs11Exception e) {
          throw refused("cannot wrap " + alias + " under " + wrappingAlias, e, alias, wrappingAlias);
        }
      }
      writePrivate(out, wrapped);
      PrintWriter w = spec.commandLine().getOut();
      if (token.json) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("wrapped", alias);
        doc.put("wrappingKey", wrappingAlias);
        doc.put("mechanism", CKM.name(mechanism));
        doc.put("bytes", wrapped.length);
        doc.put("sha256", sha256(wrapped));
        doc.put("file", out.toString());
        Output.json(w, doc);
      } else {
        w.println("wrapped " + alias + " under " + wrappingAlias + " with " + CKM.name(mechanism) + ": " + wrapped.length + " bytes to " + out
            + " (sha256 " + sha256(wrapped) + ")");
        w.flush();
      }
      return ExitCode.OK;
    }

    /** Wrapped keys are not secret without the wrapping key, but they are key material: owner-only. */
    private static void writePrivate(Path file, byte[] data) {
      try {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        Path tmp = Files.createTempFile(parent, ".wrapped-", ".tmp", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
          Files.write(tmp, data, StandardOpenOption.TRUNCATE_EXISTING);
          Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
          Files.deleteIfExists(tmp);
        }
      } catch (IOException e) {
        throw new CliException("cannot write " + file + ": " + e.getMessage(), e);
      }
    }
  }

  @Command(name = "unwrap", mixinStandardHelpOptions = true,
      description = {"Import a wrapped AES key as a new token key ALIAS (C_UnwrapKey): sensitive, not extractable.",
        "A key-management action: with key-management's quorum value above 1 it needs --approval TOKEN."})
  static final class Unwrap implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin TokenOptions token;

    @Parameters(index = "0", paramLabel = "ALIAS", description = "The new key's alias (CKA_LABEL); it must not exist.")
    String alias;

    @Option(names = "--wrapping-key", required = true, paramLabel = "WALIAS", description = "The AES key of the token the key was wrapped under.")
    String wrappingAlias;

    @Option(names = "--in", required = true, paramLabel = "FILE", description = "The wrapped key, as hsmkit keys wrap wrote it.")
    Path in;

    @Option(names = "--approval", paramLabel = "TOKEN",
        description = "Approved quorum token for key-management/import-key alias=ALIAS wrapping-alias=WALIAS wrapped-sha256=HEX "
            + "(the file's SHA-256; needed when key-management's value is above 1).")
    Path approval;

    @Override
    public Integer call() {
      byte[] wrapped = QuorumState.readBytes(in, "wrapped key");
      // RFC 3394 and 5649 add 8 bytes to a key whose length is a multiple of 8, as AES keys' are. The
      // template cannot say so (SoftHSM2 2.6.1 answers CKR_ATTRIBUTE_READ_ONLY to CKA_VALUE_LEN there) and
      // SoftHSM2 then leaves CKA_VALUE_LEN 0, so the size is known from here only.
      int keyBytes = wrapped.length - 8;
      if (keyBytes != 16 && keyBytes != 24 && keyBytes != 32) {
        throw new CliException(in + " holds " + wrapped.length + " bytes: not a wrapped AES key (24, 32 or 40 bytes, as hsmkit keys wrap writes)");
      }
      String digest = sha256(wrapped);
      Map<String, Object> doc;
      long mechanism;
      try (Token t = token.open(); QuorumState quorum = QuorumState.onToken(t)) {
        if (t.contains(alias)) {
          throw new CliException("an entry " + alias + " already exists; choose another alias, or delete it first with hsmkit keys delete " + alias);
        }
        HsmSecretKey wrapping = aesKey(t, wrappingAlias, "the wrapping key");
        mechanism = mechanism(t, false);
        // The approval names the exact blob: one approved for another file cannot import this one.
        Map<String, String> arguments = new LinkedHashMap<>();
        arguments.put("alias", alias);
        arguments.put("wrapping-alias", wrappingAlias);
        arguments.put("wrapped-sha256", digest);
        quorum.authorize(Action.of(Service.KEY_MANAGEMENT, "import-key", arguments), approval);
        try {
          t.provider.tokenContext().executeForObjects(s -> s.unwrapKey(Mechanism.of(mechanism), wrapping.handle(), wrapped,
              secretKeyTemplate(alias, false, Attribute.ulong(CKA.CLASS, CKO.SECRET_KEY), Attribute.ulong(CKA.KEY_TYPE, CKK.AES))));
        } catch (Pkcs11Exception e) {
          throw refused("cannot unwrap " + in + " under " + wrappingAlias, e, alias, wrappingAlias);
        }
        doc = KeysCommand.entry(t, alias);
      }
      PrintWriter w = spec.commandLine().getOut();
      if (token.json) {
        doc.put("size", keyBytes * 8);
        doc.put("wrappingKey", wrappingAlias);
        doc.put("mechanism", CKM.name(mechanism));
        doc.put("wrappedSha256", digest);
        Output.json(w, doc);
      } else {
        w.println("unwrapped " + alias + ": AES " + keyBytes * 8 + " under " + wrappingAlias + " with " + CKM.name(mechanism)
            + " (sensitive, not extractable)");
        w.flush();
      }
      return ExitCode.OK;
    }
  }
}
