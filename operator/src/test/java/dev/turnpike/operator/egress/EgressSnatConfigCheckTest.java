package dev.turnpike.operator.egress;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.operator.OperatorOptions;
import dev.turnpike.operator.testing.FaultyTables;
import dev.turnpike.operator.testing.MockCluster;
import dev.turnpike.operator.testing.RunningOperator;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The operator validates the egress SNAT ConfigMap on the Fabric8 mock API server and reports problems. */
class EgressSnatConfigCheckTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String NS = "turnpike-system";
  private static final String NAME = "turnpike-egress-snat";

  private final MockCluster cluster = new MockCluster();
  private final KubernetesClient client = cluster.newClient();
  private RunningOperator a;
  private RunningOperator b;

  @AfterEach
  void tearDown() {
    for (RunningOperator op : new RunningOperator[] {a, b}) {
      if (op != null) {
        op.close();
      }
    }
    client.close();
    cluster.close();
  }

  private RunningOperator operator() {
    return new RunningOperator(cluster, new FaultyTables(OperatorOptions.parse(List.of(), Map.of()).defaults()),
        "--egress-snat-configmap=" + NS + "/" + NAME).start();
  }

  private void configMap(Map<String, String> data) {
    client.configMaps().inNamespace(NS).resource(new ConfigMapBuilder()
        .withNewMetadata().withNamespace(NS).withName(NAME).endMetadata().withData(data).build())
        .createOr(r -> r.update());
  }

  private List<Event> events() {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> EgressSnatConfigCheck.REASON.equals(e.getReason())).toList();
  }

  private static double gauge(RunningOperator op) {
    return op.meters().get("turnpike.egress.snat.config.invalid").gauge().value();
  }

  @Test
  void invalidVersionsGetAWarningEventAndTheGaugeEveryReplicaAgrees() {
    configMap(Map.of("clusterCIDRs", "10.244.0.0/16"));
    a = operator();
    b = operator();
    await().during(Duration.ofMillis(500)).atMost(WAIT).until(() -> gauge(a) == 0 && events().isEmpty());

    // Wrong for node-b only: still invalid as a whole, for every agent and the operator alike.
    configMap(Map.of("clusterCIDRs", "10.244.0.0/16", "snatAddresses", "node-a=203.0.113.5\nnode-b=203.0.113.x"));
    await().atMost(WAIT).until(() -> gauge(a) == 1 && gauge(b) == 1);
    await().atMost(WAIT).until(() -> events().size() == 1);
    Event e = events().get(0);
    assertEquals("Warning", e.getType());
    assertEquals("ConfigMap", e.getInvolvedObject().getKind());
    assertEquals(NAME, e.getInvolvedObject().getName());
    assertEquals("ConfigMap turnpike-egress-snat: snatAddresses: node-b: \"203.0.113.x\" is not an IP address; "
        + "agents keep their last valid configuration", e.getMessage());
    assertEquals(1.0, a.count("turnpike.egress.snat.config.rejections"));
    // Two replicas, one Event: its name is derived from the ConfigMap version and the message.
    await().during(Duration.ofMillis(500)).atMost(WAIT).until(() -> events().size() == 1);

    configMap(Map.of("clusterCIDRs", "10.244.0.0/16", "snatAddresses", "node-a=203.0.113.5"));
    await().atMost(WAIT).until(() -> gauge(a) == 0 && gauge(b) == 0);
    assertTrue(a.operator.isHealthy(), "an invalid ConfigMap never stops the operator");
  }
}
