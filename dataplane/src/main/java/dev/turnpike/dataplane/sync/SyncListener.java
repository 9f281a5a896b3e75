package dev.turnpike.dataplane.sync;

import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.dataplane.SyncResult;
import java.time.Duration;
import java.time.Instant;

/** Told about every sync the loop attempts: health, metrics, status and health-check servers. */
public interface SyncListener {
  /**
   * @param snapshot what was programmed (its trigger times are now applied)
   * @param elapsed how long the backend took
   * @param at when the sync finished
   */
  default void succeeded(
      ChangeTracker.Snapshot snapshot, SyncRequest request, SyncResult result, Duration elapsed, Instant at) {}

  /** The backend refused the request; the rules of the last success are still in place. */
  default void failed(SyncRequest request, Exception error, Instant at) {}
}
