package dev.turnpike.dataplane.iptables;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.dataplane.testing.FakeIptables;
import dev.turnpike.dataplane.testing.PacketTracer;
import dev.turnpike.dataplane.testing.PacketTracer.Packet;
import dev.turnpike.dataplane.testing.PacketTracer.Trace;
import dev.turnpike.lb.MaglevTableCodec;
import dev.turnpike.net.IpFamily;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every Service semantic, traced packet by packet through the rules the backend programs. */
class ServiceSemanticsTest {
  record Case(String name, String src, String proto, String dst, int port, String output, boolean masq) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Case tcp(String name, String src, String dst, int port, String output, boolean masq) {
    return new Case(name, src, "tcp", dst, port, output, masq);
  }

  static final String POD = "10.244.3.3";
  static final String REMOTE = "203.0.113.9";
  static final String OTHER = "192.0.2.1";
  static final String NODE = Scenario.NODE_IP;

  static Stream<Case> cases() {
    return Stream.of(
        tcp("cluster IP from a pod reaches every endpoint unmasqueraded", POD, "10.96.0.10", 80, "10.244.1.2:8080, 10.244.2.2:8080", false),
        tcp("cluster IP from off the cluster is masqueraded", "192.168.0.99", "10.96.0.10", 80, "10.244.1.2:8080, 10.244.2.2:8080", true),
        tcp("cluster IP on another port is not a Service", POD, "10.96.0.10", 81, "", false),
        tcp("hairpin: an endpoint reaching itself is masqueraded", "10.244.1.2", "10.96.0.10", 80, "10.244.1.2:8080, 10.244.2.2:8080", true),
        new Case("udp cluster IP", POD, "udp", "10.96.0.100", 53, "10.244.2.12:5353", false),
        tcp("serving terminating endpoint is used when none is ready", POD, "10.96.0.110", 80, "10.244.2.13:80", false),
        tcp("node port on the node IP from outside", REMOTE, NODE, 30020, "10.244.2.3:80", true),
        tcp("node port from the node itself", NODE, NODE, 30020, "10.244.2.3:80", true),
        tcp("node port on localhost", "127.0.0.1", "127.0.0.1", 30020, "10.244.2.3:80", true),
        tcp("node port on an address that is not the node's", REMOTE, "192.168.0.11", 30020, "", false),
        tcp("martian packet to localhost from outside is dropped", OTHER, "127.0.0.1", 22, "DROP", false),
        tcp("load balancer IP from an allowed source range", REMOTE, "198.51.100.30", 80, "10.244.1.4:80", true),
        tcp("load balancer IP from outside the source ranges is dropped", OTHER, "198.51.100.30", 80, "DROP", false),
        tcp("node port of a source-ranged load balancer is not filtered", OTHER, NODE, 30030, "10.244.1.4:80", true),
        tcp("load balancer IP without source ranges", OTHER, "198.51.100.31", 80, "10.244.2.5:80", true),
        tcp("external IP", OTHER, "198.51.100.40", 80, "10.244.2.6:80", true),
        tcp("ETP Local: outside client gets the local endpoint and keeps its address", REMOTE, "198.51.100.50", 80, "10.244.1.7:80", false),
        tcp("ETP Local: node port the same", REMOTE, NODE, 30050, "10.244.1.7:80", false),
        tcp("ETP Local: pod traffic to the LB IP uses every endpoint", POD, "198.51.100.50", 80, "10.244.1.7:80, 10.244.2.7:80", false),
        tcp("ETP Local: node traffic is masqueraded and uses every endpoint", NODE, "198.51.100.50", 80, "10.244.1.7:80, 10.244.2.7:80", true),
        tcp("ETP Local: cluster IP uses every endpoint", POD, "10.96.0.50", 80, "10.244.1.7:80, 10.244.2.7:80", false),
        tcp("ETP Local: health check node port is accepted", REMOTE, NODE, 32050, "ACCEPT", false),
        tcp("ETP Local without local endpoints drops outside LB traffic", REMOTE, "198.51.100.51", 80, "DROP", false),
        tcp("ETP Local without local endpoints drops node port traffic", REMOTE, NODE, 30051, "DROP", false),
        tcp("ETP Local without local endpoints still serves pods", POD, "198.51.100.51", 80, "10.244.2.8:80", false),
        tcp("ITP Local without local endpoints drops cluster IP traffic", POD, "10.96.0.60", 80, "DROP", false),
        tcp("session affinity: recent history never matches, every endpoint possible", POD, "10.96.0.70", 80, "10.244.1.10:80, 10.244.2.10:80", false),
        tcp("no endpoints: cluster IP is rejected", POD, "10.96.0.80", 80, "REJECT", false),
        tcp("no endpoints: external IP is rejected", OTHER, "198.51.100.80", 80, "REJECT", false),
        tcp("no endpoints: load balancer IP is rejected", OTHER, "198.51.100.81", 80, "REJECT", false),
        tcp("no endpoints: node port is rejected", OTHER, NODE, 30080, "REJECT", false),
        tcp("maglev: without a hash every endpoint of the table (slot order)", POD, "10.96.0.90", 80, "10.244.2.11:80, 10.244.3.11:80, 10.244.1.11:80", false));
  }

