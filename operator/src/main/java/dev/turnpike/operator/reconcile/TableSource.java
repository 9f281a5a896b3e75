package dev.turnpike.operator.reconcile;

import dev.turnpike.operator.compute.ComputeResult;
import dev.turnpike.operator.compute.TableComputer;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.List;

/**
 * Where the reconciler gets the desired table from. Production uses {@link TableComputer}; tests
 * inject their own so the wiring can be checked independently of the computation.
 */
@FunctionalInterface
public interface TableSource {
  ComputeResult compute(Service service, List<EndpointSlice> slices);

  static TableSource of(TableComputer computer) {
    return computer::compute;
  }
}
