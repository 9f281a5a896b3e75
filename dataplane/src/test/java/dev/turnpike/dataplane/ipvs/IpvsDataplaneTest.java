package dev.turnpike.dataplane.ipvs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.dataplane.DataplaneException;
import dev.turnpike.dataplane.DesiredState;
import dev.turnpike.dataplane.NodeContext;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.dataplane.SyncResult;
import dev.turnpike.dataplane.conntrack.snat.EgressSnat;
import dev.turnpike.dataplane.conntrack.snat.EgressSnatRules;
import dev.turnpike.dataplane.iptables.IptablesConfig;
import dev.turnpike.dataplane.iptables.IptablesDataplane;
import dev.turnpike.dataplane.iptables.ReservedChains;
import dev.turnpike.dataplane.iptables.Specs;
import dev.turnpike.dataplane.netlink.ipvs.RealServer;
import dev.turnpike.dataplane.netlink.ipvs.VirtualServer;
import dev.turnpike.dataplane.netlink.ipvs.VirtualServerKey;
import dev.turnpike.dataplane.sync.FakeClock;
import dev.turnpike.dataplane.testing.EgressChains;
import dev.turnpike.dataplane.testing.FakeIptables;
import dev.turnpike.net.IpFamily;
import java.net.InetAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The applier against fakes that answer as the kernel does: what each sync changes, and only that. */
class IpvsDataplaneTest {
  static final NodeContext NODE = new NodeContext("node-a", Map.of(), List.of("192.168.0.10"));
  static final IptablesConfig RULES = IptablesConfig.defaults().withClusterCidrs(List.of("10.244.0.0/16"));

  final FakeIpvs ipvs = new FakeIpvs();
  final FakeVipLink link = new FakeVipLink();
  final FakeSysctl sysctl = FakeSysctl.withIpvs("6.1.0-18-amd64");
  final FakeIptables iptables = new FakeIptables();
  final FakeClock clock = new FakeClock();
  final IpvsDataplane dataplane = new IpvsDataplane(ipvs, link, sysctl, iptables, IpvsConfig.of(RULES)
      .withGracefulTerminationTimeout(Duration.ofMinutes(15)), List.of(IpFamily.IPv4), clock);
  final Map<String, ForwardingTableSpec> services = new LinkedHashMap<>();

  static VirtualServerKey tcp(String ip, int port) throws Exception {
    return VirtualServerKey.of(VirtualServerKey.IPPROTO_TCP, InetAddress.getByName(ip), port);
  }

  static DesiredState state(Map<String, ForwardingTableSpec> specs) {
    Map<ServiceKey, ForwardingTableSpec> t = new LinkedHashMap<>();
    specs.forEach((k, v) -> t.put(new ServiceKey("ns", k), v));
    return DesiredState.of(NODE, t);
  }

  SyncResult sync(boolean full, String... changed) throws DataplaneException {
    Set<ServiceKey> keys = new java.util.HashSet<>();
    for (String c : changed) {
      keys.add(new ServiceKey("ns", c));
    }
    return dataplane.sync(new SyncRequest(state(services), keys, full));
  }

  void clearOps() {
    ipvs.log.clear();
    link.log.clear();
  }

  Specs web() {
    return Specs.service("web", "10.96.0.10").backend("10.244.1.2", 8080, "node-a").backend("10.244.2.2", 8080, "node-b");
  }

  @Test
  void firstSyncProgramsSysctlsAddressesServicesAndRules() throws Exception {
    services.put("web", web().build());
    services.put("np", Specs.service("np", "10.96.0.20").nodePort(30020).backend("10.244.2.3", 80, "node-b").build());
    SyncResult r = sync(true);
    assertEquals("""
        TCP 10.96.0.20:80 rr
          -> 10.244.2.3:80 w=1
        TCP 192.168.0.10:30020 rr
          -> 10.244.2.3:80 w=1
        TCP 10.96.0.10:80 rr
          -> 10.244.1.2:8080 w=1
          -> 10.244.2.2:8080 w=1
        """, ipvs.dump());
    assertEquals(List.of("create-link", "add-address 10.96.0.20", "add-address 10.96.0.10"), link.log.ops());
    assertEquals("1", sysctl.values.get(IpvsSysctls.CONNTRACK));
    assertEquals("1", sysctl.values.get(IpvsSysctls.EXPIRE_NODEST_CONN));
    assertEquals("1", sysctl.values.get(IpvsSysctls.EXPIRE_QUIESCENT_TEMPLATE));
    assertEquals("1", sysctl.values.get(IpvsSysctls.CONN_REUSE_MODE), "left alone on 5.9 and later");
    assertEquals(Map.of(IpvsSysctls.CONNTRACK, "1", IpvsSysctls.CONN_REUSE_MODE, "1", IpvsSysctls.EXPIRE_NODEST_CONN, "1",
        IpvsSysctls.EXPIRE_QUIESCENT_TEMPLATE, "1", IpvsSysctls.IP_FORWARD, "1"), dataplane.sysctls());
    assertEquals(2, r.tablesProgrammed());
    assertEquals(3L, r.entryCounts().get("ipvs/services"));
    assertEquals(4L, r.entryCounts().get("ipvs/destinations"));
    assertTrue(iptables.dump(IpFamily.IPv4).contains("-A PREROUTING -m comment --comment \"turnpike service portals\" -j TURNPIKE-SERVICES"),
        iptables.dump(IpFamily.IPv4));
  }

