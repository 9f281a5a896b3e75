package dev.turnpike.dataplane.ipvs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.BackendPort;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.api.v1alpha1.TopologyHints;
import dev.turnpike.dataplane.DesiredState;
import dev.turnpike.dataplane.NodeContext;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.iptables.IptablesConfig;
import dev.turnpike.dataplane.iptables.Specs;
import dev.turnpike.dataplane.netlink.ipvs.RealServer;
import dev.turnpike.dataplane.netlink.ipvs.VirtualServer;
import dev.turnpike.net.IpFamily;
import dev.turnpike.topology.NodeTopology;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The planner, case by case: each case is a Service (on node-a, zone a, addresses 192.168.0.10
 * and 192.168.1.10) and the virtual services it must become, written as
 * {@code PROTO VIP:PORT scheduler [flags] [persistent=T] -> dest,dest}.
 */
class IpvsPlannerTest {
  static final NodeContext NODE =
      new NodeContext("node-a", Map.of(NodeTopology.ZONE_LABEL, "zone-a"), List.of("192.168.0.10", "192.168.1.10"));
  static final IptablesConfig CONFIG = IptablesConfig.defaults().withClusterCidrs(List.of("10.244.0.0/16"));

  record Case(String name, ForwardingTableSpec spec, IptablesConfig config, List<String> expected) {
    Case(String name, ForwardingTableSpec spec, String... expected) {
      this(name, spec, CONFIG, List.of(expected));
    }

    @Override
    public String toString() {
      return name;
    }
  }

  static Backend hinted(String ip, String node, String zone) {
    return new Backend(ip, List.of(new BackendPort("p", 80)), node, zone, true, true, false,
        new TopologyHints(List.of(zone), List.of()));
  }

