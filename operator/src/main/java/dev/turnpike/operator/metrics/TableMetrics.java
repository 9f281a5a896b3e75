package dev.turnpike.operator.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * Turnpike's own metrics. Names are given in Micrometer form; the Prometheus registry renders them
 * as {@code turnpike_forwarding_tables}, {@code turnpike_backends}, {@code
 * turnpike_maglev_build_seconds}, {@code turnpike_maglev_slots_moved_ratio}, {@code
 * turnpike_table_writes_total{result}}, {@code turnpike_table_reads_total} and {@code
 * turnpike_invalid_annotations_total}.
 */
public final class TableMetrics {
  /** Outcomes of one attempt to write a ForwardingTable (or its status). */
  public enum WriteResult {
    CREATED,
    UPDATED,
    STATUS_UPDATED,
    DELETED,
    CONFLICT,
    ERROR;

    String tag() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private final MeterRegistry registry;
  private final Map<WriteResult, Counter> writes = new ConcurrentHashMap<>();
  private final Counter reads;
  private final Counter invalidAnnotations;
  private final Timer maglevBuild;
  private final DistributionSummary slotsMoved;

  public TableMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (WriteResult r : WriteResult.values()) {
      writes.put(
          r,
          Counter.builder("turnpike.table.writes")
              .description("ForwardingTable writes by result")
              .tag("result", r.tag())
              .register(registry));
    }
    reads =
        Counter.builder("turnpike.table.reads")
            .description("Full ForwardingTable reads from the API server (the cache keeps no specs): hand edits, Maglev slots-moved, adoption")
            .register(registry);
    invalidAnnotations =
        Counter.builder("turnpike.invalid.annotations")
            .description("Distinct invalid turnpike.dev/ annotations reported (one per problem per Service, not per resync)")
            .register(registry);
    maglevBuild =
        Timer.builder("turnpike.maglev.build")
            .description("Time to compute a maglev Service's table, lookup tables included")
            .serviceLevelObjectives(
                Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
                Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
                Duration.ofMillis(250), Duration.ofSeconds(1))
            .register(registry);
    slotsMoved =
        DistributionSummary.builder("turnpike.maglev.slots.moved.ratio")
            .description("Fraction of Maglev slots whose backend changed when a table was recomputed")
            .serviceLevelObjectives(0.001, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
            .register(registry);
  }

  /** Gauges read from a live view (the informer cache) at scrape time. */
  public <T> void tableGauges(T source, ToDoubleFunction<T> tables, ToDoubleFunction<T> backends) {
    Gauge.builder("turnpike.forwarding.tables", source, tables)
        .description("ForwardingTables in the cluster, as seen by this replica's cache")
        .register(registry);
    Gauge.builder("turnpike.backends", source, backends)
        .description("Backends summed over all ForwardingTables")
        .register(registry);
  }

  public void write(WriteResult result) {
    writes.get(result).increment();
  }

  public double writes(WriteResult result) {
    return writes.get(result).count();
  }

  public void tableRead() {
    reads.increment();
  }

  public double reads() {
    return reads.count();
  }

  public void invalidAnnotations(int count) {
    if (count > 0) {
      invalidAnnotations.increment(count);
    }
  }

  public void maglevBuild(Duration took) {
    maglevBuild.record(took);
  }

  public void slotsMovedRatio(double ratio) {
    slotsMoved.record(ratio);
  }
}
