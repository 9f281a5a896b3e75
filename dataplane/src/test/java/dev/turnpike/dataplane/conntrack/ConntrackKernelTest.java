package dev.turnpike.dataplane.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.BackendPort;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.api.v1alpha1.Frontend;
import dev.turnpike.api.v1alpha1.Protocol;
import dev.turnpike.api.v1alpha1.ServiceReference;
import dev.turnpike.api.v1alpha1.ServiceType;
import dev.turnpike.api.v1alpha1.TrafficPolicy;
import dev.turnpike.dataplane.DesiredState;
import dev.turnpike.dataplane.NodeContext;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.dataplane.iptables.ExecIptables;
import dev.turnpike.dataplane.iptables.IptablesConfig;
import dev.turnpike.dataplane.iptables.IptablesDataplane;
import dev.turnpike.dataplane.iptables.ProcessExec;
import dev.turnpike.net.IpFamily;
import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * ctnetlink against the real kernel, in namespaces made for the test ({@link CtLab}): a dump,
 * filter and delete round trip, and the blackholed-UDP-client scenario of issue 7 with the
 * project's iptables backend programming the Service.
 */
@EnabledIf("dev.turnpike.dataplane.conntrack.CtLab#available")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConntrackKernelTest {
  private static final String CLUSTER_IP = "10.252.96.10";
  private CtLab lab;

  @BeforeAll
  void setUp() throws IOException {
    lab = CtLab.create();
  }

  @AfterAll
  void tearDown() {
    if (lab != null) {
      lab.close();
    }
  }

  private static boolean answeredSince(List<CtLab.Line> answers, long since, String from) {
    return answers.stream().anyMatch(a -> a.nanos() >= since && a.text().equals(from));
  }

  private static long awaitAnswer(List<CtLab.Line> answers, long since, String from, long timeoutMs)
      throws InterruptedException {
    long deadline = since + timeoutMs * 1_000_000L;
    while (System.nanoTime() < deadline) {
      for (CtLab.Line a : answers) {
        if (a.nanos() >= since && a.text().equals(from)) {
          return a.nanos() - since;
        }
      }
      Thread.sleep(10);
    }
    return -1;
  }

  private static DesiredState dnsWith(String endpoint) {
    return dnsWith(CLUSTER_IP, endpoint, 5353);
  }

  private static DesiredState dnsWith(String clusterIp, String endpoint, int targetPort) {
    ForwardingTableSpec spec = new ForwardingTableSpec(new ServiceReference("ns", "dns", null),
        ServiceType.ClusterIP, List.of(clusterIp), List.of(new Frontend("p", Protocol.UDP, 53, null)),
        List.of(), List.of(), List.of(),
        List.of(new Backend(endpoint, List.of(new BackendPort("p", targetPort)), "node-b", null, true, true,
            false, null)),
        TrafficPolicy.Cluster, TrafficPolicy.Cluster, null, null, null, Algorithm.RANDOM, null, null,
        null, null);
    return DesiredState.of(new NodeContext("node-a", Map.of(), List.of("10.252.1.1")),
        Map.of(new ServiceKey("ns", "dns"), spec));
  }

  @Test
  void udpClientReachesTheNewBackendWithinOneSecondOfTheCleanupAndStaysStuckWithout()
      throws Exception {
    ProcessExec exec = ProcessExec.inNetns(lab.node);
    IptablesDataplane dp = new IptablesDataplane(ExecIptables.detect(exec), exec,
        IptablesConfig.defaults().withClusterCidrs(List.of("10.252.1.0/24")), List.of(IpFamily.IPv4));
    Set<ServiceKey> changed = Set.of(new ServiceKey("ns", "dns"));
    dp.sync(new SyncRequest(dnsWith(CtLab.ENDPOINT_A), changed, true));
    CtLab.Running a = lab.udpServer(CtLab.ENDPOINT_A, 5353, "A");
    lab.udpServer(CtLab.ENDPOINT_B, 5353, "B");
    long started = System.nanoTime();
    List<CtLab.Line> answers = lab.udpClient(CLUSTER_IP, 53, 40053).lines();
    assertTrue(awaitAnswer(answers, started, "A", 5000) >= 0, "the client reaches endpoint A first");

    // Endpoint A goes away: its pod dies, and the rules now DNAT new flows to B.
    CtLab.stop(a.process());
    DesiredState onlyB = dnsWith(CtLab.ENDPOINT_B);
    dp.sync(new SyncRequest(onlyB, changed, false));

    // Control: without the cleanup the client's flow stays pinned to A by its conntrack entry.
    long ruleChange = System.nanoTime();
    Thread.sleep(1500);
    assertFalse(answeredSince(answers, ruleChange, "B"),
        "without cleanup the client must stay stuck on A's conntrack entry");
    try (NetlinkConntrack ct = NetlinkConntrack.openIn(lab.nodeNetns())) {
      ConntrackFilter toService = ConntrackFilter.family(CtNetlink.AF_INET)
          .protocol(CtNetlink.IPPROTO_UDP).originalDst(InetAddress.getByName(CLUSTER_IP), 53);
      List<ConntrackEntry> pinned = ct.list(toService);
      assertEquals(1, pinned.size(), pinned.toString());
      assertEquals(InetAddress.getByName(CtLab.ENDPOINT_A), pinned.get(0).reply().src());

      StaleEntryReconciler reconciler = new StaleEntryReconciler(ct, ConntrackMetrics.NONE,
          StaleEntryReconciler.Options.defaults().withFamilies(Set.of(IpFamily.IPv4)));
      long cleanup = System.nanoTime();
      List<StaleEntryReconciler.Result> results = reconciler.reconcile(onlyB);
      long tookMs = (System.nanoTime() - cleanup) / 1_000_000;
      assertEquals(1, results.get(0).deleted(), results.toString());

      long latency = awaitAnswer(answers, cleanup, "B", 1000);
      assertTrue(latency >= 0, "the client must reach B within 1 s of the cleanup");
      System.err.printf("conntrack cleanup: reconcile %d ms, first answer from B %d ms after it%n",
          tookMs, latency / 1_000_000);

      // Converged: the new entry points at B and the next pass deletes nothing.
      List<ConntrackEntry> now = ct.list(toService);
      assertEquals(InetAddress.getByName(CtLab.ENDPOINT_B), now.get(0).reply().src());
      assertEquals(0, reconciler.reconcile(onlyB).get(0).deleted());
    } finally {
      dp.cleanup();
    }
  }

  @Test
  void dumpFilterAndDeleteRoundTrip() throws Exception {
    // Two flows from the client to an address with no listener: each leaves a confirmed,
    // un-NATed UDP entry in the node. The second one gets ctmark 0x4000.
    lab.in(lab.node, "iptables", "-w", "5", "-t", "mangle", "-A", "FORWARD", "-p", "udp",
        "--sport", "41001", "--dport", "7", "-j", "CONNMARK", "--set-mark", "0x4000");
    lab.sendUdpOnce(CtLab.ENDPOINT_B, 7, 41000);
    lab.sendUdpOnce(CtLab.ENDPOINT_B, 7, 41001);
    InetAddress client = InetAddress.getByName(CtLab.CLIENT_IP);
    InetAddress dst = InetAddress.getByName(CtLab.ENDPOINT_B);
    try (NetlinkConntrack ct = NetlinkConntrack.openIn(lab.nodeNetns())) {
      ConntrackFilter toDst = ConntrackFilter.family(CtNetlink.AF_INET)
          .protocol(CtNetlink.IPPROTO_UDP).originalDst(dst, 7);
      List<ConntrackEntry> both = ct.list(toDst);
      assertTrue(ct.kernelFiltering(), "this kernel accepts CTA_FILTER");
      assertEquals(2, both.size(), both.toString());
      ConntrackEntry first = both.stream().filter(e -> e.original().srcPort() == 41000).findFirst()
          .orElseThrow();
      assertEquals(Tuple.udp(client, 41000, dst, 7), first.original());
      assertEquals(Tuple.udp(dst, 7, client, 41000), first.reply());
      assertTrue((first.status() & ConntrackEntry.IPS_CONFIRMED) != 0);
      assertTrue(first.id().isPresent());
      assertTrue(first.timeoutSeconds() > 0 && first.timeoutSeconds() <= 30, first.toString());
      assertEquals(0, first.zone());
      String cli = lab.out(lab.node, "conntrack", "-L", "-p", "udp", "--dport", "7");
      assertTrue(cli.contains("sport=41000") && cli.contains("sport=41001"), cli);

      List<ConntrackEntry> marked = ct.list(toDst.mark(0x4000, 0x4000));
      assertEquals(1, marked.size(), marked.toString());
      assertEquals(41001, marked.get(0).original().srcPort());
      assertEquals(0x4000, marked.get(0).mark());
      assertEquals(List.of(), ct.list(toDst.replySrc(InetAddress.getByName(CtLab.ENDPOINT_A))));
      assertEquals(2, ct.list(toDst.replySrc(dst)).size());

      // A delete that names another id leaves the entry alone (ENOENT), as does a second delete.
      ConntrackEntry wrongId = new ConntrackEntry(first.original(), first.reply(), 0, 0, 0, 0,
          OptionalLong.of(first.id().getAsLong() ^ 1));
      assertEquals(0, ct.delete(List.of(wrongId)));
      assertEquals(2, ct.list(toDst).size());
      assertEquals(1, ct.delete(List.of(first)));
      assertEquals(0, ct.delete(List.of(first)));
      assertEquals(List.of(41001), ct.list(toDst).stream().map(e -> e.original().srcPort()).toList());
      assertFalse(lab.out(lab.node, "conntrack", "-L", "-p", "udp", "--dport", "7")
          .contains("sport=41000"));
      assertEquals(1, ct.delete(toDst));
      assertEquals(List.of(), ct.list(toDst));
    }
  }

  @Test
  void ipv6DumpAndDelete() throws Exception {
    // A confirmed IPv6 UDP entry in the node: the client sends to an address with no listener.
    // The kernel's CTA_FILTER compares IPv6 addresses inverted (!ipv6_addr_cmp: it keeps every
    // entry except the one asked for), so IPv6 dumps filter addresses client-side; this test
    // failed with an empty list before that.
    lab.in(lab.node, "ip6tables", "-w", "5", "-t", "mangle", "-A", "FORWARD", "-p", "udp",
        "--dport", "7", "-j", "CONNMARK", "--set-mark", "0x8000");
    lab.sendUdpOnce(CtLab.ENDPOINT_B6, 7, 42000);
    InetAddress client = InetAddress.getByName(CtLab.CLIENT_IP6);
    InetAddress dst = InetAddress.getByName(CtLab.ENDPOINT_B6);
    try (NetlinkConntrack ct = NetlinkConntrack.openIn(lab.nodeNetns())) {
      ConntrackFilter toDst = ConntrackFilter.family(CtNetlink.AF_INET6)
          .protocol(CtNetlink.IPPROTO_UDP).originalDst(dst, 7);
      List<ConntrackEntry> got = ct.list(toDst);
      for (int i = 0; i < 200 && got.isEmpty(); i++) {
        Thread.sleep(10); // the client's first packet waits for neighbour discovery
        got = ct.list(toDst);
      }
      assertEquals(1, got.size(), got.toString());
      ConntrackEntry e = got.get(0);
      assertEquals(Tuple.udp(client, 42000, dst, 7), e.original());
      assertEquals(Tuple.udp(dst, 7, client, 42000), e.reply());
      assertEquals(0x8000, e.mark());
      assertEquals(CtNetlink.AF_INET6, e.family());
      assertEquals(List.of(), ct.list(ConntrackFilter.family(CtNetlink.AF_INET)
          .protocol(CtNetlink.IPPROTO_UDP).originalDst(InetAddress.getByName(CtLab.ENDPOINT_B), 7)
          .replySrc(InetAddress.getByName(CtLab.ENDPOINT_A))));
      assertEquals(1, ct.delete(got));
      assertEquals(List.of(), ct.list(toDst));
    }
  }

  @Test
  void aFlowStartedBeforeTheServiceExistedIsUnstuckOnceItHasAnEndpoint() throws Exception {
    // k/k 48370: a UDP client already sending to a ClusterIP that has no rules yet. The node routes
    // the address towards a next hop that never answers (10.252.2.250, inside the lab), so the
    // flow gets a confirmed, un-NATed conntrack entry; new rules alone never apply to it.
    // The agent already runs (its rules enable conntrack in the namespace); the Service does not
    // exist yet.
    String clusterIp = "10.252.96.11";
    ProcessExec exec = ProcessExec.inNetns(lab.node);
    IptablesDataplane dp = new IptablesDataplane(ExecIptables.detect(exec), exec,
        IptablesConfig.defaults().withClusterCidrs(List.of("10.252.1.0/24")), List.of(IpFamily.IPv4));
    dp.sync(new SyncRequest(DesiredState.of(new NodeContext("node-a", Map.of(), List.of("10.252.1.1")),
        Map.of()), Set.of(), true));
    lab.in(lab.node, "ip", "route", "add", "10.252.96.11/32", "via", "10.252.2.250");
    lab.udpServer(CtLab.ENDPOINT_B, 5354, "B2");
    long started = System.nanoTime();
    List<CtLab.Line> answers = lab.udpClient(clusterIp, 53, 40054).lines();
    ConntrackFilter toService = ConntrackFilter.family(CtNetlink.AF_INET)
        .protocol(CtNetlink.IPPROTO_UDP).originalDst(InetAddress.getByName(clusterIp), 53);
    try (NetlinkConntrack ct = NetlinkConntrack.openIn(lab.nodeNetns())) {
      List<ConntrackEntry> before = ct.list(toService);
      for (int i = 0; i < 100 && before.isEmpty(); i++) {
        Thread.sleep(10);
        before = ct.list(toService);
      }
      assertEquals(1, before.size(), before.toString());
      assertEquals(InetAddress.getByName(clusterIp), before.get(0).reply().src(), "not DNATed");

      DesiredState withB = dnsWith(clusterIp, CtLab.ENDPOINT_B, 5354);
      dp.sync(new SyncRequest(withB, Set.of(new ServiceKey("ns", "dns")), true));
      long ruleChange = System.nanoTime();
      Thread.sleep(1500);
      assertFalse(answeredSince(answers, started, "B2"),
          "without cleanup the flow stays on its un-NATed entry");
      assertEquals(1, ct.list(toService).size());

      StaleEntryReconciler reconciler = new StaleEntryReconciler(ct, ConntrackMetrics.NONE,
          StaleEntryReconciler.Options.defaults().withFamilies(Set.of(IpFamily.IPv4)));
      long cleanup = System.nanoTime();
      assertEquals(1, reconciler.reconcile(withB).get(0).deleted());
      assertTrue(awaitAnswer(answers, cleanup, "B2", 1000) >= 0,
          "the client must reach the endpoint within 1 s of the cleanup");
      assertTrue(ruleChange < cleanup);
    } finally {
      dp.cleanup();
    }
  }
}
