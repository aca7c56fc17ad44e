package io.hsmkit.kms.server;

import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.access.AccessControl;
import io.hsmkit.kms.access.AccessRequest;
import io.hsmkit.kms.access.GrantTokenLookup;
import io.hsmkit.kms.access.PolicyAccessControl;
import io.hsmkit.kms.access.QuorumApprovals;
import io.hsmkit.kms.http.QuorumApprovalHeader;
import io.hsmkit.kms.store.Database;
import io.hsmkit.quorum.ApprovalToken;
import io.hsmkit.quorum.Action;
import io.hsmkit.quorum.QuorumAuthorizer;
import io.hsmkit.quorum.QuorumException;
import io.hsmkit.quorum.Service;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.util.Base64;
import java.sql.ResultSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The access control the server hands the KMS service: {@link PolicyAccessControl} (key policy,
 * identity policy, grants; Deny wins), plus two things the parts leave to the wiring.
 *
 * <ul>
 *   <li><b>Grant tokens.</b> The core issues a grant token as an opaque random string stored with
 *       the grant row, and a grant is effective as soon as CreateGrant commits (it is in
 *       {@link AccessRequest#grants()} at once). So a token adds no grant: each one must name a
 *       grant the database holds (else InvalidGrantTokenException, as AWS answers a token it
 *       cannot read). {@link PolicyAccessControl} checks that through {@link #grantTokensIn}, the
 *       lookup the server gives it.
 *   <li><b>Quorum guards.</b> With a {@link QuorumAuthorizer}, ScheduleKeyDeletion, PutKeyPolicy and
 *       ImportKeyMaterial ({@code key-management}), and the custom key store changes ({@code token}),
 *       pass where the value asks for no approval (value 1), or with an approval token carried in
 *       the SigV4-signed {@link QuorumApprovalHeader} whose action is the exact call (service,
 *       operation, key ARN or store, and the call's arguments: {@link #keyManagementAction}) and
 *       which enough officers approved; the token is consumed,
 *       so a replay is refused. Otherwise AccessDeniedException naming the missing approvals.
 * </ul>
 */
public final class ServerAccessControl implements AccessControl {
  /** The KMS actions the {@code key-management} quorum value guards. */
  public static final Set<String> KEY_MANAGEMENT_ACTIONS = Set.of("kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:ImportKeyMaterial");

  private final PolicyAccessControl policies;
  private final QuorumAuthorizer quorum;

  /**
   * @param policies the policy evaluation; the server's checks grant tokens through {@link #grantTokensIn}{@code (db)}
   * @param db       the service's database (checked non-null; the grant-token lookup is the policies')
   * @param quorum   null when no quorum is configured (no guard beyond the policies)
   */
  public ServerAccessControl(PolicyAccessControl policies, Database db, QuorumAuthorizer quorum) {
    this.policies = Objects.requireNonNull(policies, "policies");
    Objects.requireNonNull(db, "db");
    this.quorum = quorum;
  }

  /** The policy evaluation underneath (for identity-only checks of the custom key store operations). */
  public PolicyAccessControl policies() {
    return policies;
  }

  /**
   * The grant tokens of the core's grants: a token is issued when its grant's row (which stores it)
   * exists, so a retired or revoked grant's token is invalid from then on. What the server gives
   * {@link PolicyAccessControl}.
   */
  public static GrantTokenLookup grantTokensIn(Database db) {
    Objects.requireNonNull(db, "db");
    return token -> db.inTransaction(c -> {
      try (PreparedStatement st = c.prepareStatement("SELECT 1 FROM kms_grant WHERE grant_token = ?")) {
        st.setString(1, token);
        try (ResultSet rs = st.executeQuery()) {
          return rs.next();
        }
      }
    });
  }

  @Override
  public void check(AccessRequest request) {
    policies.check(request);
    if (request.keyArn() != null && KEY_MANAGEMENT_ACTIONS.contains(request.action())) {
      guard(keyManagementAction(request));
    }
  }

  /**
   * The quorum action a key-management call is approved as: the operation (without {@code kms:}),
   * {@code key} = the key ARN, and the call's {@link AccessRequest#approvalParameters()} (e.g.
   * {@code days}, {@code policy-sha256}, {@code material-sha256}), so that an approval is for this
   * exact call and no other call on the same key.
   */
  public static Action keyManagementAction(AccessRequest request) {
    Map<String, String> args = new TreeMap<>(request.approvalParameters());
    args.put("key", request.keyArn());
    return Action.of(Service.KEY_MANAGEMENT, request.action().substring(4), args);
  }

  /** The command that requests an approval token for exactly {@code action}: {@link QuorumApprovals#tokenCommand}. */
  public static String tokenCommand(Action action) {
    return QuorumApprovals.tokenCommand(action);
  }

  /** Passes when the quorum asks for no approval for {@code action}; AccessDenied otherwise. */
  void guard(Action action) {
    if (quorum == null) {
      return;
    }
    QuorumAuthorizer.Authorization auth = presented();
    try {
      quorum.check(action, auth);
    } catch (QuorumException e) {
      throw new KmsException(KmsError.ACCESS_DENIED, action.service().wireName() + "/" + action.operation() + " needs a quorum approval: "
          + quorum.policy().value(action.service()) + " of " + quorum.officers().size() + " officers must approve the action " + action
          + " (" + e.getMessage() + "); request its token with: " + tokenCommand(action));
    }
  }

  /**
   * The approval token of the request being served ({@link QuorumApprovalHeader}), with the approvals
   * the officers stored for it; null when none was sent. A header that is no token file is refused
   * as AccessDenied rather than read as "no approval", so a client learns its approval was not used.
   */
  private QuorumAuthorizer.Authorization presented() {
    String header = QuorumApprovalHeader.current();
    if (header == null) {
      return null;
    }
    ApprovalToken token;
    try {
      token = ApprovalToken.parseText(new String(Base64.getDecoder().decode(header.trim()), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      throw new KmsException(KmsError.ACCESS_DENIED, QuorumApprovalHeader.NAME + " is not the base64 of a quorum approval token file");
    }
    return new QuorumAuthorizer.Authorization(token, quorum.approvals(token));
  }

}
