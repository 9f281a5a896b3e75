package dev.turnpike.dataplane.metrics;

import dev.turnpike.api.v1alpha1.DataplaneMode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * kube-proxy's metric set (pkg/proxy/metrics) under the {@code turnpike_} prefix, on a registry of
 * its own (no global registry, so tests and agents do not share state). Micrometer appends the
 * unit and {@code _total} suffixes: a timer {@code turnpike.sync.proxy.rules.duration} is exported
 * as {@code turnpike_sync_proxy_rules_duration_seconds}.
 */
@SuppressWarnings("deprecation") // the simpleclient flavour of the Prometheus registry is deprecated upstream
public final class AgentMetrics {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final String ruleTableMetric;
  private final Timer syncDuration;
  private final Timer fullSyncDuration;
  private final Timer partialSyncDuration;
  private final Timer networkProgramming;
  private final Counter restoreFailures;
  private final Counter partialRestoreFailures;
  private final AtomicReference<Double> lastSync = new AtomicReference<>(0.0);
  private final AtomicReference<Double> lastQueued = new AtomicReference<>(0.0);
  private final AtomicLong ruleCount = new AtomicLong();
  private final Map<String, AtomicLong> rulesByTable = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> noLocalEndpoints = new ConcurrentHashMap<>();

  public AgentMetrics(DataplaneMode mode) {
    String modeName = mode.name().toLowerCase(Locale.ROOT);
    this.ruleTableMetric = "turnpike.sync.proxy.rules." + modeName + ".total";
    syncDuration = timer("turnpike.sync.proxy.rules.duration", "SyncProxyRules latency", syncBuckets());
    fullSyncDuration = timer("turnpike.sync.full.proxy.rules.duration", "Full SyncProxyRules latency", syncBuckets());
    partialSyncDuration =
        timer("turnpike.sync.partial.proxy.rules.duration", "Partial SyncProxyRules latency", syncBuckets());
    networkProgramming = timer(
        "turnpike.network.programming.duration",
        "From the endpoint change trigger time to the rules being applied",
        networkProgrammingBuckets());
    restoreFailures = Counter.builder("turnpike.sync.proxy.rules." + modeName + ".restore.failures")
        .description("Failed full syncs (the rules were left as they were)")
        .register(registry);
    partialRestoreFailures = Counter.builder("turnpike.sync.proxy.rules." + modeName + ".partial.restore.failures")
        .description("Failed partial syncs (followed by a full sync)")
        .register(registry);
    Gauge.builder("turnpike.sync.proxy.rules.last.timestamp", lastSync, AtomicReference::get)
        .description("The last time rules were successfully synced")
        .baseUnit("seconds")
        .register(registry);
    Gauge.builder("turnpike.sync.proxy.rules.last.queued.timestamp", lastQueued, AtomicReference::get)
        .description("The last time a sync was queued")
        .baseUnit("seconds")
        .register(registry);
    Gauge.builder("turnpike.sync.proxy.rules.count", ruleCount, AtomicLong::get)
        .description("Rules (or IPVS servers) programmed by the last successful sync")
        .register(registry);
    for (String policy : List.of("internal", "external")) {
      noLocalEndpoints.put(policy, gauge(
          "turnpike.sync.proxy.rules.no.local.endpoints.total", "traffic_policy", policy,
          "Service ports with a Local traffic policy and endpoints in the cluster but none on this node"));
    }
  }

  private Timer timer(String name, String description, Duration[] buckets) {
    return Timer.builder(name).description(description).serviceLevelObjectives(buckets).register(registry);
  }

  private AtomicLong gauge(String name, String tag, String value, String description) {
    AtomicLong holder = new AtomicLong();
    Gauge.builder(name, holder, AtomicLong::get).tag(tag, value).description(description).register(registry);
    return holder;
  }

  /** kube-proxy's sync buckets: 1 ms doubling, 15 buckets (to about 16 s). */
  static Duration[] syncBuckets() {
    Duration[] out = new Duration[15];
    for (int i = 0; i < out.length; i++) {
      out[i] = Duration.ofMillis(1L << i);
    }
    return out;
  }

  /** kube-proxy's: 0.25 s, 0.5 s, 1..59 s by 1, 60..115 s by 5, 120..300 s by 30. */
  static Duration[] networkProgrammingBuckets() {
    List<Duration> out = new ArrayList<>(List.of(Duration.ofMillis(250), Duration.ofMillis(500)));
    for (int s = 1; s <= 59; s++) {
      out.add(Duration.ofSeconds(s));
    }
    for (int s = 60; s <= 115; s += 5) {
      out.add(Duration.ofSeconds(s));
    }
    for (int s = 120; s <= 300; s += 30) {
      out.add(Duration.ofSeconds(s));
    }
    return out.toArray(Duration[]::new);
  }

  public void syncQueued(Instant at) {
    lastQueued.set(seconds(at));
  }

  public void syncSucceeded(
      boolean full, Duration elapsed, Instant at, long rules, Map<String, Long> entryCounts, Map<String, Integer> noLocal) {
    syncDuration.record(elapsed);
    (full ? fullSyncDuration : partialSyncDuration).record(elapsed);
    lastSync.set(seconds(at));
    ruleCount.set(rules);
    rulesByTable.forEach((table, holder) -> holder.set(entryCounts.getOrDefault(table, 0L)));
    entryCounts.forEach((table, n) -> rulesByTable
        .computeIfAbsent(table, t -> gauge(ruleTableMetric, "table", t, "Rules in the table after the last sync"))
        .set(n));
    noLocalEndpoints.forEach((policy, holder) -> holder.set(noLocal.getOrDefault(policy, 0)));
  }

  public void syncFailed(boolean full) {
    (full ? restoreFailures : partialRestoreFailures).increment();
  }

  public void networkProgrammed(Duration latency) {
    networkProgramming.record(latency.isNegative() ? Duration.ZERO : latency);
  }

  public void healthz(int code) {
    registry.counter("turnpike.proxy.healthz", "code", Integer.toString(code)).increment();
  }

  public void livez(int code) {
    registry.counter("turnpike.proxy.livez", "code", Integer.toString(code)).increment();
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** The Prometheus text exposition of every metric. */
  public String scrape() {
    return registry.scrape();
  }

  private static double seconds(Instant at) {
    return at.getEpochSecond() + at.getNano() / 1e9;
  }
}
