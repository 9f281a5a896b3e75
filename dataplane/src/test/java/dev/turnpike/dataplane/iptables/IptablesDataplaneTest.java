package dev.turnpike.dataplane.iptables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.dataplane.DataplaneException;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.dataplane.SyncResult;
import dev.turnpike.dataplane.conntrack.snat.EgressSnat;
import dev.turnpike.dataplane.conntrack.snat.EgressSnatRules;
import dev.turnpike.dataplane.testing.EgressChains;
import dev.turnpike.dataplane.testing.FakeIptables;
import dev.turnpike.dataplane.testing.PacketTracer;
import dev.turnpike.dataplane.testing.PacketTracer.Packet;
import dev.turnpike.net.IpFamily;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class IptablesDataplaneTest {
  private static final IpFamily V4 = IpFamily.IPv4;
  private final FakeIptables fake = new FakeIptables();
  private final List<List<String>> commands = new ArrayList<>();
  private final IptablesDataplane dp =
      new IptablesDataplane(fake, (argv, in) -> {
        commands.add(argv);
        return new Exec.Result(0, "", "");
      }, Scenario.config(), List.of(V4));

  private static final String FOREIGN =
      """
      *filter
      :OTHER - [0:0]
      -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
      -A OTHER -j RETURN
      COMMIT
      *nat
      -A POSTROUTING -s 10.99.0.0/16 -j MASQUERADE
      COMMIT
      """;

  private SyncResult sync(Map<String, ForwardingTableSpec> services, boolean full, String... changed) throws DataplaneException {
    Set<ServiceKey> keys = new java.util.HashSet<>();
    for (String c : changed) {
      keys.add(new ServiceKey("ns", c));
    }
    return dp.sync(new SyncRequest(Scenario.state(services), keys, full));
  }

  /** What a fresh node would hold after one full sync of the same state. */
  private static String freshFullDump(Map<String, ForwardingTableSpec> services) throws Exception {
    FakeIptables f = new FakeIptables();
    new IptablesDataplane(f, (a, i) -> new Exec.Result(0, "", ""), Scenario.config(), List.of(V4))
        .sync(new SyncRequest(Scenario.state(services), Set.of(), true));
    return f.dump(V4);
  }

  @Test
  void partialSyncWritesOnlyChangedServicesAndEndsInTheFullSyncState() throws Exception {
    Map<String, ForwardingTableSpec> services = new LinkedHashMap<>(Scenario.services());
    sync(services, true);
    services.put("web", Specs.service("web", "10.96.0.10").backend("10.244.1.2", 8080, "node-a").build());
    services.remove("aff");
    services.put("new", Specs.service("new", "10.96.0.120").backend("10.244.2.20", 80, "node-b").build());
    sync(services, false, "web", "aff", "new");
    String payload = dp.lastPayloads().get(V4);
    assertTrue(payload.contains("ns/web:p -> 10.244.1.2:8080"), payload);
    assertFalse(payload.contains("ns/lb:p loadbalancer IP\" -s"), "unchanged Service chains are not rewritten");
    assertTrue(payload.contains("10.96.0.120/32"), "the added Service's dispatch rule is written");
    assertFalse(payload.contains("TURNPIKE-MARK-MASQ -j MARK"), "unchanged shared chains are not rewritten");
    assertTrue(payload.contains("-X TURNPIKE-SVC-"), "the removed Service's chains are deleted");
    assertEquals(freshFullDump(services), fake.dump(V4));

    // An endpoint change touches the Service's own chains only: no shared chain is written.
    services.put("web", Specs.service("web", "10.96.0.10").backend("10.244.1.3", 8080, "node-a").build());
    sync(services, false, "web");
    payload = dp.lastPayloads().get(V4);
    assertTrue(payload.contains("10.244.1.3:8080"), payload);
    assertFalse(payload.contains("-A TURNPIKE-SERVICES") || payload.contains("-A TURNPIKE-DST-") || payload.contains("*filter\n:"),
        "no dispatch or filter chain is rewritten:\n" + payload);
    assertEquals(freshFullDump(services), fake.dump(V4));
  }

  @Test
  void failedRestoreKeepsTheRulesAndTheNextSyncIsFull() throws Exception {
    Map<String, ForwardingTableSpec> services = new LinkedHashMap<>(Scenario.services());
    sync(services, true);
    String before = fake.dump(V4);
    fake.failWhen(p -> true);
    services.remove("web");
    assertThrows(DataplaneException.class, () -> sync(services, false, "web"));
    assertEquals(before, fake.dump(V4));
    fake.failWhen(p -> false);
    sync(services, false, "np");
    assertTrue(dp.lastPayloads().get(V4).contains("ns/lb:p loadbalancer IP\" -s"), "after a failure the sync is full");
    assertEquals(freshFullDump(services), fake.dump(V4));
  }

  @Test
  void hooksAreInsertedOnceAndForeignRulesSurvive() throws Exception {
    fake.load(V4, FOREIGN);
    sync(Scenario.services(), true);
    sync(Scenario.services(), true);
    String filter = fake.save(V4, "filter");
    assertEquals(1, count(filter, "-A FORWARD .*-j TURNPIKE-FORWARD"));
    assertEquals(1, count(fake.save(V4, "nat"), "-A PREROUTING .*-j TURNPIKE-SERVICES"));
    assertTrue(filter.contains("-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"));
    assertTrue(fake.save(V4, "nat").contains("-A POSTROUTING -s 10.99.0.0/16 -j MASQUERADE"));
    assertTrue(commands.contains(List.of("sysctl", "-q", "-w", "net.ipv4.conf.all.route_localnet=1")));
  }

  @Test
  void staleChainsOfAnEarlierProcessAreDeletedOnFullSync() throws Exception {
    fake.load(V4, "*nat\n:TURNPIKE-SVC-AAAAAAAAAAAAAAA - [0:0]\n:TURNPIKE-SEP-AAAAAAAAAAAAAAA - [0:0]\n"
        + "-A TURNPIKE-SVC-AAAAAAAAAAAAAAA -j TURNPIKE-SEP-AAAAAAAAAAAAAAA\n-A TURNPIKE-SEP-AAAAAAAAAAAAAAA -j DNAT --to-destination 10.1.1.1:80\nCOMMIT\n");
    sync(Scenario.services(), true);
    assertFalse(fake.dump(V4).contains("AAAAAAAAAAAAAAA"));
  }

  @Test
  void aStaleChainThatAForeignRuleStillJumpsToIsUnhookedAndDeleted() throws Exception {
    // An earlier version's hook into a chain this version no longer writes: deleting the chain
    // alone is refused ("still referenced"), which would fail every sync.
    fake.load(V4, "*nat\n:TURNPIKE-OLD-HOOK - [0:0]\n-A TURNPIKE-OLD-HOOK -j RETURN\n"
        + "-A PREROUTING -m comment --comment \"old turnpike hook\" -j TURNPIKE-OLD-HOOK\n"
        + "-A PREROUTING -s 10.98.0.0/16 -j ACCEPT\nCOMMIT\n");
    sync(Scenario.services(), true);
    String nat = fake.save(V4, "nat");
    assertFalse(nat.contains("TURNPIKE-OLD-HOOK"), nat);
    assertTrue(nat.contains("-A PREROUTING -s 10.98.0.0/16 -j ACCEPT"), nat);
    assertEquals(1, count(nat, "-A PREROUTING .*-j TURNPIKE-SERVICES"));
  }

  @Test
  void aFullSyncFromIptablesSaveKeepsTheReservedEgressChainsAndStillDeletesStaleOnes() throws Exception {
    EgressSnat snat = EgressChains.applied(fake, false);
    fake.load(V4, EgressChains.STALE);
    List<String> egress = EgressChains.lines(fake);
    assertEquals(1, egress.stream().filter(l -> l.startsWith("-A POSTROUTING")).count(), egress.toString());

    // A fresh backend (an agent restart): its first sync reads iptables-save.
    IptablesDataplane backend = new IptablesDataplane(fake, (a, i) -> new Exec.Result(0, "", ""), Scenario.config(),
        List.of(V4), EgressSnatRules.CHAINS);
    backend.sync(new SyncRequest(Scenario.state(Scenario.services()), Set.of(), true));
    backend.sync(new SyncRequest(Scenario.state(Scenario.services()), Set.of(), true));
    assertEquals(egress, EgressChains.lines(fake), "the egress chains, rules and hook are untouched");
    assertFalse(EgressChains.staleLeft(fake), fake.dump(V4));
    assertTrue(fake.save(V4, "nat").contains(":TURNPIKE-SERVICES "), "the backend's own chains are there");

    // Its cleanup leaves them to their owner, whose cleanup removes them.
    backend.cleanup();
    assertEquals(egress, EgressChains.lines(fake));
    assertEquals(egress.size(), fake.dump(V4).lines().filter(l -> l.contains("TURNPIKE-")).count(),
        "only egress SNAT's lines mention TURNPIKE-: " + fake.dump(V4));
    snat.cleanup();
    assertFalse(fake.dump(V4).contains("TURNPIKE-"), fake.dump(V4));
  }

  @Test
  void withoutTheReservationTheBackendWouldDeleteTheEgressChains() throws Exception {
    EgressChains.applied(fake, false);
    // Control: a backend that does not know the egress chains takes them for stale chains of an
    // earlier process and removes them, with POSTROUTING's jump to them.
    IptablesDataplane unaware = new IptablesDataplane(fake, (a, i) -> new Exec.Result(0, "", ""), Scenario.config(),
        List.of(V4), ReservedChains.NONE);
    unaware.sync(new SyncRequest(Scenario.state(Scenario.services()), Set.of(), true));
    assertEquals(List.of(), EgressChains.lines(fake));
  }

  @Test
  void cleanupLeavesTheTablesExactlyAsBefore() throws Exception {
    fake.load(V4, FOREIGN);
    String before = fake.dump(V4);
    sync(Scenario.services(), true);
    dp.cleanup();
    assertEquals(before, fake.dump(V4));
    sync(Scenario.services(), false);
    assertEquals(freshFullDump(Scenario.services()).length() > 0, fake.dump(V4).contains("TURNPIKE-SERVICES"), "starting again rebuilds");
  }

  @Test
  void maglevTablesAboveTheLimitAreRefusedAndTheRestIsProgrammed() throws Exception {
    Map<String, ForwardingTableSpec> services = new LinkedHashMap<>(Scenario.services());
    services.put("huge", Specs.service("huge", "10.96.0.200").maglev(32749).backend("10.244.1.30", 80, "node-a").build());
    SyncResult r = sync(services, true);
    String msg = r.serviceErrors().get(new ServiceKey("ns", "huge"));
    assertTrue(msg != null && msg.contains("32749") && msg.contains("16381"), String.valueOf(r.serviceErrors()));
    assertFalse(fake.dump(V4).contains("10.96.0.200"));
    assertEquals(Scenario.services().size(), r.tablesProgrammed());
  }

  @Test
  void maglev16381IsCarriedWithSqrtShapedGroups() throws Exception {
    Map<String, ForwardingTableSpec> services = new LinkedHashMap<>();
    Specs s = Specs.service("big", "10.96.0.201").maglev(16381);
    for (int i = 0; i < 100; i++) {
      s.backend("10.244." + (i / 50) + "." + (i % 50 + 1), 80, "node-" + (i % 3));
    }
    services.put("big", s.build());
    SyncResult r = sync(services, true);
    assertTrue(r.serviceErrors().isEmpty());
    String nat = fake.save(V4, "nat");
    assertEquals(128, count(nat, ":TURNPIKE-MGD-"));
    assertEquals(16381, count(nat, "-A TURNPIKE-MGD-\\S+ -m mark --mark 0x[0-9a-f]+ -g TURNPIKE-SEP-"));
    PacketTracer t = new PacketTracer(fake, V4, List.of(Scenario.NODE_IP));
    assertEquals("10.244.0.1:80".length() > 0, t.trace(Packet.tcp("10.244.9.9", "10.96.0.201", 80).withHmark(16380)).output().endsWith(":80"));
  }

  @Test
  void maglevWithLocalPolicyRebuildsOverTheLocalSubsetDeterministically() throws Exception {
    Map<String, ForwardingTableSpec> services = new LinkedHashMap<>();
    services.put("mgl", Specs.service("mgl", "10.96.0.202").maglev(251).loadBalancer(30202, "198.51.100.202").etpLocal(32202)
        .backend("10.244.1.40", 80, "node-a").backend("10.244.1.41", 80, "node-a").backend("10.244.2.40", 80, "node-b").build());
    sync(services, true);
    String first = fake.dump(V4);
    PacketTracer t = new PacketTracer(fake, V4, List.of(Scenario.NODE_IP));
    for (int slot = 0; slot < 251; slot++) {
      String out = t.trace(Packet.tcp("203.0.113.9", "198.51.100.202", 80).withHmark(slot)).output();
      assertTrue(out.equals("10.244.1.40:80") || out.equals("10.244.1.41:80"), "slot " + slot + " -> " + out);
    }
    sync(services, true);
    assertEquals(first, fake.dump(V4));
  }

  @Test
  void destinationTreeKeepsEveryChainShortAndFindsEveryService() throws Exception {
    Map<String, ForwardingTableSpec> services = new LinkedHashMap<>();
    for (int i = 0; i < 2000; i++) {
      services.put("s" + i, Specs.service("s" + i, "10.96." + (i / 250) + "." + (i % 250 + 1)).backend("10.244.5." + (i % 200 + 1), 80, "node-b").build());
    }
    sync(services, true);
    Map<String, Integer> perChain = new LinkedHashMap<>();
    for (String line : fake.save(V4, "nat").split("\n")) {
      if (line.startsWith("-A TURNPIKE-SERVICES ") || line.startsWith("-A TURNPIKE-DST-")) {
        perChain.merge(line.split(" ")[1], 1, Integer::sum);
      }
    }
    int longest = perChain.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    assertTrue(longest <= 17, "longest dispatch chain " + longest + " rules");
    PacketTracer t = new PacketTracer(fake, V4, List.of(Scenario.NODE_IP));
    for (int i = 0; i < 2000; i += 97) {
      assertEquals("10.244.5." + (i % 200 + 1) + ":80", t.trace(Packet.tcp("10.244.9.9", "10.96." + (i / 250) + "." + (i % 250 + 1), 80)).output());
    }
  }

  @Test
  void largeClusterModeDropsCommentsAndCrossingTheThresholdRewritesEverything() throws Exception {
    Map<String, ForwardingTableSpec> services = new LinkedHashMap<>();
    for (int i = 0; i < 101; i++) {
      Specs s = Specs.service("s" + i, "10.96.1." + (i + 1));
      for (int j = 0; j < 10; j++) {
        s.backend("10.244." + (i % 200) + "." + (j + 1), 80, "node-b");
      }
      services.put("s" + i, s.build());
    }
    sync(services, true);
    assertFalse(fake.save(V4, "nat").contains("-A TURNPIKE-SEP-") && fake.save(V4, "nat").matches("(?s).*-A TURNPIKE-SEP-\\S+ -m comment.*"));
    services.remove("s100"); // 1000 endpoints: back to commented rules, for every Service
    sync(services, false, "s100");
    assertEquals(freshFullDump(services), fake.dump(V4));
    assertTrue(fake.save(V4, "nat").contains("-m comment --comment ns/s7:p"));
  }

  @Test
  void ipv6IsRenderedForIp6tables() throws Exception {
    FakeIptables f = new FakeIptables();
    IptablesDataplane d = new IptablesDataplane(f, (a, i) -> new Exec.Result(0, "", ""), Scenario.config(), List.of(IpFamily.IPv4, IpFamily.IPv6));
    Map<String, ForwardingTableSpec> services = Map.of("v6", Specs.service("v6", "fd00:96::10").backend("fd00:244::2", 8080, "node-b").build());
    SyncResult r = d.sync(new SyncRequest(Scenario.state(services), Set.of(), true));
    assertEquals(1, r.tablesProgrammed());
    PacketTracer t = new PacketTracer(f, IpFamily.IPv6, List.of("fd00::10"));
    assertEquals("[fd00:244::2]:8080", t.trace(Packet.tcp("fd00:244::9", "fd00:96::10", 80)).output());
    assertFalse(f.save(IpFamily.IPv4, "nat").contains("fd00"));
  }

  private static int count(String text, String regex) {
    Matcher m = Pattern.compile("(?m)^" + regex).matcher(text);
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }
}
