package dev.turnpike.operator.reconcile;

import static dev.turnpike.operator.testing.Fixtures.service;
import static dev.turnpike.operator.testing.Fixtures.slice;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.turnpike.api.v1alpha1.ForwardingTable;
import dev.turnpike.operator.OperatorOptions;
import dev.turnpike.operator.testing.FaultyTables;
import dev.turnpike.operator.testing.MockCluster;
import dev.turnpike.operator.testing.RunningOperator;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Two replicas on one Lease: the standby takes over and rewrites nothing that did not change. */
class LeaderHandoverTest {
  static final String NS = MockCluster.NAMESPACE;

  @Test
  void standbyTakesOverProgramsChangesAndLeavesUnchangedTablesAlone() {
    try (MockCluster cluster = new MockCluster();
        KubernetesClient kube = cluster.newClient()) {
      var defaults = OperatorOptions.parse(List.of(), Map.of()).defaults();
      RunningOperator a = new RunningOperator(cluster, new FaultyTables(defaults), "--leader-election=true", "--identity=replica-a", "--lease-namespace=" + NS);
      RunningOperator b = new RunningOperator(cluster, new FaultyTables(defaults), "--leader-election=true", "--identity=replica-b", "--lease-namespace=" + NS);
      try {
        a.start();
        await().atMost(Duration.ofSeconds(30)).until(a.operator::isLeader);
        b.start();
        await().atMost(Duration.ofSeconds(30)).until(b.operator::isReady);
        assertFalse(b.operator.isLeader());

        kube.resource(service("stable", "10.96.3.1").build()).create();
        kube.resource(slice("stable", "stable-1", 31, 3, null)).create();
        ForwardingTable stable = await().atMost(Duration.ofSeconds(30)).until(
            () -> table(kube, "stable"),
            // Settled: the status write that follows the last spec write has landed too.
            t -> t != null && t.getStatus() != null && t.getSpec().backends().size() == 3
                && t.getMetadata().getGeneration().equals(t.getStatus().observedGeneration()));
        assertEquals(0.0, b.count("turnpike.table.writes"), 0.0, "the standby must not write");

        a.close(); // the leader dies without releasing the Lease
        kube.resource(service("during", "10.96.3.2").build()).create();
        kube.resource(slice("during", "during-1", 32, 2, null)).create();

        await().atMost(Duration.ofSeconds(30)).until(b.operator::isLeader);
        await().atMost(Duration.ofSeconds(30)).until(() -> table(kube, "during"), t -> t != null && t.getSpec().backends().size() == 2);
        Lease lease = kube.leases().inNamespace(NS).withName(OperatorOptions.DEFAULT_LEASE_NAME).get();
        assertEquals("replica-b", lease.getSpec().getHolderIdentity());

        // The new leader replayed "stable" from its cache and found nothing to do.
        await().atMost(Duration.ofSeconds(30)).until(() -> b.count("operator.sdk.reconciliations.success") >= 2);
        assertEquals(stable.getMetadata().getResourceVersion(), table(kube, "stable").getMetadata().getResourceVersion());
        assertEquals(0.0, b.count("turnpike.table.writes", "result", "updated"), 0.0);
        assertEquals(1.0, b.count("turnpike.table.writes", "result", "created"), 0.0, "only \"during\" is new");
        assertEquals(1.0, b.count("turnpike.table.writes", "result", "status_updated"), 0.0, "only \"during\"'s status");
        assertEquals(0, a.lostLeadership.get(), "a stop is not a lost lease");
      } finally {
        a.close();
        b.close();
      }
    }
  }

  static ForwardingTable table(KubernetesClient kube, String name) {
    return kube.resources(ForwardingTable.class).inNamespace(NS).withName(name).get();
  }
}
