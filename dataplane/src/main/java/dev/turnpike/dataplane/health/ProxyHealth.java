package dev.turnpike.dataplane.health;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * The agent's own health, as kube-proxy's ProxyHealthServer defines it: unhealthy when an update
 * was queued (a watch saw a change) and no successful sync has applied it within {@code timeout}
 * (twice the sync period). The node is not eligible for traffic once it is being deleted or
 * carries the cluster autoscaler's ToBeDeletedByClusterAutoscaler taint; that fails /healthz (so
 * load balancers drain the node) but not /livez (the agent itself is fine).
 */
public final class ProxyHealth {
  public static final String TO_BE_DELETED_TAINT = "ToBeDeletedByClusterAutoscaler";

  private final Clock clock;
  private final Duration timeout;
  private Instant oldestPendingQueued; // guarded by this
  private Instant lastUpdated = Instant.EPOCH;
  private boolean nodeEligible = true; // eligible while starting, until a Node event says otherwise

  /** A point-in-time view for one response. */
  public record State(boolean healthy, boolean nodeEligible, Instant lastUpdated, Instant now) {}

  public ProxyHealth(Clock clock, Duration timeout) {
    this.clock = clock;
    this.timeout = timeout;
  }

  /** A change is waiting for a sync; only the oldest waiting change's time counts. */
  public synchronized void queuedUpdate() {
    if (oldestPendingQueued == null) {
      oldestPendingQueued = clock.instant();
    }
  }

  /** A sync succeeded; {@code stillPending} when changes arrived during it (they restart the wait). */
  public synchronized void updated(boolean stillPending) {
    Instant now = clock.instant();
    lastUpdated = now;
    oldestPendingQueued = stillPending ? now : null;
  }

  public synchronized void nodeEligible(boolean eligible) {
    nodeEligible = eligible;
  }

  public synchronized State state() {
    Instant now = clock.instant();
    boolean healthy = oldestPendingQueued == null || now.isBefore(oldestPendingQueued.plus(timeout));
    return new State(healthy, nodeEligible, lastUpdated, now);
  }

  public boolean isHealthy() {
    return state().healthy();
  }
}
