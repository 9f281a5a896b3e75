package dev.turnpike.dataplane.iptables;

import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.dataplane.DesiredState;
import dev.turnpike.dataplane.NodeContext;
import dev.turnpike.dataplane.ServiceKey;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A node ("node-a", 192.168.0.10, pods in 10.244.0.0/16) and one Service of every kind. */
final class Scenario {
  static final String NODE_IP = "192.168.0.10";
  static final NodeContext NODE = new NodeContext("node-a", Map.of(), List.of(NODE_IP));
  static final String POD_CIDR = "10.244.0.0/16";

  private Scenario() {}

  static IptablesConfig config() {
    return IptablesConfig.defaults().withClusterCidrs(List.of(POD_CIDR));
  }

  static Map<String, ForwardingTableSpec> services() {
    Map<String, ForwardingTableSpec> m = new LinkedHashMap<>();
    m.put("web", Specs.service("web", "10.96.0.10").backend("10.244.1.2", 8080, "node-a").backend("10.244.2.2", 8080, "node-b").build());
    m.put("np", Specs.service("np", "10.96.0.20").nodePort(30020).backend("10.244.2.3", 80, "node-b").build());
    m.put("lb", Specs.service("lb", "10.96.0.30").loadBalancer(30030, "198.51.100.30").sourceRanges("203.0.113.0/24").backend("10.244.1.4", 80, "node-a").build());
    m.put("lbopen", Specs.service("lbopen", "10.96.0.31").loadBalancer(30031, "198.51.100.31").backend("10.244.2.5", 80, "node-b").build());
    m.put("ext", Specs.service("ext", "10.96.0.40").externalIp("198.51.100.40").backend("10.244.2.6", 80, "node-b").build());
    m.put("local", Specs.service("local", "10.96.0.50").loadBalancer(30050, "198.51.100.50").etpLocal(32050)
        .backend("10.244.1.7", 80, "node-a").backend("10.244.2.7", 80, "node-b").build());
    m.put("localnone", Specs.service("localnone", "10.96.0.51").loadBalancer(30051, "198.51.100.51").etpLocal(32051)
        .backend("10.244.2.8", 80, "node-b").build());
    m.put("itp", Specs.service("itp", "10.96.0.60").itpLocal().backend("10.244.2.9", 80, "node-b").build());
    m.put("aff", Specs.service("aff", "10.96.0.70").affinity(10800).backend("10.244.1.10", 80, "node-a").backend("10.244.2.10", 80, "node-b").build());
    m.put("empty", Specs.service("empty", "10.96.0.80").loadBalancer(30080, "198.51.100.81").externalIp("198.51.100.80").build());
    m.put("mg", Specs.service("mg", "10.96.0.90").maglev(251).backend("10.244.1.11", 80, "node-a").backend("10.244.2.11", 80, "node-b")
        .backend("10.244.3.11", 80, "node-c").build());
    m.put("udp", Specs.service("udp", "10.96.0.100").udp().port(53).backend("10.244.2.12", 5353, "node-b").build());
    m.put("term", Specs.service("term", "10.96.0.110").terminatingBackend("10.244.2.13", 80, "node-b").build());
    return m;
  }

  static DesiredState state(Map<String, ForwardingTableSpec> services) {
    Map<ServiceKey, ForwardingTableSpec> t = new LinkedHashMap<>();
    services.forEach((k, v) -> t.put(new ServiceKey("ns", k), v));
    return DesiredState.of(NODE, t);
  }
}
