package dev.turnpike.dataplane.agent;

import dev.turnpike.api.v1alpha1.DataplaneNodeStatus;
import dev.turnpike.dataplane.conntrack.ConntrackException;
import dev.turnpike.dataplane.conntrack.snat.EgressSnat;
import dev.turnpike.dataplane.iptables.IptablesException;
import dev.turnpike.dataplane.status.StatusReporter;
import dev.turnpike.dataplane.status.WarningEvents;
import dev.turnpike.egress.EgressSnatConfig;
import dev.turnpike.egress.EgressSnatConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the egress SNAT ConfigMap ({@link EgressSnatConfigMap}) and programs it with
 * {@link EgressSnat#apply} on every change, without a restart.
 *
 * <ul>
 *   <li>ConfigMap present and valid: applied (rules replaced, only the conntrack entries the change
 *       affects deleted). Re-applied every {@code resync} (idempotent, deletes nothing) so rules
 *       flushed by someone else come back.
 *   <li>Invalid: a log line, a Warning Event {@value #INVALID} on the ConfigMap, the gauge
 *       {@code turnpike_egress_snat_config_invalid} at 1 and the condition {@code
 *       EgressSnatConfigValid} False on this node's DataplaneNode (True while the ConfigMap is
 *       valid or absent); the last valid config stays programmed.
 *       With none yet, the defaults for the agent's {@code --cluster-cidr} are programmed if it
 *       has one, else egress SNAT stays off.
 *   <li>Absent or deleted: egress SNAT off (chains removed; connections already translated keep
 *       their translation until they end).
 *   <li>Apply failed (iptables or conntrack): Warning Event {@value #FAILED}, the
 *       {@code turnpike_egress_snat_apply_failures_total} counter, and a retry with backoff.
 * </ul>
 *
 * Everything runs on one thread of its own, so applies never overlap and never block the sync loop.
 */
final class EgressSnatWatch implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EgressSnatWatch.class);
  static final String INVALID = "InvalidEgressSnatConfig";
  static final String FAILED = "FailedToApplyEgressSnat";
  static final Duration RETRY_INITIAL = Duration.ofSeconds(1);
  static final Duration RETRY_MAX = Duration.ofSeconds(60);

  private final KubernetesClient client;
  private final String namespace;
  private final String name;
  private final String nodeName;
  private final EgressSnat snat;
  private final List<String> fallbackClusterCidrs;
  private final Clock clock;
  private final Duration resync;
  private final ScheduledExecutorService executor;
  private final AtomicInteger invalid = new AtomicInteger();
  private final StatusReporter status;
  private final Counter applyFailures;
  private final Counter deletedEntries;
  private SharedIndexInformer<ConfigMap> informer;

  // Confined to the executor thread.
  private Optional<ConfigMap> latest = Optional.empty();
  private EgressSnatConfig programmed;
  private String lastEvent;
  private Duration retryDelay = RETRY_INITIAL;
  private ScheduledFuture<?> retry;

  /**
   * @param status where the condition {@value DataplaneNodeStatus#EGRESS_SNAT_CONFIG_VALID} goes
   *     (this node's DataplaneNode)
   */
  EgressSnatWatch(KubernetesClient client, String namespace, String name, String nodeName, EgressSnat snat,
      List<String> fallbackClusterCidrs, Clock clock, Duration resync, MeterRegistry registry, StatusReporter status) {
    this.status = status;
    this.client = client;
    this.namespace = namespace;
    this.name = name;
    this.nodeName = nodeName;
    this.snat = snat;
    this.fallbackClusterCidrs = List.copyOf(fallbackClusterCidrs);
    this.clock = clock;
    this.resync = resync;
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "egress-snat");
      t.setDaemon(true);
      return t;
    });
    Gauge.builder("turnpike.egress.snat.config.invalid", invalid, AtomicInteger::get)
        .description("1 while the egress SNAT ConfigMap is invalid (the last valid config stays programmed)")
        .register(registry);
    applyFailures = Counter.builder("turnpike.egress.snat.apply.failures")
        .description("Egress SNAT applies that failed (retried with backoff)")
        .register(registry);
    deletedEntries = Counter.builder("turnpike.egress.snat.conntrack.deleted.entries")
        .description("Conntrack entries deleted because an egress SNAT change changed their translation")
        .register(registry);
  }

  /** Starts the watch; the first apply follows the initial list. */
  void start() {
    informer = client.configMaps().inNamespace(namespace).withName(name).runnableInformer(0);
    informer.addEventHandler(new ResourceEventHandler<>() {
      @Override
      public void onAdd(ConfigMap cm) {
        changed(Optional.of(cm));
      }

      @Override
      public void onUpdate(ConfigMap oldCm, ConfigMap cm) {
        changed(Optional.of(cm));
      }

      @Override
      public void onDelete(ConfigMap cm, boolean finalStateUnknown) {
        changed(Optional.empty());
      }
    });
    // Once listed without a ConfigMap, remove what an earlier run may have left (idempotent).
    // The store, not the handler's delivery (which may come later), says whether it exists: an
    // existing ConfigMap's rules must not be removed for a moment at every restart.
    informer.start().thenRun(() -> {
      if (informer.getStore().list().isEmpty()) {
        executor.execute(() -> {
          if (latest.isEmpty()) {
            reconcileAbsent(true);
          }
        });
      }
    });
    executor.scheduleWithFixedDelay(this::resync, resync.toMillis(), resync.toMillis(), TimeUnit.MILLISECONDS);
    LOG.info("watching ConfigMap {}/{} for the egress SNAT configuration", namespace, name);
  }

  private void changed(Optional<ConfigMap> cm) {
    executor.execute(() -> {
      latest = cm;
      retryDelay = RETRY_INITIAL;
      reconcile();
    });
  }

  private void resync() {
    if (programmed != null && (retry == null || retry.isDone())) {
      program(programmed, latest.orElse(null));
    }
  }

  private void reconcile() {
    if (retry != null) {
      retry.cancel(false);
      retry = null;
    }
    if (latest.isEmpty()) {
      reconcileAbsent(programmed != null);
      return;
    }
    ConfigMap cm = latest.get();
    EgressSnatConfig config;
    try {
      config = EgressSnatConfigMap.parse(cm.getData() == null ? Map.of() : cm.getData(), nodeName);
      invalid.set(0);
      condition(true, DataplaneNodeStatus.REASON_VALID, "ConfigMap " + namespace + "/" + name + " is valid");
    } catch (IllegalArgumentException e) {
      invalid.set(1);
      String kept;
      if (programmed != null) {
        kept = "the previous valid configuration stays in place";
      } else if (!fallbackClusterCidrs.isEmpty()) {
        kept = "the defaults for --cluster-cidr " + String.join(",", fallbackClusterCidrs) + " are used";
      } else {
        kept = "egress SNAT stays off";
      }
      LOG.warn("{}; {}", e.getMessage(), kept);
      condition(false, DataplaneNodeStatus.REASON_INVALID, e.getMessage() + "; " + kept);
      event(cm, INVALID, e.getMessage() + "; " + kept);
      if (programmed == null && !fallbackClusterCidrs.isEmpty()) {
        program(EgressSnatConfig.defaults(fallbackClusterCidrs), cm);
      }
      return;
    }
    program(config, cm);
  }

  private void reconcileAbsent(boolean remove) {
    invalid.set(0);
    condition(true, DataplaneNodeStatus.REASON_NOT_FOUND,
        "ConfigMap " + namespace + "/" + name + " does not exist: egress SNAT is off");
    if (!remove) {
      return;
    }
    try {
      snat.cleanup();
      if (programmed != null) {
        LOG.info("ConfigMap {}/{} is gone: egress SNAT removed", namespace, name);
      }
      programmed = null;
    } catch (IptablesException | RuntimeException e) {
      failed(null, "removing egress SNAT: " + e.getMessage());
    }
  }

  private void program(EgressSnatConfig config, ConfigMap cm) {
    try {
      EgressSnat.Applied applied = snat.apply(config);
      if (!config.equals(programmed)) {
        LOG.info("egress SNAT applied ({} families): {}; {} conntrack entries deleted",
            applied.families(), config, applied.deletedEntries());
      }
      deletedEntries.increment(applied.deletedEntries());
      programmed = config;
      retryDelay = RETRY_INITIAL;
      if (invalid.get() == 0) {
        lastEvent = null;
      }
    } catch (IptablesException | ConntrackException | RuntimeException e) {
      failed(cm, e.getMessage());
      // The rules may already be the new ones; programmed stays the old config so the retry
      // also redoes the conntrack part.
      Duration delay = retryDelay;
      retryDelay = retryDelay.multipliedBy(2).compareTo(RETRY_MAX) > 0 ? RETRY_MAX : retryDelay.multipliedBy(2);
      retry = executor.schedule(() -> program(config, cm), delay.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** This node's view of the ConfigMap's validity, on its DataplaneNode (rate limited like the rest of it). */
  private void condition(boolean valid, String reason, String message) {
    status.condition(DataplaneNodeStatus.EGRESS_SNAT_CONFIG_VALID, valid, reason, message, clock.instant());
  }

  private void failed(ConfigMap cm, String message) {
    applyFailures.increment();
    LOG.warn("egress SNAT not applied, retrying: {}", message);
    if (cm != null) {
      event(cm, FAILED, message);
    }
  }

  /** One Event per distinct problem in a row, not one per retry. */
  private void event(ConfigMap cm, String reason, String message) {
    if ((reason + message).equals(lastEvent)) {
      return;
    }
    lastEvent = reason + message;
    try {
      WarningEvents.record(client, clock, nodeName, new ObjectReferenceBuilder()
          .withApiVersion("v1").withKind("ConfigMap").withNamespace(namespace).withName(name)
          .withUid(cm.getMetadata().getUid()).withResourceVersion(cm.getMetadata().getResourceVersion()).build(),
          reason, message);
    } catch (KubernetesClientException e) {
      LOG.warn("cannot record Event for ConfigMap {}/{}: {}", namespace, name, e.getMessage());
    }
  }

  /** For tests: the configuration last programmed, read on the watch's thread. */
  Optional<EgressSnatConfig> programmed() throws Exception {
    return executor.submit(() -> Optional.ofNullable(programmed)).get(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
    executor.shutdownNow();
  }

  @Override
  public String toString() {
    return "EgressSnatWatch[" + namespace + "/" + name + "]";
  }
}
