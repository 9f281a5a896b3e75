package dev.turnpike.dataplane.sync;

import dev.turnpike.dataplane.Dataplane;
import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.dataplane.SyncResult;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One sync, as the {@link BoundedFrequencyRunner}'s task: snapshot the tracker, decide full or
 * partial, hand the request to the backend, tell the listeners.
 *
 * <p>A sync is full the first time, after any failure (the backend's view of what is programmed
 * may be off), when the node's labels or addresses changed (topology and NodePort targets touch
 * every Service), and once per {@code fullSyncPeriod}. Fail-static: on failure nothing is
 * flushed or cleaned up; the exception goes back to the runner, which retries with backoff.
 */
public final class SyncLoop implements BoundedFrequencyRunner.Task {
  private static final Logger LOG = LoggerFactory.getLogger(SyncLoop.class);

  private final Dataplane dataplane;
  private final ChangeTracker tracker;
  private final Clock clock;
  private final Duration fullSyncPeriod;
  private final List<SyncListener> listeners;
  private boolean needFullSync = true;
  private Instant lastFullSync = Instant.MIN;

  public SyncLoop(
      Dataplane dataplane, ChangeTracker tracker, Clock clock, Duration fullSyncPeriod, List<SyncListener> listeners) {
    this.dataplane = dataplane;
    this.tracker = tracker;
    this.clock = clock;
    this.fullSyncPeriod = fullSyncPeriod;
    this.listeners = List.copyOf(listeners);
  }

  @Override
  public void run() throws Exception {
    Instant start = clock.instant();
    ChangeTracker.Snapshot snapshot = tracker.snapshot();
    boolean full = needFullSync
        || snapshot.nodeChanged()
        || !start.isBefore(lastFullSync.plus(fullSyncPeriod));
    SyncRequest request = new SyncRequest(snapshot.state(), snapshot.changed(), full);
    SyncResult result;
    try {
      result = dataplane.sync(request);
    } catch (Exception e) {
      needFullSync = true;
      Instant at = clock.instant();
      LOG.warn("{} sync of {} Services failed; keeping the rules in place: {}",
          full ? "full" : "partial", snapshot.state().tables().size(), e.toString());
      tell(l -> l.failed(request, e, at));
      throw e;
    }
    Instant end = clock.instant();
    needFullSync = false;
    if (full) {
      lastFullSync = start;
    }
    tracker.synced(snapshot);
    Duration elapsed = Duration.between(start, end);
    LOG.debug("{} sync: {} Services ({} changed), {} rules in {}",
        full ? "full" : "partial", result.tablesProgrammed(), snapshot.changed().size(), result.ruleCount(), elapsed);
    tell(l -> l.succeeded(snapshot, request, result, elapsed, end));
  }

  // A listener's bug must not turn a sync that reached the kernel into a retried failure.
  private void tell(java.util.function.Consumer<SyncListener> call) {
    for (SyncListener l : listeners) {
      try {
        call.accept(l);
      } catch (RuntimeException e) {
        LOG.error("sync listener {} failed", l.getClass().getSimpleName(), e);
      }
    }
  }
}
