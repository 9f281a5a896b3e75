package dev.turnpike.dataplane;

import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** An immutable snapshot of everything this node should program. */
public record DesiredState(NodeContext node, SortedMap<ServiceKey, ForwardingTableSpec> tables) {
  public DesiredState {
    tables = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(tables));
  }

  public static DesiredState of(NodeContext node, Map<ServiceKey, ForwardingTableSpec> tables) {
    return new DesiredState(node, new TreeMap<>(tables));
  }
}
