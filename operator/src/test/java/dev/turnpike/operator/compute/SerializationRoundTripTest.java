package dev.turnpike.operator.compute;

import static dev.turnpike.operator.compute.Fixtures.ep;
import static dev.turnpike.operator.compute.Fixtures.service;
import static dev.turnpike.operator.compute.Fixtures.slice;
import static dev.turnpike.operator.compute.Fixtures.slicePort;
import static dev.turnpike.operator.compute.Fixtures.withAnnotation;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.ForwardingTable;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the operator writes is exactly what the agents read back: no field lost or changed. */
class SerializationRoundTripTest {
  private final KubernetesSerialization serialization = new KubernetesSerialization();

  @Test
  void aFullTableSurvivesYamlAndJsonRoundTrips() {
    Service s = service("web", "10.96.0.10", "fd00::10").editSpec()
        .withType("LoadBalancer").withExternalTrafficPolicy("Local").withHealthCheckNodePort(32000)
        .withSessionAffinity("ClientIP").withExternalIPs("198.51.100.1").withLoadBalancerSourceRanges("203.0.113.0/24")
        .addNewPort().withName("").withProtocol("UDP").withPort(53).withNodePort(30053).withTargetPort(new IntOrString(5353)).endPort()
        .endSpec()
        .withNewStatus().withNewLoadBalancer().addNewIngress().withIp("192.0.2.1").endIngress().endLoadBalancer().endStatus()
        .build();
    s = withAnnotation(s, ServiceAnnotations.LB_ALGORITHM, "maglev");
    var unnamed = List.of(slicePort("", "UDP", 5353));
    ForwardingTableSpec spec = assertInstanceOf(ComputeResult.Table.class, new TableComputer(Fixtures.DEFAULTS).compute(s, List.of(
        slice("web", "a", "IPv4", unnamed, ep("10.0.0.1"), ep("10.0.0.2", false, true, true)),
        slice("web", "b", "IPv6", unnamed, ep("fd00::1", "node-a", "zone-a", List.of("zone-a"), List.of("node-a")))))).spec();
    assertEquals("", spec.frontends().get(0).name());
    assertEquals(2, spec.frontends().get(0).maglevTables().size());

    ForwardingTable ft = new ForwardingTable();
    ft.setMetadata(new ObjectMetaBuilder().withNamespace("ns").withName("web").build());
    ft.setSpec(spec);
    String yaml = serialization.asYaml(ft);
    assertTrue(yaml.contains("name: \"\""), "an unnamed port keeps its empty name:\n" + yaml);
    assertEquals(spec, serialization.unmarshal(yaml, ForwardingTable.class).getSpec());
    assertEquals(spec, serialization.unmarshal(serialization.asJson(ft), ForwardingTable.class).getSpec());
  }
}
