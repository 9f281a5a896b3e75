package dev.turnpike.dataplane.ipvs;

import dev.turnpike.api.v1alpha1.Protocol;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.netlink.ipvs.RealServer;
import dev.turnpike.dataplane.netlink.ipvs.VirtualServer;
import dev.turnpike.dataplane.netlink.ipvs.VirtualServerKey;
import dev.turnpike.net.IpAddresses.Ip;
import dev.turnpike.net.IpFamily;
import java.net.InetAddress;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The desired IPVS state of a node: what {@link IpvsPlanner} computed and the applier programs.
 *
 * @param services virtual services in plan order (Services sorted by key, then frontends)
 * @param addresses the virtual IPs to bind on the dummy link
 * @param ports what the iptables rules need to know about each Service port, per family
 * @param nodePortAddresses the node addresses that get NodePort virtual services, per family
 * @param errors Services with a problem (unknown scheduler, address:port taken), by message; they
 *     are programmed with the default where one exists
 * @param noLocalEndpoints "internal"/"external" → Service ports with endpoints but none local
 * @param servicesProgrammed Services with at least one virtual service
 */
public record IpvsPlan(
    Map<VirtualServerKey, PlannedService> services,
    Set<InetAddress> addresses,
    List<PortRules> ports,
    Map<IpFamily, List<Ip>> nodePortAddresses,
    Map<ServiceKey, String> errors,
    Map<String, Integer> noLocalEndpoints,
    int servicesProgrammed) {

  public IpvsPlan {
    services = Collections.unmodifiableMap(new LinkedHashMap<>(services));
    addresses = Collections.unmodifiableSet(new LinkedHashSet<>(addresses));
    ports = List.copyOf(ports);
    nodePortAddresses = Map.copyOf(nodePortAddresses);
    errors = Map.copyOf(errors);
    noLocalEndpoints = Map.copyOf(noLocalEndpoints);
  }

  /** One virtual service with its destinations, and the Service it belongs to. */
  public record PlannedService(ServiceKey owner, VirtualServer server, List<RealServer> destinations) {
    public PlannedService {
      destinations = List.copyOf(destinations);
    }
  }

  /** An endpoint address and target port. */
  public record Endpoint(Ip ip, int port) {}

  /**
   * One Service port in one family, as the iptables part of IPVS mode sees it.
   *
   * @param hasEndpoints usable endpoints exist anywhere (else REJECT)
   * @param hasInternal the ClusterIP has endpoints under the internal policy (else DROP)
   * @param hasExternal external destinations have endpoints under the external policy (else DROP)
   * @param externalLocal externalTrafficPolicy Local applies: keep the client's source address
   * @param localEndpoints this node's endpoints (a pod reaching itself through the Service must be
   *     masqueraded: hairpin)
   */
  public record PortRules(
      ServiceKey owner,
      String portName,
      IpFamily family,
      Protocol protocol,
      int port,
      Ip clusterIp,
      List<Ip> externalIps,
      List<Ip> lbIps,
      Integer nodePort,
      List<String> sourceRanges,
      boolean allowFromNode,
      boolean hasEndpoints,
      boolean hasInternal,
      boolean hasExternal,
      boolean externalLocal,
      List<Endpoint> localEndpoints,
      Integer healthCheckNodePort) {
    public PortRules {
      externalIps = List.copyOf(externalIps);
      lbIps = List.copyOf(lbIps);
      sourceRanges = List.copyOf(sourceRanges);
      localEndpoints = List.copyOf(localEndpoints);
    }
  }
}
