package io.hsmkit.pkcs11.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.constants.CKA;
import io.hsmkit.pkcs11.raw.Attribute;
import io.hsmkit.pkcs11.session.TokenSelector;
import io.hsmkit.pkcs11.testing.ClusterTokens;
import io.hsmkit.pkcs11.testing.FaultShim;
import io.hsmkit.pkcs11.testing.TestToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The three clustered tokens of {@link ClusterTokens} as binding members: "a" and "b" through
 * libsofthsm2.so, "c" through the fault shim.
 */
final class ClusterFixture implements AutoCloseable {
  static final byte[] P256 = ClusterAdmin.P256;

  private final ClusterTokens tokens;
  final TestToken token;
  final String[] labels;
  final FaultShim shim;
  final Pkcs11Module direct;
  final Pkcs11Module shimmed;

  ClusterFixture(String name) {
    tokens = new ClusterTokens(name);
    token = tokens.token;
    labels = tokens.labels;
    shim = tokens.shim;
    direct = tokens.direct;
    shimmed = Pkcs11Module.open(FaultShim.path());
  }

  ClusterAdmin.SoToken so(int i) {
    return tokens.so(i);
  }

  MemberConfig member(int i) {
    String lib = i == 2 ? FaultShim.path() : token.library();
    return new MemberConfig(String.valueOf((char) ('a' + i)), lib, TokenSelector.label(labels[i]), PinSource.of(token.userPin()));
  }

  List<MemberConfig> members() {
    List<MemberConfig> m = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      m.add(member(i));
    }
    return m;
  }

  ClusterConfig config() {
    return ClusterConfig.of(members()).withHealthInterval(Duration.ofMillis(100)).withSessionsPerMember(8);
  }

  static void await(String what, Duration limit, BooleanSupplier cond) throws InterruptedException {
    ClusterTokens.await(what, limit, cond);
  }

  /** Whether member {@code m} holds a private object (CKA_PRIVATE true: a secret or private key) with CKA_ID {@code id}. */
  static boolean has(Member m, byte[] id) {
    return m.pool.execute(s -> s.findObjects(2, Attribute.bytes(CKA.ID, id)).length > 0);
  }

  /**
   * The output of pkcs11-tool (OpenSC) on member {@code i} with {@code args} (after --module and
   * --token-label), which must exit 0; the user PIN is in the environment as CLUSTER_TEST_PIN
   * (for {@code --pin env:CLUSTER_TEST_PIN}), never on the command line.
   */
  String pkcs11Tool(int i, String... args) throws InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("pkcs11-tool", "--module", token.library(), "--token-label", labels[i]));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("SOFTHSM2_CONF", token.conf());
    pb.environment().put("CLUSTER_TEST_PIN", new String(token.userPin()));
    pb.redirectErrorStream(true);
    try {
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(out).isZero();
      return out;
    } catch (IOException e) {
      throw new AssertionError("pkcs11-tool is missing: run `bash softhsm-config/install.sh` (it installs opensc)", e);
    }
  }

  @Override
  public void close() {
    // As before: the rules cleared before the shim's module closes (clearing again in tokens.close() is harmless).
    shim.clear();
    shimmed.close();
    tokens.close();
  }
}
