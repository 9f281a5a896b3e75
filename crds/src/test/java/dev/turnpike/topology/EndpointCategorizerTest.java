package dev.turnpike.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.BackendPort;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.api.v1alpha1.Frontend;
import dev.turnpike.api.v1alpha1.LoadBalancerIngress;
import dev.turnpike.api.v1alpha1.Protocol;
import dev.turnpike.api.v1alpha1.ServiceReference;
import dev.turnpike.api.v1alpha1.ServiceType;
import dev.turnpike.api.v1alpha1.TopologyHints;
import dev.turnpike.api.v1alpha1.TrafficPolicy;
import dev.turnpike.net.IpFamily;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Cases ported from kube-proxy's TestCategorizeEndpoints (pkg/proxy/topology_test.go) for the
 * current semantics (hints always honoured, terminating fallback always on, PreferSameNode GA),
 * plus same-node and IP-family cases.
 *
 * <p>Endpoint DSL: {@code "10.0.0.1 R S T L z=zone-a,zone-b n=node-a"}: R ready, S serving, T
 * terminating, L on this node ("node-1"), z zone hints, n node hints. R implies S.
 */
class EndpointCategorizerTest {
  static final String NODE = "node-1";

  /** usesCluster/usesLocal come from the policies and external accessibility, as in kube-proxy. */
  record Policy(TrafficPolicy itp, TrafficPolicy etp, boolean nodePort) {}

  static final Policy CLUSTER = new Policy(TrafficPolicy.Cluster, TrafficPolicy.Cluster, false);
  static final Policy ITP_LOCAL = new Policy(TrafficPolicy.Local, TrafficPolicy.Cluster, false);
  static final Policy ETP_LOCAL_NODEPORT = new Policy(TrafficPolicy.Cluster, TrafficPolicy.Local, true);
  static final Policy ITP_LOCAL_NODEPORT = new Policy(TrafficPolicy.Local, TrafficPolicy.Cluster, true);
  static final Policy BOTH_LOCAL_NODEPORT = new Policy(TrafficPolicy.Local, TrafficPolicy.Local, true);
  static final Policy ETP_LOCAL_NOT_EXTERNAL = new Policy(TrafficPolicy.Cluster, TrafficPolicy.Local, false);

  /** null expected set = "this kind of endpoints is not used". */
  record Case(
      String name,
      String zone,
      Policy policy,
      List<String> endpoints,
      Set<String> cluster,
      Set<String> local,
      Set<String> all,
      boolean onlyRemote) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Set<String> set(String... s) {
    return new TreeSet<>(Arrays.asList(s));
  }

  static Case c(String name, String zone, Policy p, List<String> eps, Set<String> cluster, Set<String> local, Set<String> all) {
    return new Case(name, zone, p, eps, cluster, local, all, false);
  }

