package dev.turnpike.dataplane.status;

import dev.turnpike.dataplane.ServiceKey;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Warning Event on each Service the backend refuses (for example a Maglev table larger than it
 * can carry), so the Service's owner sees why it is not forwarded on this node. One Event per
 * Service and message while the refusal lasts, not one per sync.
 */
public final class ServiceEvents {
  private static final Logger LOG = LoggerFactory.getLogger(ServiceEvents.class);
  static final String REASON = "FailedToProgramService";

  private final KubernetesClient client;
  private final String nodeName;
  private final Clock clock;
  private final Executor executor;
  private final Map<ServiceKey, String> reported = new HashMap<>(); // guarded by this

  public ServiceEvents(KubernetesClient client, String nodeName, Clock clock, Executor executor) {
    this.client = client;
    this.nodeName = nodeName;
    this.clock = clock;
    this.executor = executor;
  }

  /** The refusals of the latest successful sync. */
  public synchronized void refused(Map<ServiceKey, String> errors) {
    reported.keySet().retainAll(errors.keySet());
    errors.forEach((key, message) -> {
      if (!message.equals(reported.put(key, message))) {
        executor.execute(() -> emit(key, message));
      }
    });
  }

  private void emit(ServiceKey key, String message) {
    try {
      WarningEvents.record(client, clock, nodeName, new ObjectReferenceBuilder()
          .withApiVersion("v1").withKind("Service").withNamespace(key.namespace()).withName(key.name()).build(),
          REASON, message);
    } catch (KubernetesClientException e) {
      LOG.warn("cannot record Event for {}: {}", key, e.getMessage());
    }
  }
}
