package dev.turnpike.dataplane.sync;

import static dev.turnpike.dataplane.sync.Specs.backend;
import static dev.turnpike.dataplane.sync.Specs.clusterIp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.dataplane.NodeContext;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.dataplane.SyncResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The sync loop driven tick by tick through the runner with a fake clock. */
class SyncLoopTest {
  private static final ServiceKey A = new ServiceKey("ns", "a");
  private static final ServiceKey B = new ServiceKey("ns", "b");

  private final FakeClock clock = new FakeClock();
  private final FakeDataplane dataplane = new FakeDataplane();
  private final ChangeTracker tracker =
      new ChangeTracker(new NodeContext("n1", Map.of(), List.of("192.0.2.1")), clock.instant());
  private final List<String> events = new ArrayList<>();
  private final SyncLoop loop = new SyncLoop(dataplane, tracker, clock, Duration.ofSeconds(30), List.of(new SyncListener() {
    @Override
    public void succeeded(ChangeTracker.Snapshot s, SyncRequest r, SyncResult res, Duration elapsed, Instant at) {
      events.add("ok " + (r.full() ? "full" : "partial"));
    }

    @Override
    public void failed(SyncRequest r, Exception e, Instant at) {
      events.add("failed " + e.getMessage());
    }
  }));
  private final BoundedFrequencyRunner runner = new BoundedFrequencyRunner(
      "sync", loop, Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofSeconds(30), 2, clock);

  private void change(ServiceKey key, String backendIp) {
    tracker.update(key, backendIp == null ? null : clusterIp(key.namespace(), key.name(), "10.96.0.1", backend(backendIp, "n1")));
    runner.run();
  }

  @Test
  void firstSyncIsFullThenPartialWithExactlyTheChangedServices() {
    change(A, "10.0.0.1");
    change(B, "10.0.0.2");
    runner.tick();
    SyncRequest first = dataplane.last();
    assertTrue(first.full());
    assertEquals(Set.of(A, B), first.state().tables().keySet());

    change(A, "10.0.0.3");
    runner.tick();
    SyncRequest second = dataplane.last();
    assertFalse(second.full());
    assertEquals(Set.of(A), second.changed());
    assertEquals(Set.of(A, B), second.state().tables().keySet(), "the whole state is always handed over");

    change(B, null);
    clock.advanceMillis(1000);
    runner.tick();
    assertEquals(Set.of(B), dataplane.last().changed());
    assertEquals(Set.of(A), dataplane.last().state().tables().keySet());
    assertEquals(List.of("ok full", "ok partial", "ok partial"), events);
  }

  @Test
  void minIntervalHoldsBackTheThirdSyncInABurst() {
    change(A, "10.0.0.1");
    runner.tick();
    change(A, "10.0.0.2");
    runner.tick();
    change(A, "10.0.0.3");
    runner.tick();
    assertEquals(2, dataplane.requests().size(), "burst of 2");
    clock.advanceMillis(999);
    runner.tick();
    assertEquals(2, dataplane.requests().size());
    clock.advanceMillis(1);
    runner.tick();
    assertEquals(3, dataplane.requests().size());
    assertEquals("10.0.0.3", dataplane.last().state().tables().get(A).backends().get(0).address());
  }

  @Test
  void failureRetriesWithBackoffAndTheNextSyncIsFull() {
    change(A, "10.0.0.1");
    runner.tick();
    dataplane.makeItFailWith("iptables-restore: line 7 failed");
    change(A, "10.0.0.2");
    long retryAt = runner.tick();
    assertFalse(dataplane.last().full(), "the failing sync itself was partial");
    assertEquals(clock.millis() + 1000, retryAt);
    clock.advanceMillis(1000);
    retryAt = runner.tick();
    assertEquals(clock.millis() + 2000, retryAt, "backoff doubles");
    assertTrue(dataplane.last().full(), "a retry after a failure is full");
    assertEquals(Set.of(A), dataplane.last().changed(), "the failed change is still pending");
    dataplane.makeItWork();
    clock.advanceMillis(2000);
    runner.tick();
    assertTrue(dataplane.last().full());
    change(B, "10.0.0.5");
    clock.advanceMillis(1000);
    runner.tick();
    assertFalse(dataplane.last().full(), "back to partial after a success");
    assertEquals(Set.of(B), dataplane.last().changed());
    assertEquals(0, dataplane.cleanups(), "fail-static: nothing is flushed");
    assertEquals(List.of("ok full", "failed iptables-restore: line 7 failed",
        "failed iptables-restore: line 7 failed", "ok full", "ok partial"), events);
  }

  @Test
  void nodeChangeForcesAFullSync() {
    change(A, "10.0.0.1");
    runner.tick();
    change(B, "10.0.0.2");
    clock.advanceMillis(1000);
    runner.tick();
    assertFalse(dataplane.last().full());
    tracker.updateNode(new NodeContext("n1", Map.of("topology.kubernetes.io/zone", "z2"), List.of("192.0.2.1")));
    runner.run();
    clock.advanceMillis(1000);
    runner.tick();
    assertTrue(dataplane.last().full());
    assertEquals("z2", dataplane.last().state().node().topology().zone());
  }

  @Test
  void periodicFullSyncEveryThirtySeconds() {
    change(A, "10.0.0.1");
    runner.tick();
    clock.advanceMillis(10_000);
    change(A, "10.0.0.2");
    runner.tick();
    assertFalse(dataplane.last().full());
    clock.advanceMillis(29_999);
    runner.tick();
    assertEquals(2, dataplane.requests().size());
    clock.advanceMillis(1);
    runner.tick();
    assertEquals(3, dataplane.requests().size(), "max interval reached");
    assertTrue(dataplane.last().full(), "and more than 30 s since the last full sync");
    assertEquals(Set.of(), dataplane.last().changed());
  }
}
