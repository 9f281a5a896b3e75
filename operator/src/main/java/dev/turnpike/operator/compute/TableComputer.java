package dev.turnpike.operator.compute;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.List;

/**
 * Service + EndpointSlices → ForwardingTable spec. A pure function of its inputs and the cluster
 * defaults: no I/O, no clock. Thread-safe.
 */
public final class TableComputer {
  private final ClusterDefaults defaults;

  public TableComputer(ClusterDefaults defaults) {
    this.defaults = defaults;
  }

  public ClusterDefaults defaults() {
    return defaults;
  }

  /** Computes the table for {@code service} from the slices labelled with its name. */
  public ComputeResult compute(Service service, List<EndpointSlice> slices) {
    throw new UnsupportedOperationException("in progress");
  }
}
