package dev.turnpike.dataplane.sync;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.BackendPort;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.api.v1alpha1.Frontend;
import dev.turnpike.api.v1alpha1.LoadBalancerIngress;
import dev.turnpike.api.v1alpha1.Protocol;
import dev.turnpike.api.v1alpha1.ServiceReference;
import dev.turnpike.api.v1alpha1.ServiceType;
import dev.turnpike.api.v1alpha1.TrafficPolicy;
import java.util.List;

/** Small ForwardingTable specs for agent tests. */
public final class Specs {
  private Specs() {}

  /** A ready backend serving the frontend "http" on 8080. */
  public static Backend backend(String address, String nodeName) {
    return new Backend(address, List.of(new BackendPort("http", 8080)), nodeName, null, true, true, false, null);
  }

  public static Backend terminating(String address, String nodeName) {
    return new Backend(address, List.of(new BackendPort("http", 8080)), nodeName, null, false, true, true, null);
  }

  public static ForwardingTableSpec clusterIp(String ns, String name, String clusterIp, Backend... backends) {
    return new ForwardingTableSpec(
        new ServiceReference(ns, name, null), ServiceType.ClusterIP, List.of(clusterIp),
        List.of(new Frontend("http", Protocol.TCP, 80, null)), List.of(), List.of(), List.of(), List.of(backends),
        TrafficPolicy.Cluster, TrafficPolicy.Cluster, null, null, null, Algorithm.RANDOM, null, null, null, null);
  }

  /** A LoadBalancer Service with externalTrafficPolicy Local and a health check node port. */
  public static ForwardingTableSpec localLoadBalancer(
      String ns, String name, String clusterIp, int healthCheckNodePort, Backend... backends) {
    return new ForwardingTableSpec(
        new ServiceReference(ns, name, null), ServiceType.LoadBalancer, List.of(clusterIp),
        List.of(new Frontend("http", Protocol.TCP, 80, 30080)), List.of(),
        List.of(new LoadBalancerIngress("203.0.113.10", null)), List.of(), List.of(backends),
        TrafficPolicy.Local, TrafficPolicy.Cluster, healthCheckNodePort, null, null, Algorithm.RANDOM, null, null,
        null, null);
  }

  public static ForwardingTableSpec withTriggerTime(ForwardingTableSpec s, String rfc3339) {
    return new ForwardingTableSpec(
        s.service(), s.type(), s.clusterIPs(), s.frontends(), s.externalIPs(), s.loadBalancerIngress(),
        s.loadBalancerSourceRanges(), s.backends(), s.externalTrafficPolicy(), s.internalTrafficPolicy(),
        s.healthCheckNodePort(), s.sessionAffinity(), s.trafficDistribution(), s.algorithm(), s.maglev(),
        s.ipvsScheduler(), rfc3339, s.summary());
  }

  public static ForwardingTableSpec withInternalLocal(ForwardingTableSpec s) {
    return new ForwardingTableSpec(
        s.service(), s.type(), s.clusterIPs(), s.frontends(), s.externalIPs(), s.loadBalancerIngress(),
        s.loadBalancerSourceRanges(), s.backends(), s.externalTrafficPolicy(), TrafficPolicy.Local,
        s.healthCheckNodePort(), s.sessionAffinity(), s.trafficDistribution(), s.algorithm(), s.maglev(),
        s.ipvsScheduler(), s.lastChangeTriggerTime(), s.summary());
  }
}
