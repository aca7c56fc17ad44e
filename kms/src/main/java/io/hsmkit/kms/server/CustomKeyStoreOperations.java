package io.hsmkit.kms.server;

import io.hsmkit.kms.KmsService;
import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import io.hsmkit.kms.audit.AuditEvents;
import io.hsmkit.kms.audit.AuditTrail;
import io.hsmkit.kms.cks.ConnectCustomKeyStoreRequest;
import io.hsmkit.kms.cks.ConnectCustomKeyStoreResponse;
import io.hsmkit.kms.cks.CreateCustomKeyStoreRequest;
import io.hsmkit.kms.cks.CreateCustomKeyStoreResponse;
import io.hsmkit.kms.cks.CustomKeyStores;
import io.hsmkit.kms.cks.DeleteCustomKeyStoreRequest;
import io.hsmkit.kms.cks.DeleteCustomKeyStoreResponse;
import io.hsmkit.kms.cks.DescribeCustomKeyStoresRequest;
import io.hsmkit.kms.cks.DescribeCustomKeyStoresResponse;
import io.hsmkit.kms.cks.DisconnectCustomKeyStoreRequest;
import io.hsmkit.kms.cks.DisconnectCustomKeyStoreResponse;
import io.hsmkit.kms.cks.UpdateCustomKeyStoreRequest;
import io.hsmkit.kms.cks.UpdateCustomKeyStoreResponse;
import io.hsmkit.quorum.Action;
import io.hsmkit.quorum.Service;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.HexFormat;
import java.util.TreeMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The custom key store operations in the KMS service's shape ({@code XResponse x(Caller, XRequest)},
 * so {@code ServiceOperations.of(kmsService, this)} serves them): each call is authorised by the
 * caller's identity policy (these actions are on no key, so no key policy applies; an account
 * root may do them, as on AWS), the changes (Create, Update, Delete, Connect, Disconnect) pass the
 * {@code token} quorum guard, and every call, successful or not, is one record of the service's
 * audit trail. The kmsuser password never reaches the trail.
 *
 * <p>A change is approved as the {@code token} action {@code <Operation>} with {@code account} and
 * the fields it changes: {@code store} (the store id) for Update, Delete, Connect and Disconnect;
 * {@code name}, {@code cluster-id}, {@code type}, {@code new-name} where given; and the hex SHA-256 of
 * the UTF-8 text for {@code trust-anchor-sha256} and {@code password-sha256} (the kmsuser password is
 * named only by its hash: e.g. {@code printf %s "$PASSWORD" | sha256sum}).
 */
public final class CustomKeyStoreOperations {
  private final CustomKeyStores stores;
  private final ServerAccessControl access;
  private final AuditTrail audit;
  private final Clock clock;
  private final String region;
  private final String accountId;

  public CustomKeyStoreOperations(CustomKeyStores stores, ServerAccessControl access, AuditTrail audit, Clock clock, String region, String accountId) {
    this.stores = Objects.requireNonNull(stores, "stores");
    this.access = Objects.requireNonNull(access, "access");
    this.audit = Objects.requireNonNull(audit, "audit");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.region = Objects.requireNonNull(region, "region");
    this.accountId = Objects.requireNonNull(accountId, "accountId");
  }

  public CreateCustomKeyStoreResponse createCustomKeyStore(Caller caller, CreateCustomKeyStoreRequest r) {
    Object audited = r == null ? null : new CreateCustomKeyStoreRequest(r.customKeyStoreName(), r.cloudHsmClusterId(),
        r.trustAnchorCertificate(), null, r.customKeyStoreType());
    return call(caller, "CreateCustomKeyStore", r, audited, r == null ? null : args(
        "name", r.customKeyStoreName(), "cluster-id", r.cloudHsmClusterId(), "type", r.customKeyStoreType(),
        "trust-anchor-sha256", sha256(r.trustAnchorCertificate()), "password-sha256", sha256(r.keyStorePassword())), () -> stores.create(r));
  }

