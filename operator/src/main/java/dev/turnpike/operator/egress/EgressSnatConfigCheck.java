package dev.turnpike.operator.egress;

import dev.turnpike.egress.EgressSnatConfigMap;
import dev.turnpike.operator.reconcile.WarningEvent;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's side of the egress SNAT ConfigMap ({@link EgressSnatConfigMap}, the one place
 * the configuration lives): it validates every version with the same parser the agents use, for
 * every node at once, and reports problems where the person who edited it looks: a Warning Event
 * {@value #REASON} on the ConfigMap, a log line, the gauge
 * {@code turnpike_egress_snat_config_invalid} and the counter
 * {@code turnpike_egress_snat_config_rejections_total}. The agents keep their last valid
 * configuration meanwhile. Runs on every replica (not only the leader): Event names are
 * deterministic, so replicas do not duplicate them.
 */
public final class EgressSnatConfigCheck implements AutoCloseable {
  public static final String REASON = "InvalidEgressSnatConfig";
  private static final Logger log = LoggerFactory.getLogger(EgressSnatConfigCheck.class);

  private final KubernetesClient client;
  private final String namespace;
  private final String name;
  private final Clock clock;
  private final String instance;
  private final AtomicInteger invalid = new AtomicInteger();
  private final Counter rejections;
  private SharedIndexInformer<ConfigMap> informer;

  public EgressSnatConfigCheck(KubernetesClient client, String namespace, String name, MeterRegistry registry,
      Clock clock, String instance) {
    this.client = client;
    this.namespace = namespace;
    this.name = name;
    this.clock = clock;
    this.instance = instance;
    Gauge.builder("turnpike.egress.snat.config.invalid", invalid, AtomicInteger::get)
        .description("1 while the egress SNAT ConfigMap is invalid (agents keep the last valid config)")
        .register(registry);
    rejections = Counter.builder("turnpike.egress.snat.config.rejections")
        .description("Versions of the egress SNAT ConfigMap found invalid")
        .register(registry);
  }

  public void start() {
    informer = client.configMaps().inNamespace(namespace).withName(name).inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(ConfigMap cm) {
        check(cm);
      }

      @Override
      public void onUpdate(ConfigMap oldCm, ConfigMap cm) {
        if (!cm.getMetadata().getResourceVersion().equals(oldCm.getMetadata().getResourceVersion())) {
          check(cm);
        }
      }

      @Override
      public void onDelete(ConfigMap cm, boolean finalStateUnknown) {
        invalid.set(0);
        log.info("ConfigMap {}/{} deleted: egress SNAT is off on every node", namespace, name);
      }
    }, 0);
    log.info("checking ConfigMap {}/{} (egress SNAT configuration)", namespace, name);
  }

  /** Validates one version and reports; returns its problems (empty when valid). */
  List<String> check(ConfigMap cm) {
    List<String> problems = EgressSnatConfigMap.problems(cm.getData() == null ? Map.of() : cm.getData());
    invalid.set(problems.isEmpty() ? 0 : 1);
    if (problems.isEmpty()) {
      log.info("ConfigMap {}/{} (resourceVersion {}) is a valid egress SNAT configuration", namespace, name,
          cm.getMetadata().getResourceVersion());
      return problems;
    }
    rejections.increment();
    for (String p : problems) {
      log.warn("{}; agents keep their last valid configuration", p);
      WarningEvent.record(client, clock, instance, new ObjectReferenceBuilder()
          .withApiVersion("v1").withKind("ConfigMap").withNamespace(namespace).withName(name)
          .withUid(cm.getMetadata().getUid()).withResourceVersion(cm.getMetadata().getResourceVersion()).build(),
          REASON, p + "; agents keep their last valid configuration");
    }
    return problems;
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
  }
}
