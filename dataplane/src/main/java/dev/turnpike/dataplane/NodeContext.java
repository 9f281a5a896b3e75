package dev.turnpike.dataplane;

import dev.turnpike.topology.NodeTopology;
import java.util.List;
import java.util.Map;

/**
 * What the agent knows about its own node at sync time.
 *
 * @param nodeName from the downward API
 * @param labels the Node's labels (the zone label drives topology)
 * @param addresses the node's IP addresses, canonical text, primary first (NodePort targets)
 */
public record NodeContext(String nodeName, Map<String, String> labels, List<String> addresses) {
  public NodeContext {
    labels = Map.copyOf(labels);
    addresses = List.copyOf(addresses);
  }

  public NodeTopology topology() {
    return NodeTopology.of(nodeName, labels);
  }
}
