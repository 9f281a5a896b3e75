package dev.turnpike.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** EndpointSlice hints: the zones and nodes that should consume this endpoint. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record TopologyHints(List<String> forZones, List<String> forNodes) {
  public TopologyHints {
    forZones = ForwardingTableSpec.copy(forZones);
    forNodes = ForwardingTableSpec.copy(forNodes);
  }
}
