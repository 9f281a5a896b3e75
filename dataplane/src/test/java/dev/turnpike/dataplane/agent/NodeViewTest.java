package dev.turnpike.dataplane.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeViewTest {
  private static NodeBuilder node() {
    return new NodeBuilder().withNewMetadata().withName("n1").endMetadata();
  }

  @Test
  void addressesAreInternalFirstCanonicalAndOnce() {
    Node n = node()
        .editMetadata().withLabels(Map.of("topology.kubernetes.io/zone", "z9")).endMetadata()
        .withNewStatus()
            .addNewAddress().withType("Hostname").withAddress("n1").endAddress()
            .addNewAddress().withType("ExternalIP").withAddress("2001:DB8:0:0::1").endAddress()
            .addNewAddress().withType("InternalIP").withAddress("192.0.2.1").endAddress()
            .addNewAddress().withType("InternalIP").withAddress("fd00:0::5").endAddress()
            .addNewAddress().withType("ExternalIP").withAddress("192.0.2.1").endAddress()
            .addNewAddress().withType("InternalIP").withAddress("not-an-ip").endAddress()
        .endStatus().build();
    var ctx = NodeView.context("n1", n);
    assertEquals(List.of("192.0.2.1", "fd00::5", "2001:db8::1"), ctx.addresses());
    assertEquals("z9", ctx.topology().zone());
  }

  @Test
  void aNodeWithoutStatusOrLabelsHasNone() {
    var ctx = NodeView.context("n1", node().build());
    assertEquals(List.of(), ctx.addresses());
    assertEquals(Map.of(), ctx.labels());
  }

  @Test
  void eligibleUnlessBeingDeletedOrTaintedForAutoscalerRemoval() {
    assertTrue(NodeView.eligible(node().build()));
    assertTrue(NodeView.eligible(node().withNewSpec().addNewTaint().withKey("other").withEffect("NoSchedule")
        .endTaint().endSpec().build()));
    assertFalse(NodeView.eligible(node().withNewSpec().addNewTaint().withKey("ToBeDeletedByClusterAutoscaler")
        .withEffect("NoSchedule").endTaint().endSpec().build()));
    assertFalse(NodeView.eligible(node().editMetadata().withDeletionTimestamp("2026-01-01T00:00:00Z").endMetadata()
        .build()));
  }
}
