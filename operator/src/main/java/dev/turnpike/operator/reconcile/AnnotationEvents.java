package dev.turnpike.operator.reconcile;

import dev.turnpike.operator.compute.AnnotationProblem;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Warning Events (reason {@code InvalidAnnotation}) on Services with rejected annotations.
 *
 * <p>Deduplicated twice: in memory by message per Service (so resyncs emit nothing), and by a
 * deterministic Event name derived from the Service's uid, resourceVersion and the message (so a
 * new leader that replays every Service does not duplicate what its predecessor recorded; an edit
 * to the Service changes the resourceVersion and so records the problem again).
 */
public final class AnnotationEvents {
  public static final String REASON = "InvalidAnnotation";

  private final KubernetesClient client;
  private final Clock clock;
  private final String instance;
  private final Map<ResourceID, Set<String>> emitted = new ConcurrentHashMap<>();

  public AnnotationEvents(KubernetesClient client, Clock clock, String instance) {
    this.client = client;
    this.clock = clock;
    this.instance = instance;
  }

  /**
   * Records the Service's current problems; returns how many were new (not already reported for
   * this Service). Failures to write an Event are logged, never thrown: an Event is advice, and
   * must not stop the table from being written.
   */
  public int report(Service service, List<AnnotationProblem> problems) {
    ResourceID id = ResourceID.fromResource(service);
    if (problems.isEmpty()) {
      emitted.remove(id);
      return 0;
    }
    Set<String> messages =
        problems.stream().map(AnnotationProblem::message).collect(Collectors.toCollection(LinkedHashSet::new));
    Set<String> before = emitted.getOrDefault(id, Set.of());
    int fresh = 0;
    for (String message : messages) {
      if (!before.contains(message)) {
        fresh++;
        emit(service, message);
      }
    }
    emitted.put(id, Set.copyOf(messages));
    return fresh;
  }

  /** Drops the memory of a Service that no longer gets a table. */
  public void forget(ResourceID id) {
    emitted.remove(id);
  }

  private void emit(Service service, String message) {
    var meta = service.getMetadata();
    WarningEvent.record(client, clock, instance, new ObjectReferenceBuilder()
        .withApiVersion("v1")
        .withKind("Service")
        .withName(meta.getName())
        .withNamespace(meta.getNamespace())
        .withUid(meta.getUid())
        .withResourceVersion(meta.getResourceVersion())
        .build(), REASON, message);
  }
}
