package dev.turnpike.dataplane.iptables;

import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.net.IpFamily;
import dev.turnpike.dataplane.testing.GoldenFiles;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Full restore payloads for representative tables, compared with text files under
 * src/test/resources/iptables/golden. Regenerate after an intended change with {@code mvn test
 * -Dgolden.update=true} and review the diff.
 */
class GoldenPayloadTest {
  static final Path DIR = Path.of("src/test/resources/iptables/golden");

  record Golden(String name, ForwardingTableSpec spec) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Golden> goldens() {
    return Stream.of(
        new Golden("clusterip-random", Specs.service("web", "10.96.0.10").backend("10.244.1.2", 8080, "node-a")
            .backend("10.244.2.2", 8080, "node-b").backend("10.244.3.2", 8080, "node-c").build()),
        new Golden("nodeport", Specs.service("np", "10.96.0.20").nodePort(30020).backend("10.244.2.3", 80, "node-b").build()),
        new Golden("loadbalancer-source-ranges", Specs.service("lb", "10.96.0.30").loadBalancer(30030, "198.51.100.30")
            .sourceRanges("203.0.113.0/24", "192.168.0.0/24").backend("10.244.1.4", 80, "node-a").build()),
        new Golden("etp-local", Specs.service("local", "10.96.0.50").loadBalancer(30050, "198.51.100.50").etpLocal(32050)
            .backend("10.244.1.7", 80, "node-a").backend("10.244.2.7", 80, "node-b").build()),
        new Golden("session-affinity", Specs.service("aff", "10.96.0.70").affinity(10800).backend("10.244.1.10", 80, "node-a")
            .backend("10.244.2.10", 80, "node-b").build()),
        new Golden("no-endpoints", Specs.service("empty", "10.96.0.80").loadBalancer(30080, "198.51.100.81").externalIp("198.51.100.80").build()),
        new Golden("maglev-251", Specs.service("mg", "10.96.0.90").maglev(251).backend("10.244.1.11", 80, "node-a")
            .backend("10.244.2.11", 80, "node-b").backend("10.244.3.11", 80, "node-c").build()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("goldens")
  void payloadMatchesGolden(Golden g) throws Exception {
    String payload =
        new IptablesRenderer(Scenario.config())
            .render(Scenario.state(Map.of(g.name(), g.spec())), IpFamily.IPv4, null, null, IptablesRenderer.Existing.NONE)
            .payload();
    GoldenFiles.assertMatches(DIR.resolve(g.name() + ".txt"), payload);
  }
}
