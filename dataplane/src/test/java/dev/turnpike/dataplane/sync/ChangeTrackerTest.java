package dev.turnpike.dataplane.sync;

import static dev.turnpike.dataplane.sync.Specs.backend;
import static dev.turnpike.dataplane.sync.Specs.clusterIp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.dataplane.NodeContext;
import dev.turnpike.dataplane.ServiceKey;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ChangeTrackerTest {
  private static final ServiceKey A = new ServiceKey("ns", "a");
  private static final ServiceKey B = new ServiceKey("ns", "b");
  private static final ForwardingTableSpec A1 = clusterIp("ns", "a", "10.96.0.1", backend("10.0.0.1", "n1"));
  private static final ForwardingTableSpec A2 = clusterIp("ns", "a", "10.96.0.1", backend("10.0.0.2", "n1"));
  private static final ForwardingTableSpec B1 = clusterIp("ns", "b", "10.96.0.2", backend("10.0.0.3", "n2"));
  private static final NodeContext NODE = new NodeContext("n1", Map.of(), List.of("192.0.2.1"));

  private final ChangeTracker tracker = new ChangeTracker(NODE, Instant.parse("2026-01-01T00:00:00Z"));

  private ChangeTracker.Snapshot syncNow() {
    ChangeTracker.Snapshot s = tracker.snapshot();
    tracker.synced(s);
    return s;
  }

  @Test
  void firstSnapshotHasEveryServiceAndTheNodeAsChanged() {
    tracker.update(A, A1);
    tracker.update(B, B1);
    ChangeTracker.Snapshot s = tracker.snapshot();
    assertEquals(Set.of(A, B), s.changed());
    assertTrue(s.nodeChanged(), "nothing programmed yet, so the node counts as changed");
    assertEquals(Map.of(A, A1, B, B1), s.state().tables());
    assertEquals(NODE, s.state().node());
  }

  @Test
  void repeatedChangesMergeAndOnlyChangedServicesAreReported() {
    tracker.update(A, A1);
    tracker.update(B, B1);
    syncNow();
    assertFalse(tracker.hasPending());
    assertTrue(tracker.update(A, A2));
    assertTrue(tracker.update(A, clusterIp("ns", "a", "10.96.0.1", backend("10.0.0.9", "n1"))));
    ChangeTracker.Snapshot s = syncNow();
    assertEquals(Set.of(A), s.changed(), "two changes of A are one change; B untouched");
    assertFalse(s.nodeChanged());
  }

  @Test
  void noOpsAreDropped() {
    tracker.update(A, A1);
    syncNow();
    assertFalse(tracker.update(A, clusterIp("ns", "a", "10.96.0.1", backend("10.0.0.1", "n1"))),
        "an update to an equal spec is not a change");
    assertTrue(tracker.update(A, A2));
    assertTrue(tracker.hasPending());
    assertTrue(tracker.update(A, A1), "back to the programmed spec");
    assertFalse(tracker.hasPending(), "A->A2->A1 nets out");
    assertEquals(Set.of(), tracker.snapshot().changed());
    assertTrue(tracker.update(B, B1));
    assertTrue(tracker.update(B, null));
    assertEquals(Set.of(), tracker.snapshot().changed(), "added then deleted before any sync");
  }

  @Test
  void anEqualCopyLeavesTheHeldObjectInPlace() {
    tracker.update(A, A1);
    syncNow();
    ForwardingTableSpec copy = clusterIp("ns", "a", "10.96.0.1", backend("10.0.0.1", "n1"));
    assertFalse(tracker.update(A, copy));
    // The renderer reuses a Service's plan while the spec is the same object, and the copy is
    // not kept as a second object next to the programmed one.
    assertSame(A1, tracker.snapshot().state().tables().get(A));
  }

  @Test
  void deletionIsAChangeAndLeavesTheState() {
    tracker.update(A, A1);
    tracker.update(B, B1);
    syncNow();
    assertTrue(tracker.update(B, null));
    assertFalse(tracker.update(B, null), "deleting twice changes nothing");
    ChangeTracker.Snapshot s = syncNow();
    assertEquals(Set.of(B), s.changed());
    assertEquals(Set.of(A), s.state().tables().keySet());
  }

  @Test
  void changesArrivingDuringASyncStayPending() {
    tracker.update(A, A1);
    ChangeTracker.Snapshot s = tracker.snapshot();
    tracker.update(A, A2); // the watch sees a change while the backend programs A1
    tracker.synced(s);
    assertTrue(tracker.hasPending());
    assertEquals(Set.of(A), tracker.snapshot().changed());
    assertEquals(A2, tracker.snapshot().state().tables().get(A));
  }

  @Test
  void failedSyncKeepsEverythingPending() {
    tracker.update(A, A1);
    tracker.snapshot(); // handed to a backend that failed: synced() is never called
    tracker.update(B, B1);
    assertEquals(Set.of(A, B), tracker.snapshot().changed());
  }

  @Test
  void nodeChangeIsReportedUntilSynced() {
    syncNow();
    assertFalse(tracker.updateNode(new NodeContext("n1", Map.of(), List.of("192.0.2.1"))), "same node");
    assertTrue(tracker.updateNode(new NodeContext("n1", Map.of("topology.kubernetes.io/zone", "z1"), List.of("192.0.2.1"))));
    assertTrue(tracker.hasPending());
    assertTrue(syncNow().nodeChanged());
    assertFalse(tracker.snapshot().nodeChanged());
    assertTrue(tracker.updateNode(new NodeContext("n1", Map.of("topology.kubernetes.io/zone", "z1"), List.of("192.0.2.2"))),
        "an address change is a node change too");
  }

  @Test
  void triggerTimesAreReportedOnceForTheSyncThatAppliesThem() {
    tracker.update(A, Specs.withTriggerTime(A1, "2025-12-31T23:00:00Z")); // before the agent started
    syncNow();
    tracker.update(A, Specs.withTriggerTime(A2, "2026-01-01T00:00:05Z"));
    tracker.update(A, Specs.withTriggerTime(A1, "2026-01-01T00:00:07Z"));
    tracker.update(B, Specs.withTriggerTime(B1, "not a time"));
    ChangeTracker.Snapshot s = syncNow();
    assertEquals(
        Map.of(A, List.of(Instant.parse("2026-01-01T00:00:05Z"), Instant.parse("2026-01-01T00:00:07Z"))),
        s.triggerTimes());
    assertEquals(Map.of(), tracker.snapshot().triggerTimes(), "applied times are not reported again");
  }
}
