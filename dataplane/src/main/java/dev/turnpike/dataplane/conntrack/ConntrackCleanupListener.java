package dev.turnpike.dataplane.conntrack;

import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.dataplane.SyncResult;
import dev.turnpike.dataplane.sync.ChangeTracker;
import dev.turnpike.dataplane.sync.SyncListener;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the stale-entry reconciler after every successful sync, on the sync thread, with the state
 * the rules were just programmed from (kube-proxy cleans up at the end of syncProxyRules). A
 * failure is logged and retried with the next sync; the rules are not affected. When the bound
 * left entries for later, {@code requestSync} asks the loop for another sync.
 *
 * <p>Wiring (not done on this branch, to stay clear of the agent): add
 * {@code new ConntrackCleanupListener(new StaleEntryReconciler(NetlinkConntrack.open(),
 * new MicrometerConntrackMetrics(metrics.registry()), options), runner::run)} to the listeners
 * {@code Agent} gives {@code SyncLoop}.
 */
public final class ConntrackCleanupListener implements SyncListener {
  private static final Logger LOG = LoggerFactory.getLogger(ConntrackCleanupListener.class);
  private final StaleEntryReconciler reconciler;
  private final Runnable requestSync;

  public ConntrackCleanupListener(StaleEntryReconciler reconciler, Runnable requestSync) {
    this.reconciler = reconciler;
    this.requestSync = requestSync;
  }

  @Override
  public void succeeded(ChangeTracker.Snapshot snapshot, SyncRequest request, SyncResult result,
      Duration elapsed, Instant at) {
    try {
      boolean more = false;
      for (StaleEntryReconciler.Result r : reconciler.reconcile(request.state())) {
        if (r.deleted() > 0 || r.deferred() > 0) {
          LOG.info("conntrack {}: deleted {} stale entries of {} scanned{} in {} ms", r.family(),
              r.deleted(), r.scanned(), r.deferred() > 0 ? " (" + r.deferred() + " left for the next sync)" : "",
              r.nanos() / 1_000_000);
        }
        more |= r.deferred() > 0;
      }
      if (more) {
        requestSync.run();
      }
    } catch (ConntrackException e) {
      LOG.warn("conntrack cleanup failed, retried after the next sync: {}", e.getMessage());
    }
  }
}
