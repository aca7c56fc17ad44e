package io.hsmkit.quorum;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An administrative action exactly as it will run: service, operation and every argument. Immutable;
 * the arguments are copied into a sorted map so the canonical encoding does not depend on the
 * caller's map order.
 *
 * <p>Canonical encoding ({@link #canonicalBytes()}), each field a 4-byte big-endian length and its UTF-8
 * bytes: {@code "hsmkit-action-v1"}, service wire name, operation, then a 4-byte argument count and,
 * for each argument in key order, key then value. {@code {"ab":"c"}} and {@code {"a":"bc"}} therefore
 * encode differently. The approval token binds {@link #digest()}, the SHA-256 of that encoding.
 */
public final class Action {
    static final String MAGIC = "hsmkit-action-v1";

    private final Service service;
    private final String operation;
    private final SortedMap<String, String> arguments;

    private Action(Service service, String operation, Map<String, String> arguments) {
        this.service = Objects.requireNonNull(service, "service");
        this.operation = Objects.requireNonNull(operation, "operation");
        if (operation.isEmpty()) {
            throw new IllegalArgumentException("operation must not be empty");
        }
        TreeMap<String, String> copy = new TreeMap<>();
        for (Map.Entry<String, String> e : arguments.entrySet()) {
            copy.put(Objects.requireNonNull(e.getKey(), "argument name"), Objects.requireNonNull(e.getValue(), "argument " + e.getKey()));
        }
        this.arguments = Collections.unmodifiableSortedMap(copy);
    }

    public static Action of(Service service, String operation, Map<String, String> arguments) {
        return new Action(service, operation, arguments);
    }

    public static Action of(Service service, String operation) {
        return new Action(service, operation, Map.of());
    }

    public Service service() {
        return service;
    }

    public String operation() {
        return operation;
    }

    /** The arguments, sorted by name, unmodifiable. */
    public SortedMap<String, String> arguments() {
        return arguments;
    }

    public byte[] canonicalBytes() {
        Canonical.Writer w = new Canonical.Writer().string(MAGIC).string(service.wireName()).string(operation).int4(arguments.size());
        arguments.forEach((k, v) -> w.string(k).string(v));
        return w.toByteArray();
    }

    /** SHA-256 of {@link #canonicalBytes()}; a fresh copy on each call. */
    public byte[] digest() {
        return Canonical.sha256(canonicalBytes());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Action a && Arrays.equals(canonicalBytes(), a.canonicalBytes());
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(canonicalBytes());
    }

    @Override
    public String toString() {
        return service.wireName() + "/" + operation + arguments;
    }
}
