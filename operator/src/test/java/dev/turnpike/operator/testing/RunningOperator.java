package dev.turnpike.operator.testing;

import dev.turnpike.operator.LeaseTimings;
import dev.turnpike.operator.OperatorOptions;
import dev.turnpike.operator.TurnpikeOperator;
import dev.turnpike.operator.reconcile.DisruptionMeter;
import dev.turnpike.operator.reconcile.TableSource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** One operator instance against a {@link MockCluster}, with its own client and registry. */
public final class RunningOperator implements AutoCloseable {
  /** Short enough for a handover test, long enough not to flap on a loaded 2-core machine. */
  public static final LeaseTimings FAST_LEASE =
      new LeaseTimings(Duration.ofSeconds(4), Duration.ofSeconds(3), Duration.ofMillis(300));

  public final KubernetesClient client;
  public final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  public final TurnpikeOperator operator;
  public final AtomicInteger lostLeadership = new AtomicInteger();

  public RunningOperator(MockCluster cluster, TableSource source, String... flags) {
    this(cluster, source, DisruptionMeter.NONE, flags);
  }

  public RunningOperator(MockCluster cluster, TableSource source, DisruptionMeter disruption, String... flags) {
    client = cluster.newClient();
    List<String> args = new ArrayList<>(List.of("--http-port=0", "--leader-election=false"));
    args.addAll(List.of(flags));
    operator =
        new TurnpikeOperator(
            client,
            OperatorOptions.parse(args, Map.of()),
            FAST_LEASE,
            source,
            disruption,
            registry,
            Clock.systemUTC(),
            lostLeadership::incrementAndGet);
  }

  public RunningOperator start() {
    operator.start();
    return this;
  }

  public MeterRegistry meters() {
    return registry;
  }

  /** Sum of a counter over all its tag combinations (0 when it has not been registered yet). */
  public double count(String name) {
    return registry.find(name).counters().stream().mapToDouble(c -> c.count()).sum();
  }

  public double count(String name, String tag, String value) {
    return registry.find(name).tag(tag, value).counters().stream().mapToDouble(c -> c.count()).sum();
  }

  @Override
  public void close() {
    operator.stop();
    client.close();
  }
}
