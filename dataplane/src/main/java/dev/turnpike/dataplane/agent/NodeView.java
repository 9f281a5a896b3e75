package dev.turnpike.dataplane.agent;

import dev.turnpike.dataplane.NodeContext;
import dev.turnpike.dataplane.health.ProxyHealth;
import dev.turnpike.net.IpAddresses;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What the agent reads from its own Node object. */
final class NodeView {
  private NodeView() {}

  /** Labels and addresses: InternalIP before ExternalIP (the first is the primary), canonical, once each. */
  static NodeContext context(String nodeName, Node node) {
    Map<String, String> labels = node.getMetadata().getLabels() == null ? Map.of() : node.getMetadata().getLabels();
    Set<String> addresses = new LinkedHashSet<>();
    List<NodeAddress> all = node.getStatus() == null || node.getStatus().getAddresses() == null
        ? List.of()
        : node.getStatus().getAddresses();
    for (String type : List.of("InternalIP", "ExternalIP")) {
      for (NodeAddress a : all) {
        if (type.equals(a.getType())) {
          IpAddresses.parse(a.getAddress()).ifPresent(ip -> addresses.add(ip.text()));
        }
      }
    }
    return new NodeContext(nodeName, labels, new ArrayList<>(addresses));
  }

  /** kube-proxy's node eligibility: not being deleted and not tainted for autoscaler removal. */
  static boolean eligible(Node node) {
    if (node.getMetadata().getDeletionTimestamp() != null) {
      return false;
    }
    return node.getSpec() == null
        || node.getSpec().getTaints() == null
        || node.getSpec().getTaints().stream().noneMatch(t -> ProxyHealth.TO_BE_DELETED_TAINT.equals(t.getKey()));
  }
}
