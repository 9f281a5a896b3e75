package dev.turnpike.operator.reconcile;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's Warning Events. The Event name is derived from the object's uid and
 * resourceVersion and the message, so a replica or a new leader replaying the same object records
 * nothing twice (the API server answers 409), while an edit to the object records it again.
 */
public final class WarningEvent {
  static final String COMPONENT = "turnpike-operator";
  private static final Logger log = LoggerFactory.getLogger(WarningEvent.class);

  private WarningEvent() {}

  /** Records it; failures are logged, never thrown (an Event is advice). */
  public static void record(KubernetesClient client, Clock clock, String instance, ObjectReference involved,
      String reason, String message) {
    String name = involved.getName() + "."
        + SpecDigest.shortHash(involved.getUid() + "/" + involved.getResourceVersion() + "/" + message);
    String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
    var event =
        new EventBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(involved.getNamespace())
            .endMetadata()
            .withInvolvedObject(involved)
            .withType("Warning")
            .withReason(reason)
            .withMessage(message)
            .withCount(1)
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withNewSource()
            .withComponent(COMPONENT)
            .endSource()
            .withReportingComponent("turnpike.dev/operator")
            .withReportingInstance(instance)
            .build();
    try {
      client.v1().events().inNamespace(involved.getNamespace()).resource(event).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
        return; // recorded already, by us before a restart or by the previous leader
      }
      log.warn("could not record {} event for {} {}/{}: {}", reason, involved.getKind(), involved.getNamespace(),
          involved.getName(), e.getMessage());
    }
  }
}
