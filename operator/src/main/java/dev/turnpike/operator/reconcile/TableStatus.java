package dev.turnpike.operator.reconcile;

import dev.turnpike.api.v1alpha1.ForwardingTableStatus;
import dev.turnpike.operator.compute.AnnotationProblem;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/** Builds the ForwardingTable status the operator owns: observedGeneration + AnnotationsValid. */
public final class TableStatus {
  public static final String ANNOTATIONS_VALID = "AnnotationsValid";
  public static final String REASON_INVALID = "InvalidAnnotation";
  public static final String REASON_VALID = "AnnotationsValid";

  private TableStatus() {}

  /**
   * The status for a table at {@code generation} with these problems. lastTransitionTime is carried
   * over from {@code current} unless the condition's status flips, as Kubernetes conventions ask.
   */
  public static ForwardingTableStatus desired(
      ForwardingTableStatus current, long generation, List<AnnotationProblem> problems, Instant now) {
    boolean valid = problems.isEmpty();
    String status = valid ? "True" : "False";
    String message =
        valid
            ? "All turnpike.dev/ annotations are valid."
            : problems.stream().map(AnnotationProblem::message).collect(Collectors.joining("; "));
    Condition previous = find(current, ANNOTATIONS_VALID);
    String since =
        previous != null && status.equals(previous.getStatus())
            ? previous.getLastTransitionTime()
            : now.truncatedTo(ChronoUnit.SECONDS).toString();
    Condition condition =
        new ConditionBuilder()
            .withType(ANNOTATIONS_VALID)
            .withStatus(status)
            .withReason(valid ? REASON_VALID : REASON_INVALID)
            .withMessage(message)
            .withObservedGeneration(generation)
            .withLastTransitionTime(since)
            .build();
    return new ForwardingTableStatus(generation, List.of(condition));
  }

  /** True when writing {@code desired} over {@code current} would change nothing. */
  public static boolean same(ForwardingTableStatus current, ForwardingTableStatus desired) {
    if (current == null) {
      return false;
    }
    return Objects.equals(current.observedGeneration(), desired.observedGeneration())
        && current.conditions().equals(desired.conditions());
  }

  static Condition find(ForwardingTableStatus status, String type) {
    if (status == null) {
      return null;
    }
    return status.conditions().stream()
        .filter(c -> type.equals(c.getType()))
        .findFirst()
        .orElse(null);
  }
}
