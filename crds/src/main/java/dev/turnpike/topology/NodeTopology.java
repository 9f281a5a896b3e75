package dev.turnpike.topology;

import java.util.Map;

/**
 * What an agent knows about its own node when choosing endpoints.
 *
 * @param nodeName this node's name (endpoints with this nodeName are local)
 * @param zone the node's {@code topology.kubernetes.io/zone} label, "" when unset
 */
public record NodeTopology(String nodeName, String zone) {
  public static final String ZONE_LABEL = "topology.kubernetes.io/zone";

  public NodeTopology {
    nodeName = nodeName == null ? "" : nodeName;
    zone = zone == null ? "" : zone;
  }

  public static NodeTopology of(String nodeName, Map<String, String> nodeLabels) {
    return new NodeTopology(nodeName, nodeLabels == null ? "" : nodeLabels.get(ZONE_LABEL));
  }
}