  static Stream<Case> cases() {
    List<String> fourZoned =
        List.of("10.1.2.3 R z=zone-a", "10.1.2.4 R z=zone-b", "10.1.2.5 R z=zone-c", "10.1.2.6 R z=zone-a");
    return Stream.of(
        c("zone hints filter cluster endpoints to the node's zone", "zone-a", CLUSTER, fourZoned,
            set("10.1.2.3", "10.1.2.6"), null, null),
        c("externalTrafficPolicy Local: topology ignored for local endpoints", "zone-a", ETP_LOCAL_NODEPORT,
            List.of("10.1.2.3 R L z=zone-a", "10.1.2.4 R L z=zone-b", "10.1.2.5 R z=zone-c", "10.1.2.6 R z=zone-a"),
            set("10.1.2.3", "10.1.2.6"), set("10.1.2.3", "10.1.2.4"), set("10.1.2.3", "10.1.2.4", "10.1.2.6")),
        c("internalTrafficPolicy Local: topology ignored for local endpoints", "zone-a", ITP_LOCAL_NODEPORT,
            List.of("10.1.2.3 R L z=zone-a", "10.1.2.4 R L z=zone-b", "10.1.2.5 R z=zone-c", "10.1.2.6 R z=zone-a"),
            set("10.1.2.3", "10.1.2.6"), set("10.1.2.3", "10.1.2.4"), set("10.1.2.3", "10.1.2.4", "10.1.2.6")),
        c("node without zone label: no filtering", "", CLUSTER, List.of("10.1.2.3 R z=zone-a"), set("10.1.2.3"), null, null),
        c("node in a zone no endpoint is hinted for: no filtering", "zone-b", CLUSTER, List.of("10.1.2.3 R z=zone-a"),
            set("10.1.2.3"), null, null),
        c("unready endpoint is not used", "zone-a", CLUSTER,
            List.of("10.1.2.3 R z=zone-a", "10.1.2.4 R z=zone-b", "10.1.2.5 R z=zone-c", "10.1.2.6 z=zone-a"),
            set("10.1.2.3"), null, null),
        c("only unready endpoints in the same zone: hints ignored", "zone-a", CLUSTER,
            List.of("10.1.2.3 z=zone-a", "10.1.2.4 R z=zone-b", "10.1.2.5 R z=zone-c", "10.1.2.6 z=zone-a"),
            set("10.1.2.4", "10.1.2.5"), null, null),
        c("a ready endpoint without a hint disables filtering", "zone-a", CLUSTER,
            List.of("10.1.2.3 R z=zone-a", "10.1.2.4 R z=zone-b", "10.1.2.5 R", "10.1.2.6 R z=zone-a"),
            set("10.1.2.3", "10.1.2.4", "10.1.2.5", "10.1.2.6"), null, null),
        c("several zone hints per endpoint: any match counts", "zone-c", CLUSTER,
            List.of("10.1.2.3 R z=zone-a,zone-b,zone-c", "10.1.2.4 R z=zone-b,zone-c", "10.1.2.5 R z=zone-b,zone-d",
                "10.1.2.6 R z=zone-c"),
            set("10.1.2.3", "10.1.2.4", "10.1.2.6"), null, null),
        c("conflicting topology and locality are merged into all endpoints", "zone-a", ETP_LOCAL_NODEPORT,
            List.of("10.0.0.0 R L z=zone-a", "10.0.0.1 R L z=zone-b", "10.0.0.2 R z=zone-a", "10.0.0.3 R z=zone-b"),
            set("10.0.0.0", "10.0.0.2"), set("10.0.0.0", "10.0.0.1"), set("10.0.0.0", "10.0.0.1", "10.0.0.2")),
        c("internalTrafficPolicy Local with no endpoints", "", ITP_LOCAL, List.of(), null, set(), null),
        new Case("internalTrafficPolicy Local, every endpoint remote", "", ITP_LOCAL,
            List.of("10.0.0.0 R", "10.0.0.1 R"), null, set(), null, true),
        c("internalTrafficPolicy Local, every endpoint local", "", ITP_LOCAL, List.of("10.0.0.0 R L", "10.0.0.1 R L"),
            null, set("10.0.0.0", "10.0.0.1"), null),
        c("internalTrafficPolicy Local, some endpoints local", "", ITP_LOCAL, List.of("10.0.0.0 R L", "10.0.0.1 R"),
            null, set("10.0.0.0"), null),
        c("Cluster policy, no endpoint ready", "", CLUSTER, List.of("10.0.0.0", "10.0.0.1"), set(), null, null),
        c("Cluster policy, some endpoints ready", "", CLUSTER, List.of("10.0.0.0", "10.0.0.1 R"), set("10.0.0.1"), null, null),
        c("Cluster policy falls back to serving terminating endpoints", "", CLUSTER,
            List.of("10.0.0.0 S T L", "10.0.0.1 S T"), set("10.0.0.0", "10.0.0.1"), null, null),
        c("Cluster policy never uses terminating endpoints that stopped serving", "", CLUSTER,
            List.of("10.0.0.0 T L", "10.0.0.1 T"), set(), null, null),
        c("iTP Local eTP Cluster, some endpoints local", "", ITP_LOCAL_NODEPORT, List.of("10.0.0.0 R L", "10.0.0.1 R"),
            set("10.0.0.0", "10.0.0.1"), set("10.0.0.0"), set("10.0.0.0", "10.0.0.1")),
        c("iTP Cluster eTP Local, some endpoints local", "", ETP_LOCAL_NODEPORT, List.of("10.0.0.0 R L", "10.0.0.1 R"),
            set("10.0.0.0", "10.0.0.1"), set("10.0.0.0"), set("10.0.0.0", "10.0.0.1")),
        c("iTP Local eTP Local, some endpoints local", "", BOTH_LOCAL_NODEPORT, List.of("10.0.0.0 R L", "10.0.0.1 R"),
            set("10.0.0.0", "10.0.0.1"), set("10.0.0.0"), set("10.0.0.0", "10.0.0.1")),
        c("iTP Local eTP Local, every endpoint remote", "", BOTH_LOCAL_NODEPORT, List.of("10.0.0.0 R", "10.0.0.1 R"),
            set("10.0.0.0", "10.0.0.1"), set(), set("10.0.0.0", "10.0.0.1")),
        new Case("iTP Local eTP Local, every endpoint remote and terminating", "", BOTH_LOCAL_NODEPORT,
            List.of("10.0.0.0 S T", "10.0.0.1 S T"), set("10.0.0.0", "10.0.0.1"), set(), set("10.0.0.0", "10.0.0.1"), true),
        c("eTP Local: local falls back to serving terminating separately from cluster", "", ETP_LOCAL_NODEPORT,
            List.of("10.0.0.0 R", "10.0.0.1 L", "10.0.0.2 S T L", "10.0.0.3 S T"),
            set("10.0.0.0"), set("10.0.0.2"), set("10.0.0.0", "10.0.0.2")),
        c("externalTrafficPolicy ignored when not externally accessible", "", ETP_LOCAL_NOT_EXTERNAL,
            List.of("10.0.0.0 R", "10.0.0.1 R L"), set("10.0.0.0", "10.0.0.1"), null, set("10.0.0.0", "10.0.0.1")),
        c("no cluster endpoints for an internal-only iTP Local service", "", ITP_LOCAL, List.of("10.0.0.0 R", "10.0.0.1 R L"),
            null, set("10.0.0.1"), null),
        c("node hints for this node select same-node endpoints", "zone-a", CLUSTER,
            List.of("10.0.0.0 R z=zone-a n=node-1", "10.0.0.1 R z=zone-a n=node-2", "10.0.0.2 R z=zone-b n=node-3"),
            set("10.0.0.0"), null, null),
        c("node hints naming other nodes only fall back to zone hints", "zone-a", CLUSTER,
            List.of("10.0.0.0 R z=zone-a n=node-2", "10.0.0.1 R z=zone-a n=node-2", "10.0.0.2 R z=zone-b n=node-3"),
            set("10.0.0.0", "10.0.0.1"), null, null),
        c("a ready endpoint without node hints disables same-node", "zone-b", CLUSTER,
            List.of("10.0.0.0 R z=zone-a n=node-1", "10.0.0.1 R z=zone-a", "10.0.0.2 R z=zone-b n=node-3"),
            set("10.0.0.2"), null, null),
        c("endpoints of the other IP family are not this family's endpoints", "", CLUSTER,
            List.of("10.0.0.0 R", "fd00::1 R"), set("10.0.0.0"), null, null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void categorizesLikeKubeProxy(Case tc) {
    ForwardingTableSpec spec = spec(tc.policy, tc.endpoints);
    var got =
        EndpointCategorizer.categorize(spec, spec.frontends().get(0), IpFamily.IPv4, new NodeTopology(NODE, tc.zone));

    Set<String> expectedAll =
        tc.cluster != null && tc.local == null ? tc.cluster : tc.local != null && tc.cluster == null ? tc.local : tc.all;
    assertEquals(tc.cluster == null ? set() : tc.cluster, addresses(got.clusterEndpoints()), "cluster");
    assertEquals(tc.local == null ? set() : tc.local, addresses(got.localEndpoints()), "local");
    assertEquals(expectedAll, addresses(got.allReachableEndpoints()), "all reachable");
    assertEquals(!expectedAll.isEmpty() || tc.onlyRemote, got.hasAnyEndpoints(), "hasAnyEndpoints");
    assertEquals(tc.cluster != null, EndpointCategorizer.usesClusterEndpoints(spec, spec.frontends().get(0), IpFamily.IPv4));
    assertEquals(tc.local != null, EndpointCategorizer.usesLocalEndpoints(spec, spec.frontends().get(0), IpFamily.IPv4));
  }

  @org.junit.jupiter.api.Test
  void loadBalancerIpOfTheFamilyMakesAFrontendExternallyAccessible() {
    ForwardingTableSpec v6Lb = withLb(spec(ETP_LOCAL_NOT_EXTERNAL, List.of()), "fd00::10");
    Frontend f = v6Lb.frontends().get(0);
    assertEquals(false, EndpointCategorizer.externallyAccessible(v6Lb, f, IpFamily.IPv4));
    assertEquals(true, EndpointCategorizer.externallyAccessible(v6Lb, f, IpFamily.IPv6));
  }

  private static ForwardingTableSpec withLb(ForwardingTableSpec s, String ip) {
    return new ForwardingTableSpec(s.service(), ServiceType.LoadBalancer, s.clusterIPs(), s.frontends(), s.externalIPs(),
        List.of(new LoadBalancerIngress(ip, null)), s.loadBalancerSourceRanges(), s.backends(), s.externalTrafficPolicy(),
        s.internalTrafficPolicy(), null, null, null, Algorithm.RANDOM, null, null, null, null);
  }

  private static Set<String> addresses(List<Backend> backends) {
    TreeSet<String> out = new TreeSet<>();
    backends.forEach(b -> out.add(b.address()));
    assertEquals(backends.size(), out.size(), "duplicates in " + backends);
    return out;
  }

  static ForwardingTableSpec spec(Policy p, List<String> endpoints) {
    List<Backend> backends = new ArrayList<>();
    for (String e : endpoints) {
      backends.add(backend(e));
    }
    Frontend f = new Frontend("http", Protocol.TCP, 80, p.nodePort ? 30080 : null, null);
    return new ForwardingTableSpec(new ServiceReference("ns", "svc", null), p.nodePort ? ServiceType.NodePort : ServiceType.ClusterIP,
        List.of("10.96.0.10", "fd00:96::10"), List.of(f), List.of(), List.of(), List.of(), backends, p.etp, p.itp, null, null,
        null, Algorithm.RANDOM, null, null, null, null);
  }

  static Backend backend(String dsl) {
    String[] parts = dsl.split(" ");
    Set<String> flags = new TreeSet<>(Arrays.asList(parts).subList(1, parts.length));
    List<String> zones = List.of();
    List<String> nodes = List.of();
    for (String f : flags) {
      if (f.startsWith("z=")) {
        zones = List.of(f.substring(2).split(","));
      } else if (f.startsWith("n=")) {
        nodes = List.of(f.substring(2).split(","));
      }
    }
    boolean ready = flags.contains("R");
    return new Backend(parts[0], List.of(new BackendPort("http", 8080)), flags.contains("L") ? NODE : "node-other", null, ready,
        ready || flags.contains("S"), flags.contains("T"), new TopologyHints(zones, nodes));
  }
}
