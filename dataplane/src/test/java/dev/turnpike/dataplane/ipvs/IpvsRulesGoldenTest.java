package dev.turnpike.dataplane.ipvs;

import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.dataplane.iptables.IptablesConfig;
import dev.turnpike.dataplane.iptables.IptablesRenderer;
import dev.turnpike.dataplane.iptables.Specs;
import dev.turnpike.net.IpFamily;
import dev.turnpike.dataplane.testing.GoldenFiles;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The iptables payload of IPVS mode for representative Services, against text files under
 * src/test/resources/ipvs/golden (first sync on an empty kernel: the hooks are in the payload).
 * Regenerate after an intended change with {@code mvn test -Dgolden.update=true} and review.
 */
class IpvsRulesGoldenTest {
  static final Path DIR = Path.of("src/test/resources/ipvs/golden");

  record Golden(String name, IptablesConfig config, ForwardingTableSpec spec) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Golden> goldens() {
    IptablesConfig c = IpvsPlannerTest.CONFIG;
    return Stream.of(
        new Golden("clusterip", c, Specs.service("web", "10.96.0.10").backend("10.244.1.2", 8080, "node-a")
            .backend("10.244.2.2", 8080, "node-b").build()),
        new Golden("clusterip-masquerade-all", c.withMasqueradeAll(true), Specs.service("web", "10.96.0.10")
            .backend("10.244.2.2", 8080, "node-b").build()),
        new Golden("clusterip-two-pod-cidrs", c.withClusterCidrs(List.of("10.244.0.0/16", "10.245.0.0/16")),
            Specs.service("web", "10.96.0.10").backend("10.244.2.2", 8080, "node-b").build()),
        new Golden("nodeport", c, Specs.service("np", "10.96.0.20").nodePort(30020).backend("10.244.2.3", 80, "node-b").build()),
        new Golden("loadbalancer-source-ranges", c, Specs.service("lb", "10.96.0.30").loadBalancer(30030, "198.51.100.30")
            .sourceRanges("203.0.113.0/24", "192.168.0.0/24").backend("10.244.1.4", 80, "node-a").build()),
        new Golden("etp-local", c, Specs.service("local", "10.96.0.50").loadBalancer(30050, "198.51.100.50").etpLocal(32050)
            .backend("10.244.1.7", 80, "node-a").backend("10.244.2.7", 80, "node-b").build()),
        new Golden("etp-local-no-local-endpoints", c, Specs.service("localnone", "10.96.0.51").loadBalancer(30051, "198.51.100.51")
            .etpLocal(32051).backend("10.244.2.8", 80, "node-b").build()),
        new Golden("itp-local-no-local-endpoints", c, Specs.service("itp", "10.96.0.60").itpLocal()
            .backend("10.244.2.9", 80, "node-b").build()),
        new Golden("no-endpoints", c, Specs.service("empty", "10.96.0.80").loadBalancer(30080, "198.51.100.81")
            .externalIp("198.51.100.80").build()),
        new Golden("udp-hairpin", c, Specs.service("dns", "10.96.0.100").udp().port(53).backend("10.244.1.12", 5353, "node-a").build()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("goldens")
  void payloadMatchesGolden(Golden g) throws Exception {
    IpvsPlan plan = IpvsPlannerTest.plan(g.config(), Map.of(g.name(), g.spec()));
    IptablesRenderer.Existing empty = IptablesRenderer.Existing.fromSave(Map.of("filter", "", "nat", ""));
    String payload = new IpvsRules(g.config())
        .render(IpFamily.IPv4, plan.ports().stream().filter(p -> p.family() == IpFamily.IPv4).toList(),
            plan.nodePortAddresses().get(IpFamily.IPv4), empty, null)
        .payload();
    GoldenFiles.assertMatches(DIR.resolve(g.name() + ".txt"), payload);
  }
}
