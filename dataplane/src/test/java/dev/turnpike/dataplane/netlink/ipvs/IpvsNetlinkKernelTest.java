package dev.turnpike.dataplane.netlink.ipvs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.dataplane.iptables.KernelLab;
import dev.turnpike.dataplane.netlink.LibC;
import dev.turnpike.dataplane.netlink.Netlink;
import dev.turnpike.dataplane.netlink.NetlinkClient;
import dev.turnpike.dataplane.netlink.NetlinkMessage;
import dev.turnpike.dataplane.netlink.NetlinkSocket;
import dev.turnpike.dataplane.netlink.NetworkNamespace;
import dev.turnpike.dataplane.netlink.genl.GenlFamilyResolver;
import dev.turnpike.dataplane.netlink.rtnl.IfAddress;
import dev.turnpike.dataplane.netlink.rtnl.Link;
import dev.turnpike.dataplane.netlink.rtnl.RtnlClient;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * The generic-netlink IPVS codec and rtnetlink against a kernel with IPVS, with packets: in a node
 * namespace (KernelLab's: pods behind a bridge, a client off the node) a dummy link holds the
 * virtual IP, a TCP and a UDP virtual service each get two NAT real servers, ipvsadm must show
 * what netlink wrote, a dump must read it back, and a client's connections to the VIP must reach
 * both pods. Runs where the kernel has IPVS: inside the VM of
 * {@link dev.turnpike.dataplane.vm.IpvsVmTest} (the host kernel has none), or directly on a host
 * with ip_vs loaded. All addresses are KernelLab's, inside namespaces this test creates.
 */
@EnabledIf("ipvsKernel")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IpvsNetlinkKernelTest {
  private static final String LINK = "turnpike-ipvs0";
  private static final InetAddress VIP = address("10.250.96.10");
  private static final InetAddress POD_A = address("10.250.1.2");
  private static final InetAddress POD_B = address("10.250.1.3");
  private static final int POD_PORT = 8080;
  private static final VirtualServerKey TCP =
      VirtualServerKey.of(VirtualServerKey.IPPROTO_TCP, VIP, 80);
  private static final VirtualServerKey UDP =
      VirtualServerKey.of(VirtualServerKey.IPPROTO_UDP, VIP, 53);

  private static KernelLab lab;
  private static NetlinkClient genl;
  private static IpvsMessages ipvs;

  static boolean ipvsKernel() {
    return Files.exists(Path.of("/proc/net/ip_vs")) && KernelLab.available();
  }

  @BeforeAll
  static void buildTheLab() throws Exception {
    lab = new KernelLab();
    lab.start();
    String a = lab.addPod("a", 2);
    String b = lab.addPod("b", 3);
    lab.serve(a, "pod-a", POD_PORT);
    lab.serve(b, "pod-b", POD_PORT);
    genl = new NetlinkClient(open(Netlink.NETLINK_GENERIC));
    ipvs = new IpvsMessages(new GenlFamilyResolver(genl).resolve(IpvsMessages.FAMILY_NAME));
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (genl != null) {
      genl.close();
    }
    if (lab != null) {
      lab.close();
    }
  }

  @Test
  @Order(1)
  void theDummyLinkHoldsTheVirtualIp() throws Exception {
    try (NetlinkClient rt = new NetlinkClient(open(Netlink.NETLINK_ROUTE))) {
      RtnlClient rtnl = new RtnlClient(rt);
      Link link = rtnl.ensureDummyLink(LINK);
      assertEquals("dummy", link.kind());
      rtnl.setLinkUp(link.index(), true);
      assertTrue(rtnl.addAddress(IfAddress.host(link.index(), VIP)));
      // Up, the link also gets its IPv6 link-local address.
      assertEquals(List.of("10.250.96.10/32"), rtnl.listAddresses(link.index()).stream()
          .filter(x -> x.address() instanceof Inet4Address)
          .map(x -> x.address().getHostAddress() + "/" + x.prefixLength()).toList());
    }
    String shown = lab.output(lab.node, "ip", "-d", "-o", "addr", "show", "dev", LINK);
    assertTrue(shown.contains("inet 10.250.96.10/32"), shown);
    assertTrue(lab.output(lab.node, "ip", "-d", "link", "show", LINK).contains("dummy"));
  }

  @Test
  @Order(2)
  void servicesWrittenOverNetlinkAreWhatIpvsadmShowsAndADumpReads() throws Exception {
    for (VirtualServerKey key : List.of(TCP, UDP)) {
      genl.execute(ipvs.newService(VirtualServer.of(key, "rr", 0)));
      genl.execute(ipvs.newDest(key, RealServer.masq(POD_A, POD_PORT, 1)));
      genl.execute(ipvs.newDest(key, RealServer.masq(POD_B, POD_PORT, 1)));
    }

    assertEquals("""
        IP Virtual Server version 1.2.1 (size=4096)
        Prot LocalAddress:Port Scheduler Flags
          -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
        TCP  10.250.96.10:80 rr
          -> 10.250.1.2:8080              Masq    1      0          0
          -> 10.250.1.3:8080              Masq    1      0          0
        UDP  10.250.96.10:53 rr
          -> 10.250.1.2:8080              Masq    1      0          0
          -> 10.250.1.3:8080              Masq    1      0          0
        """, ipvsadm());

    List<VirtualServer> services = new ArrayList<>();
    for (NetlinkMessage m : genl.dump(ipvs.getServices())) {
      services.add(ipvs.parseService(m));
    }
    assertEquals(Set.of(VirtualServer.of(TCP, "rr", 0), VirtualServer.of(UDP, "rr", 0)),
        Set.copyOf(services));
    assertEquals(2, services.size());
    for (VirtualServerKey key : List.of(TCP, UDP)) {
      assertEquals(Set.of(RealServer.masq(POD_A, POD_PORT, 1), RealServer.masq(POD_B, POD_PORT, 1)),
          Set.copyOf(dests(key)), key.toString());
    }
  }

  @Test
  @Order(3)
  void trafficToTheVirtualIpReachesBothPods() throws Exception {
    // rr takes turns: 20 connections, 10 per pod, each seeing the client's own address (NAT
    // rewrites only the destination).
    assertEquals(Map.of("pod-a " + KernelLab.CLIENT_IP, 10, "pod-b " + KernelLab.CLIENT_IP, 10),
        count(lab.connect(lab.client, "tcp", VIP.getHostAddress(), 80, 20, 5.0, 0)));
    assertEquals(Map.of("pod-a " + KernelLab.CLIENT_IP, 5, "pod-b " + KernelLab.CLIENT_IP, 5),
        count(lab.connect(lab.client, "udp", VIP.getHostAddress(), 53, 10, 5.0, 40000)));
    // Closed connections stay in the table (inactive) for a while; the dump reports them.
    List<RealServer> live = liveDests(TCP);
    assertTrue(live.stream().allMatch(d -> d.connections().active() + d.connections().inactive() > 0),
        "the kernel counts the connections it forwarded to each pod: " + live);
  }

  @Test
  @Order(4)
  void aDeletedRealServerGetsNoNewConnectionsAndADeletedServiceIsGone() throws Exception {
    genl.execute(ipvs.delDest(TCP, POD_A, POD_PORT));
    assertEquals(Set.of(POD_B), dests(TCP).stream().map(RealServer::address)
        .collect(Collectors.toSet()));
    assertEquals(Map.of("pod-b " + KernelLab.CLIENT_IP, 6),
        count(lab.connect(lab.client, "tcp", VIP.getHostAddress(), 80, 6, 5.0, 0)));

    genl.execute(ipvs.delService(TCP));
    genl.execute(ipvs.delService(UDP));
    assertTrue(genl.dump(ipvs.getServices()).isEmpty());
    assertEquals("""
        IP Virtual Server version 1.2.1 (size=4096)
        Prot LocalAddress:Port Scheduler Flags
          -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
        """, ipvsadm());
  }

  /** The service's real servers as a dump returns them, connection counters included. */
  private static List<RealServer> liveDests(VirtualServerKey key) throws Exception {
    List<RealServer> out = new ArrayList<>();
    for (NetlinkMessage m : genl.dump(ipvs.getDests(key))) {
      out.add(ipvs.parseDest(m, key.family()));
    }
    return out;
  }

  /** The same without the live counters, to compare with what was written. */
  private static List<RealServer> dests(VirtualServerKey key) throws Exception {
    return liveDests(key).stream()
        .map(d -> new RealServer(d.address(), d.port(), d.forward(), d.weight(),
            d.upperThreshold(), d.lowerThreshold(), RealServer.Connections.NONE))
        .toList();
  }

  /**
   * {@code ipvsadm -Ln} in the node namespace with trailing blanks cut and each service's real
   * servers sorted (the kernel lists them newest first).
   */
  private static String ipvsadm() throws IOException {
    List<String> out = new ArrayList<>();
    List<String> dests = new ArrayList<>();
    for (String line : lab.output(lab.node, "ipvsadm", "-Ln").lines().map(String::stripTrailing)
        .toList()) {
      if (line.startsWith("  -> ") && !line.contains("RemoteAddress")) {
        dests.add(line);
      } else {
        dests.stream().sorted().forEach(out::add);
        dests.clear();
        out.add(line);
      }
    }
    dests.stream().sorted().forEach(out::add);
    return String.join("\n", out) + "\n";
  }

  private static NetlinkSocket open(int protocol) throws Exception {
    return NetworkNamespace.openSocket(LibC.load(), Path.of("/var/run/netns", lab.node), protocol,
        NetlinkSocket.Options.defaults());
  }

  private static Map<String, Integer> count(List<String> answers) {
    Map<String, Integer> out = new TreeMap<>();
    answers.forEach(a -> out.merge(a, 1, Integer::sum));
    return out;
  }

  private static InetAddress address(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (IOException e) {
      throw new IllegalArgumentException(literal, e);
    }
  }
}
