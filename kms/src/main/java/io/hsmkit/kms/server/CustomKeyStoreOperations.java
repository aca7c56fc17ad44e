package io.hsmkit.kms.server;

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
import java.time.Clock;
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
    return call(caller, "CreateCustomKeyStore", r, audited, true, () -> stores.create(r));
  }

  public DescribeCustomKeyStoresResponse describeCustomKeyStores(Caller caller, DescribeCustomKeyStoresRequest r) {
    return call(caller, "DescribeCustomKeyStores", r, r, false, () -> stores.describe(r));
  }

  public UpdateCustomKeyStoreResponse updateCustomKeyStore(Caller caller, UpdateCustomKeyStoreRequest r) {
    Object audited = r == null ? null : new UpdateCustomKeyStoreRequest(r.customKeyStoreId(), r.newCustomKeyStoreName(), null, r.cloudHsmClusterId());
    return call(caller, "UpdateCustomKeyStore", r, audited, true, () -> stores.update(r));
  }

  public DeleteCustomKeyStoreResponse deleteCustomKeyStore(Caller caller, DeleteCustomKeyStoreRequest r) {
    return call(caller, "DeleteCustomKeyStore", r, r, true, () -> stores.delete(r));
  }

  public ConnectCustomKeyStoreResponse connectCustomKeyStore(Caller caller, ConnectCustomKeyStoreRequest r) {
    return call(caller, "ConnectCustomKeyStore", r, r, true, () -> stores.connect(r));
  }

  public DisconnectCustomKeyStoreResponse disconnectCustomKeyStore(Caller caller, DisconnectCustomKeyStoreRequest r) {
    return call(caller, "DisconnectCustomKeyStore", r, r, true, () -> stores.disconnect(r));
  }

  private <T> T call(Caller caller, String op, Object request, Object audited, boolean change, Supplier<T> work) {
    Objects.requireNonNull(caller, "caller");
    T result;
    try {
      if (request == null) {
        throw new KmsException(KmsError.VALIDATION, "the " + op + " request is missing");
      }
      access.policies().checkIdentityOnly(caller, "kms:" + op, null);
      if (change) {
        access.guard(Action.of(Service.TOKEN, op, Map.of("account", accountId)));
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
        REQUEST_ID.get()));
  }

  private static final ThreadLocal<String> REQUEST_ID = new ThreadLocal<>();

  /**
   * Runs {@code work} with {@code requestId} as the {@code requestID} of the audit records these
   * operations write (the endpoint's {@code x-amzn-RequestId}); as {@code KmsService.withRequestId}.
   */
  public static <T> T withRequestId(String requestId, Supplier<T> work) {
    String before = REQUEST_ID.get();
    REQUEST_ID.set(requestId);
    try {
      return work.get();
    } finally {
      if (before == null) {
        REQUEST_ID.remove();
      } else {
        REQUEST_ID.set(before);
      }
    }
  }
}
