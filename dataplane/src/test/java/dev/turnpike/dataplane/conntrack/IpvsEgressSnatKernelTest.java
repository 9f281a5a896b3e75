package dev.turnpike.dataplane.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.dataplane.DesiredState;
import dev.turnpike.dataplane.NodeContext;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.dataplane.conntrack.snat.EgressSnat;
import dev.turnpike.dataplane.conntrack.snat.EgressSnatRules;
import dev.turnpike.dataplane.iptables.Exec;
import dev.turnpike.dataplane.iptables.ExecIptables;
import dev.turnpike.dataplane.iptables.Iptables;
import dev.turnpike.dataplane.iptables.IptablesConfig;
import dev.turnpike.dataplane.iptables.ProcessExec;
import dev.turnpike.dataplane.iptables.Specs;
import dev.turnpike.dataplane.ipvs.ExecSysctl;
import dev.turnpike.dataplane.ipvs.IpvsConfig;
import dev.turnpike.dataplane.ipvs.IpvsDataplane;
import dev.turnpike.dataplane.ipvs.IpvsSysctls;
import dev.turnpike.dataplane.ipvs.NamespaceIpvs;
import dev.turnpike.dataplane.ipvs.Sysctl;
import dev.turnpike.egress.EgressSnatConfig;
import dev.turnpike.net.IpFamily;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * Egress SNAT in IPVS mode, with packets: the IPVS backend ({@link IpvsDataplane} over netlink,
 * {@code net.ipv4.vs.conntrack=1}) and egress SNAT with its {@code -m ipvs --ipvs} rule, both in
 * {@link CtLab}'s node namespace (IPv4 only: pod 10.252.1.2 in the cluster CIDR 10.252.1.0/24, an
 * "internet" namespace whose UDP server on 203.0.113.100 and the private 10.252.3.100 answers
 * with the source it sees). The Service is a UDP ClusterIP 10.252.96.10:8081 whose one endpoint
 * is that server: off the pod CIDRs and outside the non-masquerade CIDRs, exactly the destination
 * egress SNAT would translate if it took IPVS traffic for pod egress.
 *
 * <p>Runs where {@code /proc/net/ip_vs} exists (the IPVS VM, {@code IpvsVmTest}), as root with
 * ip, iptables and python3; skipped loudly elsewhere. All traffic stays in the namespaces it makes.
 */
