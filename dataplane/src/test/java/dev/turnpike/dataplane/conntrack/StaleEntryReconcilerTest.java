package dev.turnpike.dataplane.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.BackendPort;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.api.v1alpha1.Frontend;
import dev.turnpike.api.v1alpha1.LoadBalancerIngress;
import dev.turnpike.api.v1alpha1.Protocol;
import dev.turnpike.api.v1alpha1.ServiceReference;
import dev.turnpike.api.v1alpha1.ServiceType;
import dev.turnpike.api.v1alpha1.TrafficPolicy;
import dev.turnpike.dataplane.DesiredState;
import dev.turnpike.dataplane.NodeContext;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.net.IpFamily;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;

@SuppressWarnings("deprecation") // the simpleclient Prometheus registry, as AgentMetrics
class StaleEntryReconcilerTest {
  static final String NODE_IP = "192.0.2.10";
  private final FakeConntrack ct = new FakeConntrack();
  private final List<String> metricCalls = new ArrayList<>();
  private final ConntrackMetrics recording = new ConntrackMetrics() {
    @Override
    public void syncDuration(String ipFamily, long nanos) {
      metricCalls.add("duration " + ipFamily);
    }

    @Override
    public void deletedEntries(String ipFamily, long n) {
      metricCalls.add("deleted " + ipFamily + " " + n);
    }
  };

