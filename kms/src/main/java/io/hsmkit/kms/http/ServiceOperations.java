package io.hsmkit.kms.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.hsmkit.kms.Caller;
import io.hsmkit.kms.KmsError;
import io.hsmkit.kms.KmsException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@link KmsOperations} over a service object whose public methods follow the KMS service's
 * convention: {@code XResponse x(Caller caller, XRequest request)} for operation {@code X}
 * (method {@code encrypt} with an {@code EncryptRequest} is operation {@code Encrypt};
 * {@code reEncrypt} with {@code ReEncryptRequest} is {@code ReEncrypt}). The request is read
 * from the body with {@link KmsJson#read}; the response is whatever the method returns.
 *
 * <p>A method counts only when its second parameter's simple name is the operation's name plus
 * {@code Request}, so helpers with other shapes are never reachable from the wire. Exceptions
 * the method throws come through unchanged (a {@link KmsException} becomes the AWS error; any
 * other is logged by the endpoint and answered as KMSInternalException).
 *
 * <pre>{@code
 * KmsOperations ops = ServiceOperations.of(kmsService);
 * }</pre>
 */
public final class ServiceOperations implements KmsOperations {
  private record Op(MethodHandle handle, Class<?> requestType) {}

  /**
   * Runs one operation with the endpoint's request id in scope, for example so that the audit
   * record's {@code requestID} is the {@code x-amzn-RequestId} the client got (the service's
   * methods take no request id). Contract: call {@code work} exactly once, on this thread, and
   * return what it returns (or let its exception through).
   */
  @FunctionalInterface
  public interface RequestScope {
    Object run(String requestId, java.util.function.Supplier<Object> work);
  }

  private final Map<String, Op> ops;
  private final RequestScope scope;

  private ServiceOperations(Map<String, Op> ops, RequestScope scope) {
    this.ops = Collections.unmodifiableMap(ops);
    this.scope = scope;
  }

  /** The same operations, each run inside {@code scope} with the endpoint's request id. */
  public ServiceOperations withRequestScope(RequestScope scope) {
    return new ServiceOperations(ops, Objects.requireNonNull(scope, "scope"));
  }

  /**
   * Finds the operations of {@code services} (for example the KMS service and the custom key
   * stores; their classes must be public, and so must the methods).
   *
   * @throws IllegalArgumentException when a service has no such method, or two methods map to
   *     one operation
   */
  public static ServiceOperations of(Object... services) {
    Map<String, Op> found = new TreeMap<>();
    for (Object service : services) {
      add(found, Objects.requireNonNull(service, "service"));
    }
    return new ServiceOperations(found, null);
  }

  private static void add(Map<String, Op> found, Object service) {
    MethodHandles.Lookup lookup = MethodHandles.publicLookup();
    int before = found.size();
    for (Method m : service.getClass().getMethods()) {
      if (Modifier.isStatic(m.getModifiers()) || m.getParameterCount() != 2 || m.getParameterTypes()[0] != Caller.class
          || m.getDeclaringClass() == Object.class) {
        continue;
      }
      String op = Character.toUpperCase(m.getName().charAt(0)) + m.getName().substring(1);
      Class<?> request = m.getParameterTypes()[1];
      if (!request.getSimpleName().equals(op + "Request")) {
        continue;
      }
      MethodHandle h;
      try {
        // A void method answers null, which the endpoint writes as {}.
        h = lookup.unreflect(m).bindTo(service).asType(MethodType.methodType(Object.class, Caller.class, Object.class));
      } catch (IllegalAccessException e) {
        throw new IllegalArgumentException("the operation method " + m + " is not accessible (its class must be public)", e);
      }
      if (found.put(op, new Op(h, request)) != null) {
        throw new IllegalArgumentException("two methods for the operation " + op + " (the second in " + service.getClass().getName() + ")");
      }
    }
    if (found.size() == before) {
      throw new IllegalArgumentException(service.getClass().getName() + " has no operation methods (XResponse x(Caller, XRequest))");
    }
  }

  @Override
  public Set<String> operations() {
    return ops.keySet();
  }

  @Override
  public Object invoke(String operation, JsonNode body, Caller caller, String requestId) {
    if (scope == null) {
      return invoke(operation, body, caller);
    }
    return scope.run(requestId, () -> invoke(operation, body, caller));
  }

  @Override
  public Object invoke(String operation, JsonNode body, Caller caller) {
    Op op = ops.get(operation);
    if (op == null) {
      throw new KmsException(KmsError.UNKNOWN_OPERATION, "Unknown operation '" + SigV4Verifier.printable(operation) + "'");
    }
    Object request = KmsJson.read(body, op.requestType());
    try {
      return op.handle().invoke(caller, request);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      // A checked exception the method did not declare (sneaky throw): a bug below, not the caller's.
      throw new IllegalStateException(operation + " failed", t);
    }
  }
}
