package dev.turnpike.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;

/** Written by the operator: whether the table reflects the Service, and any input problems. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ForwardingTableStatus(Long observedGeneration, List<Condition> conditions) {
  public ForwardingTableStatus {
    conditions = ForwardingTableSpec.copy(conditions);
  }
}
