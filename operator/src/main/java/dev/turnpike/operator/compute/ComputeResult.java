package dev.turnpike.operator.compute;

import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import java.util.List;

/** The outcome of computing one Service: a table, or a reason it gets none. */
public sealed interface ComputeResult {

  /** The Service is forwarded; problems lists rejected annotations (defaults were used). */
  record Table(ForwardingTableSpec spec, List<AnnotationProblem> problems) implements ComputeResult {
    public Table {
      problems = List.copyOf(problems);
    }
  }

  /** Turnpike does not forward this Service (headless, ExternalName, another proxy's, ...). */
  record Skipped(String reason) implements ComputeResult {}
}
