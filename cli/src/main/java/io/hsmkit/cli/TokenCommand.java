package io.hsmkit.cli;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.Session;
import io.hsmkit.pkcs11.Slot;
import io.hsmkit.pkcs11.constants.CKF;
import io.hsmkit.pkcs11.constants.CKR;
import io.hsmkit.pkcs11.constants.CKU;
import io.hsmkit.pkcs11.raw.TokenInfo;
import io.hsmkit.pkcs11.session.Pin;
import io.hsmkit.quorum.Action;
import io.hsmkit.quorum.Service;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code hsmkit token init|pin}: initialise a token and set its user PIN; change or reset the user PIN. */
@Command(
    name = "token",
    mixinStandardHelpOptions = true,
    description = "Token administration: initialise a token (SO PIN), change or reset its user PIN.",
    subcommands = {TokenCommand.Init.class, TokenCommand.ChangePin.class})
final class TokenCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE;
  }

  /**
   * {@code --label} and {@code --library}: the token a verb works on, named as softhsm2-util names it
   * (these verbs run before or beside an HsmKit configuration, so they do not read one).
   */
  abstract static class TokenTarget {
    @Option(names = "--label", paramLabel = "LABEL", defaultValue = "${env:HSMKIT_TOKEN_LABEL}",
        description = "The token's label (default: $HSMKIT_TOKEN_LABEL).")
    String label;

    @Option(names = "--library", paramLabel = "PATH", defaultValue = "${env:HSMKIT_PKCS11_LIBRARY:-" + InfoCommand.DEFAULT_LIBRARY + "}",
        description = "PKCS#11 library (default: $HSMKIT_PKCS11_LIBRARY, else " + InfoCommand.DEFAULT_LIBRARY + ").")
    String library;

    /** A usage error without a label: picocli prints the usage with it. */
    void requireLabel(CommandSpec spec) {
      if (label == null || label.isBlank()) {
        throw new CommandLine.ParameterException(spec.commandLine(), "give --label (or set HSMKIT_TOKEN_LABEL)");
      }
    }

    void requireLibrary() {
      if (!Files.exists(Path.of(library))) {
        throw new CliException("no PKCS#11 library at " + library + ": run `bash softhsm-config/install.sh`, or give --library");
      }
    }
  }

  @Command(name = "init", mixinStandardHelpOptions = true,
      description = {
        "Initialise a token: C_InitToken with the SO PIN, then C_InitPIN with the user PIN.",
        "Takes the first uninitialised token; re-initialising the token LABEL (which erases every object in it) needs --force."
      })
  static final class Init extends TokenTarget implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--so-pin-file", paramLabel = "FILE", description = "File holding the SO PIN (default: $HSMKIT_SO_PIN).")
    Path soPinFile;

    @Option(names = "--pin-file", paramLabel = "FILE", description = "File holding the new user PIN (default: $HSMKIT_USER_PIN).")
    Path pinFile;

    @Option(names = "--force", description = {"Re-initialise the token LABEL if it exists: every object in it is destroyed.",
        "A token action: with the token's quorum value for token above 1 it needs --approval TOKEN."})
    boolean force;

    @Option(names = "--current-pin-file", paramLabel = "FILE",
        description = "With --force: the token's current user PIN, to read its quorum state (default: $HSMKIT_USER_PIN).")
    Path currentPinFile;

    @Option(names = "--approval", paramLabel = "TOKEN",
        description = "With --force: approved quorum token for token/reinitialise label=LABEL, from the token's own quorum state.")
    Path approval;

    @Option(names = "--json", description = "Print one JSON document on stdout.")
    boolean json;

    @Override
    public Integer call() {
      requireLabel(spec);
      if (label.getBytes(StandardCharsets.UTF_8).length > 32) {
        throw new CommandLine.ParameterException(spec.commandLine(), "a token label is at most 32 bytes: " + label);
      }
      requireLibrary();
      long slotId;
      boolean reinitialised;
      try (Pin so = pin(soPinFile, "HSMKIT_SO_PIN", "--so-pin-file", "SO PIN");
           Pin user = pin(pinFile, "HSMKIT_USER_PIN", "--pin-file", "user PIN");
           Pkcs11Module module = Pkcs11Module.open(library)) {
        Slot target = null;
        Slot free = null;
        List<String> labels = new ArrayList<>();
        for (Slot s : module.slots(true)) {
          TokenInfo ti = s.tokenInfo();
          if ((ti.flags() & CKF.TOKEN_INITIALIZED) == 0) {
            if (free == null) {
              free = s;
            }
          } else {
            labels.add("'" + ti.label() + "'");
            if (ti.label().equals(label)) {
              target = s;
            }
          }
        }
        if (target != null && !force) {
          throw new CliException("a token labelled '" + label + "' exists; re-initialising it destroys every object in it: add --force to do so");
        }
        reinitialised = target != null;
        if (reinitialised) {
          guardReinitialise();
        }
        if (target == null) {
          target = free;
        }
        if (target == null) {
          throw new CliException("no uninitialised token in " + library + " (tokens: " + String.join(", ", labels) + ")");
        }
        try {
          module.raw().C_InitToken(target.id(), so.chars(), label);
        } catch (Pkcs11Exception e) {
          throw pinError(e, "SO PIN", "C_InitToken");
        }
        Slot made = null;
        for (Slot s : module.slots(true)) {
          TokenInfo ti = s.tokenInfo();
          if ((ti.flags() & CKF.TOKEN_INITIALIZED) != 0 && ti.label().equals(label)) {
            made = s;
          }
        }
        if (made == null) {
          throw new CliException("the token '" + label + "' was initialised but cannot be found again in " + library);
        }
        try (Session s = made.openSession(true)) {
          s.login(CKU.SO, so.chars());
          try {
            s.raw().C_InitPIN(s.handle(), user.chars());
          } finally {
            s.logout();
          }
        } catch (Pkcs11Exception e) {
          throw pinError(e, "user PIN", "C_InitPIN");
        }
        slotId = made.id();
      }
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("label", label);
        doc.put("slot", slotId);
        doc.put("reinitialised", reinitialised);
        Output.json(out, doc);
      } else {
        out.println((reinitialised ? "re-initialised" : "initialised") + " token '" + label + "' in slot " + slotId + " with its user PIN");
        out.flush();
      }
      return ExitCode.OK;
    }

    /**
     * Re-initialising erases the token, its keys and its quorum state, so the token's own quorum state
     * decides first (service token, operation reinitialise, argument label). Its sessions are closed
     * again before C_InitToken, which refuses a token with open sessions.
     */
    private void guardReinitialise() {
      String pin;
      if (currentPinFile != null) {
        pin = "file:" + currentPinFile;
      } else if (System.getenv("HSMKIT_USER_PIN") != null) {
        pin = "env:HSMKIT_USER_PIN";
      } else {
        throw new CliException("re-initialising '" + label + "' is a quorum-guarded token action: give --current-pin-file FILE "
            + "(its current user PIN) so that its quorum state can be read, or set HSMKIT_USER_PIN");
      }
      try (Token t = TokenOptions.open(TokenOptions.inline(library, label, pin)); QuorumState quorum = QuorumState.onToken(t)) {
        quorum.authorize(Action.of(Service.TOKEN, "reinitialise", Map.of("label", label)), approval);
      }
    }

    private static CliException pinError(Pkcs11Exception e, String which, String step) {
      if (e.isAny(CKR.PIN_INCORRECT)) {
        return new CliException("wrong SO PIN (" + e.ckrName() + ")" + (step.equals("C_InitToken") ? ": nothing was changed" : ""), e);
      }
      if (e.isAny(CKR.PIN_LEN_RANGE, CKR.PIN_INVALID)) {
        return new CliException("the " + which + " is not accepted by the token (" + e.ckrName() + "): check its length", e);
      }
      if (e.isAny(CKR.PIN_LOCKED)) {
        return new CliException("the SO PIN is locked (" + e.ckrName() + ")", e);
      }
      return new CliException(step + " failed: " + e.getMessage(), e);
    }

    static Pin pin(Path file, String env, String option, String what) {
      try {
        if (file != null) {
          return Pin.fromFile(file);
        }
        if (System.getenv(env) == null) {
          throw new CliException("no " + what + ": give " + option + " FILE, or run through ./hsmkit (which sets " + env + ")");
        }
        return Pin.fromEnv(env);
      } catch (IOException | IllegalArgumentException e) {
        throw new CliException("cannot read the " + what + ": " + HsmkitCommand.oneLine(e), e);
      }
    }
  }

  @Command(name = "pin", mixinStandardHelpOptions = true,
      description = {
        "Change the user PIN (C_SetPIN, logged in as the user with --pin-file), or with --reset let the security officer",
        "set a new one (C_InitPIN, logged in with --so-pin-file).",
        "A user action (user/change-pin label=LABEL role=user by=user|so): with the token's quorum value for user above 1",
        "it needs --approval TOKEN. The token's current user PIN (--pin-file) is needed either way, to read its quorum state."
      })
  static final class ChangePin extends TokenTarget implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--pin-file", paramLabel = "FILE", description = "File holding the current user PIN (default: $HSMKIT_USER_PIN).")
    Path pinFile;

    @Option(names = "--new-pin-file", required = true, paramLabel = "FILE", description = "File holding the new user PIN (its first line).")
    Path newPinFile;

    @Option(names = "--reset", description = "The security officer sets the new user PIN (C_InitPIN) instead of the user changing it.")
    boolean reset;

    @Option(names = "--so-pin-file", paramLabel = "FILE", description = "With --reset: file holding the SO PIN (default: $HSMKIT_SO_PIN).")
    Path soPinFile;

    @Option(names = "--approval", paramLabel = "TOKEN",
        description = "Approved quorum token for user/change-pin label=LABEL role=user by=user (by=so with --reset).")
    Path approval;

    @Option(names = "--json", description = "Print one JSON document on stdout.")
    boolean json;

    @Override
    public Integer call() {
      requireLabel(spec);
      if (soPinFile != null && !reset) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--so-pin-file is for --reset");
      }
      requireLibrary();
      if (pinFile == null && System.getenv("HSMKIT_USER_PIN") == null) {
        throw new CliException("no current user PIN: give --pin-file FILE, or run through ./hsmkit (which sets HSMKIT_USER_PIN); "
            + "it is needed to read the token's quorum state" + (reset ? " even for --reset" : ""));
      }
      long slotId;
      try (Pin current = Init.pin(pinFile, "HSMKIT_USER_PIN", "--pin-file", "current user PIN");
           Pin fresh = Init.pin(newPinFile, "HSMKIT_NEW_USER_PIN", "--new-pin-file", "new user PIN");
           Pin so = reset ? Init.pin(soPinFile, "HSMKIT_SO_PIN", "--so-pin-file", "SO PIN") : null) {
        preflight(fresh, so);
        guard();
        // The guard's provider is closed again: the login below is this process's only one.
        try (Pkcs11Module module = Pkcs11Module.open(library)) {
          Slot slot = module.slotByTokenLabel(label).orElseThrow(() -> new CliException("no token labelled '" + label
              + "' in " + library + " any more"));
          try (Session s = slot.openSession(true)) {
            if (reset) {
              login(s, CKU.SO, so, "SO PIN");
              try {
                s.raw().C_InitPIN(s.handle(), fresh.chars());
              } finally {
                s.logout();
              }
            } else {
              login(s, CKU.USER, current, "current user PIN");
              try {
                s.raw().C_SetPIN(s.handle(), current.chars(), fresh.chars());
              } finally {
                s.logout();
              }
            }
          } catch (Pkcs11Exception e) {
            throw newPinError(e, reset ? "C_InitPIN" : "C_SetPIN");
          }
          slotId = slot.id();
        }
      }
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("label", label);
        doc.put("slot", slotId);
        doc.put("role", "user");
        doc.put("by", reset ? "so" : "user");
        Output.json(out, doc);
      } else {
        out.println((reset ? "reset the user PIN of token '" + label + "' (as the security officer)" : "changed the user PIN of token '" + label + "'"));
        out.flush();
      }
      return ExitCode.OK;
    }

    /**
     * What the token would refuse, checked before an approval is spent on it: the new PIN's length
     * against the token's limits (the message names the limits, never the PIN or its length) and, for
     * --reset, the SO PIN (a login and logout). The current user PIN is checked by the guard's login.
     */
    private void preflight(Pin fresh, Pin so) {
      try (Pkcs11Module module = Pkcs11Module.open(library)) {
        Slot slot = module.slotByTokenLabel(label).orElseThrow(() -> new CliException("no token labelled '" + label + "' in " + library
            + "; see hsmkit info"));
        TokenInfo ti = slot.tokenInfo();
        // The UTF-8 length without a String copy of the PIN; the encoded bytes are wiped.
        java.nio.ByteBuffer encoded = StandardCharsets.UTF_8.encode(java.nio.CharBuffer.wrap(fresh.chars()));
        int n = encoded.remaining();
        if (encoded.hasArray()) {
          java.util.Arrays.fill(encoded.array(), (byte) 0);
        }
        if (n < ti.minPinLen() || n > ti.maxPinLen()) {
          throw new CliException("the new user PIN is not accepted by token '" + label + "': it takes " + ti.minPinLen() + " to "
              + ti.maxPinLen() + " bytes; nothing was changed");
        }
        if (so != null) {
          try (Session s = slot.openSession(true)) {
            login(s, CKU.SO, so, "SO PIN");
            s.logout();
          }
        }
      }
    }

    /**
     * The token's own quorum state decides first (service user, operation change-pin; the PINs are never
     * part of the action). Reading it takes a user login, so the current user PIN is needed even for
     * --reset: the state's objects are private to the user.
     */
    private void guard() {
      String pin = pinFile != null ? "file:" + pinFile : "env:HSMKIT_USER_PIN";
      Map<String, String> arguments = new LinkedHashMap<>();
      arguments.put("label", label);
      arguments.put("role", "user");
      arguments.put("by", reset ? "so" : "user");
      Token t;
      try {
        t = TokenOptions.open(TokenOptions.inline(library, label, pin));
      } catch (CliException e) {
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
          if (c instanceof Pkcs11Exception p && p.isAny(CKR.PIN_INCORRECT, CKR.PIN_INVALID, CKR.PIN_LEN_RANGE)) {
            throw new CliException("wrong current user PIN for token '" + label + "' (" + p.ckrName() + "): check "
                + (pinFile != null ? "--pin-file " + pinFile : "HSMKIT_USER_PIN") + "; nothing was changed", e);
          }
        }
        throw e;
      }
      try (t; QuorumState quorum = QuorumState.onToken(t)) {
        quorum.authorize(Action.of(Service.USER, "change-pin", arguments), approval);
      }
    }

    private static void login(Session s, long userType, Pin pin, String which) {
      try {
        s.login(userType, pin.chars());
      } catch (Pkcs11Exception e) {
        if (e.isAny(CKR.PIN_INCORRECT, CKR.PIN_INVALID, CKR.PIN_LEN_RANGE)) {
          throw new CliException("wrong " + which + " (" + e.ckrName() + "): nothing was changed", e);
        }
        if (e.isAny(CKR.PIN_LOCKED)) {
          throw new CliException("the " + which + " is locked (" + e.ckrName() + "): nothing was changed", e);
        }
        throw e;
      }
    }

    private static CliException newPinError(Pkcs11Exception e, String step) {
      if (e.isAny(CKR.PIN_LEN_RANGE, CKR.PIN_INVALID, CKR.PIN_TOO_WEAK)) {
        return new CliException("the new user PIN is not accepted by the token (" + e.ckrName() + "): check its length "
            + "(hsmkit info shows the token's PIN length); nothing was changed", e);
      }
      return new CliException(step + " failed: " + e.getMessage(), e);
    }
  }
}
