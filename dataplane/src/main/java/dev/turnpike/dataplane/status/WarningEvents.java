package dev.turnpike.dataplane.status;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** The agent's Warning Events: source {@code turnpike-dataplane} on this node, one occurrence each. */
public final class WarningEvents {
  private WarningEvents() {}

  /**
   * Records a Warning Event about {@code involved} (in its namespace), its message prefixed with
   * the node. Throws what the API server answers; callers log it (an Event is advice).
   */
  public static void record(KubernetesClient client, Clock clock, String nodeName, ObjectReference involved,
      String reason, String message) throws KubernetesClientException {
    String now = DateTimeFormatter.ISO_INSTANT.format(clock.instant());
    client.v1().events().inNamespace(involved.getNamespace()).resource(new EventBuilder()
        .withNewMetadata()
            .withGenerateName(involved.getName() + ".turnpike-")
            .withNamespace(involved.getNamespace())
        .endMetadata()
        .withInvolvedObject(involved)
        .withType("Warning")
        .withReason(reason)
        .withMessage("node " + nodeName + ": " + message)
        .withNewSource().withComponent("turnpike-dataplane").withHost(nodeName).endSource()
        .withReportingComponent("turnpike-dataplane")
        .withReportingInstance(nodeName.toLowerCase(Locale.ROOT))
        .withFirstTimestamp(now)
        .withLastTimestamp(now)
        .withCount(1)
        .build()).create();
  }
}