  @Test
  void oldKernelsGetConnReuseModeZero() throws Exception {
    FakeSysctl old = FakeSysctl.withIpvs("5.4.0-150-generic");
    new IpvsDataplane(ipvs, link, old, iptables, IpvsConfig.of(RULES), List.of(IpFamily.IPv4), clock)
        .sync(new SyncRequest(state(services), Set.of(), true));
    assertEquals("0", old.values.get(IpvsSysctls.CONN_REUSE_MODE));
  }

  @Test
  void missingIpvsSysctlsFailTheSyncWithTheReason() {
    sysctl.values.remove(IpvsSysctls.CONNTRACK);
    DataplaneException e = assertThrows(DataplaneException.class, () -> sync(true));
    assertTrue(e.getMessage().contains("net.ipv4.vs.conntrack does not exist (is the ip_vs module loaded?)"), e.getMessage());
  }

  @Test
  void anUnchangedSyncChangesNothing() throws Exception {
    services.put("web", web().build());
    sync(true);
    clearOps();
    int restores = iptables.restores();
    sync(false);
    assertEquals(List.of(), ipvs.log.ops());
    assertEquals(List.of(), link.log.ops());
    assertEquals(restores, iptables.restores(), "same rules, no restore");
    sync(true);
    assertEquals(List.of(), ipvs.log.ops(), "a full sync compares with the kernel and finds nothing to do");
  }

  @Test
  void oneNewEndpointAddsOneDestination() throws Exception {
    services.put("web", web().build());
    services.put("other", Specs.service("other", "10.96.0.11").backend("10.244.1.3", 80, "node-a").build());
    sync(true);
    clearOps();
    services.put("web", web().backend("10.244.3.2", 8080, "node-c").build());
    sync(false, "web");
    assertEquals(List.of("add-dest TCP 10.96.0.10:80 -> 10.244.3.2:8080 w=1"), ipvs.log.ops());
    assertEquals(List.of(), link.log.ops());
  }

  /** Syncs web with two endpoints, gives 10.244.2.2 connections, removes it; returns web's key. */
  private VirtualServerKey removeBusyEndpoint(RealServer.Connections busy) throws Exception {
    services.put("web", web().build());
    sync(true);
    VirtualServerKey k = tcp("10.96.0.10", 80);
    ipvs.connections(k, InetAddress.getByName("10.244.2.2"), 8080, busy);
    clearOps();
    services.put("web", Specs.service("web", "10.96.0.10").backend("10.244.1.2", 8080, "node-a").build());
    sync(false, "web");
    return k;
  }

  @Test
  void removedEndpointWithConnectionsDrainsAtWeightZeroThenIsDeleted() throws Exception {
    VirtualServerKey k = removeBusyEndpoint(new RealServer.Connections(2, 1, 0));
    assertEquals(List.of("update-dest TCP 10.96.0.10:80 -> 10.244.2.2:8080 w=0"), ipvs.log.ops());
    assertEquals(1, dataplane.draining().size());

    clearOps();
    clock.advance(Duration.ofMinutes(1));
    sync(false);
    assertEquals(List.of(), ipvs.log.ops(), "still has connections: keeps waiting");

    ipvs.connections(k, InetAddress.getByName("10.244.2.2"), 8080, new RealServer.Connections(0, 0, 0));
    clock.advance(Duration.ofMinutes(1));
    sync(false);
    assertEquals(List.of("delete-dest TCP 10.96.0.10:80 -> 10.244.2.2:8080"), ipvs.log.ops());
    assertEquals(Set.of(), dataplane.draining());
  }

