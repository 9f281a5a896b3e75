package dev.turnpike.dataplane.iptables;

import dev.turnpike.dataplane.DesiredState;
import dev.turnpike.dataplane.NodeContext;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.dataplane.testing.FakeIptables;
import dev.turnpike.net.IpFamily;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RendererSmokeTest {
  @Test
  void smoke() throws Exception {
    FakeIptables fake = new FakeIptables();
    IptablesDataplane dp = new IptablesDataplane(fake, (argv, in) -> new Exec.Result(0, "", ""),
        IptablesConfig.defaults().withClusterCidrs(List.of("10.244.0.0/16")), List.of(IpFamily.IPv4));
    NodeContext node = new NodeContext("node-a", Map.of(), List.of("192.168.0.10"));
    var state = DesiredState.of(node, Map.of(
        new ServiceKey("ns", "web"), Specs.service("web", "10.96.0.10").backend("10.244.1.2", 8080, "node-a").backend("10.244.2.2", 8080, "node-b").build(),
        new ServiceKey("ns", "lb"), Specs.service("lb", "10.96.0.11").loadBalancer(30080, "198.51.100.7").sourceRanges("203.0.113.0/24").etpLocal(32000).affinity(60).backend("10.244.1.3", 80, "node-a").build(),
        new ServiceKey("ns", "mg"), Specs.service("mg", "10.96.0.12").maglev(251).backend("10.244.1.4", 80, "node-a").backend("10.244.2.4", 80, "node-b").build(),
        new ServiceKey("ns", "none"), Specs.service("none", "10.96.0.13").nodePort(30013).build()));
    System.out.println(dp.sync(new SyncRequest(state, Set.of(), true)));
    System.out.println(dp.lastPayloads().get(IpFamily.IPv4));
    System.out.println(fake.dump(IpFamily.IPv4));
    dp.cleanup();
    System.out.println(fake.dump(IpFamily.IPv4));
  }
}
