package dev.turnpike.operator.compute;

import static dev.turnpike.operator.compute.Fixtures.DEFAULTS;
import static dev.turnpike.operator.compute.Fixtures.ep;
import static dev.turnpike.operator.compute.Fixtures.service;
import static dev.turnpike.operator.compute.Fixtures.slice;
import static dev.turnpike.operator.compute.Fixtures.slicePort;
import static dev.turnpike.operator.compute.Fixtures.tcp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.turnpike.operator.cache.SlimServices;
import dev.turnpike.operator.cache.SlimSlices;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Service and slice informers keep slimmed objects: the computation must not be able to tell. */
class SlimCachesTest {
  private final TableComputer computer = new TableComputer(DEFAULTS);

  /** Everything a real EndpointSlice controller writes, including what the computation ignores. */
  static EndpointSlice realistic(String name, int subnet) {
    Endpoint ready = withPodFields(ep("10.1." + subnet + ".1", "node-a", "zone-1", List.of("zone-1"), List.of("node-a")), "pod-1");
    Endpoint terminating = withPodFields(ep("10.1." + subnet + ".2", false, true, true), "pod-2");
    terminating.setNodeName("node-b");
    Endpoint unset = withPodFields(ep("10.1." + subnet + ".3"), "pod-3");
    return new EndpointSliceBuilder(
            slice("web", name, "IPv4", List.of(slicePort("http", "TCP", 8080), slicePort("dns", "UDP", 53)), ready, terminating, unset))
        .editMetadata()
        .withUid("uid-" + name)
        .withResourceVersion("42")
        .withGeneration(3L)
        .addToLabels("endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io")
        .addToAnnotations(TableComputer.TRIGGER_TIME_ANNOTATION, "2026-11-22T05:00:0" + subnet + "Z")
        .addToAnnotations("other", "x")
        .addNewOwnerReference().withKind("Service").withName("web").withUid("uid-web").withApiVersion("v1").endOwnerReference()
        .addNewManagedField().withManager("kube-controller-manager").withOperation("Update").endManagedField()
        .endMetadata()
        .build();
  }

  static Endpoint withPodFields(Endpoint e, String pod) {
    return new EndpointBuilder(e)
        .withHostname(pod)
        .withTargetRef(new ObjectReferenceBuilder().withKind("Pod").withName(pod).withNamespace("ns").withUid("uid-" + pod).build())
        .addToDeprecatedTopology(Map.of("kubernetes.io/hostname", "node-a"))
        .build();
  }

  @Test
  void sameTableFromSlimSlices() {
    List<EndpointSlice> full = List.of(realistic("web-1", 1), realistic("web-2", 2));
    List<EndpointSlice> slim = full.stream().map(SlimSlices::slim).toList();
    for (String algorithm : List.of("random", "maglev")) {
      Service svc = Fixtures.withAnnotation(
          service("web", "10.96.0.10").editSpec().withPorts(tcp("http", 80), Fixtures.port("dns", "UDP", 53, null)).endSpec().build(),
          ServiceAnnotations.LB_ALGORITHM, algorithm);
      ComputeResult fromFull = computer.compute(svc, full);
      assertInstanceOf(ComputeResult.Table.class, fromFull);
      assertEquals(fromFull, computer.compute(svc, slim), algorithm);
    }
  }

  @Test
  void sameTableFromSlimServices() {
    List<EndpointSlice> slices = List.of(realistic("web-1", 1));
    Service full = new ServiceBuilder(service("web", "10.96.0.10")
            .editSpec().withPorts(Fixtures.port("http", "TCP", 80, 30080), Fixtures.port("dns", "UDP", 53, 30053)).endSpec().build())
        .editMetadata()
        .withResourceVersion("9")
        .addToLabels("app", "web")
        .addToAnnotations(ServiceAnnotations.LB_ALGORITHM, "maglev")
        .addToAnnotations(ServiceAnnotations.MAGLEV_TABLE_SIZE, "nope")
        .addToAnnotations("kubectl.kubernetes.io/last-applied-configuration", "{\"kind\":\"Service\"}")
        .addNewManagedField().withManager("kubectl").withOperation("Apply").endManagedField()
        .endMetadata()
        .editSpec()
        .withType("LoadBalancer")
        .withExternalTrafficPolicy("Local")
        .withHealthCheckNodePort(31000)
        .withExternalIPs("192.0.2.7")
        .withSessionAffinity("ClientIP")
        .withNewSessionAffinityConfig().withNewClientIP().withTimeoutSeconds(600).endClientIP().endSessionAffinityConfig()
        .withLoadBalancerSourceRanges("198.51.100.0/24")
        .endSpec()
        .withNewStatus().withNewLoadBalancer().withIngress(Fixtures.ingress("203.0.113.9", null)).endLoadBalancer().endStatus()
        .build();
    Service slim = SlimServices.slim(full);
    ComputeResult fromFull = computer.compute(full, slices);
    assertInstanceOf(ComputeResult.Table.class, fromFull);
    assertEquals(1, ((ComputeResult.Table) fromFull).problems().size(), "the bad table size is reported from both");
    assertEquals(fromFull, computer.compute(slim, slices));

    assertNull(slim.getMetadata().getManagedFields());
    assertEquals(Map.of(ServiceAnnotations.LB_ALGORITHM, "maglev", ServiceAnnotations.MAGLEV_TABLE_SIZE, "nope"),
        slim.getMetadata().getAnnotations());
    assertEquals(full.getMetadata().getLabels(), slim.getMetadata().getLabels());
    assertEquals("9", slim.getMetadata().getResourceVersion());
    assertEquals("uid-web", slim.getMetadata().getUid());
    assertEquals("kubectl", full.getMetadata().getManagedFields().get(0).getManager(), "the informer's own object is left alone");
  }

  @Test
  void dropsWhatTheComputationDoesNotRead() {
    EndpointSlice s = SlimSlices.slim(realistic("web-1", 1));
    assertEquals(Map.of(TableComputer.SERVICE_NAME_LABEL, "web"), s.getMetadata().getLabels());
    assertEquals(Map.of(TableComputer.TRIGGER_TIME_ANNOTATION, "2026-11-22T05:00:01Z"), s.getMetadata().getAnnotations());
    assertEquals("42", s.getMetadata().getResourceVersion());
    assertEquals(List.of(), s.getMetadata().getOwnerReferences());
    assertEquals(List.of(), s.getMetadata().getManagedFields());
    Endpoint e = s.getEndpoints().get(0);
    assertNull(e.getTargetRef());
    assertNull(e.getHostname());
    assertEquals(Map.of(), e.getAdditionalProperties());
    // Repeated values are shared, not copied per slice.
    EndpointSlice other = SlimSlices.slim(realistic("web-2", 2));
    assertSame(e.getNodeName(), other.getEndpoints().get(0).getNodeName());
    assertSame(e.getConditions(), other.getEndpoints().get(0).getConditions());
    assertSame(s.getPorts().get(0).getProtocol(), other.getPorts().get(0).getProtocol());
  }
}