  static Stream<Case> cases() {
    return Stream.of(
        new Case("clusterIpBalancesOverEveryReadyEndpointWithRoundRobin",
            Specs.service("web", "10.96.0.10").backend("10.244.1.2", 8080, "node-a").backend("10.244.2.2", 8080, "node-b").build(),
            "TCP 10.96.0.10:80 rr -> 10.244.1.2:8080,10.244.2.2:8080"),
        new Case("nodePortIsServedOnEveryNodeAddress",
            Specs.service("np", "10.96.0.20").nodePort(30020).backend("10.244.2.3", 80, "node-b").build(),
            "TCP 10.96.0.20:80 rr -> 10.244.2.3:80",
            "TCP 192.168.0.10:30020 rr -> 10.244.2.3:80",
            "TCP 192.168.1.10:30020 rr -> 10.244.2.3:80"),
        new Case("nodePortAddressesPrimaryServesOnlyTheFirstAddress",
            Specs.service("np", "10.96.0.20").nodePort(30020).backend("10.244.2.3", 80, "node-b").build(),
            CONFIG.withNodePortAddresses(List.of("primary")),
            List.of("TCP 10.96.0.20:80 rr -> 10.244.2.3:80", "TCP 192.168.0.10:30020 rr -> 10.244.2.3:80")),
        new Case("nodePortAddressesCidrSelectsTheAddressesInside",
            Specs.service("np", "10.96.0.20").nodePort(30020).backend("10.244.2.3", 80, "node-b").build(),
            CONFIG.withNodePortAddresses(List.of("192.168.1.0/24")),
            List.of("TCP 10.96.0.20:80 rr -> 10.244.2.3:80", "TCP 192.168.1.10:30020 rr -> 10.244.2.3:80")),
        new Case("loadBalancerAndExternalIpsGetVirtualServices",
            Specs.service("lb", "10.96.0.30").loadBalancer(30030, "198.51.100.30").externalIp("198.51.100.40")
                .backend("10.244.1.4", 80, "node-a").build(),
            "TCP 10.96.0.30:80 rr -> 10.244.1.4:80",
            "TCP 198.51.100.40:80 rr -> 10.244.1.4:80",
            "TCP 198.51.100.30:80 rr -> 10.244.1.4:80",
            "TCP 192.168.0.10:30030 rr -> 10.244.1.4:80",
            "TCP 192.168.1.10:30030 rr -> 10.244.1.4:80"),
        new Case("externalTrafficPolicyLocalSendsExternalTrafficOnlyToLocalEndpoints",
            Specs.service("local", "10.96.0.50").loadBalancer(30050, "198.51.100.50").etpLocal(32050)
                .backend("10.244.1.7", 80, "node-a").backend("10.244.2.7", 80, "node-b").build(),
            "TCP 10.96.0.50:80 rr -> 10.244.1.7:80,10.244.2.7:80",
            "TCP 198.51.100.50:80 rr -> 10.244.1.7:80",
            "TCP 192.168.0.10:30050 rr -> 10.244.1.7:80",
            "TCP 192.168.1.10:30050 rr -> 10.244.1.7:80"),
        new Case("externalTrafficPolicyLocalWithoutLocalEndpointsHasEmptyExternalServices",
            Specs.service("localnone", "10.96.0.51").loadBalancer(30051, "198.51.100.51").etpLocal(32051)
                .backend("10.244.2.8", 80, "node-b").build(),
            "TCP 10.96.0.51:80 rr -> 10.244.2.8:80",
            "TCP 198.51.100.51:80 rr -> ",
            "TCP 192.168.0.10:30051 rr -> ",
            "TCP 192.168.1.10:30051 rr -> "),
        new Case("internalTrafficPolicyLocalSendsClusterIpTrafficOnlyToLocalEndpoints",
            Specs.service("itp", "10.96.0.60").itpLocal().backend("10.244.1.9", 80, "node-a").backend("10.244.2.9", 80, "node-b").build(),
            "TCP 10.96.0.60:80 rr -> 10.244.1.9:80"),
        new Case("terminatingEndpointsServeWhenNoneIsReady",
            Specs.service("term", "10.96.0.110").terminatingBackend("10.244.2.13", 80, "node-b").build(),
            "TCP 10.96.0.110:80 rr -> 10.244.2.13:80"),
        new Case("terminatingEndpointsAreLeftOutWhileOneIsReady",
            Specs.service("term", "10.96.0.110").terminatingBackend("10.244.2.13", 80, "node-b").backend("10.244.2.14", 80, "node-b").build(),
            "TCP 10.96.0.110:80 rr -> 10.244.2.14:80"),
        new Case("topologyHintsKeepTrafficInTheNodesZone",
            Specs.service("topo", "10.96.0.120").backend(hinted("10.244.1.15", "node-a", "zone-a"))
                .backend(hinted("10.244.2.15", "node-b", "zone-b")).build(),
            "TCP 10.96.0.120:80 rr -> 10.244.1.15:80"),
        new Case("noEndpointsStillGetsAVirtualServiceWithoutDestinations",
            Specs.service("empty", "10.96.0.80").build(),
            "TCP 10.96.0.80:80 rr -> "),
        new Case("clientIpAffinityMakesAPersistentServiceWithTheAffinityTimeout",
            Specs.service("aff", "10.96.0.70").affinity(600).backend("10.244.1.10", 80, "node-a").build(),
            "TCP 10.96.0.70:80 rr flags=0x1 persistent=600 -> 10.244.1.10:80"),
        new Case("maglevBecomesMhWithFallbackAndPortHashing",
            Specs.service("mg", "10.96.0.90").maglev(251).backend("10.244.1.11", 80, "node-a").build(),
            "TCP 10.96.0.90:80 mh flags=0x18 -> 10.244.1.11:80"),
        new Case("maglevWithClientIpAffinityHashesTheAddressOnly",
            Specs.service("mg", "10.96.0.90").maglev(251).affinity(30).backend("10.244.1.11", 80, "node-a").build(),
            "TCP 10.96.0.90:80 mh flags=0x9 persistent=30 -> 10.244.1.11:80"),
        new Case("ipvsSchedulerAnnotationReplacesRoundRobin",
            Specs.service("lc", "10.96.0.91").ipvsScheduler("lc").backend("10.244.1.12", 80, "node-a").build(),
            "TCP 10.96.0.91:80 lc -> 10.244.1.12:80"),
        new Case("ipvsSchedulerMhOnARandomServiceGetsTheMhFlags",
            Specs.service("mh", "10.96.0.92").ipvsScheduler("mh").backend("10.244.1.12", 80, "node-a").build(),
            "TCP 10.96.0.92:80 mh flags=0x18 -> 10.244.1.12:80"),
        new Case("unknownSchedulerFallsBackToTheDefault",
            Specs.service("bad", "10.96.0.93").ipvsScheduler("fastest").backend("10.244.1.12", 80, "node-a").build(),
            "TCP 10.96.0.93:80 rr -> 10.244.1.12:80"),
        new Case("udpServiceIsAUdpVirtualService",
            Specs.service("dns", "10.96.0.100").udp().port(53).backend("10.244.2.12", 5353, "node-b").build(),
            "UDP 10.96.0.100:53 rr -> 10.244.2.12:5353"),
        new Case("ipv6ClusterIpIsAnIpv6VirtualService",
            Specs.service("v6", "fd00::10").backend("fd00:244::2", 8080, "node-b").build(),
            "TCP [fd00:0:0:0:0:0:0:10]:80 rr -> [fd00:244:0:0:0:0:0:2]:8080"));
  }

  static List<String> describe(IpvsPlan plan) {
    List<String> out = new ArrayList<>();
    plan.services().forEach((k, p) -> {
      VirtualServer s = p.server();
      StringBuilder sb = new StringBuilder(k.toString()).append(' ').append(s.scheduler());
      if (s.flags() != 0) {
        sb.append(" flags=0x").append(Integer.toHexString(s.flags()));
      }
      if (s.timeoutSeconds() != 0) {
        sb.append(" persistent=").append(s.timeoutSeconds());
      }
      sb.append(" -> ").append(p.destinations().stream().map(d -> FakeIpvs.id(d.address(), d.port())).collect(Collectors.joining(",")));
      out.add(sb.toString());
    });
    return out;
  }

