package io.hsmkit.kms.http;

import io.hsmkit.kms.Caller;
import io.hsmkit.kms.access.CredentialLookup;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A fixed table of access keys for the tests, standing in for the access part's principals. It
 * hands out a fresh copy of the secret each time and keeps the copies, so that a test can see
 * that the verifier wiped every one.
 */
final class StubCredentials implements CredentialLookup {
  static final String ACCOUNT = "111122223333";
  static final String AKID = "AKIAHSMKITTEST000001";
  static final String SECRET = "hsmkit/test+Secret0000000000000000000000";
  static final Caller ALICE = Caller.of("arn:aws:iam::" + ACCOUNT + ":user/alice", ACCOUNT, null);

  private final Map<String, String> secrets = new ConcurrentHashMap<>(Map.of(AKID, SECRET));
  private final Map<String, Caller> principals = new ConcurrentHashMap<>(Map.of(AKID, ALICE));
  final List<char[]> handedOut = new CopyOnWriteArrayList<>();

  StubCredentials add(String akid, String secret, Caller principal) {
    secrets.put(akid, secret);
    principals.put(akid, principal);
    return this;
  }

  @Override
  public Optional<Credential> find(String accessKeyId) {
    String s = secrets.get(accessKeyId);
    if (s == null) {
      return Optional.empty();
    }
    char[] copy = s.toCharArray();
    handedOut.add(copy);
    return Optional.of(new Credential(principals.get(accessKeyId), copy));
  }

  /** Whether every secret handed out so far has been wiped (all zero). */
  boolean allWiped() {
    for (char[] c : handedOut) {
      for (char x : c) {
        if (x != 0) {
          return false;
        }
      }
    }
    return true;
  }
}
