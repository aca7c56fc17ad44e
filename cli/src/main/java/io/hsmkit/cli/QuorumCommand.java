package io.hsmkit.cli;

import io.hsmkit.quorum.Action;
import io.hsmkit.quorum.Approval;
import io.hsmkit.quorum.AuditLog;
import io.hsmkit.quorum.ApprovalToken;
import io.hsmkit.quorum.Officer;
import io.hsmkit.quorum.QuorumAuthorizer;
import io.hsmkit.quorum.QuorumWindows;
import io.hsmkit.quorum.RegistrationChallenge;
import io.hsmkit.quorum.Service;
import io.hsmkit.quorum.SignatureScheme;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hsmkit quorum}: K-of-N crypto-officer approvals (module quorum-auth), with the state on the
 * token by default ({@code --config FILE}) or in a directory ({@code --state DIR}).
 *
 * <p>Officer registration takes two runs when the officer signs elsewhere: step 1 writes the challenge
 * (kept pending in the store for the collect window), step 2 presents the file and its signature. With
 * {@code --key} both happen in one run.
 */
@Command(
    name = "quorum",
    mixinStandardHelpOptions = true,
    description = {
      "K-of-N crypto-officer approvals bound to the exact action.",
      "State: on the token by default (--config FILE, else the embedded token), so it travels with the token;",
      "--state DIR keeps it in a directory instead (file store; audit HMAC key in DIR/" + QuorumState.AUDIT_KEY + ", mode 0600)."
    },
    subcommands = {
      QuorumCommand.Officers.class, QuorumCommand.Values.class, QuorumCommand.TokenVerbs.class, QuorumCommand.Sign.class,
      QuorumCommand.Approve.class, QuorumCommand.Status.class, QuorumCommand.Audit.class, QuorumCommand.Prune.class
    })
