package dev.turnpike.dataplane.conntrack;

import static dev.turnpike.dataplane.conntrack.StaleEntryReconcilerTest.dns;
import static dev.turnpike.dataplane.conntrack.StaleEntryReconcilerTest.ready;
import static dev.turnpike.dataplane.conntrack.StaleEntryReconcilerTest.state;
import static dev.turnpike.dataplane.conntrack.StaleEntryReconcilerTest.udp;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.turnpike.dataplane.SyncRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ConntrackCleanupListenerTest {
  private final FakeConntrack ct = new FakeConntrack();
  private final AtomicInteger syncRequests = new AtomicInteger();

  private ConntrackCleanupListener listener(int maxDeletes) {
    return new ConntrackCleanupListener(new StaleEntryReconciler(ct, ConntrackMetrics.NONE,
        StaleEntryReconciler.Options.defaults().withMaxDeletesPerSync(maxDeletes)),
        syncRequests::incrementAndGet);
  }

  private static SyncRequest request() {
    return new SyncRequest(state(dns(ready("10.244.2.8", 5353))), Set.of(), true);
  }

  @Test
  void cleansAfterASuccessfulSyncAndAsksForAnotherWhenWorkIsLeft() {
    for (int i = 0; i < 3; i++) {
      ct.add(udp("10.244.0.5", 40000 + i, "10.96.0.10", 53, "10.244.1.7", 5353));
    }
    ConntrackCleanupListener l = listener(2);
    l.succeeded(null, request(), null, Duration.ZERO, Instant.EPOCH);
    assertEquals(1, ct.entries().size());
    assertEquals(1, syncRequests.get(), "deferred work asks for another sync");
    l.succeeded(null, request(), null, Duration.ZERO, Instant.EPOCH);
    assertEquals(0, ct.entries().size());
    assertEquals(1, syncRequests.get());
  }

  @Test
  void aConntrackFailureIsSwallowed() {
    ct.failListWhen(f -> true);
    listener(10).succeeded(null, request(), null, Duration.ZERO, Instant.EPOCH);
    assertEquals(0, syncRequests.get());
  }
}
