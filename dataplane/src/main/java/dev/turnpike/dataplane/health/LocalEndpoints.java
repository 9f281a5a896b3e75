package dev.turnpike.dataplane.health;

import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.api.v1alpha1.Frontend;
import dev.turnpike.api.v1alpha1.ServiceType;
import dev.turnpike.api.v1alpha1.TrafficPolicy;
import dev.turnpike.dataplane.DesiredState;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.net.IpAddresses;
import dev.turnpike.net.IpFamily;
import dev.turnpike.topology.EndpointCategorizer;
import dev.turnpike.topology.NodeTopology;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** What the health checks and the no-local-endpoints metric need from the desired state. */
public final class LocalEndpoints {
  /** A Service with a health check node port and its node-local ready endpoint count. */
  public record HealthCheck(int port, int localEndpoints) {}

  private LocalEndpoints() {}

  /**
   * Every LoadBalancer Service with externalTrafficPolicy Local and a healthCheckNodePort. The count
   * is the distinct node-local ready endpoints over all frontends and families: like kube-proxy,
   * serving-but-terminating endpoints do not count, so a load balancer drains a node whose
   * endpoints are all terminating.
   */
  public static Map<ServiceKey, HealthCheck> healthChecks(DesiredState state) {
    NodeTopology node = state.node().topology();
    Map<ServiceKey, HealthCheck> out = new TreeMap<>();
    state.tables().forEach((key, spec) -> {
      if (spec.type() != ServiceType.LoadBalancer
          || spec.externalTrafficPolicy() != TrafficPolicy.Local
          || spec.healthCheckNodePort() == null) {
        return;
      }
      Set<String> local = new HashSet<>();
      for (Frontend f : spec.frontends()) {
        for (IpFamily family : IpFamily.values()) {
          var c = EndpointCategorizer.categorize(EndpointCategorizer.endpointsOf(spec, f, family), false, true, node);
          c.localEndpoints().stream().filter(Backend::ready).forEach(b -> local.add(b.address()));
        }
      }
      out.put(key, new HealthCheck(spec.healthCheckNodePort(), local.size()));
    });
    return out;
  }

  /**
   * kube-proxy's sync_proxy_rules_no_local_endpoints_total: Service ports (per IP family) whose
   * "internal" (internalTrafficPolicy Local) or "external" (externalTrafficPolicy Local and
   * externally reachable) traffic has endpoints in the cluster but none on this node.
   */
  public static Map<String, Integer> noLocalEndpoints(DesiredState state) {
    NodeTopology node = state.node().topology();
    Map<String, Integer> out = new HashMap<>(Map.of("internal", 0, "external", 0));
    for (ForwardingTableSpec spec : state.tables().values()) {
      for (IpFamily family : families(spec)) {
        for (Frontend f : spec.frontends()) {
          var c = EndpointCategorizer.categorize(spec, f, family, node);
          if (!c.hasAnyEndpoints() || !c.localEndpoints().isEmpty()) {
            continue;
          }
          if (spec.internalTrafficPolicy() == TrafficPolicy.Local) {
            out.merge("internal", 1, Integer::sum);
          }
          if (spec.externalTrafficPolicy() == TrafficPolicy.Local
              && EndpointCategorizer.externallyAccessible(spec, f, family)) {
            out.merge("external", 1, Integer::sum);
          }
        }
      }
    }
    return out;
  }

  // kube-proxy runs one proxier per family; a Service exists in a family's proxier when it has a
  // ClusterIP of that family.
  private static Set<IpFamily> families(ForwardingTableSpec spec) {
    Set<IpFamily> out = new HashSet<>();
    for (String ip : spec.clusterIPs()) {
      IpAddresses.parse(ip).ifPresent(p -> out.add(p.family()));
    }
    return out;
  }
}