final class QuorumCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE;
  }

  /** Where the state is: on the token (default; {@code --config FILE} or the embedded token) or {@code --state DIR}. */
  static final class StateOption {
    @Option(names = "--config", paramLabel = "FILE",
        description = "HsmKit configuration of the token that holds the quorum state (default: the embedded token ./hsmkit sets up).")
    Path config;

    @Option(names = "--state", paramLabel = "DIR",
        description = "Keep the quorum state in this directory (file store) instead of on the token.")
    Path state;

    QuorumState open() {
      if (state != null) {
        if (config != null) {
          throw new CliException("give --config (state on the token) or --state DIR (state in a directory), not both");
        }
        return QuorumState.openDirectory(state);
      }
      TokenOptions t = new TokenOptions();
      t.config = config;
      return QuorumState.openToken(t);
    }
  }

  /** Usage for a group without a verb. */
  abstract static class Group implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      spec.commandLine().usage(spec.commandLine().getErr());
      return ExitCode.USAGE;
    }
  }

  static void println(CommandSpec spec, String line) {
    PrintWriter out = spec.commandLine().getOut();
    out.println(line);
    out.flush();
  }

  // ================================================================== officers

  @Command(name = "officers", mixinStandardHelpOptions = true, description = "Register, list and remove crypto officers.",
      subcommands = {Register.class, Rotate.class, ListOfficers.class, Remove.class})
  static final class Officers extends Group {}

  @Command(name = "register", mixinStandardHelpOptions = true,
      description = {
        "Register an officer with proof of possession: the officer signs a fresh registration challenge.",
        "One run: --id --scheme --public-key --key PRIVATE.pem signs the challenge here.",
        "Two runs, the officer signing elsewhere (e.g. with openssl):",
        "  step 1: --id --scheme --public-key --challenge FILE writes the challenge; it stays pending in the",
        "          quorum state for 600 s and is answered once;",
        "  step 2: --challenge FILE --signature SIG registers the officer.",
        "Once officers exist and user's value is above 1, give --approval TOKEN for",
        "user/register-officer officer=ID scheme=JCA-NAME key-sha256=HEX."
      })
  static class Register implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StateOption state;

    @Option(names = "--id", paramLabel = "ID", description = "The officer's id (step 1, or one run).")
    String id;

    @Option(names = "--scheme", paramLabel = "SCHEME", description = "ecdsa, rsa, rsa-pss or ed25519 (fixed at registration).")
    String scheme;

    @Option(names = "--public-key", paramLabel = "PEM", description = "The officer's public key (PEM, BEGIN PUBLIC KEY).")
    Path publicKey;

    @Option(names = "--key", paramLabel = "PEM", description = "Sign the challenge with this PEM private key (software key, for convenience).")
    Path key;

    @Option(names = "--challenge", paramLabel = "FILE", description = "Step 1: where to write the challenge; step 2: the challenge answered.")
    Path challenge;

    @Option(names = "--signature", paramLabel = "FILE", description = "Step 2: the officer's signature of the challenge.")
    Path signature;

    @Option(names = "--approval", paramLabel = "TOKEN", description = "Approved token for the registration, when one is needed.")
    Path approval;

    @Option(names = "--json", description = "Print the officer as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
      if (signature != null) {
        return stepTwo();
      }
      if (id == null || scheme == null || publicKey == null) {
        throw new CliException("give --id, --scheme and --public-key (with --key, or --challenge FILE for step 1), "
            + "or --challenge FILE --signature SIG for step 2");
      }
      SignatureScheme s = QuorumState.scheme(scheme);
      PublicKey pub = QuorumState.readPublicKey(publicKey, s);
      PrivateKey priv = key == null ? null : QuorumState.readPrivateKey(key, s);
      if (priv == null && challenge == null) {
        throw new CliException("give --key PRIVATE.pem, or --challenge FILE to write a challenge the officer signs elsewhere");
      }
      try (QuorumState st = state.open()) {
        QuorumAuthorizer.Authorization auth = st.authorization(approval);
        RegistrationChallenge c;
        try {
          c = st.authorizer.challenge(id, pub, s);
        } catch (IllegalArgumentException e) {
          throw new CliException(e.getMessage(), e);
        }
        if (challenge != null) {
          QuorumState.write(challenge, c.toBytes());
        }
        if (priv == null) {
          println(spec, "challenge " + c.id() + " for " + id + " written to " + challenge + "; valid until "
              + c.issued().plus(QuorumWindows.CLOUDHSM.collect()) + ". Sign it with the officer's key, then run: "
              + "hsmkit quorum officers " + spec.name() + " --challenge " + challenge + " --signature SIG");
          return ExitCode.OK;
        }
        print(enrol(st, c, s.sign(priv, c.toBytes()), auth));
      }
      return ExitCode.OK;
    }

    /** Step 2: the challenge file as written in step 1 and the officer's signature of it. */
    private int stepTwo() {
      if (challenge == null) {
        throw new CliException("--signature needs --challenge FILE, the challenge it signs");
      }
      if (key != null || publicKey != null) {
        throw new CliException("step 2 takes --challenge and --signature only (the challenge names the officer and key)");
      }
      RegistrationChallenge c;
      try {
        c = RegistrationChallenge.fromBytes(QuorumState.readBytes(challenge, "challenge"));
      } catch (IllegalArgumentException e) {
        throw new CliException("not a registration challenge " + challenge + ": " + e.getMessage(), e);
      }
      if (id != null && !id.equals(c.officer().id())) {
        throw new CliException("the challenge " + challenge + " is for officer " + c.officer().id() + ", not " + id);
      }
      byte[] proof = QuorumState.readBytes(signature, "signature");
      try (QuorumState st = state.open()) {
        print(enrol(st, c, proof, st.authorization(approval)));
      }
      return ExitCode.OK;
    }

    /** Registers the officer of the challenge; {@link Rotate} replaces the key of a registered one instead. */
    Officer enrol(QuorumState st, RegistrationChallenge c, byte[] proof, QuorumAuthorizer.Authorization auth) {
      return st.authorizer.register(c, proof, auth);
    }

    String done() {
      return "registered";
    }

    private void print(Officer o) {
      if (json) {
        Output.json(spec.commandLine().getOut(), QuorumState.describe(o));
      } else {
        println(spec, done() + " officer " + o.id() + " (" + QuorumState.schemeName(o.scheme()) + ", key-sha256 " + o.keyFingerprint() + ")");
      }
    }
  }

  @Command(name = "rotate", mixinStandardHelpOptions = true,
      description = {
        "Replace a registered officer's key, with proof of possession of the new key; the same options and two",
        "steps as register. Needs --approval TOKEN for user/rotate-officer-key officer=ID scheme=JCA-NAME",
        "key-sha256=HEX (of the new key) when user's value is above 1. Signatures with the old key stop counting."
      })
  static final class Rotate extends Register {
    @Override
    Officer enrol(QuorumState st, RegistrationChallenge c, byte[] proof, QuorumAuthorizer.Authorization auth) {
      return st.authorizer.rotate(c, proof, auth);
    }

    @Override
    String done() {
      return "rotated";
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the registered officers.")
  static final class ListOfficers implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StateOption state;

    @Option(names = "--json", description = "Print one JSON document.")
    boolean json;

    @Override
    public Integer call() {
      List<Map<String, Object>> officers = new ArrayList<>();
      try (QuorumState st = state.open()) {
        st.authorizer.officers().values().stream().sorted((a, b) -> a.id().compareTo(b.id()))
            .forEach(o -> officers.add(QuorumState.describe(o)));
      }
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        Output.json(out, Map.of("officers", officers));
        return ExitCode.OK;
      }
      if (officers.isEmpty()) {
        println(spec, "No officers registered; register one with hsmkit quorum officers register");
        return ExitCode.OK;
      }
      List<List<String>> rows = new ArrayList<>();
      for (Map<String, Object> o : officers) {
        rows.add(List.of((String) o.get("id"), (String) o.get("scheme"), (String) o.get("keySha256")));
      }
      Output.table(out, List.of("ID", "SCHEME", "KEY-SHA256"), rows);
      return ExitCode.OK;
    }
  }

  @Command(name = "remove", mixinStandardHelpOptions = true,
      description = "Deregister an officer; an approved token for user/deregister-officer officer=ID when user's value is above 1.")
  static final class Remove implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StateOption state;

    @Option(names = "--id", required = true, paramLabel = "ID", description = "The officer to remove.")
    String id;

    @Option(names = "--approval", paramLabel = "TOKEN", description = "The approved token file.")
    Path approval;

    @Override
    public Integer call() {
      try (QuorumState st = state.open()) {
        st.authorizer.deregister(id, st.authorization(approval));
      }
      println(spec, "removed officer " + id);
      return ExitCode.OK;
    }
  }

  // ================================================================== values

  @Command(name = "values", mixinStandardHelpOptions = true, description = "Show and set the quorum value K of each service.",
      subcommands = {ShowValues.class, SetValue.class})
  static final class Values extends Group {}

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Show each service's quorum value (1 = off).")
  static final class ShowValues implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StateOption state;

    @Option(names = "--json", description = "Print one JSON document.")
    boolean json;

    @Override
    public Integer call() {
      Map<String, Object> values = new LinkedHashMap<>();
      int officers;
      try (QuorumState st = state.open()) {
        st.authorizer.policy().values().forEach((s, k) -> values.put(s.wireName(), k));
        officers = st.authorizer.officers().size();
      }
      if (json) {
        Output.json(spec.commandLine().getOut(), Map.of("values", values, "officers", officers));
        return ExitCode.OK;
      }
      List<List<String>> rows = new ArrayList<>();
      values.forEach((s, k) -> rows.add(List.of(s, k.toString())));
      Output.table(spec.commandLine().getOut(), List.of("SERVICE", "VALUE"), rows);
      return ExitCode.OK;
    }
  }

  @Command(name = "set", mixinStandardHelpOptions = true,
      description = {
        "Set a service's quorum value. Needs an approved token for quorum/set-value service=S value=K",
        "unless quorum's value is 1; changing user always needs one."
      })
  static final class SetValue implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StateOption state;

    @Option(names = "--service", required = true, paramLabel = "S", description = "user, quorum, key-management or token.")
    String service;

    @Option(names = "--value", required = true, paramLabel = "K", description = "1 (off) up to min(8, officers).")
    int value;

    @Option(names = "--approval", paramLabel = "TOKEN", description = "The approved token file.")
    Path approval;

    @Override
    public Integer call() {
      Service s = service(service);
      try (QuorumState st = state.open()) {
        st.authorizer.setValue(s, value, st.authorization(approval));
      }
      println(spec, "set " + s.wireName() + " = " + value);
      return ExitCode.OK;
    }
  }

  static Service service(String name) {
    try {
      return Service.fromWireName(name);
    } catch (IllegalArgumentException e) {
      throw new CliException(e.getMessage(), e);
    }
  }

  // ================================================================== tokens

  @Command(name = "token", mixinStandardHelpOptions = true, description = "Request approval tokens.", subcommands = {CreateToken.class})
  static final class TokenVerbs extends Group {}

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Request a token for one exact action; writes its text form for the officers to sign.")
  static final class CreateToken implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StateOption state;

    @Option(names = "--service", required = true, paramLabel = "S", description = "user, quorum, key-management or token.")
    String service;

    @Option(names = "--operation", required = true, paramLabel = "OP", description = "The operation, e.g. create-user.")
    String operation;

    @Option(names = "--arg", paramLabel = "NAME=VALUE", description = "An argument of the action (repeatable).")
    Map<String, String> args = new LinkedHashMap<>();

    @Option(names = "--requester", required = true, paramLabel = "NAME", description = "Who requests the action.")
    String requester;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write the token (text form).")
    Path out;

    @Override
    public Integer call() {
      Action action;
      try {
        action = Action.of(service(service), operation, args);
      } catch (IllegalArgumentException e) {
        throw new CliException(e.getMessage(), e);
      }
      ApprovalToken t;
      try (QuorumState st = state.open()) {
        t = st.authorizer.requestToken(action, requester);
      }
      QuorumState.write(out, t.toText().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      println(spec, "token " + t.id() + " for " + action + " written to " + out + "; expires " + t.expires());
      return ExitCode.OK;
    }
  }

  @Command(name = "sign", mixinStandardHelpOptions = true,
      description = "Sign a token with a software PEM private key (the same bytes openssl signs; see QUORUM.md).")
  static final class Sign implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--token", required = true, paramLabel = "FILE", description = "The token file.")
    Path token;

    @Option(names = "--key", required = true, paramLabel = "PEM", description = "The officer's private key (PEM).")
    Path key;

    @Option(names = "--scheme", required = true, paramLabel = "SCHEME", description = "ecdsa, rsa, rsa-pss or ed25519.")
    String scheme;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write the signature.")
    Path out;

    @Override
    public Integer call() throws GeneralSecurityException {
      ApprovalToken t = QuorumState.readToken(token);
      SignatureScheme s = QuorumState.scheme(scheme);
      QuorumState.write(out, s.sign(QuorumState.readPrivateKey(key, s), t.toBytes()));
      println(spec, "signed token " + t.id() + " (" + t.service().wireName() + "/" + t.operation() + ") into " + out);
      return ExitCode.OK;
    }
  }

  @Command(name = "approve", mixinStandardHelpOptions = true,
      description = "Record an officer's signature of a pending token (checked against the officer's registered key).")
  static final class Approve implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StateOption state;

    @Option(names = "--token", required = true, paramLabel = "FILE", description = "The token file.")
    Path token;

    @Option(names = "--officer", required = true, paramLabel = "ID", description = "The officer who signed.")
    String officer;

    @Option(names = "--signature", required = true, paramLabel = "FILE", description = "The officer's signature of the token.")
    Path signature;

    @Override
    public Integer call() {
      ApprovalToken t = QuorumState.readToken(token);
      byte[] sig = QuorumState.readBytes(signature, "signature");
      try (QuorumState st = state.open()) {
        Officer o = st.authorizer.officers().get(officer);
        if (o == null) {
          throw new CliException("no officer " + officer + " is registered");
        }
        if (st.store.pending().stream().noneMatch(p -> p.id().equals(t.id()))) {
          throw new CliException("token " + t.id() + " is not pending here (used, withdrawn, or from another state directory)");
        }
        if (!o.scheme().verify(o.publicKey(), t.toBytes(), sig)) {
          throw new CliException("the signature in " + signature + " is not " + officer + "'s " + QuorumState.schemeName(o.scheme())
              + " signature of token " + t.id());
        }
        st.authorizer.receiveApproval(t, officer, sig); // kept in the store
      }
      println(spec, "recorded " + officer + "'s approval of token " + t.id());
      return ExitCode.OK;
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true, description = "A token's approvals so far and how many are missing.")
  static final class Status implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StateOption state;

    @Option(names = "--token", required = true, paramLabel = "FILE", description = "The token file.")
    Path token;

    @Option(names = "--json", description = "Print one JSON document.")
    boolean json;

    @Override
    public Integer call() {
      ApprovalToken t = QuorumState.readToken(token);
      Map<String, Object> doc = new LinkedHashMap<>();
      try (QuorumState st = state.open()) {
        Map<String, Officer> officers = st.authorizer.officers();
        int k = st.authorizer.policy().value(t.service());
        Set<String> counted = new LinkedHashSet<>();
        Set<String> invalid = new LinkedHashSet<>();
        for (Approval a : st.authorizer.approvals(t)) {
          Officer o = officers.get(a.officerId());
          boolean ok = o != null && o.scheme().verify(o.publicKey(), t.toBytes(), a.signature())
              && !a.receivedAt().isAfter(t.expires()) && !a.receivedAt().isBefore(t.created());
          (ok ? counted : invalid).add(a.officerId());
        }
        invalid.removeAll(counted);
        boolean used = st.store.isConsumed(t.nonce());
        boolean expired = Instant.now().isAfter(t.expires());
        doc.put("token", t.id());
        doc.put("service", t.service().wireName());
        doc.put("operation", t.operation());
        doc.put("requester", t.requester());
        doc.put("actionSha256", HexFormat.of().formatHex(t.actionDigest()));
        doc.put("expires", t.expires().toString());
        doc.put("state", used ? "used" : expired && counted.size() < k ? "expired" : "pending");
        doc.put("required", k);
        doc.put("officers", officers.size());
        doc.put("approvedBy", List.copyOf(counted));
        doc.put("notCounted", List.copyOf(invalid));
        doc.put("missing", Math.max(0, k - counted.size()));
        doc.put("complete", counted.size() >= k);
      }
      if (json) {
        Output.json(spec.commandLine().getOut(), doc);
        return ExitCode.OK;
      }
      Map<String, Object> f = new LinkedHashMap<>();
      doc.forEach((name, v) -> f.put(name, v instanceof List<?> l ? (l.isEmpty() ? "-" : String.join(", ", l.stream().map(Object::toString).toList())) : v));
      f.put("complete", Boolean.TRUE.equals(doc.get("complete")) ? "yes" : "no");
      Output.fields(spec.commandLine().getOut(), f);
      return ExitCode.OK;
    }
  }

  // ================================================================== audit

  @Command(name = "audit", mixinStandardHelpOptions = true, description = "The tamper-evident audit log.", subcommands = {VerifyAudit.class})
  static final class Audit extends Group {}

  @Command(name = "verify", mixinStandardHelpOptions = true,
      description = {
        "Verify the audit chain (hashes and MACs) and its end against the checkpoint the log keeps:",
        "exit 0 if it verifies, 1 naming the first broken record or the records missing at the end."
      })
  static final class VerifyAudit implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StateOption state;

    @Override
    public Integer call() {
      AuditLog.Verification v;
      try (QuorumState st = state.open()) {
        try {
          v = st.audit.check();
        } catch (IllegalStateException e) {
          throw new CliException("audit log unreadable: " + e.getMessage(), e);
        }
      }
      if (!v.ok()) {
        throw new CliException(v.problem());
      }
      println(spec, "audit log verifies: " + v.records() + " records, checkpoint at " + v.checkpointCount());
      return ExitCode.OK;
    }
  }

  // ================================================================== prune

  @Command(name = "prune", mixinStandardHelpOptions = true,
      description = {
        "Forget spent and expired tokens without allowing their replay: raises the floor (tokens created",
        "before it are refused) to now minus --older-than, then removes consumed tokens, expired pending",
        "tokens, their approvals and expired registration challenges created before it."
      })
  static final class Prune implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StateOption state;

    @Option(names = "--older-than", paramLabel = "SECONDS", defaultValue = "1200",
        description = "Horizon: at least the collect window (600 s); default ${DEFAULT-VALUE}, collect plus use window, refuses no usable token.")
    long olderThan;

    @Override
    public Integer call() {
      QuorumAuthorizer.Pruned p;
      try (QuorumState st = state.open()) {
        try {
          p = st.authorizer.prune(Instant.now().minusSeconds(olderThan));
        } catch (IllegalArgumentException e) {
          throw new CliException(e.getMessage(), e);
        }
      }
      println(spec, "pruned " + p.consumed() + " consumed, " + p.pending() + " expired pending, " + p.approvals() + " approvals, "
          + p.challenges() + " challenges; tokens created before " + p.floor() + " are refused");
      return ExitCode.OK;
    }
  }
}