@EnabledIf("runnable")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IpvsEgressSnatKernelTest {
  static final String CLUSTER_IP = "10.252.96.10";
  static final String POD_CIDR = "10.252.1.0/24";
  static final EgressSnatConfig BASE = EgressSnatConfig.defaults(List.of(POD_CIDR));
  static final IptablesConfig RULES = IptablesConfig.defaults().withClusterCidrs(List.of(POD_CIDR));
  static final DesiredState STATE = DesiredState.of(
      new NodeContext("node-a", Map.of(), List.of(CtLab.NODE_UPLINK)),
      Map.of(new ServiceKey("ns", "web"), serviceToTheInternetServer()));

  private CtLab lab;
  private NetlinkConntrack conntrack;
  private ExecIptables iptables;
  private EgressSnat snat;
  private IpvsDataplane ipvs;
  private List<String> egressBefore;
  private NamespaceIpvs sockets;

  static boolean runnable() {
    String why = !Files.exists(Path.of("/proc/net/ip_vs"))
        ? "/proc/net/ip_vs does not exist: no IPVS in this kernel; the IPVS VM (IpvsVmTest) runs this class"
        : CtLab.available() ? null : "needs root with ip, iptables-restore and python3";
    if (why != null) {
      System.err.println("\n**************** IpvsEgressSnatKernelTest SKIPPED: " + why + " ****************\n");
    }
    return why == null;
  }

  private static ForwardingTableSpec serviceToTheInternetServer() {
    return Specs.service("web", CLUSTER_IP).udp().port(8081).backend(CtLab.INTERNET_SERVER, 8081, "node-b").build();
  }

  @BeforeAll
  void setUp() throws Exception {
    long[] at = {System.nanoTime(), 0, 0, 0, 0, 0};
    lab = CtLab.createWithInternet(false);
    try {
      at[1] = System.nanoTime();
      conntrack = NetlinkConntrack.openIn(lab.nodeNetns());
      ProcessExec exec = ProcessExec.inNetns(lab.node);
      // What ExecIptables.detect picks in a fresh namespace, without its four iptables-save runs
      // (about 2 s each in the VM).
      iptables = new ExecIptables(exec, Iptables.Mode.NFT);
      at[2] = System.nanoTime();
      // Egress SNAT first: the backend's first sync reads iptables-save and finds TURNPIKE-
      // chains and a POSTROUTING hook it did not write, as after an agent restart.
      snat = new EgressSnat(iptables, conntrack, List.of(IpFamily.IPv4), true);
      snat.apply(BASE);
      egressBefore = egressLines();
      at[3] = System.nanoTime();
      ipvs = backend(exec);
      at[4] = System.nanoTime();
      ipvs.sync(new SyncRequest(STATE, Set.of(), true));
      at[5] = System.nanoTime();
      System.err.printf("IpvsEgressSnatKernelTest set-up: lab %d ms, ctnetlink %d ms, egress SNAT "
          + "%d ms, IPVS backend sockets %d ms, its first sync %d ms%n", (at[1] - at[0]) / 1_000_000,
          (at[2] - at[1]) / 1_000_000, (at[3] - at[2]) / 1_000_000, (at[4] - at[3]) / 1_000_000,
          (at[5] - at[4]) / 1_000_000);
    } catch (Exception | Error e) {
      tearDown();
      throw e;
    }
  }

  /** An IPVS backend in the node namespace, egress SNAT's chains reserved as the agent does. */
  private IpvsDataplane backend(ProcessExec exec) throws Exception {
    sockets = NamespaceIpvs.open(lab.nodeNetns());
    return sockets.dataplane(new OneReadSysctl(exec), iptables, IpvsConfig.of(RULES), EgressSnatRules.CHAINS);
  }

  /**
   * {@link ExecSysctl} whose first read fetches every parameter IPVS mode looks at with one
   * {@code sysctl} process (a process costs about a second under the VM's TCG; the backend reads
   * seven). Writes go through at once.
   */
  private static final class OneReadSysctl implements Sysctl {
    private static final List<String> KEYS = List.of(IpvsSysctls.OS_RELEASE, IpvsSysctls.CONNTRACK,
        IpvsSysctls.CONN_REUSE_MODE, IpvsSysctls.EXPIRE_NODEST_CONN, IpvsSysctls.EXPIRE_QUIESCENT_TEMPLATE,
        IpvsSysctls.IP_FORWARD, IpvsSysctls.BRIDGE_NF_CALL_IPTABLES);
    private final Exec exec;
    private final ExecSysctl direct;
    private Map<String, String> read;

    OneReadSysctl(Exec exec) {
      this.exec = exec;
      this.direct = new ExecSysctl(exec);
    }

    @Override
    public Optional<String> get(String name) throws IOException {
      if (!KEYS.contains(name)) {
        return direct.get(name);
      }
      if (read == null) {
        List<String> argv = new ArrayList<>(List.of("sysctl", "-e"));
        argv.addAll(KEYS);
        read = new HashMap<>();
        for (String line : exec.run(argv, "").stdout().split("\n")) {
          int eq = line.indexOf(" = ");
          if (eq > 0) {
            read.put(line.substring(0, eq).strip(), line.substring(eq + 3).strip());
          }
        }
      }
      return Optional.ofNullable(read.get(name));
    }

    @Override
    public void set(String name, String value) throws IOException {
      direct.set(name, value);
      if (read != null && read.containsKey(name)) {
        read.put(name, value);
      }
    }
  }

  @AfterAll
  void tearDown() {
    if (sockets != null) {
      sockets.close();
    }
    if (conntrack != null) {
      conntrack.close();
    }
    if (lab != null) {
      lab.close(); // the node namespace takes its IPVS services, link and rules with it
    }
  }

  private static String host(String seen) {
    return seen.substring(0, seen.lastIndexOf(':'));
  }

  private List<ConntrackEntry> toClusterIp() throws Exception {
    return conntrack.list(ConntrackFilter.family(CtNetlink.AF_INET).protocol(CtNetlink.IPPROTO_UDP)
        .originalDst(InetAddress.getByName(CLUSTER_IP), 8081));
  }

  private List<ConntrackEntry> toInternetServer() throws Exception {
    return conntrack.list(ConntrackFilter.family(CtNetlink.AF_INET).protocol(CtNetlink.IPPROTO_UDP)
        .originalDst(InetAddress.getByName(CtLab.INTERNET_SERVER), 8081));
  }

  private List<String> egressLines() throws Exception {
    return iptables.save(IpFamily.IPv4, "nat").lines().filter(l -> l.contains("TURNPIKE-EGRESS")).toList();
  }

  @Test
  @Order(1)
  void theBackendsFullSyncFromIptablesSaveKeptTheEgressChainsAndTheirIpvsRule() throws Exception {
    assertTrue(egressBefore.contains("-A TURNPIKE-EGRESS -m ipvs --ipvs -j RETURN"), egressBefore.toString());
    assertEquals(egressBefore, egressLines());
    assertTrue(iptables.save(IpFamily.IPv4, "nat").contains(":TURNPIKE-SERVICES "), "the backend's rules are in");
    assertEquals("1", new ExecSysctl(ProcessExec.inNetns(lab.node)).get("net.ipv4.vs.conntrack").orElse(""));
  }

  @Test
  @Order(2)
  void podEgressToTheInternetArrivesFromTheNodeAndToANonMasqueradeCidrWithThePodAddress() throws Exception {
    assertEquals(CtLab.NODE_UPLINK, host(lab.askUdp(CtLab.INTERNET_SERVER)));
    assertEquals(CtLab.CLIENT_IP, host(lab.askUdp(CtLab.PRIVATE_SERVER)));
  }

  @Test
  @Order(3)
  void serviceTrafficThroughIpvsIsLeftToTheServicePath() throws Exception {
    // IPVS mode masquerades ClusterIP traffic from outside the pod CIDRs only: a pod keeps its
    // address, also towards an endpoint that egress SNAT alone would translate.
    assertEquals(CtLab.CLIENT_IP, host(lab.askUdp(CLUSTER_IP)));
    List<ConntrackEntry> entries = toClusterIp();
    assertEquals(1, entries.size(), entries.toString());
    ConntrackEntry e = entries.get(0);
    assertEquals(InetAddress.getByName(CtLab.INTERNET_SERVER), e.reply().src(), "IPVS rewrote the reply tuple: " + e);
    assertFalse(e.dnat(), "IPVS sets no IPS_DST_NAT, which is why --ctstate DNAT alone does not see it: " + e);
    assertFalse(e.snat(), "not translated: " + e);
    assertEquals(0, e.mark() & BASE.connmark(), "not marked by egress SNAT: " + e);
  }

  @Test
  @Order(4)
  void controlWithoutTheIpvsRuleEgressSnatWouldTranslateServiceTrafficToo() throws Exception {
    try {
      new EgressSnat(iptables, conntrack, List.of(IpFamily.IPv4), false).apply(BASE); // iptables mode's rules
      assertEquals(CtLab.NODE_UPLINK, host(lab.askUdp(CLUSTER_IP)), "translated by the egress rules");
    } finally {
      snat.apply(BASE); // IPVS mode's again (the next test sends Service traffic through them)
    }
  }

  @Test
  @Order(5)
  void aNonMasqueradeChangeDeletesTheTranslatedEgressFlowAndNoIpvsConnection() throws Exception {
    assertEquals(CtLab.NODE_UPLINK, host(lab.askUdp(CtLab.INTERNET_SERVER)));
    assertEquals(CtLab.CLIENT_IP, host(lab.askUdp(CLUSTER_IP)));
    assertTrue(toInternetServer().stream().anyMatch(e -> (e.mark() & BASE.connmark()) != 0), toInternetServer().toString());
    Set<Long> ipvsIds = new java.util.HashSet<>();
    toClusterIp().forEach(e -> ipvsIds.add(e.id().orElseThrow()));

    // The Service's endpoint is in the new non-masquerade CIDR too, but its flows are IPVS
    // connections (reply source = the endpoint, not the ClusterIP): never candidates.
    EgressSnat.Applied a = snat.apply(BASE.withNonMasquerade(List.of("10.0.0.0/8", "203.0.113.0/24")));
    assertTrue(a.deletedEntries() >= 1, a.toString());
    assertEquals(List.of(), toInternetServer().stream().filter(e -> (e.mark() & BASE.connmark()) != 0).toList(),
        "no translated flow to the now non-masquerade server left");
    Set<Long> after = new java.util.HashSet<>();
    toClusterIp().forEach(e -> after.add(e.id().orElseThrow()));
    assertTrue(after.containsAll(ipvsIds), "IPVS connections untouched: " + ipvsIds + " -> " + after);
    assertEquals(CtLab.CLIENT_IP, host(lab.askUdp(CtLab.INTERNET_SERVER)), "a new flow is not translated");
  }
}
