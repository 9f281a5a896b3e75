package dev.turnpike.dataplane.health;

import static dev.turnpike.dataplane.sync.Specs.backend;
import static dev.turnpike.dataplane.sync.Specs.clusterIp;
import static dev.turnpike.dataplane.sync.Specs.localLoadBalancer;
import static dev.turnpike.dataplane.sync.Specs.terminating;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.dataplane.DesiredState;
import dev.turnpike.dataplane.NodeContext;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.sync.Specs;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LocalEndpointsTest {
  private static final NodeContext NODE = new NodeContext("n1", Map.of(), List.of("192.0.2.1"));

  private static DesiredState state(Map<ServiceKey, ForwardingTableSpec> tables) {
    return DesiredState.of(NODE, tables);
  }

  @Test
  void healthChecksCountDistinctLocalReadyEndpointsOfLocalLoadBalancers() {
    ServiceKey lb = new ServiceKey("ns", "lb");
    ServiceKey drained = new ServiceKey("ns", "drained");
    ServiceKey plain = new ServiceKey("ns", "plain");
    ServiceKey dual = new ServiceKey("ns", "dual");
    var checks = LocalEndpoints.healthChecks(state(Map.of(
        lb, localLoadBalancer("ns", "lb", "10.96.0.1", 31001,
            backend("10.0.0.1", "n1"), backend("10.0.0.2", "n1"), backend("10.0.0.3", "n2")),
        drained, localLoadBalancer("ns", "drained", "10.96.0.2", 31002,
            terminating("10.0.0.4", "n1"), backend("10.0.0.5", "n2")),
        plain, clusterIp("ns", "plain", "10.96.0.3", backend("10.0.0.6", "n1")),
        dual, localLoadBalancer("ns", "dual", "10.96.0.4", 31003,
            backend("10.0.0.7", "n1"), backend("fd00::7", "n1")))));
    assertEquals(Map.of(
        lb, new LocalEndpoints.HealthCheck(31001, 2),
        drained, new LocalEndpoints.HealthCheck(31002, 0),
        dual, new LocalEndpoints.HealthCheck(31003, 2)), checks,
        "ready local endpoints of both families; terminating ones do not count; only ETP-Local LBs");
  }

  @Test
  void noLocalEndpointsCountsInternalAndExternalPolicies() {
    var noLocal = LocalEndpoints.noLocalEndpoints(state(Map.of(
        new ServiceKey("ns", "ext"), localLoadBalancer("ns", "ext", "10.96.0.1", 31001, backend("10.0.0.1", "n2")),
        new ServiceKey("ns", "extok"), localLoadBalancer("ns", "extok", "10.96.0.2", 31002, backend("10.0.0.2", "n1")),
        new ServiceKey("ns", "none"), localLoadBalancer("ns", "none", "10.96.0.3", 31003),
        new ServiceKey("ns", "int"),
            Specs.withInternalLocal(clusterIp("ns", "int", "10.96.0.4", backend("10.0.0.3", "n2"))))));
    assertEquals(Map.of("internal", 1, "external", 1), noLocal,
        "a Service without any endpoints is not counted (it is rejected, not dropped)");
  }
}
