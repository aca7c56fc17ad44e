package io.hsmkit.quorum;

import java.time.Duration;
import java.util.Objects;

/**
 * How long a token may collect approvals ({@code collect}: from creation to expiry) and how long a
 * token that reached its quorum may be used ({@code use}: from the K-th approval). CloudHSM uses 600 s
 * for both; {@link #CLOUDHSM} is the default.
 */
public record QuorumWindows(Duration collect, Duration use) {
    public static final QuorumWindows CLOUDHSM = new QuorumWindows(Duration.ofSeconds(600), Duration.ofSeconds(600));

    public QuorumWindows {
        Objects.requireNonNull(collect, "collect");
        Objects.requireNonNull(use, "use");
        if (collect.isNegative() || collect.isZero() || use.isNegative() || use.isZero()) {
            throw new IllegalArgumentException("quorum windows must be positive");
        }
    }
}
