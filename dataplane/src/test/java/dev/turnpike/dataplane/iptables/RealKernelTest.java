package dev.turnpike.dataplane.iptables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.dataplane.DesiredState;
import dev.turnpike.dataplane.NodeContext;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.net.IpFamily;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * The rules with real packets: real iptables-restore inside a scratch node namespace, Python
 * servers in pod namespaces that answer with their name and the peer address they saw, and a
 * client namespace off the node. Needs root, ip, iptables and python3 (CI has them).
 */
@EnabledIf("dev.turnpike.dataplane.iptables.KernelLab#available")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RealKernelTest {
  static final int PORT = 8080;
  static final String P1 = "10.250.1.11";
  static final String P2 = "10.250.1.12";
  static final String P3 = "10.250.1.13";
  static final String CLIENT = KernelLab.CLIENT_IP;

  private KernelLab lab;
  private IptablesDataplane dp;
  private String before;
  private String pod1;
  private final Map<String, ForwardingTableSpec> services = new LinkedHashMap<>();

  @BeforeAll
  void setUp() throws Exception {
    lab = new KernelLab();
    try {
      lab.start();
      pod1 = lab.addPod("p1", 11);
      String pod2 = lab.addPod("p2", 12);
      String pod3 = lab.addPod("p3", 13);
      lab.serve(pod1, "p1", PORT);
      lab.serve(pod2, "p2", PORT);
      lab.serve(pod3, "p3", PORT);
      // Another component's rules, which Turnpike must leave alone.
      lab.in(lab.node, "iptables", "-w", "-t", "nat", "-A", "POSTROUTING", "-s", "10.250.200.0/24", "-j", "MASQUERADE");
      lab.in(lab.node, "iptables", "-w", "-t", "filter", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT");
      before = lab.saveNode();
      Exec exec = ProcessExec.inNetns(lab.node);
      IptablesConfig config = IptablesConfig.defaults().withClusterCidrs(List.of("10.250.1.0/24"));
      dp = new IptablesDataplane(ExecIptables.detect(exec), exec, config, List.of(IpFamily.IPv4));
      services.put("rnd", Specs.service("rnd", "10.250.96.10").backend(P1, PORT, "node-a").backend(P2, PORT, "node-a").backend(P3, PORT, "node-a").build());
      services.put("mg", maglev(P1, P2, P3));
      services.put("np", Specs.service("np", "10.250.96.30").nodePort(30080).backend(P2, PORT, "node-a").build());
      services.put("lb", Specs.service("lb", "10.250.96.40").loadBalancer(30081, "10.250.100.100").backend(P3, PORT, "node-a").build());
      services.put("etpl", Specs.service("etpl", "10.250.96.50").loadBalancer(30082, "10.250.100.101").etpLocal(32082).backend(P1, PORT, "node-a").build());
      services.put("etpnone", Specs.service("etpnone", "10.250.96.51").loadBalancer(30083, "10.250.100.102").etpLocal(32083).backend(P2, PORT, "node-b").build());
      services.put("none", Specs.service("none", "10.250.96.60").build());
      services.put("aff", Specs.service("aff", "10.250.96.70").affinity(300).backend(P1, PORT, "node-a").backend(P2, PORT, "node-a").backend(P3, PORT, "node-a").build());
      services.put("hair", Specs.service("hair", "10.250.96.80").backend(P1, PORT, "node-a").build());
      services.put("udp", Specs.service("udp", "10.250.96.90").udp().port(53).backend(P2, PORT, "node-a").build());
      sync(true);
    } catch (Exception | Error e) {
      lab.close();
      throw e;
    }
  }

  @AfterAll
  void tearDown() {
    if (lab != null) {
      lab.close();
    }
  }

  private static ForwardingTableSpec maglev(String... pods) {
    Specs s = Specs.service("mg", "10.250.96.20").maglev(251);
    for (String p : pods) {
      s.backend(p, PORT, "node-a");
    }
    return s.build();
  }

  private void sync(boolean full) throws Exception {
    Map<ServiceKey, ForwardingTableSpec> t = new HashMap<>();
    services.forEach((k, v) -> t.put(new ServiceKey("ns", k), v));
    NodeContext node = new NodeContext("node-a", Map.of(), List.of(KernelLab.NODE_IP, KernelLab.GATEWAY));
    dp.sync(new SyncRequest(DesiredState.of(node, t), Set.of(new ServiceKey("ns", "mg")), full));
  }

  private List<String> fromClient(String dst, int port, int count) throws Exception {
    return lab.connect(lab.client, "tcp", dst, port, count, 1.0, 0);
  }

  private static Map<String, Integer> byBackend(List<String> answers) {
    Map<String, Integer> n = new TreeMap<>();
    answers.forEach(a -> n.merge(a.split(" ")[0], 1, Integer::sum));
    return n;
  }

  @Test
  @Order(1)
  void clusterIpRandomReachesEveryBackendUniformly() throws Exception {
    List<String> answers = fromClient("10.250.96.10", 80, 600);
    Map<String, Integer> n = byBackend(answers);
    assertEquals(Set.of("p1", "p2", "p3"), n.keySet(), answers.subList(0, 5).toString());
    double chi2 = 0;
    for (int c : n.values()) {
      chi2 += Math.pow(c - 200.0, 2) / 200.0;
    }
    // χ² with 2 degrees of freedom: 13.8 is the 0.1% critical value.
    assertTrue(chi2 < 13.8, "chi-square " + chi2 + " for " + n);
  }

  @Test
  @Order(2)
  void clusterIpFromOffNodeIsMasqueradedAndUdpWorks() throws Exception {
    assertEquals("p1 " + KernelLab.GATEWAY, fromClient("10.250.96.80", 80, 1).get(0));
    assertEquals("p2 " + KernelLab.GATEWAY, lab.connect(lab.client, "udp", "10.250.96.90", 53, 1, 1.0, 0).get(0));
  }

  @Test
  @Order(3)
  void maglevKeepsEachFlowAndMovesOnlyTheRemovedBackendsFlows() throws Exception {
    int flows = 200;
    List<String> first = lab.connect(lab.client, "tcp", "10.250.96.20", 80, flows, 1.0, 21000);
    List<String> again = lab.connect(lab.client, "tcp", "10.250.96.20", 80, flows, 1.0, 21000);
    assertEquals(first, again, "the same 5-tuple lands on the same backend");
    assertEquals(3, byBackend(first).size(), byBackend(first).toString());
    services.put("mg", maglev(P1, P2));
    sync(false);
    lab.in(lab.node, "conntrack", "-F");
    List<String> after = lab.connect(lab.client, "tcp", "10.250.96.20", 80, flows, 1.0, 21000);
    int survivorsMoved = 0;
    for (int i = 0; i < flows; i++) {
      String was = first.get(i).split(" ")[0];
      String now = after.get(i).split(" ")[0];
      assertTrue(now.equals("p1") || now.equals("p2"), "flow " + i + " -> " + after.get(i));
      if (!was.equals("p3") && !was.equals(now)) {
        survivorsMoved++;
      }
    }
    // Maglev's own extra disruption: a few percent of the survivors' flows at M=251.
    assertTrue(survivorsMoved <= flows / 10, survivorsMoved + " of the flows on remaining backends moved");
    System.out.printf("maglev: %d of %d flows on surviving backends moved%n", survivorsMoved, flows);
    services.put("mg", maglev(P1, P2, P3));
    sync(false);
  }

  @Test
  @Order(4)
  void nodePortAndLoadBalancerFromTheOffNodeClient() throws Exception {
    assertEquals("p2", fromClient(KernelLab.NODE_IP, 30080, 1).get(0).split(" ")[0]);
    assertEquals("p3", fromClient("10.250.100.100", 80, 1).get(0).split(" ")[0]);
    assertEquals("p3", fromClient(KernelLab.NODE_IP, 30081, 1).get(0).split(" ")[0]);
  }

  @Test
  @Order(5)
  void externalTrafficPolicyLocalKeepsTheClientAddressAndDropsWithoutLocalEndpoints() throws Exception {
    assertEquals("p1 " + CLIENT, fromClient("10.250.100.101", 80, 1).get(0));
    assertEquals("p1 " + CLIENT, fromClient(KernelLab.NODE_IP, 30082, 1).get(0));
    assertEquals("ERR timeout", lab.connect(lab.client, "tcp", "10.250.100.102", 80, 1, 0.5, 0).get(0));
    assertEquals("ERR timeout", lab.connect(lab.client, "tcp", KernelLab.NODE_IP, 30083, 1, 0.5, 0).get(0));
  }

  @Test
  @Order(6)
  void serviceWithoutEndpointsIsRefusedImmediately() throws Exception {
    String a = lab.connect(lab.client, "tcp", "10.250.96.60", 80, 1, 2.0, 0).get(0);
    assertTrue(a.startsWith("ERR refused"), a);
    assertTrue(Double.parseDouble(a.split(" ")[2]) < 0.5, a);
  }

  @Test
  @Order(7)
  void sessionAffinityPinsTheClient() throws Exception {
    Map<String, Integer> n = byBackend(fromClient("10.250.96.70", 80, 30));
    assertEquals(1, n.size(), n.toString());
  }

  @Test
  @Order(8)
  void hairpinToItselfThroughTheClusterIp() throws Exception {
    assertEquals("p1 " + KernelLab.GATEWAY, lab.connect(pod1, "tcp", "10.250.96.80", 80, 1, 1.0, 0).get(0));
    // A pod reaching another pod through a ClusterIP keeps its own address.
    assertEquals("p2 " + P1, lab.connect(pod1, "tcp", "10.250.96.30", 80, 1, 1.0, 0).get(0));
  }

  @Test
  @Order(9)
  void fullResyncIsIdempotentInTheKernel() throws Exception {
    String once = lab.saveNode();
    sync(true);
    assertEquals(once, lab.saveNode());
  }

  @Test
  @Order(100)
  void cleanupLeavesTheTablesExactlyAsBefore() throws Exception {
    dp.cleanup();
    assertEquals(before, lab.saveNode());
  }
}
