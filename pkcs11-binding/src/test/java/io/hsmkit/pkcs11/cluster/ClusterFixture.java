package io.hsmkit.pkcs11.cluster;

import io.hsmkit.pkcs11.Pkcs11Module;
import io.hsmkit.pkcs11.session.TokenSelector;
import io.hsmkit.pkcs11.testing.ClusterTokens;
import io.hsmkit.pkcs11.testing.FaultShim;
import io.hsmkit.pkcs11.testing.TestToken;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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

  @Override
  public void close() {
    // As before: the rules cleared before the shim's module closes (clearing again in tokens.close() is harmless).
    shim.clear();
    shimmed.close();
    tokens.close();
  }
}
