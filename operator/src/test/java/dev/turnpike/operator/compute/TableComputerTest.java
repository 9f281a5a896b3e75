package dev.turnpike.operator.compute;

import static dev.turnpike.operator.compute.Fixtures.DEFAULTS;
import static dev.turnpike.operator.compute.Fixtures.ep;
import static dev.turnpike.operator.compute.Fixtures.ingress;
import static dev.turnpike.operator.compute.Fixtures.port;
import static dev.turnpike.operator.compute.Fixtures.service;
import static dev.turnpike.operator.compute.Fixtures.slice;
import static dev.turnpike.operator.compute.Fixtures.slicePort;
import static dev.turnpike.operator.compute.Fixtures.tcp;
import static dev.turnpike.operator.compute.Fixtures.withAnnotation;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.BackendPort;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.api.v1alpha1.Frontend;
import dev.turnpike.api.v1alpha1.LoadBalancerIngress;
import dev.turnpike.api.v1alpha1.MaglevLookupTable;
import dev.turnpike.api.v1alpha1.Protocol;
import dev.turnpike.api.v1alpha1.ServiceType;
import dev.turnpike.api.v1alpha1.SessionAffinity;
import dev.turnpike.api.v1alpha1.TopologyHints;
import dev.turnpike.api.v1alpha1.TrafficPolicy;
import dev.turnpike.lb.MaglevTableCodec;
import dev.turnpike.net.IpFamily;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TableComputerTest {
  private final TableComputer computer = new TableComputer(DEFAULTS);

  private ForwardingTableSpec table(Service s, EndpointSlice... slices) {
    return assertInstanceOf(ComputeResult.Table.class, computer.compute(s, List.of(slices))).spec();
  }

  private List<AnnotationProblem> problems(Service s) {
    return assertInstanceOf(ComputeResult.Table.class, computer.compute(s, List.of())).problems();
  }

  // ---- which Services get a table (kube-proxy's ShouldSkipService and informer selector) ------

  static Stream<Arguments> skipped() {
    Service base = service("web", "10.96.0.10").editSpec().withPorts(tcp("http", 80)).endSpec().build();
    return Stream.of(
        Arguments.of("headless (clusterIP None)", new ServiceBuilder(base).editSpec().withClusterIP("None").withClusterIPs("None").endSpec().build()),
        Arguments.of("no clusterIP allocated", new ServiceBuilder(base).editSpec().withClusterIP("").withClusterIPs().endSpec().build()),
        Arguments.of("ExternalName", new ServiceBuilder(base).editSpec().withType("ExternalName").endSpec().build()),
        Arguments.of("another proxy's service-proxy-name", new ServiceBuilder(base).editMetadata()
            .addToLabels("service.kubernetes.io/service-proxy-name", "kube-proxy").endMetadata().build()),
        Arguments.of("service.kubernetes.io/headless label", new ServiceBuilder(base).editMetadata()
            .addToLabels("service.kubernetes.io/headless", "").endMetadata().build()),
        Arguments.of("only invalid clusterIPs", new ServiceBuilder(base).editSpec().withClusterIP("10.96.0.300").withClusterIPs("10.96.0.300").endSpec().build()));
  }

  @ParameterizedTest(name = "{0} is skipped")
  @MethodSource("skipped")
  void servicesKubeProxyIgnoresGetNoTable(String why, Service s) {
    assertInstanceOf(ComputeResult.Skipped.class, computer.compute(s, List.of()), why);
  }

  @Test
  void serviceProxyNameMatchingTurnpikesProxyNameIsServedAndOthersAreNot() {
    Service s = service("web", "10.96.0.10").editMetadata().addToLabels("service.kubernetes.io/service-proxy-name", "turnpike")
        .endMetadata().editSpec().withPorts(tcp("http", 80)).endSpec().build();
    TableComputer named = new TableComputer(new ClusterDefaults(Algorithm.RANDOM, 251, Fixtures.SEED, "turnpike"));
    assertInstanceOf(ComputeResult.Table.class, named.compute(s, List.of()));
    TableComputer other = new TableComputer(new ClusterDefaults(Algorithm.RANDOM, 251, Fixtures.SEED, "other"));
    assertInstanceOf(ComputeResult.Skipped.class, other.compute(s, List.of()));
    // Unlabelled Services are served whatever the proxy name.
    Service plain = service("web", "10.96.0.10").editSpec().withPorts(tcp("http", 80)).endSpec().build();
    assertInstanceOf(ComputeResult.Table.class, named.compute(plain, List.of()));
  }

  // ---- frontends --------------------------------------------------------------------------------

  @Test
  void clusterIpServiceCarriesEveryPortWithProtocolAndDefaultsToTcp() {
    Service s = service("dns", "10.96.0.10").editSpec()
        .withPorts(port("dns", "UDP", 53, null), port("dns-tcp", "TCP", 53, null), port("sctp", "SCTP", 9999, null),
            port("noproto", null, 8080, null))
        .endSpec().build();
    ForwardingTableSpec t = table(s);
    assertEquals(ServiceType.ClusterIP, t.type());
    assertEquals(List.of("10.96.0.10"), t.clusterIPs());
    assertEquals(List.of(new Frontend("dns", Protocol.UDP, 53, null), new Frontend("dns-tcp", Protocol.TCP, 53, null),
        new Frontend("sctp", Protocol.SCTP, 9999, null), new Frontend("noproto", Protocol.TCP, 8080, null)), t.frontends());
    assertEquals("ns", t.service().namespace());
    assertEquals("dns", t.service().name());
    assertEquals("uid-dns", t.service().uid());
    assertEquals(Algorithm.RANDOM, t.algorithm());
    assertNull(t.maglev());
  }

  @Test
  void nodePortServiceCarriesNodePorts() {
    Service s = service("web", "10.96.0.10").editSpec().withType("NodePort").withPorts(port("http", "TCP", 80, 30080)).endSpec().build();
    ForwardingTableSpec t = table(s);
    assertEquals(ServiceType.NodePort, t.type());
    assertEquals(30080, t.frontends().get(0).nodePort());
    assertEquals("80:30080/TCP", t.summary().ports());
  }

  @Test
  void dualStackCarriesOneClusterIpPerFamilyPrimaryFirstAndCanonical() {
    Service s = service("web", "fd00:96:0:0::10", "10.96.0.10").editSpec().withPorts(tcp("http", 80)).endSpec().build();
    assertEquals(List.of("fd00:96::10", "10.96.0.10"), table(s).clusterIPs());
  }

  @Test
  void loadBalancerIngressKeepsVipAndUnsetIpModeAndDropsProxyHostnameAndForeignFamily() {
    Service s = service("lb", "10.96.0.10").editSpec().withType("LoadBalancer").withPorts(port("http", "TCP", 80, 30080)).endSpec()
        .withNewStatus().withNewLoadBalancer()
        .withIngress(ingress("192.0.2.1", "VIP"), ingress("192.0.2.2", null), ingress("192.0.2.3", "Proxy"),
            ingress("2001:db8::1", null), ingress(null, null))
        .endLoadBalancer().endStatus().build();
    assertEquals(List.of(new LoadBalancerIngress("192.0.2.1", "VIP"), new LoadBalancerIngress("192.0.2.2", null)),
        table(s).loadBalancerIngress());
  }

  @Test
  void externalIpsAndSourceRangesAreCanonicalAndFilteredToTheServiceFamilies() {
    Service s = service("web", "10.96.0.10").editSpec().withType("LoadBalancer").withPorts(port("http", "TCP", 80, 30080))
        .withExternalIPs("198.51.100.7", "2001:db8::7", "not-an-ip", "198.51.100.7")
        .withLoadBalancerSourceRanges(" 203.0.113.0/24 ", "10.1.2.3/8", "2001:db8::/32", "bogus")
        .endSpec().build();
    ForwardingTableSpec t = table(s);
    assertEquals(List.of("198.51.100.7"), t.externalIPs());
    assertEquals(List.of("203.0.113.0/24", "10.0.0.0/8"), t.loadBalancerSourceRanges());
  }

  static Stream<Arguments> trafficPolicies() {
    return Stream.of(
        Arguments.of("ClusterIP", List.of(), "Local", null, TrafficPolicy.Cluster, null),
        Arguments.of("ClusterIP", List.of("198.51.100.7"), "Local", null, TrafficPolicy.Local, null),
        Arguments.of("NodePort", List.of(), "Local", 31000, TrafficPolicy.Local, null),
        Arguments.of("LoadBalancer", List.of(), "Local", 31000, TrafficPolicy.Local, 31000),
        Arguments.of("LoadBalancer", List.of(), "Cluster", 31000, TrafficPolicy.Cluster, null),
        Arguments.of("LoadBalancer", List.of(), null, null, TrafficPolicy.Cluster, null));
  }

  @ParameterizedTest(name = "{0} externalIPs={1} etp={2}: etp {4}, healthCheckNodePort {5}")
  @MethodSource("trafficPolicies")
  void externalTrafficPolicyLocalAppliesOnlyToExternallyReachableServicesAndHealthChecksOnlyToLoadBalancers(
      String type, List<String> externalIPs, String etp, Integer hcnp, TrafficPolicy expected, Integer expectedHcnp) {
    Service s = service("web", "10.96.0.10").editSpec().withType(type).withPorts(port("http", "TCP", 80, "ClusterIP".equals(type) ? null : 30080))
        .withExternalIPs(externalIPs).withExternalTrafficPolicy(etp).withHealthCheckNodePort(hcnp).endSpec().build();
    ForwardingTableSpec t = table(s);
    assertEquals(expected, t.externalTrafficPolicy());
    assertEquals(expectedHcnp, t.healthCheckNodePort());
  }

  @Test
  void internalTrafficPolicyLocalIsCarried() {
    Service s = service("web", "10.96.0.10").editSpec().withPorts(tcp("http", 80)).withInternalTrafficPolicy("Local").endSpec().build();
    assertEquals(TrafficPolicy.Local, table(s).internalTrafficPolicy());
  }

  static Stream<Arguments> affinities() {
    return Stream.of(
        Arguments.of("None", null, null),
        Arguments.of("ClientIP", null, SessionAffinity.clientIp(10800)),
        Arguments.of("ClientIP", 60, SessionAffinity.clientIp(60)),
        Arguments.of("ClientIP", 86400, SessionAffinity.clientIp(86400)),
        Arguments.of("ClientIP", 100000, SessionAffinity.clientIp(86400)));
  }

  @ParameterizedTest(name = "sessionAffinity {0} timeout {1} -> {2}")
  @MethodSource("affinities")
  void sessionAffinityClientIpDefaultsTo10800SecondsAndIsCappedAt86400(String type, Integer timeout, SessionAffinity expected) {
    ServiceBuilder b = service("web", "10.96.0.10").editSpec().withPorts(tcp("http", 80)).withSessionAffinity(type).endSpec();
    if (timeout != null) {
      b.editSpec().withNewSessionAffinityConfig().withNewClientIP(timeout).endSessionAffinityConfig().endSpec();
    }
    assertEquals(expected, table(b.build()).sessionAffinity());
  }

  // ---- backends ---------------------------------------------------------------------------------

  private static Service web() {
    return service("web", "10.96.0.10").editSpec().withPorts(tcp("http", 80), port("dns", "UDP", 53, null)).endSpec().build();
  }

  @Test
  void targetPortsAreMatchedByNameAndProtocolAndResolvePerSlice() {
    EndpointSlice a = slice("web", "web-a", "IPv4", List.of(slicePort("http", "TCP", 8080), slicePort("dns", "UDP", 5353)), ep("10.0.0.1"));
    EndpointSlice b = slice("web", "web-b", "IPv4", List.of(slicePort("http", "TCP", 9090), slicePort("dns", "TCP", 53)), ep("10.0.0.2"));
    ForwardingTableSpec t = table(web(), a, b);
    assertEquals(List.of(new BackendPort("http", 8080), new BackendPort("dns", 5353)), t.backends().get(0).ports());
    // dns/TCP in slice b matches no Service port (the Service's dns is UDP).
    assertEquals(List.of(new BackendPort("http", 9090)), t.backends().get(1).ports());
  }

  @Test
  void slicePortsWithoutNameOrNumberAreIgnoredAsKubeProxyDoes() {
    EndpointSlice s = slice("web", "web-a", "IPv4", List.of(slicePort(null, "TCP", 8080), slicePort("dns", "UDP", null)), ep("10.0.0.1"));
    assertEquals(List.of(), table(web(), s).backends());
  }

  @Test
  void endpointsAreDeduplicatedAcrossSlicesFirstSliceByNameWins() {
    EndpointSlice later = slice("web", "web-b", "IPv4", List.of(slicePort("http", "TCP", 8080)), ep("10.0.0.1", false, false, true));
    EndpointSlice first = slice("web", "web-a", "IPv4", List.of(slicePort("http", "TCP", 8080)), ep("10.0.0.1"), ep("10.0.0.2"));
    ForwardingTableSpec t = table(web(), later, first);
    assertEquals(List.of("10.0.0.1", "10.0.0.2"), t.backends().stream().map(Backend::address).toList());
    assertTrue(t.backends().get(0).ready(), "conditions from web-a, the first slice by name");
  }

  @Test
  void oneAddressServingAFrontendOnTwoPortsIsTwoBackends() {
    EndpointSlice a = slice("web", "web-a", "IPv4", List.of(slicePort("http", "TCP", 8080)), ep("10.0.0.1"));
    EndpointSlice b = slice("web", "web-b", "IPv4", List.of(slicePort("http", "TCP", 8081)), ep("10.0.0.1"));
    assertEquals(List.of(List.of(new BackendPort("http", 8080)), List.of(new BackendPort("http", 8081))),
        table(web(), a, b).backends().stream().map(Backend::ports).toList());
  }

  @Test
  void slicesOfAFamilyTheServiceLacksFqdnSlicesAndMismatchedAddressesAreIgnored() {
    List<io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort> http = List.of(slicePort("http", "TCP", 8080));
    EndpointSlice v6 = slice("web", "web-v6", "IPv6", http, ep("fd00::1"));
    EndpointSlice fqdn = slice("web", "web-fqdn", "FQDN", http, ep("backend.example"));
    EndpointSlice v4 = slice("web", "web-v4", "IPv4", http, ep("10.0.0.1"), ep("fd00::2"), ep("garbage"));
    assertEquals(List.of("10.0.0.1"), table(web(), v6, fqdn, v4).backends().stream().map(Backend::address).toList());
  }

  @Test
  void dualStackServiceTakesBackendsOfBothFamiliesIPv4First() {
    Service s = service("web", "fd00:96::10", "10.96.0.10").editSpec().withPorts(tcp("http", 80)).endSpec().build();
    List<io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort> http = List.of(slicePort("http", "TCP", 8080));
    ForwardingTableSpec t = table(s, slice("web", "web-v6", "IPv6", http, ep("FD00::0001")), slice("web", "web-v4", "IPv4", http, ep("10.0.0.1")));
    assertEquals(List.of("10.0.0.1", "fd00::1"), t.backends().stream().map(Backend::address).toList());
  }

  @Test
  void slicesOfOtherServicesOrNamespacesAreIgnoredAndEndpointsWithoutAddressesSkipped() {
    List<io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort> http = List.of(slicePort("http", "TCP", 8080));
    EndpointSlice other = slice("other", "other-a", "IPv4", http, ep("10.0.0.9"));
    EndpointSlice otherNs = new EndpointSliceBuilder(slice("web", "web-x", "IPv4", http, ep("10.0.0.8"))).editMetadata().withNamespace("elsewhere").endMetadata().build();
    Endpoint noAddress = new io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder().build();
    EndpointSlice mine = slice("web", "web-a", "IPv4", http, noAddress, ep("10.0.0.1"));
    assertEquals(List.of("10.0.0.1"), table(web(), other, otherNs, mine).backends().stream().map(Backend::address).toList());
  }

  static Stream<Arguments> conditions() {
    return Stream.of(
        Arguments.of(null, null, null, true, true, false),
        Arguments.of(true, true, false, true, true, false),
        Arguments.of(false, true, true, false, true, true),
        Arguments.of(false, false, true, false, false, true),
        Arguments.of(false, null, null, false, true, false));
  }

  @ParameterizedTest(name = "ready={0} serving={1} terminating={2} -> {3}/{4}/{5}")
  @MethodSource("conditions")
  void unsetReadyAndServingMeanTrueUnsetTerminatingMeansFalse(
      Boolean ready, Boolean serving, Boolean terminating, boolean r, boolean s, boolean t) {
    Backend b = table(web(), slice("web", "web-a", "IPv4", List.of(slicePort("http", "TCP", 8080)), ep("10.0.0.1", ready, serving, terminating)))
        .backends().get(0);
    assertEquals(List.of(r, s, t), List.of(b.ready(), b.serving(), b.terminating()));
  }

  @Test
  void nodeZoneAndTopologyHintsAreCarriedForTheAgent() {
    Service s = service("web", "10.96.0.10").editSpec().withPorts(tcp("http", 80)).withTrafficDistribution("PreferSameZone").endSpec().build();
    EndpointSlice sl = slice("web", "web-a", "IPv4", List.of(slicePort("http", "TCP", 8080)),
        ep("10.0.0.1", "node-a", "zone-a", List.of("zone-b", "zone-a"), List.of("node-a")));
    ForwardingTableSpec t = table(s, sl);
    Backend b = t.backends().get(0);
    assertEquals("node-a", b.nodeName());
    assertEquals("zone-a", b.zone());
    assertEquals(new TopologyHints(List.of("zone-a", "zone-b"), List.of("node-a")), b.hints());
    assertEquals("PreferSameZone", t.trafficDistribution());
  }

  @Test
  void summaryCountsReadyOverTotalBackends() {
    EndpointSlice sl = slice("web", "web-a", "IPv4", List.of(slicePort("http", "TCP", 8080)),
        ep("10.0.0.1"), ep("10.0.0.2", false, true, true), ep("10.0.0.3"));
    assertEquals("2/3", table(web(), sl).summary().backends());
    assertEquals("80/TCP,53/UDP", table(web(), sl).summary().ports());
  }

  @Test
  void lastChangeTriggerTimeIsTheLatestAmongSlicesAndMalformedOnesAreIgnored() {
    List<io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort> http = List.of(slicePort("http", "TCP", 8080));
    EndpointSlice a = annotate(slice("web", "web-a", "IPv4", http, ep("10.0.0.1")), "2026-11-21T10:00:00Z");
    EndpointSlice b = annotate(slice("web", "web-b", "IPv4", http, ep("10.0.0.2")), "2026-11-21T10:00:05Z");
    EndpointSlice c = annotate(slice("web", "web-c", "IPv4", http, ep("10.0.0.3")), "yesterday");
    assertEquals("2026-11-21T10:00:05Z", table(web(), a, b, c).lastChangeTriggerTime());
    assertNull(table(web()).lastChangeTriggerTime());
  }

  private static EndpointSlice annotate(EndpointSlice s, String time) {
    return new EndpointSliceBuilder(s).editMetadata().addToAnnotations(TableComputer.TRIGGER_TIME_ANNOTATION, time).endMetadata().build();
  }

  @Test
  void resultDoesNotDependOnSliceOrEndpointOrder() {
    Service s = withAnnotation(web(), ServiceAnnotations.LB_ALGORITHM, "maglev");
    List<Endpoint> eps = new ArrayList<>();
    for (int i = 1; i <= 40; i++) {
      eps.add(ep("10.0." + (i % 3) + "." + i, i % 7 != 0, true, i % 7 == 0));
    }
    List<EndpointSlice> slices = new ArrayList<>();
    for (int k = 0; k < 4; k++) {
      slices.add(slice("web", "web-" + k, "IPv4", List.of(slicePort("http", "TCP", 8080), slicePort("dns", "UDP", 53)),
          eps.subList(k * 10, k * 10 + 10).toArray(Endpoint[]::new)));
    }
    ForwardingTableSpec reference = table(s, slices.toArray(EndpointSlice[]::new));
    Random random = new Random(7);
    for (int round = 0; round < 20; round++) {
      List<EndpointSlice> shuffled = new ArrayList<>();
      for (EndpointSlice sl : slices) {
        List<Endpoint> e = new ArrayList<>(sl.getEndpoints());
        Collections.shuffle(e, random);
        shuffled.add(new EndpointSliceBuilder(sl).withEndpoints(e).build());
      }
      Collections.shuffle(shuffled, random);
      assertEquals(reference, table(s, shuffled.toArray(EndpointSlice[]::new)), "round " + round);
    }
  }

  // ---- annotations ------------------------------------------------------------------------------

  static Stream<Arguments> badAnnotations() {
    return Stream.of(
        Arguments.of(ServiceAnnotations.LB_ALGORITHM, "Maglev", "accepted values: random, maglev"),
        Arguments.of(ServiceAnnotations.LB_ALGORITHM, "round-robin", "accepted values: random, maglev"),
        Arguments.of(ServiceAnnotations.MAGLEV_TABLE_SIZE, "4096", "accepted values: 251, 509, 1021"),
        Arguments.of(ServiceAnnotations.MAGLEV_TABLE_SIZE, "-1", "accepted values: 251, 509, 1021"),
        Arguments.of(ServiceAnnotations.MAGLEV_TABLE_SIZE, "big", "accepted values: 251, 509, 1021"),
        Arguments.of(ServiceAnnotations.IPVS_SCHEDULER, "fastest", "accepted values: dh, fo, lblc"),
        Arguments.of("turnpike.dev/lb-algoritm", "maglev", "unknown annotation turnpike.dev/lb-algoritm"));
  }

  @ParameterizedTest(name = "{0}: \"{1}\"")
  @MethodSource("badAnnotations")
  void invalidAnnotationIsReportedWithNameValueAndAcceptedValuesAndTheDefaultIsUsed(String key, String value, String accepted) {
    Service s = withAnnotation(web(), key, value);
    List<AnnotationProblem> problems = problems(s);
    assertEquals(1, problems.size(), problems.toString());
    AnnotationProblem p = problems.get(0);
    assertEquals(key, p.annotation());
    assertEquals(value, p.value());
    assertTrue(p.message().contains(key) && p.message().contains(value) && p.message().contains(accepted), p.message());
    ForwardingTableSpec t = table(s);
    assertEquals(Algorithm.RANDOM, t.algorithm());
    assertNull(t.ipvsScheduler());
  }

  @Test
  void validAnnotationsSelectAlgorithmTableSizeAndScheduler() {
    Service s = withAnnotation(withAnnotation(withAnnotation(web(), ServiceAnnotations.LB_ALGORITHM, "maglev"),
        ServiceAnnotations.MAGLEV_TABLE_SIZE, "509"), ServiceAnnotations.IPVS_SCHEDULER, "mh");
    assertEquals(List.of(), problems(s));
    ForwardingTableSpec t = table(s);
    assertEquals(Algorithm.MAGLEV, t.algorithm());
    assertEquals(509, t.maglev().tableSize());
    assertEquals("5eed0000cafef00d", t.maglev().seed());
    assertEquals("mh", t.ipvsScheduler());
  }

  @Test
  void invalidTableSizeOnAMaglevServiceFallsBackToTheClusterDefault() {
    Service s = withAnnotation(withAnnotation(web(), ServiceAnnotations.LB_ALGORITHM, "maglev"), ServiceAnnotations.MAGLEV_TABLE_SIZE, "1000");
    assertEquals(251, table(s).maglev().tableSize());
  }

  // ---- Maglev tables ----------------------------------------------------------------------------

  private static Set<Integer> slotOwners(MaglevLookupTable t) {
    Set<Integer> owners = new TreeSet<>();
    for (int i : MaglevTableCodec.decode(t.table())) {
      owners.add(i);
    }
    return owners;
  }

  @Test
  void maglevTablesIndexTheReadyBackendsOfEachFrontend() {
    Service s = withAnnotation(web(), ServiceAnnotations.LB_ALGORITHM, "maglev");
    EndpointSlice sl = slice("web", "web-a", "IPv4", List.of(slicePort("http", "TCP", 8080)),
        ep("10.0.0.1"), ep("10.0.0.2", false, true, true), ep("10.0.0.3"), ep("10.0.0.4", false, false, false));
    EndpointSlice dnsOnly = slice("web", "web-b", "IPv4", List.of(slicePort("dns", "UDP", 53)), ep("10.0.0.5"));
    ForwardingTableSpec t = table(s, sl, dnsOnly);
    List<String> addresses = t.backends().stream().map(Backend::address).toList();
    assertEquals(List.of("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"), addresses);
    Frontend http = t.frontends().get(0);
    assertEquals(1, http.maglevTables().size());
    assertEquals(IpFamily.IPv4, http.maglevTables().get(0).ipFamily());
    assertEquals(Set.of(0, 2), slotOwners(http.maglevTables().get(0)), "ready http backends only");
    assertEquals(Set.of(4), slotOwners(t.frontends().get(1).maglevTables().get(0)), "dns backends only");
    assertEquals(251, MaglevTableCodec.decode(http.maglevTables().get(0).table()).length);
  }

  @Test
  void maglevTableFallsBackToServingTerminatingBackendsWhenNoneIsReady() {
    Service s = withAnnotation(web(), ServiceAnnotations.LB_ALGORITHM, "maglev");
    EndpointSlice sl = slice("web", "web-a", "IPv4", List.of(slicePort("http", "TCP", 8080)),
        ep("10.0.0.1", false, true, true), ep("10.0.0.2", false, false, true), ep("10.0.0.3", false, true, true));
    assertEquals(Set.of(0, 2), slotOwners(table(s, sl).frontends().get(0).maglevTables().get(0)));
  }

  @Test
  void maglevFrontendWithoutUsableBackendsHasNoTable() {
    Service s = withAnnotation(web(), ServiceAnnotations.LB_ALGORITHM, "maglev");
    EndpointSlice sl = slice("web", "web-a", "IPv4", List.of(slicePort("http", "TCP", 8080)), ep("10.0.0.1", false, false, false));
    assertEquals(List.of(), table(s, sl).frontends().get(0).maglevTables());
  }

  @Test
  void dualStackMaglevServiceHasOneTablePerFamilyOverThatFamilysBackends() {
    Service s = withAnnotation(service("web", "10.96.0.10", "fd00:96::10").editSpec().withPorts(tcp("http", 80)).endSpec().build(),
        ServiceAnnotations.LB_ALGORITHM, "maglev");
    List<io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort> http = List.of(slicePort("http", "TCP", 8080));
    ForwardingTableSpec t = table(s, slice("web", "a4", "IPv4", http, ep("10.0.0.1"), ep("10.0.0.2")),
        slice("web", "a6", "IPv6", http, ep("fd00::1")));
    List<MaglevLookupTable> tables = t.frontends().get(0).maglevTables();
    assertEquals(List.of(IpFamily.IPv4, IpFamily.IPv6), tables.stream().map(MaglevLookupTable::ipFamily).toList());
    assertEquals(Set.of(0, 1), slotOwners(tables.get(0)));
    assertEquals(Set.of(2), slotOwners(tables.get(1)));
  }

  @Test
  void maglevTableOfAServiceIsIdenticalOnEveryComputation() {
    Service s = withAnnotation(web(), ServiceAnnotations.LB_ALGORITHM, "maglev");
    EndpointSlice sl = slice("web", "web-a", "IPv4", List.of(slicePort("http", "TCP", 8080)), ep("10.0.0.1"), ep("10.0.0.2"), ep("10.0.0.3"));
    TableComputer other = new TableComputer(DEFAULTS);
    assertEquals(table(s, sl), assertInstanceOf(ComputeResult.Table.class, other.compute(s, List.of(sl))).spec());
    TableComputer otherSeed = new TableComputer(new ClusterDefaults(Algorithm.RANDOM, 251, 42L, ""));
    assertTrue(!Arrays.equals(
        MaglevTableCodec.decode(table(s, sl).frontends().get(0).maglevTables().get(0).table()),
        MaglevTableCodec.decode(assertInstanceOf(ComputeResult.Table.class, otherSeed.compute(s, List.of(sl))).spec()
            .frontends().get(0).maglevTables().get(0).table())), "the seed changes the table");
  }
}
