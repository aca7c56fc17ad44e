package io.hsmkit.cli;

import io.hsmkit.pkcs11.Pkcs11Exception;
import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.cluster.Cluster;
import io.hsmkit.pkcs11.cluster.ClusterAdmin;
import io.hsmkit.pkcs11.cluster.ClusterConfigFile;
import io.hsmkit.pkcs11.cluster.ClusterException;
import io.hsmkit.pkcs11.cluster.Member;
import io.hsmkit.pkcs11.cluster.MemberConfig;
import io.hsmkit.pkcs11.cluster.MemberHealth;
import io.hsmkit.quorum.Action;
import io.hsmkit.quorum.QuorumAuthorizer;
import io.hsmkit.quorum.QuorumRules;
import io.hsmkit.quorum.Service;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hsmkit cluster}: several tokens as one HSM (the binding's {@code io.hsmkit.pkcs11.cluster}).
 * {@code init}, {@code add} and {@code remove} are SO operations and {@code token} quorum actions;
 * {@code status} and {@code sync} log in as the user.
 */
@Command(
    name = "cluster",
    mixinStandardHelpOptions = true,
    description = {"Several tokens as one HSM: replicated keys, failover, members' health."},
    subcommands = {ClusterCommand.Status.class, ClusterCommand.Init.class, ClusterCommand.Add.class, ClusterCommand.Remove.class,
        ClusterCommand.Sync.class})
final class ClusterCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE;
  }

  /** {@code --config FILE}: the cluster file (see ClusterConfigFile). */
  static final class ConfigOption {
    @Option(names = "--config", paramLabel = "FILE", required = true,
        description = "The cluster file: cluster.members = a, b, c; member.a.library/tokenLabel/pin/soPin = ...")
    Path file;

    ClusterConfigFile read() {
      try {
        return ClusterConfigFile.read(file);
      } catch (IOException e) {
        throw new CliException("cannot read the cluster file " + file + ": " + e.getMessage(), e);
      } catch (IllegalArgumentException e) {
        throw new CliException(e.getMessage(), e);
      }
    }
  }

  /** {@code --approval FILE --state DIR}: the quorum for the SO verbs, as for hsmkit quorum. */
  static final class QuorumOptions {
    @Option(names = "--approval", paramLabel = "TOKEN", description = "An approved token for this action (hsmkit quorum token request/approve).")
    Path approval;

    @Option(names = "--state", paramLabel = "DIR", description = "Quorum state directory (file store; default: the quorum state on the embedded token, as for hsmkit quorum).")
    Path state;

    /** Runs the quorum check for {@code action}: the approval is consumed; without one, the token quorum must be 1. */
    void authorize(Action action) {
      try (QuorumState st = QuorumState.openDirectory(state != null ? state : defaultStateDir(System.getenv()))) {
        QuorumAuthorizer.Authorization auth = st.authorization(approval);
        if (auth == null) {
          if (!QuorumRules.approvalOptional(action, st.authorizer.policy())) {
            throw new CliException("APPROVAL_REQUIRED: cluster " + action.operation() + " is a token action and the token quorum is "
                + st.authorizer.policy().value(Service.TOKEN) + "; get it approved (" + QuorumState.requestCommand(action)
                + " ...) and pass the token with --approval");
          }
          return;
        }
        st.authorizer.authorize(action, auth.token(), auth.approvals());
      }
    }
  }

  /**
   * The cluster's quorum state when --state is not given: $HSMKIT_HOME/quorum, else
   * ~/.hsmkit/quorum. (A cluster's members are several tokens, so its state is not on one of them.)
   */
  static Path defaultStateDir(Map<String, String> env) {
    String home = env.get("HSMKIT_HOME");
    Path base = home != null && !home.isBlank() ? Path.of(home) : Path.of(System.getProperty("user.home"), ".hsmkit");
    return base.resolve("quorum");
  }

  /** What an approval binds for init: the member names, in order. */
  static Map<String, String> describe(ClusterConfigFile f) {
    Map<String, String> args = new LinkedHashMap<>();
    args.put("members", String.join(",", f.config().members().stream().map(MemberConfig::name).toList()));
    return args;
  }

  /** Opens SO access to a member's token, with the SO PIN the file names. */
  static ClusterAdmin.SoToken so(ClusterConfigFile f, MemberConfig m, List<Pkcs11Module> opened) {
    var pin = f.soPin(m.name()).orElseThrow(() -> new CliException("the cluster file gives no member." + m.name() + ".soPin"));
    Pkcs11Module module = Pkcs11Module.open(m.library());
    opened.add(module);
    return new ClusterAdmin.SoToken(module, m.token(), pin.get());
  }

  /** Checked before the quorum, so that an approval is not used up on a file that cannot work. */
  static void requireSoPins(ClusterConfigFile f, List<MemberConfig> ms) {
    for (MemberConfig m : ms) {
      if (f.soPin(m.name()).isEmpty()) {
        throw new CliException("the cluster file gives no member." + m.name() + ".soPin");
      }
    }
  }

  /**
   * The frame of the SO verbs: the SO PINs of {@code members} are checked and the quorum asked
   * before any token is touched; then {@code work} runs, and the modules it opened (through
   * {@link #so}) are closed however it ends; its failures are explained.
   */
  static void asSo(ClusterConfigFile f, List<MemberConfig> members, QuorumOptions quorum, Action action, Consumer<List<Pkcs11Module>> work) {
    requireSoPins(f, members);
    quorum.authorize(action);
    List<Pkcs11Module> opened = new ArrayList<>();
    try {
      work.accept(opened);
    } catch (RuntimeException e) {
      throw explain(e);
    } finally {
      closeAll(opened);
    }
  }

  static MemberConfig member(ClusterConfigFile f, String name) {
    return f.config().members().stream().filter(m -> m.name().equals(name)).findFirst()
        .orElseThrow(() -> new CliException("no member " + name + " in the cluster file"));
  }

  static RuntimeException explain(RuntimeException e) {
    if (e instanceof Pkcs11Exception p && p.is(io.hsmkit.pkcs11.constants.CKR.PIN_INCORRECT)) {
      return new CliException("wrong SO PIN (CKR_PIN_INCORRECT): nothing was changed", e);
    }
    if (e instanceof IllegalStateException || e instanceof ClusterException || e instanceof Pkcs11Exception) {
      return new CliException(e.getMessage(), e);
    }
    return e;
  }

  /**
   * Makes (if missing) the identity key of each of {@code ms} and checks it against the file's pin:
   * a mismatch refuses, naming the member, before anything else changes; a member the file pins
   * nothing for (a file older than identities) is pinned now, on first use, and said so. Returns
   * member name -> fingerprint, with the new pins appended to the file with the cluster id.
   */
  static Map<String, String> pinIdentities(List<String> report, Path file, ClusterConfigFile f, Map<String, ClusterAdmin.SoToken> so,
      String verb) {
    Map<String, String> fps = new LinkedHashMap<>();
    Map<String, String> fresh = new LinkedHashMap<>();
    for (Map.Entry<String, ClusterAdmin.SoToken> e : so.entrySet()) {
      String name = e.getKey();
      ClusterAdmin.Identity id = ClusterAdmin.ensureIdentity(e.getValue());
      var pinned = f.identity(name);
      if (pinned.isPresent()) {
        ClusterAdmin.checkPinned(name, pinned.get(), id.fingerprint());
      } else {
        fresh.put(name, id.fingerprint());
      }
      fps.put(name, id.fingerprint());
    }
    String clusterId = f.clusterId() == null ? newClusterId() : null;
    if (!fresh.isEmpty() || clusterId != null) {
      StringBuilder add = new StringBuilder();
      add.append("# pinned by hsmkit cluster ").append(verb).append(' ').append(java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS))
          .append(": identity = SHA-256 of the member identity key's CKA_EC_POINT\n");
      if (clusterId != null) {
        add.append("cluster.id = ").append(clusterId).append('\n');
      }
      for (Map.Entry<String, String> e : fresh.entrySet()) {
        add.append("member.").append(e.getKey()).append(".identity = ").append(e.getValue()).append('\n');
      }
      try {
        String text = java.nio.file.Files.readString(file);
        java.nio.file.Files.writeString(file, (text.isEmpty() || text.endsWith("\n") ? "" : "\n") + add, java.nio.file.StandardOpenOption.APPEND);
      } catch (IOException e) {
        throw new CliException("cannot pin the identities in " + file + ": " + e.getMessage(), e);
      }
    }
    for (Map.Entry<String, String> e : fps.entrySet()) {
      report.add("member " + e.getKey() + ": identity " + e.getValue()
          + (fresh.containsKey(e.getKey()) ? " pinned in " + file + " (first use: compare it with the token)" : " matches the pinned one"));
    }
    return fps;
  }

  /** 16 random bytes in hex: the cluster's id, bound into every join transcript. */
  static String newClusterId() {
    byte[] b = new byte[16];
    new java.security.SecureRandom().nextBytes(b);
    return java.util.HexFormat.of().formatHex(b);
  }

  /** The cluster id to use: the file's, or the one {@link #pinIdentities} just appended. */
  static String clusterId(Path file) {
    try {
      return java.util.Objects.requireNonNull(ClusterConfigFile.read(file).clusterId());
    } catch (IOException e) {
      throw new CliException("cannot read the cluster file " + file + ": " + e.getMessage(), e);
    }
  }

  static void closeAll(List<Pkcs11Module> modules) {
    for (Pkcs11Module m : modules) {
      m.close();
    }
  }

  @Command(name = "init", mixinStandardHelpOptions = true,
      description = "Make the cluster wrapping key on the first member and give it to every other (SO; a token quorum action).")
  static final class Init implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ConfigOption config;
    @Mixin QuorumOptions quorum;

    @Override
    public Integer call() {
      ClusterConfigFile f = config.read();
      List<MemberConfig> ms = f.config().members();
      List<String> report = new ArrayList<>(); // printed once the verb succeeded
      asSo(f, ms, quorum, Action.of(Service.TOKEN, "cluster-init", describe(f)), opened -> {
        Map<String, ClusterAdmin.SoToken> so = new LinkedHashMap<>();
        try {
          for (MemberConfig m : ms) {
            so.put(m.name(), so(f, m, opened));
          }
          // identities first: a member that is not the pinned token stops init before any key is made
          Map<String, String> fps = pinIdentities(report, config.file, f, so, "init");
          String clusterId = clusterId(config.file);
          ClusterAdmin.SoToken first = so.get(ms.get(0).name());
          ClusterAdmin.initialize(first);
          report.forEach(l -> QuorumCommand.println(spec, l));
          QuorumCommand.println(spec, "member " + ms.get(0).name() + ": cluster wrapping key made");
          ClusterAdmin.Party from = new ClusterAdmin.Party(ms.get(0).name(), first, fps.get(ms.get(0).name()));
          for (MemberConfig m : ms.subList(1, ms.size())) {
            ClusterAdmin.join(clusterId, from, new ClusterAdmin.Party(m.name(), so.get(m.name()), fps.get(m.name())));
            QuorumCommand.println(spec, "member " + m.name() + ": joined (cluster wrapping key received from " + ms.get(0).name()
                + " by ECDH, both points signed by the pinned identity keys)");
          }
        } finally {
          so.values().forEach(ClusterAdmin.SoToken::close);
        }
      });
      return ExitCode.OK;
    }
  }

  @Command(name = "add", mixinStandardHelpOptions = true,
      description = "Give a new member the cluster wrapping key from a member that has it (SO; a token quorum action); its keys come with the next sync.")
  static final class Add implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ConfigOption config;
    @Mixin QuorumOptions quorum;

    @Option(names = "--member", required = true, paramLabel = "NAME", description = "The new member (in the cluster file).")
    String name;

    @Option(names = "--from", paramLabel = "NAME", description = "A member that has the key (default: the first other member).")
    String from;

    @Override
    public Integer call() {
      ClusterConfigFile f = config.read();
      MemberConfig target = member(f, name);
      MemberConfig source = from != null ? member(f, from)
          : f.config().members().stream().filter(m -> !m.name().equals(name)).findFirst()
              .orElseThrow(() -> new CliException("the cluster file has no other member to take the key from"));
      Map<String, String> args = new LinkedHashMap<>();
      args.put("member", name);
      args.put("from", source.name());
      List<String> report = new ArrayList<>(); // printed once the join succeeded
      asSo(f, List.of(source, target), quorum, Action.of(Service.TOKEN, "cluster-add", args), opened -> {
        try (ClusterAdmin.SoToken s = so(f, source, opened); ClusterAdmin.SoToken t = so(f, target, opened)) {
          Map<String, ClusterAdmin.SoToken> so = new LinkedHashMap<>();
          so.put(source.name(), s);
          so.put(target.name(), t);
          Map<String, String> fps = pinIdentities(report, config.file, f, so, "add");
          ClusterAdmin.join(clusterId(config.file), new ClusterAdmin.Party(source.name(), s, fps.get(source.name())),
              new ClusterAdmin.Party(target.name(), t, fps.get(target.name())));
        }
      });
      report.forEach(l -> QuorumCommand.println(spec, l));
      QuorumCommand.println(spec, "member " + name + ": joined (cluster wrapping key received from " + source.name()
          + " by ECDH, both points signed by the pinned identity keys); run hsmkit cluster sync");
      return ExitCode.OK;
    }
  }

  @Command(name = "remove", mixinStandardHelpOptions = true,
      description = "Destroy the cluster wrapping key on a member that leaves (SO; a token quorum action); then take it out of the cluster file.")
  static final class Remove implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ConfigOption config;
    @Mixin QuorumOptions quorum;

    @Option(names = "--member", required = true, paramLabel = "NAME", description = "The member that leaves.")
    String name;

    @Override
    public Integer call() {
      ClusterConfigFile f = config.read();
      MemberConfig target = member(f, name);
      Map<String, String> args = new LinkedHashMap<>();
      args.put("member", name);
      asSo(f, List.of(target), quorum, Action.of(Service.TOKEN, "cluster-remove", args), opened -> {
        try (ClusterAdmin.SoToken t = so(f, target, opened)) {
          ClusterAdmin.leave(t);
        }
      });
      QuorumCommand.println(spec, "member " + name + ": cluster wrapping key destroyed; its replicated keys can no longer leave it");
      return ExitCode.OK;
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "Each member's health, replicated key count, lag and pending tombstones (deletions it has not seen).")
  static final class Status implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ConfigOption config;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() {
      ClusterConfigFile f = config.read();
      List<Cluster.MemberStatus> st;
      Map<String, Integer> pending = new LinkedHashMap<>();
      try (Cluster c = Cluster.open(f.config())) {
        st = c.status();
        for (Member m : c.members()) {
          pending.put(m.name(), c.pendingDeletions(m.name())); // deletions the member has not seen yet (tombstones in the tokens)
        }
      } catch (RuntimeException e) {
        throw explain(e);
      }
      int most = st.stream().mapToInt(Cluster.MemberStatus::keys).max().orElse(0);
      if (json) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Cluster.MemberStatus s : st) {
          Map<String, Object> r = new LinkedHashMap<>();
          r.put("member", s.name());
          r.put("health", s.health().name());
          r.put("keys", s.keys() < 0 ? null : s.keys());
          r.put("lag", s.keys() < 0 ? null : most - s.keys());
          r.put("tombstones", pending.get(s.name()));
          r.put("error", s.lastError());
          rows.add(r);
        }
        Output.json(spec.commandLine().getOut(), Map.of("minReplicas", f.config().minReplicas(), "members", rows));
      } else {
        List<List<String>> rows = new ArrayList<>();
        for (Cluster.MemberStatus s : st) {
          rows.add(List.of(s.name(), s.health().name(), s.keys() < 0 ? "-" : Integer.toString(s.keys()),
              s.keys() < 0 ? "-" : Integer.toString(most - s.keys()), Integer.toString(pending.get(s.name())),
              s.lastError() == null ? "" : s.lastError()));
        }
        Output.table(spec.commandLine().getOut(), List.of("MEMBER", "HEALTH", "KEYS", "LAG", "TOMBSTONES", "LAST-ERROR"), rows);
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "sync", mixinStandardHelpOptions = true,
      description = "Apply the tombstones in the tokens (deleted keys) and copy to every member the replicated keys another member has and it lacks.")
  static final class Sync implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ConfigOption config;

    @Override
    public Integer call() {
      ClusterConfigFile f = config.read();
      try (Cluster c = Cluster.open(f.config())) {
        for (Member m : c.members()) {
          if (m.health() != MemberHealth.HEALTHY) {
            QuorumCommand.println(spec, "member " + m.name() + ": " + m.health() + " (" + m.lastError() + "), not synced");
            continue;
          }
          int n = c.sync(m);
          QuorumCommand.println(spec, "member " + m.name() + ": " + n + " keys copied or deleted");
        }
      } catch (RuntimeException e) {
        throw explain(e);
      }
      return ExitCode.OK;
    }
  }
}
