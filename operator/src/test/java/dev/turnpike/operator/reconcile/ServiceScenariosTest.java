package dev.turnpike.operator.reconcile;

import static dev.turnpike.operator.testing.Fixtures.service;
import static dev.turnpike.operator.testing.Fixtures.slice;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.ForwardingTable;
import dev.turnpike.api.v1alpha1.LoadBalancerIngress;
import dev.turnpike.api.v1alpha1.ServiceType;
import dev.turnpike.api.v1alpha1.TrafficPolicy;
import dev.turnpike.net.IpFamily;
import dev.turnpike.operator.OperatorOptions;
import dev.turnpike.operator.compute.ServiceAnnotations;
import dev.turnpike.operator.reconcile.MaglevSlotsMoved;
import dev.turnpike.operator.testing.FaultyTables;
import dev.turnpike.operator.testing.MockCluster;
import dev.turnpike.operator.testing.RunningOperator;
import io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * End to end through the mock API server: each Service kind produces the table the computation
 * promises. The semantics are unit-tested in compute; this proves every input field reaches it
 * (including Service status, which does not move the Service's generation) and every output field
 * survives the round trip through the CRD.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServiceScenariosTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final String NS = MockCluster.NAMESPACE;

  MockCluster cluster;
  KubernetesClient kube;
  RunningOperator op;

  @BeforeAll
  void start() {
    cluster = new MockCluster();
    kube = cluster.newClient();
    op = new RunningOperator(cluster, new FaultyTables(OperatorOptions.parse(List.of(), Map.of()).defaults()), new MaglevSlotsMoved()).start();
  }

  @AfterAll
  void stop() {
    op.close();
    kube.close();
    cluster.close();
  }

  ForwardingTable awaitTable(String name, Predicate<ForwardingTable> ready) {
    return await().atMost(WAIT).until(
        () -> kube.resources(ForwardingTable.class).inNamespace(NS).withName(name).get(),
        t -> t != null && ready.test(t));
  }

  static List<String> addresses(ForwardingTable t) {
    return t.getSpec().backends().stream().map(Backend::address).toList();
  }

  @Test
  void nodePortServiceCarriesItsNodePort() {
    kube.resource(service("np", "10.96.2.1").editSpec().withType("NodePort").editFirstPort().withNodePort(30080).endPort().endSpec().build()).create();
    kube.resource(slice("np", "np-1", 21, 2, null)).create();
    ForwardingTable t = awaitTable("np", x -> x.getSpec().backends().size() == 2);
    assertEquals(ServiceType.NodePort, t.getSpec().type());
    assertEquals(30080, t.getSpec().frontends().get(0).nodePort());
    assertEquals(80, t.getSpec().frontends().get(0).port());
    assertEquals(8080, t.getSpec().backends().get(0).portFor("http"));
  }

  @Test
  void loadBalancerIngressFromStatusAndLocalPolicyWithHealthCheckPort() {
    Service lb = kube.resource(service("lb", "10.96.2.2").editSpec()
        .withType("LoadBalancer")
        .withExternalTrafficPolicy("Local")
        .withHealthCheckNodePort(32000)
        .withLoadBalancerSourceRanges("192.0.2.0/24")
        .editFirstPort().withNodePort(30081).endPort()
        .endSpec().build()).create();
    kube.resource(slice("lb", "lb-1", 22, 2, null)).create();
    awaitTable("lb", x -> x.getSpec().backends().size() == 2);

    // The cloud controller fills the ingress in later, through the status subresource.
    lb.setStatus(new io.fabric8.kubernetes.api.model.ServiceStatusBuilder().withNewLoadBalancer()
        .withIngress(new LoadBalancerIngressBuilder().withIp("203.0.113.7").build(),
            new LoadBalancerIngressBuilder().withIp("203.0.113.8").withIpMode("Proxy").build())
        .endLoadBalancer().build());
    kube.resource(lb).updateStatus();

    ForwardingTable t = awaitTable("lb", x -> !x.getSpec().loadBalancerIngress().isEmpty());
    assertEquals(List.of("203.0.113.7"), t.getSpec().loadBalancerIngress().stream().map(LoadBalancerIngress::ip).toList(),
        "ipMode Proxy is not a frontend");
    assertEquals(TrafficPolicy.Local, t.getSpec().externalTrafficPolicy());
    assertEquals(32000, t.getSpec().healthCheckNodePort());
    assertEquals(List.of("192.0.2.0/24"), t.getSpec().loadBalancerSourceRanges());
  }

  @Test
  void externalIPsInternalLocalAndSessionAffinity() {
    kube.resource(service("ext", "10.96.2.3").editSpec()
        .withExternalIPs("198.51.100.5")
        .withInternalTrafficPolicy("Local")
        .withSessionAffinity("ClientIP")
        .withNewSessionAffinityConfig().withNewClientIP().withTimeoutSeconds(600).endClientIP().endSessionAffinityConfig()
        .endSpec().build()).create();
    ForwardingTable t = awaitTable("ext", x -> true);
    assertEquals(List.of("198.51.100.5"), t.getSpec().externalIPs());
    assertEquals(TrafficPolicy.Local, t.getSpec().internalTrafficPolicy());
    assertEquals(600, t.getSpec().sessionAffinity().timeoutSeconds());
  }

  @Test
  void dualStackServiceGetsBothFamilies() {
    kube.resource(service("dual", "10.96.2.4").editSpec()
        .withClusterIPs("10.96.2.4", "fd00:96::4").withIpFamilies("IPv4", "IPv6").withIpFamilyPolicy("PreferDualStack")
        .endSpec().build()).create();
    kube.resource(slice("dual", "dual-v4", 24, 1, null)).create();
    kube.resource(new EndpointSliceBuilder(slice("dual", "dual-v6", 0, 0, null)).withAddressType("IPv6")
        .withEndpoints(new EndpointBuilder().withAddresses("fd00:1::1").withNewConditions().withReady(true).endConditions().build())
        .build()).create();
    ForwardingTable t = awaitTable("dual", x -> x.getSpec().backends().size() == 2);
    assertEquals(List.of("10.96.2.4", "fd00:96::4"), t.getSpec().clusterIPs());
    assertTrue(addresses(t).containsAll(List.of("10.1.24.1", "fd00:1::1")), addresses(t).toString());
  }

  @Test
  void terminatingEndpointsAreKeptForFallbackAndReadinessIsCarried() {
    kube.resource(service("term", "10.96.2.5").build()).create();
    EndpointSlice s = slice("term", "term-1", 25, 2, null);
    s.getEndpoints().forEach(e -> e.getConditions().setReady(false));
    s.getEndpoints().forEach(e -> e.getConditions().setTerminating(true));
    kube.resource(s).create();
    ForwardingTable t = awaitTable("term", x -> x.getSpec().backends().size() == 2);
    for (Backend b : t.getSpec().backends()) {
      assertFalse(b.ready());
      assertTrue(b.serving());
      assertTrue(b.terminating());
    }
  }

  @Test
  void maglevServiceGetsLookupTablesAndScalingIsMeasured() {
    kube.resource(service("mg", "10.96.2.6").editMetadata()
        .addToAnnotations(ServiceAnnotations.LB_ALGORITHM, "maglev")
        .addToAnnotations(ServiceAnnotations.MAGLEV_TABLE_SIZE, "251")
        .endMetadata().build()).create();
    kube.resource(slice("mg", "mg-1", 26, 4, null)).create();
    ForwardingTable t = awaitTable("mg", x -> x.getSpec().backends().size() == 4);
    assertEquals(Algorithm.MAGLEV, t.getSpec().algorithm());
    assertEquals(251, t.getSpec().maglev().tableSize());
    assertEquals(OperatorOptions.DEFAULT_MAGLEV_SEED, t.getSpec().maglev().seed());
    var tables = t.getSpec().frontends().get(0).maglevTables();
    assertEquals(1, tables.size());
    assertEquals(IpFamily.IPv4, tables.get(0).ipFamily());
    assertEquals(251, dev.turnpike.lb.MaglevTableCodec.decode(tables.get(0).table(), 4).length);

    var moved = op.registry.get("turnpike.maglev.slots.moved.ratio").summary();
    long before = moved.count();
    kube.resource(slice("mg", "mg-1", 26, 5, null)).update();
    awaitTable("mg", x -> x.getSpec().backends().size() == 5);
    await().atMost(WAIT).until(() -> moved.count() > before);
    // Adding 1 backend to 4 should move about 1/5 of the slots, never most of them.
    double ratio = moved.max();
    assertTrue(ratio > 0 && ratio < 0.5, "slots moved " + ratio);
    assertTrue(op.registry.get("turnpike.maglev.build").timer().count() >= 2);
  }

  @Test
  void headlessServiceGetsNoTable() {
    kube.resource(service("headless", "None").build()).create();
    kube.resource(service("control", "10.96.2.7").build()).create();
    awaitTable("control", x -> true); // processed after or alongside the headless one
    await().during(Duration.ofSeconds(1)).atMost(WAIT)
        .until(() -> kube.resources(ForwardingTable.class).inNamespace(NS).withName("headless").get() == null);
  }
}
