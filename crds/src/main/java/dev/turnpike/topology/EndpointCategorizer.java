package dev.turnpike.topology;

import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.Frontend;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.api.v1alpha1.TrafficPolicy;
import dev.turnpike.net.IpAddresses;
import dev.turnpike.net.IpFamily;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.function.Predicate;

/**
 * Which of a frontend's backends one node uses: a line-by-line port of kube-proxy's
 * {@code CategorizeEndpoints} (pkg/proxy/topology.go), with PreferSameTrafficDistribution on
 * (GA in 1.35). Pure; the agent calls it per node, per IP family, per frontend.
 */
public final class EndpointCategorizer {
  /** kube-proxy's topology modes, derived from the endpoints' hints. */
  public enum TopologyMode {
    NONE,
    PREFER_SAME_ZONE,
    PREFER_SAME_NODE
  }

  /**
   * @param clusterEndpoints usable endpoints for Cluster policy (topology applied); empty when the
   *     frontend never uses Cluster endpoints
   * @param localEndpoints usable node-local endpoints; empty when it never uses Local endpoints
   * @param allReachableEndpoints the union of both, in spec order
   * @param hasAnyEndpoints whether any usable endpoint exists anywhere in the cluster (decides
   *     REJECT for "no endpoints" versus DROP for "no local endpoints")
   */
  public record Categorized(
      List<Backend> clusterEndpoints,
      List<Backend> localEndpoints,
      List<Backend> allReachableEndpoints,
      boolean hasAnyEndpoints,
      TopologyMode topologyMode) {
    public Categorized {
      clusterEndpoints = List.copyOf(clusterEndpoints);
      localEndpoints = List.copyOf(localEndpoints);
      allReachableEndpoints = List.copyOf(allReachableEndpoints);
    }
  }

  private EndpointCategorizer() {}

  /** The frontend's endpoints of {@code family}: backends that serve it with an address of that family. */
  public static List<Backend> endpointsOf(ForwardingTableSpec spec, Frontend frontend, IpFamily family) {
    List<Backend> out = new ArrayList<>();
    for (Backend b : spec.backends()) {
      if (b.portFor(frontend.name()) > 0
          && IpAddresses.parse(b.address()).map(ip -> ip.family() == family).orElse(false)) {
        out.add(b);
      }
    }
    return out;
  }

  /** kube-proxy's ExternallyAccessible: a NodePort, or LB/external IPs of this family. */
  public static boolean externallyAccessible(ForwardingTableSpec spec, Frontend frontend, IpFamily family) {
    if (frontend.nodePort() != null && frontend.nodePort() > 0) {
      return true;
    }
    return spec.loadBalancerIngress().stream().anyMatch(i -> isFamily(i.ip(), family))
        || spec.externalIPs().stream().anyMatch(ip -> isFamily(ip, family));
  }

  public static boolean usesClusterEndpoints(ForwardingTableSpec spec, Frontend frontend, IpFamily family) {
    // Even with externalTrafficPolicy Local, Cluster endpoints serve pod and node short circuits.
    return spec.internalTrafficPolicy() != TrafficPolicy.Local || externallyAccessible(spec, frontend, family);
  }

  public static boolean usesLocalEndpoints(ForwardingTableSpec spec, Frontend frontend, IpFamily family) {
    return spec.internalTrafficPolicy() == TrafficPolicy.Local
        || (spec.externalTrafficPolicy() == TrafficPolicy.Local && externallyAccessible(spec, frontend, family));
  }

  public static Categorized categorize(
      ForwardingTableSpec spec, Frontend frontend, IpFamily family, NodeTopology node) {
    return categorize(
        endpointsOf(spec, frontend, family),
        usesClusterEndpoints(spec, frontend, family),
        usesLocalEndpoints(spec, frontend, family),
        node);
  }

