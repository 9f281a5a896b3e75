package dev.turnpike.dataplane.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.dataplane.conntrack.snat.EgressSnat;
import dev.turnpike.dataplane.iptables.ExecIptables;
import dev.turnpike.dataplane.iptables.ProcessExec;
import dev.turnpike.dataplane.testing.EgressChains;
import dev.turnpike.egress.EgressSnatConfig;
import dev.turnpike.net.IpFamily;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * Egress SNAT in real namespaces ({@link CtLab#withInternet}): a pod 10.252.1.2 (cluster CIDR
 * 10.252.1.0/24), the node running the rules, an "internet" namespace whose servers report the
 * source address they see.
 */
@EnabledIf("dev.turnpike.dataplane.conntrack.CtLab#available")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EgressSnatKernelTest {
  private static final EgressSnatConfig BASE = EgressSnatConfig.defaults(List.of("10.252.1.0/24"));
  private CtLab lab;
  private NetlinkConntrack conntrack;
  private EgressSnat snat;
  private ExecIptables iptables;

  @BeforeAll
  void setUp() throws Exception {
    lab = CtLab.create();
    try {
      lab.withInternet();
      conntrack = NetlinkConntrack.openIn(lab.nodeNetns());
      ProcessExec exec = ProcessExec.inNetns(lab.node);
      iptables = ExecIptables.detect(exec);
      snat = new EgressSnat(iptables, conntrack, List.of(IpFamily.IPv4));
      snat.apply(BASE);
    } catch (Exception e) {
      tearDown();
      throw e;
    }
  }

  @AfterAll
  void tearDown() {
    if (conntrack != null) {
      conntrack.close();
    }
    if (lab != null) {
      lab.close();
    }
  }

  private static String host(String seen) {
    String h = seen.substring(0, seen.lastIndexOf(':'));
    return h.startsWith("[") ? h.substring(1, h.length() - 1) : h;
  }

  /** The lines a helper prints, as a live view of their text. */
  private static List<String> texts(CtLab.Running r) {
    List<CtLab.Line> lines = r.lines();
    return new java.util.AbstractList<>() {
      @Override
      public String get(int i) {
        return lines.get(i).text();
      }

      @Override
      public int size() {
        return lines.size();
      }
    };
  }

  private static void awaitLines(List<String> lines, int n) throws InterruptedException {
    for (int i = 0; i < 300 && lines.size() < n; i++) {
      Thread.sleep(10);
    }
    assertTrue(lines.size() >= n, "answers: " + lines);
  }

  @Test
  @Order(1)
  void egressToTheInternetArrivesFromTheNodeAddress() throws Exception {
    assertEquals(CtLab.NODE_UPLINK, host(lab.askUdp(CtLab.INTERNET_SERVER)));
  }

  @Test
  @Order(2)
  void egressToANonMasqueradeCidrKeepsThePodAddress() throws Exception {
    assertEquals(CtLab.CLIENT_IP, host(lab.askUdp(CtLab.PRIVATE_SERVER)));
  }

  @Test
  @Order(3)
  void establishedTcpSurvivesAnUnrelatedChangeAndASnatAddressChangeMovesFlows() throws Exception {
    CtLab.Running tcp = lab.tcpClient(CtLab.INTERNET_SERVER);
    List<String> seen = texts(tcp);
    awaitLines(seen, 3);
    String before = seen.get(0);
    assertEquals(CtLab.NODE_UPLINK, host(before));
    ConntrackFilter tcpFlow = ConntrackFilter.family(CtNetlink.AF_INET).protocol(CtNetlink.IPPROTO_TCP)
        .originalDst(InetAddress.getByName(CtLab.INTERNET_SERVER), 8080);
    ConntrackEntry entry = conntrack.list(tcpFlow).get(0);
    assertEquals(EgressSnatConfig.DEFAULT_CONNMARK, entry.mark() & EgressSnatConfig.DEFAULT_CONNMARK);

    // Unrelated: a new non-masquerade CIDR that the server is not in.
    EgressSnatConfig unrelated = BASE.withNonMasquerade(List.of("10.0.0.0/8", "172.16.0.0/12",
        "192.168.0.0/16", "169.254.0.0/16", "192.0.2.0/24"));
    assertEquals(0, snat.apply(unrelated).deletedEntries());
    int mark = seen.size();
    awaitLines(seen, mark + 3);
    assertTrue(seen.stream().allMatch(before::equals), "same source address and port: " + seen);
    assertEquals(entry.id(), conntrack.list(tcpFlow).get(0).id(), "the entry was not touched");
    CtLab.stop(tcp.process());

    // A fixed SNAT address, then another: the UDP flow follows, new flows use the new address.
    CtLab.Running udp = lab.udpClient(CtLab.INTERNET_SERVER, 8081, 40100);
    List<String> udpSeen = texts(udp);
    snat.apply(unrelated.withSnatAddress(CtLab.NODE_UPLINK_2));
    int n = udpSeen.size();
    awaitLines(udpSeen, n + 5);
    String last = udpSeen.get(udpSeen.size() - 1);
    assertEquals(CtLab.NODE_UPLINK_2, host(last), "moved to the fixed address: " + udpSeen);

    long change = System.nanoTime();
    EgressSnat.Applied applied = snat.apply(unrelated.withSnatAddress(CtLab.NODE_UPLINK));
    long applyMs = (System.nanoTime() - change) / 1_000_000;
    assertTrue(applied.deletedEntries() >= 1, applied.toString());
    int m = udpSeen.size();
    awaitLines(udpSeen, m + 5);
    assertEquals(CtLab.NODE_UPLINK, host(udpSeen.get(udpSeen.size() - 1)),
        "the running UDP flow took the new address: " + udpSeen);
    System.err.printf("egress SNAT: address change (rules + conntrack) applied in %d ms%n", applyMs);
    assertEquals(CtLab.NODE_UPLINK, host(lab.askUdp(CtLab.INTERNET_SERVER)), "a new flow too");
    for (ConntrackEntry e : conntrack.list(ConntrackFilter.family(CtNetlink.AF_INET)
        .mark(EgressSnatConfig.DEFAULT_CONNMARK, EgressSnatConfig.DEFAULT_CONNMARK))) {
      assertEquals(InetAddress.getByName(CtLab.NODE_UPLINK), e.reply().dst(),
          "no translated entry is left on the old address: " + e);
    }
    CtLab.stop(udp.process());
  }

  @Test
  @Order(4)
  void aCidrAddedToNonMasqueradeDeletesItsTranslatedFlowsAndNothingElse() throws Exception {
    snat.apply(BASE);
    assertEquals(CtLab.NODE_UPLINK, host(lab.askUdp(CtLab.INTERNET_SERVER)));
    ConntrackFilter toServer = ConntrackFilter.family(CtNetlink.AF_INET).protocol(CtNetlink.IPPROTO_UDP)
        .originalDst(InetAddress.getByName(CtLab.INTERNET_SERVER), 8081);
    assertTrue(conntrack.list(toServer).size() >= 1);
    lab.askUdp(CtLab.PRIVATE_SERVER);
    ConntrackFilter toPrivate = ConntrackFilter.family(CtNetlink.AF_INET).protocol(CtNetlink.IPPROTO_UDP)
        .originalDst(InetAddress.getByName(CtLab.PRIVATE_SERVER), 8081);
    int privateBefore = conntrack.list(toPrivate).size();
    EgressSnat.Applied a = snat.apply(BASE.withNonMasquerade(List.of("10.0.0.0/8", "203.0.113.0/24")));
    assertTrue(a.deletedEntries() >= 1, a.toString());
    assertEquals(List.of(), conntrack.list(toServer));
    assertEquals(privateBefore, conntrack.list(toPrivate).size(), "un-translated flows untouched");
    assertEquals(CtLab.CLIENT_IP, host(lab.askUdp(CtLab.INTERNET_SERVER)));
    // Six applies so far: the hook is in POSTROUTING once, at the top.
    List<String> postrouting = iptables.save(IpFamily.IPv4, "nat").lines()
        .filter(l -> l.startsWith("-A POSTROUTING")).toList();
    assertEquals(1, postrouting.stream().filter(l -> l.endsWith("-j TURNPIKE-EGRESS")).count(), postrouting.toString());
    assertTrue(postrouting.get(0).endsWith("-j TURNPIKE-EGRESS"), postrouting.toString());
  }

  @Test
  @Order(5)
  void cleanupRemovesTheRulesAndThoseOfVersionsBeforeTheRename() throws Exception {
    iptables.restore(IpFamily.IPv4, EgressChains.LEGACY.replace("10.244.0.0/16", "10.252.1.0/24"), true);
    assertTrue(iptables.save(IpFamily.IPv4, "nat").contains("-j TP-EGRESS"));
    snat.cleanup();
    String nat = iptables.save(IpFamily.IPv4, "nat");
    assertTrue(!nat.contains("TURNPIKE-EGRESS") && !nat.contains("TP-EGRESS"), nat);
    assertEquals(CtLab.CLIENT_IP, host(lab.askUdp(CtLab.INTERNET_SERVER)), "no translation left");
  }

  @Test
  @Order(6)
  void ipv6EgressToTheInternetAndToAUla() throws Exception {
    EgressSnat dual = new EgressSnat(iptables, conntrack, List.of(IpFamily.IPv6)); // ip6tables
    try {
      dual.apply(EgressSnatConfig.defaults(List.of("10.252.1.0/24", "fd52:1::/64")));
      assertEquals(CtLab.NODE_UPLINK6, host(lab.askUdp(CtLab.INTERNET_SERVER6)));
      assertEquals(CtLab.CLIENT_IP6, host(lab.askUdp(CtLab.PRIVATE_SERVER6)), "fc00::/7 is not translated");
    } finally {
      dual.cleanup();
    }
    assertEquals(CtLab.CLIENT_IP6, host(lab.askUdp(CtLab.INTERNET_SERVER6)), "cleaned up");
  }
}