  @Test
  void drainingIsBoundedByTheGracefulTerminationTimeout() throws Exception {
    removeBusyEndpoint(new RealServer.Connections(5, 0, 0));
    clearOps();
    clock.advance(Duration.ofMinutes(14).plusSeconds(59));
    sync(false);
    assertEquals(List.of(), ipvs.log.ops());
    clock.advance(Duration.ofSeconds(1));
    sync(false);
    assertEquals(List.of("delete-dest TCP 10.96.0.10:80 -> 10.244.2.2:8080"), ipvs.log.ops());
  }

  @Test
  void idleOrUdpDestinationsAreDeletedAtOnce() throws Exception {
    services.put("web", web().build());
    services.put("dns", Specs.service("dns", "10.96.0.53").udp().port(53).backend("10.244.1.5", 53, "node-a")
        .backend("10.244.2.5", 53, "node-b").build());
    sync(true);
    ipvs.connections(VirtualServerKey.of(VirtualServerKey.IPPROTO_UDP, InetAddress.getByName("10.96.0.53"), 53),
        InetAddress.getByName("10.244.2.5"), 53, new RealServer.Connections(0, 7, 0));
    clearOps();
    services.put("web", Specs.service("web", "10.96.0.10").backend("10.244.1.2", 8080, "node-a").build());
    services.put("dns", Specs.service("dns", "10.96.0.53").udp().port(53).backend("10.244.1.5", 53, "node-a").build());
    sync(false, "web", "dns");
    assertEquals(List.of("delete-dest UDP 10.96.0.53:53 -> 10.244.2.5:53", "delete-dest TCP 10.96.0.10:80 -> 10.244.2.2:8080"),
        ipvs.log.ops());
  }

  @Test
  void anEndpointThatComesBackWhileDrainingGetsItsWeightBack() throws Exception {
    services.put("web", web().build());
    sync(true);
    ipvs.connections(tcp("10.96.0.10", 80), InetAddress.getByName("10.244.2.2"), 8080, new RealServer.Connections(1, 0, 0));
    services.put("web", Specs.service("web", "10.96.0.10").backend("10.244.1.2", 8080, "node-a").build());
    sync(false, "web");
    clearOps();
    services.put("web", web().build());
    sync(false, "web");
    assertEquals(List.of("update-dest TCP 10.96.0.10:80 -> 10.244.2.2:8080 w=1"), ipvs.log.ops());
    assertEquals(Set.of(), dataplane.draining());
  }

  @Test
  void aRemovedServiceLosesItsVirtualServicesAndAddressLastAndOthersAreLeftAlone() throws Exception {
    VirtualServerKey foreign = tcp("172.16.5.5", 443);
    ipvs.addService(VirtualServer.of(foreign, "wlc", 0));
    services.put("web", web().build());
    services.put("np", Specs.service("np", "10.96.0.20").nodePort(30020).backend("10.244.2.3", 80, "node-b").build());
    sync(true);
    clearOps();
    services.remove("np");
    sync(false, "np");
    assertEquals(List.of("delete-service TCP 10.96.0.20:80", "delete-service TCP 192.168.0.10:30020"), ipvs.log.ops());
    assertEquals(List.of("delete-address 10.96.0.20"), link.log.ops());
    sync(true);
    assertTrue(ipvs.dump().contains("TCP 172.16.5.5:443 wlc"), "a service on an address that is not ours stays: " + ipvs.dump());
  }

  @Test
  void aFailedSyncKeepsWhatWorkedAndTheNextFullSyncCompletesIt() throws Exception {
    services.put("web", web().build());
    services.put("old", Specs.service("old", "10.96.0.12").backend("10.244.1.9", 80, "node-a").build());
    sync(true);
    services.remove("old");
    services.put("new", Specs.service("new", "10.96.0.13").backend("10.244.1.8", 80, "node-a").build());
    ipvs.log.failWhen(op -> op.startsWith("add-dest TCP 10.96.0.13"));
    clearOps();
    assertThrows(DataplaneException.class, () -> sync(false, "old", "new"));
    assertTrue(ipvs.dump().contains("TCP 10.96.0.12:80 rr"), "nothing is removed by a failed sync");
    assertTrue(link.addresses().contains(InetAddress.getByName("10.96.0.12")));

    ipvs.log.failWhen(op -> false);
    clearOps();
    sync(false); // the dataplane makes it full itself
    assertEquals(List.of("add-dest TCP 10.96.0.13:80 -> 10.244.1.8:80 w=1", "delete-service TCP 10.96.0.12:80"), ipvs.log.ops());
    assertFalse(link.addresses().contains(InetAddress.getByName("10.96.0.12")));
  }

