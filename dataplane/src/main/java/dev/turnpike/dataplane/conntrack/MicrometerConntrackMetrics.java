package dev.turnpike.dataplane.conntrack;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * kube-proxy's reconciler metrics (pkg/proxy/metrics: reconcile_conntrack_flows_*) under
 * Turnpike's names, with kube-proxy's {@code ip_family} label:
 * {@code turnpike_conntrack_reconciler_sync_duration_seconds} (histogram) and
 * {@code turnpike_conntrack_reconciler_deleted_entries_total} (counter).
 */
public final class MicrometerConntrackMetrics implements ConntrackMetrics {
  private static final Duration[] BUCKETS = buckets();
  private final MeterRegistry registry;

  public MicrometerConntrackMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (String f : new String[] {"IPv4", "IPv6"}) {
      timer(f);
      counter(f);
    }
  }

  private static Duration[] buckets() {
    // kube-proxy: ExponentialBuckets(0.001, 2, 15) seconds, as the agent's sync histograms.
    Duration[] b = new Duration[15];
    for (int i = 0; i < b.length; i++) {
      b[i] = Duration.ofMillis(1L << i);
    }
    return b;
  }

  private Timer timer(String family) {
    return Timer.builder("turnpike.conntrack.reconciler.sync.duration")
        .description("Time to reconcile stale conntrack entries, per IP family")
        .tag("ip_family", family)
        .serviceLevelObjectives(BUCKETS)
        .register(registry);
  }

  private Counter counter(String family) {
    return Counter.builder("turnpike.conntrack.reconciler.deleted.entries")
        .description("Stale conntrack entries deleted by the reconciler, per IP family")
        .tag("ip_family", family)
        .register(registry);
  }

  @Override
  public void syncDuration(String ipFamily, long nanos) {
    timer(ipFamily).record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void deletedEntries(String ipFamily, long n) {
    counter(ipFamily).increment(n);
  }
}
