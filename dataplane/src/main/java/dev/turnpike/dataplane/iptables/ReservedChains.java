package dev.turnpike.dataplane.iptables;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code TURNPIKE-} chains that another Turnpike component owns (by table), which a Service backend
 * must leave alone. A backend owns every other {@code TURNPIKE-} chain: a full sync deletes those it
 * did not write, and unhooks the jumps to them from the built-in chains. Reserved chains, and the
 * jumps to them, are invisible to that step and to the backend's cleanup; their owner creates and
 * removes them. Each component publishes its set (egress SNAT: {@code EgressSnatRules.CHAINS}); the
 * agent hands their union to the backend it builds ({@code DefaultDataplaneFactory}).
 *
 * @param byTable table → chain names
 */
public record ReservedChains(Map<String, Set<String>> byTable) {
  public static final ReservedChains NONE = new ReservedChains(Map.of());

  public ReservedChains {
    Map<String, Set<String>> copy = new HashMap<>();
    byTable.forEach((table, chains) -> {
      for (String c : chains) {
        if (!c.startsWith(ChainNames.PREFIX) || c.length() > 28) {
          // Chains outside the prefix are never touched by a backend: reserving them means nothing.
          throw new IllegalArgumentException(
              "reserved chain " + c + " must start with " + ChainNames.PREFIX + " and have at most 28 characters");
        }
      }
      copy.put(table, Set.copyOf(new TreeSet<>(chains)));
    });
    byTable = Map.copyOf(copy);
  }

  /** {@code chains} of {@code table}. */
  public static ReservedChains of(String table, String... chains) {
    return new ReservedChains(Map.of(table, Set.of(chains)));
  }

  /** Both sets. */
  public ReservedChains and(ReservedChains other) {
    Map<String, Set<String>> m = new HashMap<>();
    for (ReservedChains r : new ReservedChains[] {this, other}) {
      r.byTable.forEach((t, cs) -> m.computeIfAbsent(t, k -> new TreeSet<>()).addAll(cs));
    }
    return new ReservedChains(m);
  }

  public boolean contains(String table, String chain) {
    return byTable.getOrDefault(table, Set.of()).contains(chain);
  }
}