  public DescribeCustomKeyStoresResponse describeCustomKeyStores(Caller caller, DescribeCustomKeyStoresRequest r) {
    return call(caller, "DescribeCustomKeyStores", r, r, null, () -> stores.describe(r));
  }

  public UpdateCustomKeyStoreResponse updateCustomKeyStore(Caller caller, UpdateCustomKeyStoreRequest r) {
    Object audited = r == null ? null : new UpdateCustomKeyStoreRequest(r.customKeyStoreId(), r.newCustomKeyStoreName(), null, r.cloudHsmClusterId());
    return call(caller, "UpdateCustomKeyStore", r, audited, r == null ? null : args(
        "store", r.customKeyStoreId(), "new-name", r.newCustomKeyStoreName(), "cluster-id", r.cloudHsmClusterId(),
        "password-sha256", sha256(r.keyStorePassword())), () -> stores.update(r));
  }

  public DeleteCustomKeyStoreResponse deleteCustomKeyStore(Caller caller, DeleteCustomKeyStoreRequest r) {
    return call(caller, "DeleteCustomKeyStore", r, r, r == null ? null : args("store", r.customKeyStoreId()), () -> stores.delete(r));
  }

  public ConnectCustomKeyStoreResponse connectCustomKeyStore(Caller caller, ConnectCustomKeyStoreRequest r) {
    return call(caller, "ConnectCustomKeyStore", r, r, r == null ? null : args("store", r.customKeyStoreId()), () -> stores.connect(r));
  }

  public DisconnectCustomKeyStoreResponse disconnectCustomKeyStore(Caller caller, DisconnectCustomKeyStoreRequest r) {
    return call(caller, "DisconnectCustomKeyStore", r, r, r == null ? null : args("store", r.customKeyStoreId()), () -> stores.disconnect(r));
  }

  /**
   * The arguments a change's quorum approval names, from name/value pairs; absent (null) values are
   * left out, since the approved action must be exactly the fields this call changes.
   */
  private static Map<String, String> args(String... pairs) {
    Map<String, String> out = new TreeMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      if (pairs[i + 1] != null) {
        out.put(pairs[i], pairs[i + 1]);
      }
    }
    return out;
  }

  /**
   * Hex SHA-256 of a field's UTF-8 bytes, or null for an absent field: an approval names a secret
   * (the kmsuser password) or a long document (the trust anchor) by this, never by its text.
   */
  static String sha256(String s) {
    if (s == null) {
      return null;
    }
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /** @param approvalArgs the {@code token} quorum action's arguments for a change; null for a read */
  private <T> T call(Caller caller, String op, Object request, Object audited, Map<String, String> approvalArgs, Supplier<T> work) {
    Objects.requireNonNull(caller, "caller");
    T result;
    try {
      if (request == null) {
        throw new KmsException(KmsError.VALIDATION, "the " + op + " request is missing");
      }
      access.policies().checkIdentityOnly(caller, "kms:" + op, null);
      if (approvalArgs != null) {
        Map<String, String> a = new TreeMap<>(approvalArgs);
        a.put("account", accountId);
        access.guard(Action.of(Service.TOKEN, op, a));
      }
      result = work.get();
    } catch (KmsException e) {
      record(caller, op, audited, null, e.error().awsName(), e.getMessage());
      throw e;
    } catch (RuntimeException e) {
      KmsException k = new KmsException(KmsError.KMS_INTERNAL, op + " failed inside the service (" + e.getClass().getSimpleName() + ")", e);
      record(caller, op, audited, null, k.error().awsName(), k.getMessage());
      throw k;
    }
    record(caller, op, audited, result, null, null);
    return result;
  }

  private void record(Caller caller, String op, Object request, Object response, String errorCode, String message) {
    audit.append(AuditEvents.event(clock.instant(), region, caller, op, request, response, errorCode, message, List.of(), accountId,
        KmsService.currentRequestId()));
  }
}