  /** The core of CategorizeEndpoints over one frontend's endpoints of one family. */
  public static Categorized categorize(
      List<Backend> endpoints, boolean usesCluster, boolean usesLocal, NodeTopology node) {
    if (endpoints.isEmpty()) {
      return new Categorized(List.of(), List.of(), List.of(), false, TopologyMode.NONE);
    }
    String nodeName = node.nodeName();
    String zone = node.zone();
    Predicate<Backend> isLocal = ep -> nodeName.equals(ep.nodeName());
    TopologyMode mode = TopologyMode.NONE;
    boolean hasAny = false;
    List<Backend> cluster = List.of();
    if (usesCluster) {
      mode = topologyModeFromHints(endpoints, nodeName, zone);
      TopologyMode m = mode;
      cluster = filter(endpoints, ep -> ep.ready() && availableForTopology(ep, m, nodeName, zone));
      // No ready endpoint for the topology means none anywhere (the mode already fell back), so
      // try serving-terminating endpoints.
      if (cluster.isEmpty()) {
        cluster = filter(endpoints, ep -> ep.serving() && ep.terminating());
      }
      hasAny = !cluster.isEmpty();
    }
    if (!usesLocal) {
      return new Categorized(cluster, List.of(), cluster, hasAny, mode);
    }

    boolean localReady = false;
    boolean localServingTerminating = false;
    for (Backend ep : endpoints) {
      if (ep.ready()) {
        hasAny = true;
        localReady |= isLocal.test(ep);
      } else if (ep.serving() && ep.terminating()) {
        hasAny = true;
        localServingTerminating |= isLocal.test(ep);
      }
    }
    List<Backend> local = List.of();
    boolean useServingTerminating = false;
    if (localReady) {
      local = filter(endpoints, ep -> isLocal.test(ep) && ep.ready());
    } else if (localServingTerminating) {
      useServingTerminating = true;
      local = filter(endpoints, ep -> isLocal.test(ep) && ep.serving() && ep.terminating());
    }
    if (!usesCluster) {
      return new Categorized(List.of(), local, local, hasAny, mode);
    }
    if (mode == TopologyMode.NONE && !useServingTerminating) {
      // Cluster holds every ready endpoint and local only ready ones: cluster is the union.
      return new Categorized(cluster, local, cluster, hasAny, mode);
    }
    LinkedHashSet<Backend> union = new LinkedHashSet<>(cluster);
    union.addAll(local);
    List<Backend> all = filter(endpoints, union::contains); // keep spec order, deterministic
    return new Categorized(cluster, local, all, hasAny, mode);
  }

  static TopologyMode topologyModeFromHints(List<Backend> endpoints, String nodeName, String zone) {
    boolean hasReady = false;
    boolean hasForNode = false;
    boolean allNodeHints = true;
    boolean hasForZone = false;
    boolean allZoneHints = true;
    for (Backend ep : endpoints) {
      if (!ep.ready()) {
        continue;
      }
      hasReady = true;
      List<String> forNodes = ep.hints() == null ? List.of() : ep.hints().forNodes();
      List<String> forZones = ep.hints() == null ? List.of() : ep.hints().forZones();
      if (forNodes.isEmpty()) {
        allNodeHints = false;
      } else if (forNodes.contains(nodeName)) {
        hasForNode = true;
      }
      if (forZones.isEmpty()) {
        allZoneHints = false;
      } else if (forZones.contains(zone)) {
        hasForZone = true;
      }
    }
    if (!hasReady) {
      return TopologyMode.NONE;
    }
    if (allNodeHints && hasForNode) {
      return TopologyMode.PREFER_SAME_NODE;
    }
    if (allZoneHints && hasForZone) {
      return TopologyMode.PREFER_SAME_ZONE;
    }
    return TopologyMode.NONE;
  }

  static boolean availableForTopology(Backend ep, TopologyMode mode, String nodeName, String zone) {
    return switch (mode) {
      case NONE -> true;
      case PREFER_SAME_NODE -> ep.hints() != null && ep.hints().forNodes().contains(nodeName);
      case PREFER_SAME_ZONE -> ep.hints() != null && ep.hints().forZones().contains(zone);
    };
  }

  private static boolean isFamily(String ip, IpFamily family) {
    return IpAddresses.parse(ip).map(p -> p.family() == family).orElse(false);
  }

  private static List<Backend> filter(List<Backend> in, Predicate<Backend> keep) {
    List<Backend> out = new ArrayList<>(in.size());
    for (Backend b : in) {
      if (keep.test(b)) {
        out.add(b);
      }
    }
    return out;
  }
}
