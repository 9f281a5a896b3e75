package dev.turnpike.operator;

import dev.turnpike.operator.cache.SlimServices;
import dev.turnpike.operator.egress.EgressSnatConfigCheck;
import dev.turnpike.operator.metrics.TableMetrics;
import dev.turnpike.operator.reconcile.AnnotationEvents;
import dev.turnpike.operator.reconcile.DisruptionMeter;
import dev.turnpike.operator.reconcile.ForwardingTableReconciler;
import dev.turnpike.operator.reconcile.TableSource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.javaoperatorsdk.operator.processing.event.source.informer.TransformingItemStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The assembled operator: one JOSDK controller (Services → ForwardingTables) with Micrometer
 * metrics and optional leader election, and the egress SNAT ConfigMap check. Everything that varies (client, computation, clock,
 * registry, what to do on lost leadership) is passed in, so tests can run two in one JVM.
 */
public final class TurnpikeOperator {
  private static final Logger log = LoggerFactory.getLogger(TurnpikeOperator.class);

  private final Operator operator;
  private final EgressSnatConfigCheck egressSnat;
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final AtomicBoolean leading = new AtomicBoolean();

  /**
   * @param onLostLeadership runs when this replica loses the Lease while not shutting down; a
   *     process must then exit (a stale leader would race the new one), tests just record it
   */
  public TurnpikeOperator(
      KubernetesClient client,
      OperatorOptions options,
      LeaseTimings timings,
      TableSource source,
      DisruptionMeter disruption,
      MeterRegistry registry,
      Clock clock,
      Runnable onLostLeadership) {
    String identity = options.identity() != null ? options.identity() : "turnpike-" + ProcessHandle.current().pid();
    var reconciler =
        new ForwardingTableReconciler(
            source,
            new AnnotationEvents(client, clock, identity),
            new TableMetrics(registry),
            disruption,
            clock);
    LeaderCallbacks callbacks =
        new LeaderCallbacks(
            () -> {
              leading.set(true);
              log.info("{} is now the leader", identity);
            },
            () -> {
              leading.set(false);
              if (!stopping.get()) {
                log.error("{} lost leadership", identity);
                onLostLeadership.run();
              }
            },
            leader -> log.info("leader is {}", leader));
    operator =
        new Operator(
            o -> {
              o.withKubernetesClient(client)
                  .withCloseClientOnStop(false)
                  .withUseSSAToPatchPrimaryResource(false)
                  .withMetrics(MicrometerMetrics.withoutPerResourceMetrics(registry))
                  .withConcurrentReconciliationThreads(options.reconcileThreads())
                  .withReconciliationTerminationTimeout(Duration.ofSeconds(10));
              if (options.leaderElection()) {
                o.withLeaderElectionConfiguration(
                    new LeaderElectionConfiguration(
                        options.leaseName(),
                        options.leaseNamespace(),
                        timings.leaseDuration(),
                        timings.renewDeadline(),
                        timings.retryPeriod(),
                        identity,
                        callbacks,
                        // We exit through onLostLeadership instead: JOSDK's System.exit would
                        // deadlock when the loss is caused by our own shutdown hook.
                        false));
              }
            });
    // The Service cache keeps what the computation and JOSDK read (SlimServices).
    operator.register(reconciler, o -> o.withItemStore(new TransformingItemStore<>(SlimServices::slim)));
    egressSnat = options.egressSnatName() == null ? null : new EgressSnatConfigCheck(client,
        options.egressSnatNamespace() != null ? options.egressSnatNamespace()
            : client.getNamespace() != null ? client.getNamespace() : "default",
        options.egressSnatName(), registry, clock, identity);
  }

  /** Starts informers (blocking until their caches are synced) and, once leading, reconciling. */
  public void start() {
    operator.start();
    if (egressSnat != null) {
      egressSnat.start();
    }
  }

  public void stop() {
    if (stopping.compareAndSet(false, true)) {
      if (egressSnat != null) {
        egressSnat.close();
      }
      operator.stop();
    }
  }

  /** Liveness: every informer is watching. */
  public boolean isHealthy() {
    return operator.getRuntimeInfo().allEventSourcesAreHealthy();
  }

  /** Readiness: started and caches synced (a standby is ready: it can take over at once). */
  public boolean isReady() {
    return operator.getRuntimeInfo().isStarted() && isHealthy();
  }

  public boolean isLeader() {
    return leading.get();
  }
}