  @Test
  void aFailedRestoreRemovesNothing() throws Exception {
    services.put("web", web().build());
    services.put("old", Specs.service("old", "10.96.0.12").backend("10.244.1.9", 80, "node-a").build());
    sync(true);
    services.remove("old");
    iptables.failWhen(p -> true);
    assertThrows(DataplaneException.class, () -> sync(false, "old"));
    assertTrue(ipvs.dump().contains("TCP 10.96.0.12:80 rr"));
    iptables.failWhen(p -> false);
    sync(false);
    assertFalse(ipvs.dump().contains("TCP 10.96.0.12:80 rr"));
  }

  @Test
  void fullSyncRepairsWhatSomeoneElseChanged() throws Exception {
    services.put("web", web().build());
    sync(true);
    VirtualServerKey k = tcp("10.96.0.10", 80);
    ipvs.deleteDestination(k, InetAddress.getByName("10.244.1.2"), 8080);
    ipvs.updateService(VirtualServer.of(k, "wlc", 0));
    link.deleteAddress(InetAddress.getByName("10.96.0.10"));
    clearOps();
    sync(true);
    assertEquals(List.of("update-service TCP 10.96.0.10:80 rr", "add-dest TCP 10.96.0.10:80 -> 10.244.1.2:8080 w=1"), ipvs.log.ops());
    assertEquals(List.of("add-address 10.96.0.10"), link.log.ops());
  }

  @Test
  void unknownSchedulerIsReportedAndTheDefaultProgrammed() throws Exception {
    services.put("bad", Specs.service("bad", "10.96.0.14").ipvsScheduler("fastest").backend("10.244.1.2", 80, "node-a").build());
    SyncResult r = sync(true);
    assertTrue(ipvs.dump().startsWith("TCP 10.96.0.14:80 rr\n"), ipvs.dump());
    assertTrue(r.serviceErrors().get(new ServiceKey("ns", "bad")).contains("unknown IPVS scheduler 'fastest'"), r.serviceErrors().toString());
    assertEquals(1, r.tablesProgrammed());
  }

  @Test
  void aSchedulerTheKernelLacksFallsBackToRoundRobinAndIsReported() throws Exception {
    ipvs.schedulers.remove("mh");
    services.put("mg", Specs.service("mg", "10.96.0.90").maglev(251).backend("10.244.1.11", 80, "node-a").build());
    SyncResult r = sync(true);
    assertTrue(ipvs.dump().startsWith("TCP 10.96.0.90:80 rr\n"), "no mh flags on rr: " + ipvs.dump());
    assertTrue(r.serviceErrors().get(new ServiceKey("ns", "mg")).contains("'mh' is not available in this kernel"), r.serviceErrors().toString());
    clearOps();
    r = sync(false);
    assertEquals(List.of(), ipvs.log.ops());
    assertTrue(r.serviceErrors().containsKey(new ServiceKey("ns", "mg")), "still reported while it lasts");
    ipvs.schedulers.add("mh"); // the module was installed: the next full sync uses it
    sync(true);
    assertTrue(ipvs.dump().startsWith("TCP 10.96.0.90:80 mh flags=0x18\n"), ipvs.dump());
  }

  @Test
  void maglevServiceIsProgrammedAsMhWithFlags() throws Exception {
    services.put("mg", Specs.service("mg", "10.96.0.90").maglev(251).backend("10.244.1.11", 80, "node-a").build());
    sync(true);
    assertTrue(ipvs.dump().startsWith("TCP 10.96.0.90:80 mh flags=0x18\n"), ipvs.dump());
  }

  @Test
  void cleanupRemovesEveryVirtualServiceTheLinkAndEveryTurnpikeChain() throws Exception {
    iptables.load(IpFamily.IPv4, "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n");
    services.put("web", web().build());
    services.put("lb", Specs.service("lb", "10.96.0.30").loadBalancer(30030, "198.51.100.30").sourceRanges("203.0.113.0/24")
        .backend("10.244.1.4", 80, "node-a").build());
    sync(true);
    ipvs.addService(VirtualServer.of(tcp("172.16.5.5", 443), "wlc", 0));
    dataplane.cleanup();
    assertEquals("", ipvs.dump());
    assertFalse(link.exists());
    String dump = iptables.dump(IpFamily.IPv4);
    assertFalse(dump.contains("TURNPIKE"), dump);
    assertTrue(dump.contains("-A INPUT -p tcp --dport 22 -j ACCEPT"), "other rules stay: " + dump);
  }