  static IpvsPlan plan(IptablesConfig config, Map<String, ForwardingTableSpec> specs) {
    Map<ServiceKey, ForwardingTableSpec> t = new LinkedHashMap<>();
    specs.forEach((k, v) -> t.put(new ServiceKey("ns", k), v));
    return new IpvsPlanner(config, List.of(IpFamily.IPv4, IpFamily.IPv6)).plan(DesiredState.of(NODE, t));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void plansVirtualServices(Case c) {
    IpvsPlan plan = plan(c.config(), Map.of("svc", c.spec()));
    assertEquals(c.expected(), describe(plan));
    for (var p : plan.services().values()) {
      for (RealServer d : p.destinations()) {
        assertEquals(1, d.weight(), "every destination has weight 1");
      }
    }
  }

  @Test
  void unknownSchedulerIsReportedForItsService() {
    IpvsPlan plan = plan(CONFIG, Map.of("bad", Specs.service("bad", "10.96.0.93").ipvsScheduler("fastest").build()));
    String msg = plan.errors().get(new ServiceKey("ns", "bad"));
    assertTrue(msg.contains("unknown IPVS scheduler 'fastest'") && msg.endsWith("using rr"), msg);
  }

  @Test
  void theSameAddressAndPortIsProgrammedOnceAndTheSecondServiceIsTold() {
    Map<String, ForwardingTableSpec> specs = new LinkedHashMap<>();
    specs.put("a", Specs.service("a", "10.96.0.1").externalIp("198.51.100.9").backend("10.244.1.1", 80, "node-a").build());
    specs.put("b", Specs.service("b", "10.96.0.2").externalIp("198.51.100.9").backend("10.244.1.2", 80, "node-a").build());
    IpvsPlan plan = plan(CONFIG, specs);
    assertEquals(List.of("TCP 10.96.0.1:80 rr -> 10.244.1.1:80", "TCP 198.51.100.9:80 rr -> 10.244.1.1:80",
        "TCP 10.96.0.2:80 rr -> 10.244.1.2:80"), describe(plan));
    assertTrue(plan.errors().get(new ServiceKey("ns", "b")).contains("already served for ns/a"), plan.errors().toString());
  }

  @Test
  void boundAddressesAreTheServiceIpsNotTheNodeAddresses() throws Exception {
    IpvsPlan plan = plan(CONFIG, Map.of("lb", Specs.service("lb", "10.96.0.30").loadBalancer(30030, "198.51.100.30")
        .externalIp("198.51.100.40").build()));
    assertEquals(List.of(InetAddress.getByName("10.96.0.30"), InetAddress.getByName("198.51.100.40"),
        InetAddress.getByName("198.51.100.30")), List.copyOf(plan.addresses()));
  }

  @Test
  void reusedPlansGiveWhatAFreshPlannerGives() {
    Map<ServiceKey, ForwardingTableSpec> t = new LinkedHashMap<>();
    t.put(new ServiceKey("ns", "a"), Specs.service("a", "10.96.0.1").nodePort(30001).backend("10.244.1.1", 80, "node-a").build());
    t.put(new ServiceKey("ns", "b"), Specs.service("b", "10.96.0.2").backend("10.244.2.1", 80, "node-b").build());
    IpvsPlanner reused = new IpvsPlanner(CONFIG, List.of(IpFamily.IPv4));
    reused.plan(DesiredState.of(NODE, t));
    t.put(new ServiceKey("ns", "b"), Specs.service("b", "10.96.0.2").backend("10.244.2.9", 80, "node-b").build());
    NodeContext moved = new NodeContext("node-a", Map.of(), List.of("192.168.0.77"));
    for (NodeContext node : List.of(NODE, moved)) {
      IpvsPlan a = reused.plan(DesiredState.of(node, t));
      IpvsPlan b = new IpvsPlanner(CONFIG, List.of(IpFamily.IPv4)).plan(DesiredState.of(node, t));
      assertEquals(describe(b), describe(a), "node " + node.addresses());
      assertEquals(b.ports(), a.ports());
    }
    assertTrue(describe(reused.plan(DesiredState.of(moved, t))).contains("TCP 192.168.0.77:30001 rr -> 10.244.1.1:80"));
  }

  @Test
  void noLocalEndpointsAreCountedPerPolicy() {
    Map<String, ForwardingTableSpec> specs = new LinkedHashMap<>();
    specs.put("localnone", Specs.service("localnone", "10.96.0.51").loadBalancer(30051, "198.51.100.51").etpLocal(32051)
        .backend("10.244.2.8", 80, "node-b").build());
    specs.put("itp", Specs.service("itp", "10.96.0.60").itpLocal().backend("10.244.2.9", 80, "node-b").build());
    assertEquals(Map.of("internal", 1, "external", 1), plan(CONFIG, specs).noLocalEndpoints());
  }
}
