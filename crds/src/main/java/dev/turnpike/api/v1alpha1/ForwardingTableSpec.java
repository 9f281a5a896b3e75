package dev.turnpike.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import java.util.List;

/**
 * Everything a node needs to forward one Service, computed by the operator from the Service and
 * its EndpointSlices.
 *
 * <p>Frontends: every address in {@code clusterIPs}, {@code externalIPs} and {@code
 * loadBalancerIngress} accepts each entry of {@code frontends} (its port and protocol); a frontend
 * with a nodePort also accepts traffic on the node's addresses at that port. Backends list every
 * distinct endpoint address once, sorted by address, with its target port per frontend name.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ForwardingTableSpec(
    @Required ServiceReference service,
    @Required ServiceType type,
    @JsonPropertyDescription("ClusterIPs of every IP family, primary family first.")
        List<String> clusterIPs,
    @JsonPropertyDescription("One entry per Service port.") List<Frontend> frontends,
    List<String> externalIPs,
    @JsonPropertyDescription("Ingress IPs with ipMode VIP or unset; ipMode Proxy is not a frontend.")
        List<LoadBalancerIngress> loadBalancerIngress,
    @JsonPropertyDescription("CIDRs allowed to reach the loadBalancer ingress IPs; empty allows all.")
        List<String> loadBalancerSourceRanges,
    List<Backend> backends,
    TrafficPolicy externalTrafficPolicy,
    TrafficPolicy internalTrafficPolicy,
    @Min(1) @Max(65535) Integer healthCheckNodePort,
    SessionAffinity sessionAffinity,
    @JsonPropertyDescription(
            "The Service's spec.trafficDistribution (PreferClose, PreferSameZone, PreferSameNode), carried for the agent's topology choice.")
        String trafficDistribution,
    @Required Algorithm algorithm,
    @JsonPropertyDescription("Maglev parameters; set when algorithm is maglev.") MaglevParameters maglev,
    @JsonPropertyDescription("Kernel IPVS scheduler for this Service (IPVS mode only); empty means the mode's default.")
        String ipvsScheduler,
    @JsonPropertyDescription(
            "Latest endpoints.kubernetes.io/last-change-trigger-time of the Service's EndpointSlices (RFC 3339).")
        String lastChangeTriggerTime,
    @JsonPropertyDescription("Human-readable figures for kubectl get; derived, never read by agents.")
        Summary summary) {

  public ForwardingTableSpec {
    clusterIPs = copy(clusterIPs);
    frontends = copy(frontends);
    externalIPs = copy(externalIPs);
    loadBalancerIngress = copy(loadBalancerIngress);
    loadBalancerSourceRanges = copy(loadBalancerSourceRanges);
    backends = copy(backends);
  }

  static <T> List<T> copy(List<T> list) {
    return list == null ? List.of() : List.copyOf(list);
  }
}