  @Test
  void aFullSyncFromIptablesSaveKeepsTheReservedEgressChainsAndStillDeletesStaleOnes() throws Exception {
    services.put("web", web().build());
    EgressSnat snat = EgressChains.applied(iptables, true);
    iptables.load(IpFamily.IPv4, EgressChains.STALE);
    List<String> egress = EgressChains.lines(iptables);
    assertTrue(egress.contains("-A TURNPIKE-EGRESS -m ipvs --ipvs -j RETURN"), egress.toString());

    IpvsDataplane backend = new IpvsDataplane(ipvs, link, sysctl, iptables, IpvsConfig.of(RULES), List.of(IpFamily.IPv4),
        clock, EgressSnatRules.CHAINS);
    backend.sync(new SyncRequest(state(services), Set.of(), true));
    backend.sync(new SyncRequest(state(services), Set.of(), true));
    assertEquals(egress, EgressChains.lines(iptables), "the egress chains, rules and hook are untouched");
    assertFalse(EgressChains.staleLeft(iptables), iptables.dump(IpFamily.IPv4));
    assertTrue(iptables.save(IpFamily.IPv4, "nat").contains(":TURNPIKE-SERVICES "), "the backend's own chains are there");

    backend.cleanup();
    assertEquals(egress, EgressChains.lines(iptables), "cleanup leaves them to their owner");
    assertEquals(egress.size(), iptables.dump(IpFamily.IPv4).lines().filter(l -> l.contains("TURNPIKE-")).count(),
        iptables.dump(IpFamily.IPv4));
    snat.cleanup();
    assertFalse(iptables.dump(IpFamily.IPv4).contains("TURNPIKE-"), iptables.dump(IpFamily.IPv4));
  }

  @Test
  void withoutTheReservationTheIpvsBackendWouldSilentlyRemoveEgressSnat() throws Exception {
    services.put("web", web().build());
    EgressChains.applied(iptables, true);
    // Control: an unhooked foreign jump and a chain it did not declare are both "stale" to it.
    new IpvsDataplane(ipvs, link, sysctl, iptables, IpvsConfig.of(RULES), List.of(IpFamily.IPv4), clock,
        ReservedChains.NONE).sync(new SyncRequest(state(services), Set.of(), true));
    assertEquals(List.of(), EgressChains.lines(iptables), iptables.dump(IpFamily.IPv4));
  }

  @Test
  void switchingFromIptablesModeRemovesItsChainsAndHooks() throws Exception {
    services.put("web", web().build());
    services.put("lb", Specs.service("lb", "10.96.0.30").loadBalancer(30030, "198.51.100.30").sourceRanges("203.0.113.0/24")
        .backend("10.244.1.4", 80, "node-a").build());
    new IptablesDataplane(iptables, (argv, stdin) -> new dev.turnpike.dataplane.iptables.Exec.Result(0, "", ""), RULES,
        List.of(IpFamily.IPv4)).sync(new SyncRequest(state(services), Set.of(), true));
    assertTrue(iptables.dump(IpFamily.IPv4).contains("TURNPIKE-SVC-"));
    sync(true);
    String dump = iptables.dump(IpFamily.IPv4);
    for (String gone : List.of("TURNPIKE-SVC-", "TURNPIKE-SEP-", "TURNPIKE-EXT-", "TURNPIKE-FWL-", "TURNPIKE-EXTERNAL-SERVICES",
        "-A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"turnpike service portals\" -j TURNPIKE-SERVICES")) {
      assertFalse(dump.contains(gone), gone + " left in\n" + dump);
    }
    assertEquals(dataplane.lastRulePayloads().size(), 1);
    // And a second IPVS sync from scratch (agent restart) reads the kernel and adds no duplicate hooks.
    IpvsDataplane restarted = new IpvsDataplane(ipvs, link, sysctl, iptables, IpvsConfig.of(RULES), List.of(IpFamily.IPv4), clock);
    restarted.sync(new SyncRequest(state(services), Set.of(), true));
    assertEquals(dump, iptables.dump(IpFamily.IPv4));
  }

  @Test
  void timeoutsAreSetOnlyWhenConfiguredAndDifferent() throws Exception {
    IpvsDataplane withTimeouts = new IpvsDataplane(ipvs, link, sysctl, iptables,
        IpvsConfig.of(RULES).withTimeouts(new dev.turnpike.dataplane.netlink.ipvs.IpvsTimeouts(0, 0, 30)), List.of(IpFamily.IPv4), clock);
    withTimeouts.sync(new SyncRequest(state(services), Set.of(), true));
    assertEquals(new dev.turnpike.dataplane.netlink.ipvs.IpvsTimeouts(900, 120, 30), ipvs.timeouts());
    clearOps();
    withTimeouts.sync(new SyncRequest(state(services), Set.of(), true));
    assertEquals(List.of(), ipvs.log.ops());
  }
}