  static PacketTracer program(IptablesConfig config, java.util.Map<String, ForwardingTableSpec> services) throws Exception {
    FakeIptables fake = new FakeIptables();
    IptablesDataplane dp = new IptablesDataplane(fake, (argv, in) -> new Exec.Result(0, "", ""), config, List.of(IpFamily.IPv4));
    dp.sync(new SyncRequest(Scenario.state(services), Set.of(), true));
    return new PacketTracer(fake, IpFamily.IPv4, List.of(Scenario.NODE_IP));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void traces(Case c) throws Exception {
    PacketTracer t = program(Scenario.config(), Scenario.services());
    assertEquals(new Trace(c.output(), c.masq()), t.trace(new Packet(c.src(), c.proto(), c.dst(), c.port(), null)), c.name());
  }

  @Test
  void maglevEverySlotReachesTheBackendTheOperatorsTableNames() throws Exception {
    var services = Scenario.services();
    PacketTracer t = program(Scenario.config(), services);
    ForwardingTableSpec mg = services.get("mg");
    int[] table = MaglevTableCodec.decode(mg.frontends().get(0).maglevTables().get(0).table());
    for (int slot = 0; slot < table.length; slot++) {
      String want = mg.backends().get(table[slot]).address() + ":80";
      assertEquals(want, t.trace(Packet.tcp(POD, "10.96.0.90", 80).withHmark(slot)).output(), "slot " + slot);
    }
  }

  @Test
  void masqueradeAllMarksPodTraffic() throws Exception {
    PacketTracer t = program(Scenario.config().withMasqueradeAll(true), Scenario.services());
    assertEquals(true, t.trace(Packet.tcp(POD, "10.96.0.10", 80)).masquerade());
  }

  @Test
  void nodePortAddressesLimitWhereNodePortsListen() throws Exception {
    PacketTracer t = program(Scenario.config().withNodePortAddresses(List.of("192.168.0.0/24")), Scenario.services());
    assertEquals("10.244.2.3:80", t.trace(Packet.tcp(REMOTE, NODE, 30020)).output());
    assertEquals("", t.trace(Packet.tcp("127.0.0.1", "127.0.0.1", 30020)).output());
    PacketTracer primary = program(Scenario.config().withNodePortAddresses(List.of("primary")), Scenario.services());
    assertEquals("10.244.2.3:80", primary.trace(Packet.tcp(REMOTE, NODE, 30020)).output());
  }

  @Test
  void localhostNodePortsCanBeTurnedOff() throws Exception {
    PacketTracer t = program(Scenario.config().withLocalhostNodePorts(false), Scenario.services());
    assertEquals("", t.trace(Packet.tcp("127.0.0.1", "127.0.0.1", 30020)).output());
    assertEquals("10.244.2.3:80", t.trace(Packet.tcp(REMOTE, NODE, 30020)).output());
  }
}
