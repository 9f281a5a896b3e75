package dev.turnpike.dataplane.agent;

import dev.turnpike.dataplane.conntrack.Conntrack;
import dev.turnpike.dataplane.conntrack.snat.EgressSnat;
import dev.turnpike.net.IpFamily;
import java.util.Optional;
import java.util.Set;

/**
 * What the agent programs next to the Service backend, whatever its mode: the conntrack table
 * (stale-entry cleanup after every successful sync) and egress SNAT (its own nat POSTROUTING
 * chains). Real ones on a node ({@link DefaultNodeNatFactory}), fakes in tests, {@link #NONE}
 * for neither.
 *
 * @param conntrack the node's conntrack table; empty: no stale-entry cleanup
 * @param egressSnat programs egress SNAT; empty: the ConfigMap is not watched
 * @param families the families both work on (those whose iptables works)
 */
public record NodeNat(Optional<Conntrack> conntrack, Optional<EgressSnat> egressSnat, Set<IpFamily> families) {
  public static final NodeNat NONE = new NodeNat(Optional.empty(), Optional.empty(), Set.of());

  public NodeNat {
    families = Set.copyOf(families);
  }
}
