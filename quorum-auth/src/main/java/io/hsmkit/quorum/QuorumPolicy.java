package io.hsmkit.quorum;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * The quorum value K of every service, immutable. A service without an explicit value has K = 1 (quorum
 * off, as in CloudHSM). Validation of a new value lives in {@link QuorumRules#checkValue}.
 */
public final class QuorumPolicy {
    /** CloudHSM's ceiling on a quorum value. */
    public static final int MAX_VALUE = 8;

    private final Map<Service, Integer> values;

    public QuorumPolicy(Map<Service, Integer> values) {
        EnumMap<Service, Integer> copy = new EnumMap<>(Service.class);
        for (Service s : Service.values()) {
            copy.put(s, values.getOrDefault(s, 1));
        }
        this.values = Collections.unmodifiableMap(copy);
    }

    public int value(Service service) {
        return values.get(service);
    }

    /** Every service's value, in {@link Service} order, unmodifiable. */
    public Map<Service, Integer> values() {
        return values;
    }

    public QuorumPolicy with(Service service, int k) {
        EnumMap<Service, Integer> copy = new EnumMap<>(values);
        copy.put(service, k);
        return new QuorumPolicy(copy);
    }

    /** The largest value of any service: the fewest officers that must stay registered. */
    public int maxValue() {
        return values.values().stream().mapToInt(Integer::intValue).max().orElse(1);
    }

    @Override
    public String toString() {
        return "QuorumPolicy" + values;
    }
}
