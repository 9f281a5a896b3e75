package dev.turnpike.operator.compute;

import dev.turnpike.api.v1alpha1.Algorithm;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.ForNode;
import io.fabric8.kubernetes.api.model.discovery.v1.ForZone;
import java.util.Arrays;
import java.util.List;

/** Compact builders for Services and EndpointSlices in tests. */
final class Fixtures {
  static final long SEED = 0x5eed_0000_cafe_f00dL;
  static final ClusterDefaults DEFAULTS = new ClusterDefaults(Algorithm.RANDOM, 251, SEED, "");

  private Fixtures() {}

  static ServiceBuilder service(String name, String... clusterIPs) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withNamespace("ns")
        .withName(name)
        .withUid("uid-" + name)
        .endMetadata()
        .withNewSpec()
        .withType("ClusterIP")
        .withClusterIP(clusterIPs.length == 0 ? null : clusterIPs[0])
        .withClusterIPs(Arrays.asList(clusterIPs))
        .endSpec();
  }

  static ServicePort port(String name, String protocol, int port, Integer nodePort) {
    return new ServicePortBuilder()
        .withName(name)
        .withProtocol(protocol)
        .withPort(port)
        .withTargetPort(new IntOrString(name))
        .withNodePort(nodePort)
        .build();
  }

  static ServicePort tcp(String name, int port) {
    return port(name, "TCP", port, null);
  }

  static EndpointPort slicePort(String name, String protocol, Integer port) {
    return new EndpointPortBuilder().withName(name).withProtocol(protocol).withPort(port).build();
  }

  static EndpointSlice slice(String service, String name, String addressType, List<EndpointPort> ports, Endpoint... eps) {
    return new EndpointSliceBuilder()
        .withNewMetadata()
        .withNamespace("ns")
        .withName(name)
        .addToLabels("kubernetes.io/service-name", service)
        .endMetadata()
        .withAddressType(addressType)
        .withPorts(ports)
        .withEndpoints(eps)
        .build();
  }

  static Endpoint ep(String address) {
    return ep(address, null, null, null);
  }

  static Endpoint ep(String address, Boolean ready, Boolean serving, Boolean terminating) {
    return new EndpointBuilder()
        .withAddresses(address)
        .withNewConditions()
        .withReady(ready)
        .withServing(serving)
        .withTerminating(terminating)
        .endConditions()
        .build();
  }

  static Endpoint ep(String address, String node, String zone, List<String> zoneHints, List<String> nodeHints) {
    return new EndpointBuilder()
        .withAddresses(address)
        .withNodeName(node)
        .withZone(zone)
        .withNewHints()
        .withForZones(zoneHints.stream().map(ForZone::new).toList())
        .withForNodes(nodeHints.stream().map(ForNode::new).toList())
        .endHints()
        .build();
  }

  static LoadBalancerIngress ingress(String ip, String ipMode) {
    return new LoadBalancerIngressBuilder().withIp(ip).withIpMode(ipMode).build();
  }

  static Service withAnnotation(Service s, String key, String value) {
    return new ServiceBuilder(s).editMetadata().addToAnnotations(key, value).endMetadata().build();
  }
}
