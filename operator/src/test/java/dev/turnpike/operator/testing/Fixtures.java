package dev.turnpike.operator.testing;

import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Test Services and EndpointSlices, filled in the way an API server would (uid, clusterIP). */
public final class Fixtures {
  public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";
  public static final String TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time";

  private Fixtures() {}

  public static ServiceBuilder service(String name, String clusterIP) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(MockCluster.NAMESPACE)
        .withUid(UUID.randomUUID().toString())
        .endMetadata()
        .withNewSpec()
        .withType("ClusterIP")
        .withClusterIP(clusterIP)
        .withClusterIPs(clusterIP)
        .withIpFamilies(clusterIP.contains(":") ? "IPv6" : "IPv4")
        .addNewPort()
        .withName("http")
        .withProtocol("TCP")
        .withPort(80)
        .withNewTargetPort("http")
        .endPort()
        .endSpec();
  }

  /** A slice for {@code service} with {@code count} ready endpoints 10.1.&lt;n&gt;.x on port 8080. */
  public static EndpointSlice slice(String service, String name, int subnet, int count, String triggerTime) {
    List<io.fabric8.kubernetes.api.model.discovery.v1.Endpoint> endpoints = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      endpoints.add(
          new EndpointBuilder()
              .withAddresses("10.1." + subnet + "." + i)
              .withNodeName("node-" + (i % 3))
              .withNewConditions()
              .withReady(true)
              .withServing(true)
              .withTerminating(false)
              .endConditions()
              .build());
    }
    var b =
        new EndpointSliceBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(MockCluster.NAMESPACE)
            .addToLabels(SERVICE_NAME_LABEL, service)
            .addToLabels("endpointslice.kubernetes.io/managed-by", "endpointslice-controller.k8s.io")
            .endMetadata()
            .withAddressType("IPv4")
            .withEndpoints(endpoints)
            .addNewPort()
            .withName("http")
            .withProtocol("TCP")
            .withPort(8080)
            .endPort();
    if (triggerTime != null) {
      b.editMetadata().addToAnnotations(TRIGGER_TIME, triggerTime).endMetadata();
    }
    return b.build();
  }

}
