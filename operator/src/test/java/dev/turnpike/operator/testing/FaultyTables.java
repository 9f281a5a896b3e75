package dev.turnpike.operator.testing;

import dev.turnpike.operator.compute.ClusterDefaults;
import dev.turnpike.operator.compute.ComputeResult;
import dev.turnpike.operator.compute.TableComputer;
import dev.turnpike.operator.reconcile.TableSource;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The real computation, with failures injectable per Service name (as a bug would throw). */
public final class FaultyTables implements TableSource {
  private final TableComputer computer;
  private final Set<String> failing = ConcurrentHashMap.newKeySet();

  public FaultyTables(ClusterDefaults defaults) {
    this.computer = new TableComputer(defaults);
  }

  public void failFor(String serviceName) {
    failing.add(serviceName);
  }

  @Override
  public ComputeResult compute(Service service, List<EndpointSlice> slices) {
    if (failing.contains(service.getMetadata().getName())) {
      throw new IllegalStateException("injected failure for " + service.getMetadata().getName());
    }
    return computer.compute(service, slices);
  }
}
