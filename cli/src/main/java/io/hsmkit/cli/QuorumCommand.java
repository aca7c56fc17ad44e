package io.hsmkit.cli;

import io.hsmkit.quorum.Action;
import io.hsmkit.quorum.Approval;
import io.hsmkit.quorum.ApprovalToken;
import io.hsmkit.quorum.Officer;
import io.hsmkit.quorum.QuorumAuthorizer;
import io.hsmkit.quorum.RegistrationChallenge;
import io.hsmkit.quorum.Service;
import io.hsmkit.quorum.SignatureScheme;
import io.hsmkit.quorum.store.AuditRecord;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Duration;
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
 * {@code hsmkit quorum}: K-of-N crypto-officer approvals (module quorum-auth) over a file state directory.
 *
 * <p>Officer registration is one process: the core keeps issued challenges in memory, so {@code officers
 * register} writes the challenge and waits for the signature file (or signs with {@code --key}).
 */
@Command(
    name = "quorum",
    mixinStandardHelpOptions = true,
    description = {
      "K-of-N crypto-officer approvals bound to the exact action.",
      "State: --state DIR, default $HSMKIT_HOME/quorum or ~/.hsmkit/quorum (file store; audit HMAC key in DIR/"
          + QuorumState.AUDIT_KEY + ", mode 0600, until the token-backed store replaces it)."
    },
    subcommands = {
      QuorumCommand.Officers.class, QuorumCommand.Values.class, QuorumCommand.TokenVerbs.class, QuorumCommand.Sign.class,
      QuorumCommand.Approve.class, QuorumCommand.Status.class, QuorumCommand.Audit.class
    })
final class QuorumCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE;
  }

  /** {@code --state DIR}, shared by every verb that reads the state. */
  static final class StateOption {
    @Option(names = "--state", paramLabel = "DIR",
        description = "Quorum state directory (default $HSMKIT_HOME/quorum, else ~/.hsmkit/quorum).")
    Path state;

    QuorumState open() {
      return QuorumState.open(state != null ? state : QuorumState.defaultDir(System.getenv()));
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
      subcommands = {Register.class, ListOfficers.class, Remove.class})
  static final class Officers extends Group {}

  @Command(name = "register", mixinStandardHelpOptions = true,
      description = {
        "Register an officer with proof of possession: the officer signs a fresh registration challenge.",
        "With --key, signs the challenge here with that PEM private key. Otherwise writes the challenge to --challenge",
        "and waits (--wait seconds) for the officer's signature of it to appear at --signature (e.g. from openssl).",
        "Once officers exist and user's value is above 1, give --approval TOKEN for",
        "user/register-officer officer=ID scheme=JCA-NAME key-sha256=HEX."
      })
  static final class Register implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StateOption state;

    @Option(names = "--id", required = true, paramLabel = "ID", description = "The officer's id.")
    String id;

    @Option(names = "--scheme", required = true, paramLabel = "SCHEME", description = "ecdsa, rsa, rsa-pss or ed25519 (fixed at registration).")
    String scheme;

    @Option(names = "--public-key", required = true, paramLabel = "PEM", description = "The officer's public key (PEM, BEGIN PUBLIC KEY).")
    Path publicKey;

    @Option(names = "--key", paramLabel = "PEM", description = "Sign the challenge with this PEM private key (software key, for convenience).")
    Path key;

    @Option(names = "--challenge", paramLabel = "FILE", description = "Where to write the challenge bytes the officer signs.")
    Path challenge;

    @Option(names = "--signature", paramLabel = "FILE", description = "Where the officer's signature of the challenge will appear (must not exist yet).")
    Path signature;

    @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "600", description = "How long to wait for --signature (default ${DEFAULT-VALUE}).")
    long waitSeconds;

    @Option(names = "--approval", paramLabel = "TOKEN", description = "Approved token for the registration, when one is needed.")
    Path approval;

    @Option(names = "--json", description = "Print the officer as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
      SignatureScheme s = QuorumState.scheme(scheme);
      PublicKey pub = QuorumState.readPublicKey(publicKey, s);
      PrivateKey priv = key == null ? null : QuorumState.readPrivateKey(key, s);
      if (priv == null && (challenge == null || signature == null)) {
        throw new CliException("give --key PRIVATE.pem, or --challenge FILE and --signature FILE for a signature made elsewhere");
      }
      if (priv == null && Files.exists(signature)) {
        throw new CliException("the signature file " + signature + " exists already; remove it, it cannot be for this new challenge");
      }
      Officer o;
      try (QuorumState st = state.open()) {
        QuorumAuthorizer.Authorization auth = st.authorization(approval);
        RegistrationChallenge c;
        try {
          c = st.authorizer.challenge(id, pub, s);
        } catch (IllegalArgumentException e) {
          throw new CliException(e.getMessage(), e);
        }
        byte[] proof;
        if (priv != null) {
          if (challenge != null) {
            QuorumState.write(challenge, c.toBytes());
          }
          proof = s.sign(priv, c.toBytes());
        } else {
          QuorumState.write(challenge, c.toBytes());
          PrintWriter err = spec.commandLine().getErr();
          err.println("hsmkit: waiting up to " + waitSeconds + "s for the signature of " + challenge + " at " + signature);
          err.flush();
          proof = awaitSignature(c, s, pub);
        }
        o = st.authorizer.register(c, proof, auth);
      }
      if (json) {
        Output.json(spec.commandLine().getOut(), QuorumState.describe(o));
      } else {
        println(spec, "registered officer " + o.id() + " (" + QuorumState.schemeName(o.scheme()) + ", key-sha256 " + o.keyFingerprint() + ")");
      }
      return ExitCode.OK;
    }

    /** Polls for the signature file; a partly written file is read again until it verifies or time is up. */
    private byte[] awaitSignature(RegistrationChallenge c, SignatureScheme s, PublicKey pub) throws InterruptedException {
      Instant deadline = Instant.now().plus(Duration.ofSeconds(waitSeconds));
      byte[] last = null;
      while (true) {
        if (Files.exists(signature)) {
          last = QuorumState.readBytes(signature, "signature");
          if (s.verify(pub, c.toBytes(), last)) {
            return last;
          }
        }
        if (Instant.now().isAfter(deadline)) {
          if (last == null) {
            throw new CliException("no signature appeared at " + signature + " within " + waitSeconds + "s");
          }
          return last; // the core refuses it and records the refusal
        }
        Thread.sleep(100);
      }
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
        Approval a = st.authorizer.receiveApproval(t, officer, sig);
        st.recordApproval(t, a);
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
        for (Approval a : st.approvals(t)) {
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
      description = "Verify the audit chain (hashes and HMACs): exit 0 if it verifies, 1 naming the first broken record.")
  static final class VerifyAudit implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin StateOption state;

    @Override
    public Integer call() {
      long broken;
      int count;
      try (QuorumState st = state.open()) {
        List<AuditRecord> records;
        try {
          records = st.audit.records();
        } catch (IllegalStateException e) {
          throw new CliException("audit log unreadable: " + e.getMessage(), e);
        }
        count = records.size();
        broken = st.audit.verify();
      }
      if (broken >= 0) {
        throw new CliException("audit record " + broken + " of " + count + " does not verify (edited, removed or out of order)");
      }
      println(spec, "audit log verifies: " + count + " records");
      return ExitCode.OK;
    }
  }
}
