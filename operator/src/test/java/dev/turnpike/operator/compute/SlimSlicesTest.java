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

import dev.turnpike.operator.cache.SlimSlices;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The slice informer keeps slimmed slices: the computation must not be able to tell. */
class SlimSlicesTest {
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