  static InetAddress ip(String s) {
    try {
      return InetAddress.getByName(s);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A flow from client:cport to dst:dport whose replies come from replySrc:replyPort. */
  static ConntrackEntry flow(int proto, String client, int cport, String dst, int dport,
      String replySrc, int replyPort) {
    return new ConntrackEntry(new Tuple(ip(client), ip(dst), proto, cport, dport),
        new Tuple(ip(replySrc), ip(client), proto, replyPort, cport), 0x1aa, 0, 0, 30,
        OptionalLong.empty());
  }

  static ConntrackEntry udp(String client, int cport, String dst, int dport, String replySrc,
      int replyPort) {
    return flow(17, client, cport, dst, dport, replySrc, replyPort);
  }

  static Backend backend(String ip, int port, boolean ready, boolean serving, boolean terminating,
      String... frontendNames) {
    List<BackendPort> ports = new ArrayList<>();
    for (String n : frontendNames.length == 0 ? new String[] {"p"} : frontendNames) {
      ports.add(new BackendPort(n, port));
    }
    return new Backend(ip, ports, "node-b", null, ready, serving, terminating, null);
  }

  static Backend ready(String ip, int port) {
    return backend(ip, port, true, true, false);
  }

  static ForwardingTableSpec service(List<String> clusterIps, List<Frontend> frontends,
      List<String> externalIps, List<String> lbIps, List<Backend> backends) {
    return new ForwardingTableSpec(new ServiceReference("ns", "svc", null),
        lbIps.isEmpty() ? ServiceType.ClusterIP : ServiceType.LoadBalancer, clusterIps, frontends,
        externalIps, lbIps.stream().map(i -> new LoadBalancerIngress(i, null)).toList(), List.of(),
        backends, TrafficPolicy.Cluster, TrafficPolicy.Cluster, null, null, null,
        Algorithm.RANDOM, null, null, null, null);
  }

  static ForwardingTableSpec dns(Backend... backends) {
    return service(List.of("10.96.0.10"), List.of(new Frontend("p", Protocol.UDP, 53, null)),
        List.of(), List.of(), List.of(backends));
  }

  static DesiredState state(ForwardingTableSpec... specs) {
    Map<ServiceKey, ForwardingTableSpec> m = new HashMap<>();
    int i = 0;
    for (ForwardingTableSpec s : specs) {
      m.put(new ServiceKey("ns", "svc" + i++), s);
    }
    return DesiredState.of(new NodeContext("node-a", Map.of(), List.of(NODE_IP, "2001:db8::10")), m);
  }

  private StaleEntryReconciler reconciler(StaleEntryReconciler.Options o) {
    return new StaleEntryReconciler(ct, recording, o);
  }

  private StaleEntryReconciler reconciler() {
    return reconciler(StaleEntryReconciler.Options.defaults());
  }

  @Test
  void deletesFlowsPinnedToARemovedEndpointAndKeepsTheRest() throws Exception {
    ConntrackEntry toGone = udp("10.244.0.5", 40000, "10.96.0.10", 53, "10.244.1.7", 5353);
    ConntrackEntry toLive = udp("10.244.0.5", 40001, "10.96.0.10", 53, "10.244.2.8", 5353);
    ConntrackEntry otherPort = udp("10.244.0.5", 40002, "10.96.0.10", 54, "10.244.1.7", 5353);
    ConntrackEntry unrelated = udp("10.244.0.5", 40003, "10.97.0.1", 53, "10.244.1.7", 5353);
    ConntrackEntry tcp = flow(6, "10.244.0.5", 40004, "10.96.0.10", 53, "10.244.1.7", 5353);
    ct.add(toGone, toLive, otherPort, unrelated, tcp);

    List<StaleEntryReconciler.Result> r = reconciler().reconcile(state(dns(ready("10.244.2.8", 5353))));

    assertEquals(List.of(toLive, otherPort, unrelated, tcp), ct.entries());
    assertEquals(1, r.get(0).deleted());
    assertEquals(0, r.get(0).deferred());
    // the dump asked only for UDP, the frontends' protocol, of each family: TCP (and SCTP) entries
    // are never even listed
    assertTrue(ct.listRequests().stream().allMatch(f -> f.protocol() == 17), ct.listRequests().toString());
    assertEquals(1, ct.listRequests().size(), "no IPv6 frontend: no IPv6 dump");
    assertEquals(List.of("duration IPv4", "deleted IPv4 1", "duration IPv6"), metricCalls);
  }

  @Test
  void emptyToNonEmptyDeletesTheUnNatedEntry() throws Exception {
    // While the Service had no endpoints the flow was never DNATed: replies "come" from the
    // ClusterIP itself (k/k 48370). Once an endpoint exists the entry must go.
    ConntrackEntry unNated = udp("10.244.0.5", 40000, "10.96.0.10", 53, "10.96.0.10", 53);
    ct.add(unNated);
    reconciler().reconcile(state(dns()));
    assertEquals(List.of(unNated), ct.entries(), "no endpoints: nothing to clean yet (kube-proxy)");
    assertEquals(List.of(), ct.listRequests(), "and nothing dumped");
    reconciler().reconcile(state(dns(ready("10.244.2.8", 5353))));
    assertEquals(List.of(), ct.entries());
  }

  @Test
  void servingTerminatingEndpointsKeepTheirFlowsNotServingOnesDoNot() throws Exception {
    ConntrackEntry toTerminating = udp("10.244.0.5", 40000, "10.96.0.10", 53, "10.244.1.7", 5353);
    ConntrackEntry toNotServing = udp("10.244.0.5", 40001, "10.96.0.10", 53, "10.244.1.8", 5353);
    ct.add(toTerminating, toNotServing);
    reconciler().reconcile(state(dns(ready("10.244.2.8", 5353),
        backend("10.244.1.7", 5353, false, true, true),
        backend("10.244.1.8", 5353, false, false, true))));
    assertEquals(List.of(toTerminating), ct.entries());
  }

  @Test
  void targetPortChangeIsStale() throws Exception {
    ConntrackEntry oldPort = udp("10.244.0.5", 40000, "10.96.0.10", 53, "10.244.2.8", 5353);
    ct.add(oldPort);
    reconciler().reconcile(state(dns(ready("10.244.2.8", 5354))));
    assertEquals(List.of(), ct.entries());
  }

  @Test
  void eachUdpPortOfAServiceIpHasItsOwnEndpoints() throws Exception {
    // Keyed by Service IP and port (as current kube-proxy): 53 -> a, 5000 -> b.
    ForwardingTableSpec twoPorts = service(List.of("10.96.0.10"),
        List.of(new Frontend("dns", Protocol.UDP, 53, null), new Frontend("x", Protocol.UDP, 5000, null)),
        List.of(), List.of(),
        List.of(backend("10.244.1.1", 53, true, true, false, "dns"),
            backend("10.244.1.2", 5000, true, true, false, "x")));
    ConntrackEntry a = udp("10.244.0.5", 40000, "10.96.0.10", 53, "10.244.1.1", 53);
    ConntrackEntry b = udp("10.244.0.5", 40001, "10.96.0.10", 5000, "10.244.1.2", 5000);
    ConntrackEntry crossed = udp("10.244.0.5", 40002, "10.96.0.10", 53, "10.244.1.2", 5000);
    ct.add(a, b, crossed);
    reconciler().reconcile(state(twoPorts));
    assertEquals(List.of(a, b), ct.entries());
  }

  @Test
  void loadBalancerExternalIpAndNodePortFlows() throws Exception {
    ForwardingTableSpec lb = service(List.of("10.96.0.20"),
        List.of(new Frontend("p", Protocol.UDP, 8125, 30125)), List.of("198.51.100.7"),
        List.of("203.0.113.9"), List.of(ready("10.244.3.3", 8125)));
    ConntrackEntry viaLb = udp("203.0.113.200", 1000, "203.0.113.9", 8125, "10.244.9.9", 8125);
    ConntrackEntry viaExt = udp("203.0.113.200", 1001, "198.51.100.7", 8125, "10.244.9.9", 8125);
    ConntrackEntry viaNodePort = udp("203.0.113.200", 1002, NODE_IP, 30125, "10.244.9.9", 8125);
    ConntrackEntry viaLocalhost = udp("127.0.0.1", 1003, "127.0.0.1", 30125, "10.244.9.9", 8125);
    ConntrackEntry nodePortNoEndpointsYet = udp("203.0.113.200", 1004, NODE_IP, 30125, NODE_IP, 30125);
    ConntrackEntry good = udp("203.0.113.200", 1005, NODE_IP, 30125, "10.244.3.3", 8125);
    // A pod's egress flow to some server's port 30125 is not a NodePort flow (kube-proxy would
    // cut it: it matches the port on any destination).
    ConntrackEntry egress = udp("10.244.0.5", 1006, "203.0.113.50", 30125, "203.0.113.50", 30125);
    ct.add(viaLb, viaExt, viaNodePort, viaLocalhost, nodePortNoEndpointsYet, good, egress);
    List<StaleEntryReconciler.Result> r = reconciler().reconcile(state(lb));
    assertEquals(List.of(good, egress), ct.entries());
    assertEquals(5, r.get(0).stale());
    assertEquals(7, r.get(0).scanned());
  }

  @Test
  void ipv6AndSctp() throws Exception {
    ForwardingTableSpec v6 = service(List.of("fd00:96::a"),
        List.of(new Frontend("p", Protocol.SCTP, 9000, null)), List.of(), List.of(),
        List.of(ready("fd00:244::2", 9000), ready("10.244.0.2", 9000)));
    ConntrackEntry stale = flow(132, "fd00:244::5", 40000, "fd00:96::a", 9000, "fd00:244::1", 9000);
    ConntrackEntry live = flow(132, "fd00:244::5", 40001, "fd00:96::a", 9000, "fd00:244::2", 9000);
    ct.add(stale, live);
    List<StaleEntryReconciler.Result> r = reconciler().reconcile(state(v6));
    assertEquals(List.of(live), ct.entries());
    assertEquals(IpFamily.IPv6, r.get(1).family());
    assertEquals(1, r.get(1).deleted());
  }

  @Test
  void workIsBoundedPerSyncAndTheRestIsDeferred() throws Exception {
    for (int i = 0; i < 5; i++) {
      ct.add(udp("10.244.0.5", 40000 + i, "10.96.0.10", 53, "10.244.1.7", 5353));
    }
    StaleEntryReconciler rec = reconciler(StaleEntryReconciler.Options.defaults().withMaxDeletesPerSync(2));
    StaleEntryReconciler.Result r = rec.reconcile(state(dns(ready("10.244.2.8", 5353)))).get(0);
    assertEquals(5, r.stale());
    assertEquals(2, r.deleted());
    assertEquals(3, r.deferred());
    assertEquals(2, ct.deleteRequests());
    rec.reconcile(state(dns(ready("10.244.2.8", 5353))));
    rec.reconcile(state(dns(ready("10.244.2.8", 5353))));
    assertEquals(List.of(), ct.entries());
    assertEquals(5, ct.deleteRequests());
  }

  @Test
  void nothingToReconcileListsNothing() throws Exception {
    ForwardingTableSpec tcpOnly = service(List.of("10.96.0.1"), List.of(new Frontend("p", Protocol.TCP, 443, null)),
        List.of(), List.of(), List.of(ready("10.244.0.1", 6443)));
    reconciler().reconcile(state(tcpOnly));
    assertEquals(List.of(), ct.listRequests());
  }

  @Test
  void aFailingFamilyDoesNotStopTheOther() {
    ct.add(udp("10.244.0.5", 40000, "10.96.0.10", 53, "10.244.1.7", 5353));
    ct.failListWhen(f -> f.family() == CtNetlink.AF_INET);
    ForwardingTableSpec dual = service(List.of("10.96.0.10", "fd00:96::a"),
        List.of(new Frontend("p", Protocol.UDP, 53, null)), List.of(), List.of(),
        List.of(ready("10.244.2.8", 5353), ready("fd00:244::2", 5353)));
    ct.add(udp("fd00:244::5", 40000, "fd00:96::a", 53, "fd00:244::1", 5353));
    ConntrackException e = assertThrows(ConntrackException.class,
        () -> reconciler().reconcile(state(dual)));
    assertTrue(e.getMessage().contains("injected"));
    assertEquals(1, ct.entries().size(), "the IPv6 pass still ran");
    assertEquals(List.of("duration IPv4", "duration IPv6", "deleted IPv6 1"), metricCalls);
  }

  @Test
  void familiesOption() throws Exception {
    new StaleEntryReconciler(ct, ConntrackMetrics.NONE,
        StaleEntryReconciler.Options.defaults().withFamilies(Set.of(IpFamily.IPv4)))
        .reconcile(state(dns(ready("10.244.2.8", 5353))));
    assertTrue(ct.listRequests().stream().allMatch(f -> f.family() == CtNetlink.AF_INET));
  }

  @Test
  void prometheusNames() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    ct.add(udp("10.244.0.5", 40000, "10.96.0.10", 53, "10.244.1.7", 5353),
        udp("10.244.0.5", 40001, "10.96.0.10", 53, "10.244.1.7", 5353));
    new StaleEntryReconciler(ct, new MicrometerConntrackMetrics(registry),
        StaleEntryReconciler.Options.defaults())
        .reconcile(state(dns(ready("10.244.2.8", 5353))));
    String text = registry.scrape();
    assertTrue(text.contains(
        "turnpike_conntrack_reconciler_deleted_entries_total{ip_family=\"IPv4\",} 2.0"), text);
    assertTrue(text.contains(
        "turnpike_conntrack_reconciler_deleted_entries_total{ip_family=\"IPv6\",} 0.0"), text);
    assertTrue(text.contains(
        "turnpike_conntrack_reconciler_sync_duration_seconds_count{ip_family=\"IPv4\",} 1.0"), text);
    assertTrue(text.contains("turnpike_conntrack_reconciler_sync_duration_seconds_bucket{ip_family=\"IPv4\",le=\"0.001\",}"), text);
  }
}
