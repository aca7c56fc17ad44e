package io.hsmkit.pkcs11.cluster;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** Chooses which of the healthy members (never empty) takes the next operation. */
@FunctionalInterface
public interface SelectionPolicy {
  Member choose(List<Member> healthy);

  /** Each member in turn. */
  static SelectionPolicy roundRobin() {
    AtomicLong next = new AtomicLong();
    return new SelectionPolicy() {
      @Override
      public Member choose(List<Member> healthy) {
        return healthy.get((int) Math.floorMod(next.getAndIncrement(), (long) healthy.size()));
      }

      @Override
      public String toString() {
        return "round-robin";
      }
    };
  }

  /**
   * The member with the fewest operations in flight; ties go round robin, so that an idle
   * cluster still spreads its load.
   */
  static SelectionPolicy leastOutstanding() {
    AtomicLong next = new AtomicLong();
    return new SelectionPolicy() {
      @Override
      public Member choose(List<Member> healthy) {
        int n = healthy.size();
        int start = (int) Math.floorMod(next.getAndIncrement(), (long) n);
        Member best = null;
        for (int i = 0; i < n; i++) {
          Member m = healthy.get((start + i) % n);
          if (best == null || m.outstanding() < best.outstanding()) {
            best = m;
          }
        }
        return best;
      }

      @Override
      public String toString() {
        return "least-outstanding";
      }
    };
  }
}
