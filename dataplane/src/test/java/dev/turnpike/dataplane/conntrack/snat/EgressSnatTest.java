package dev.turnpike.dataplane.conntrack.snat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.dataplane.conntrack.ConntrackEntry;
import dev.turnpike.dataplane.conntrack.FakeConntrack;
import dev.turnpike.dataplane.conntrack.Tuple;
import dev.turnpike.dataplane.iptables.ChainNames;
import dev.turnpike.dataplane.iptables.ReservedChains;
import dev.turnpike.dataplane.testing.EgressChains;
import dev.turnpike.dataplane.testing.FakeIptables;
import dev.turnpike.egress.EgressSnatConfig;
import dev.turnpike.net.IpFamily;
import java.net.InetAddress;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class EgressSnatTest {
  static final long BIT = EgressSnatConfig.DEFAULT_CONNMARK;
  static final EgressSnatConfig BASE = EgressSnatConfig.defaults(List.of("10.244.0.0/16", "fd00:244::/56"));

  static InetAddress ip(String s) {
    try {
      return InetAddress.getByName(s);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A TCP flow pod:sport -> dst:80 whose replies go to replyDst (the SNAT address, or the pod). */
  static ConntrackEntry flow(String pod, int sport, String dst, String replyDst, long status, long mark) {
    return new ConntrackEntry(new Tuple(ip(pod), ip(dst), 6, sport, 80),
        new Tuple(ip(dst), ip(replyDst), 6, 80, sport), status, mark, 0, 100, OptionalLong.empty());
  }

  static ConntrackEntry natted(String pod, int sport, String dst, String to) {
    return flow(pod, sport, dst, to, ConntrackEntry.IPS_CONFIRMED | ConntrackEntry.IPS_SRC_NAT, BIT);
  }

  static ConntrackEntry plain(String pod, int sport, String dst) {
    return flow(pod, sport, dst, pod, ConntrackEntry.IPS_CONFIRMED, 0);
  }

  @Test
  void rulesForMasqueradeAndForAFixedAddress() {
    assertEquals("""
        *nat
        :TURNPIKE-EGRESS - [0:0]
        :TURNPIKE-EGRESS-POD - [0:0]
        -A TURNPIKE-EGRESS -m conntrack --ctstate DNAT -j RETURN
        -A TURNPIKE-EGRESS -s 10.244.0.0/16 -j TURNPIKE-EGRESS-POD
        -A TURNPIKE-EGRESS-POD -d 10.244.0.0/16 -j RETURN
        -A TURNPIKE-EGRESS-POD -d 10.0.0.0/8 -j RETURN
        -A TURNPIKE-EGRESS-POD -d 172.16.0.0/12 -j RETURN
        -A TURNPIKE-EGRESS-POD -d 192.168.0.0/16 -j RETURN
        -A TURNPIKE-EGRESS-POD -d 169.254.0.0/16 -j RETURN
        -A TURNPIKE-EGRESS-POD -j CONNMARK --set-xmark 0x100000/0x100000
        -A TURNPIKE-EGRESS-POD -j MASQUERADE --random-fully
        COMMIT
        """, EgressSnatRules.render(BASE, IpFamily.IPv4));
    String v6 = EgressSnatRules.render(BASE.withSnatAddress("2001:db8::1"), IpFamily.IPv6);
    assertTrue(v6.contains("-A TURNPIKE-EGRESS -s fd00:244::/56 -j TURNPIKE-EGRESS-POD\n"), v6);
    assertTrue(v6.contains("-A TURNPIKE-EGRESS-POD -d fc00::/7 -j RETURN\n"), v6);
    assertTrue(v6.contains("-A TURNPIKE-EGRESS-POD -j SNAT --to-source 2001:db8::1 --random-fully\n"), v6);
    assertFalse(v6.contains("10.0.0.0/8"));
  }

  @Test
  void validationListsEveryProblem() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> EgressSnatConfig.of(List.of("10.244.0.1/16", "nonsense"), List.of("300.0.0.0/8"), true,
            List.of("10.0.0.1", "10.0.0.2", "1.2.3.0/24"), 0x3));
    String m = e.getMessage();
    assertTrue(m.contains("clusterCidrs: \"10.244.0.1/16\" has host bits set (did you mean 10.244.0.0/16?)"), m);
    assertTrue(m.contains("clusterCidrs: \"nonsense\" is not a CIDR"), m);
    assertTrue(m.contains("nonMasqueradeCidrs: \"300.0.0.0/8\" is not a CIDR"), m);
    assertTrue(m.contains("snatAddress: more than one IPv4 address (10.0.0.2)"), m);
    assertTrue(m.contains("snatAddress: \"1.2.3.0/24\" is not an IP address"), m);
    assertTrue(m.contains("connmark: 0x3 must be a single bit"), m);
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> EgressSnatConfig.of(List.of(), List.of(), true, List.of(), BIT)).getMessage()
        .contains("at least one pod CIDR"));
  }

  @Test
  void translationDecision() {
    var p = dev.turnpike.net.IpAddresses.parse("10.244.1.2").orElseThrow();
    assertTrue(BASE.translates(p, dev.turnpike.net.IpAddresses.parse("203.0.113.9").orElseThrow()));
    assertFalse(BASE.translates(p, dev.turnpike.net.IpAddresses.parse("10.9.9.9").orElseThrow()));
    assertFalse(BASE.translates(p, dev.turnpike.net.IpAddresses.parse("169.254.169.254").orElseThrow()));
    assertFalse(BASE.translates(dev.turnpike.net.IpAddresses.parse("192.0.2.7").orElseThrow(),
        dev.turnpike.net.IpAddresses.parse("203.0.113.9").orElseThrow()));
  }

  @Test
  void applyIsIdempotentAndInsertsTheHookOnce() throws Exception {
    FakeIptables ipt = new FakeIptables();
    FakeConntrack ct = new FakeConntrack();
    EgressSnat snat = new EgressSnat(ipt, ct, List.of(IpFamily.IPv4));
    assertEquals(0, snat.apply(BASE).deletedEntries());
    String first = ipt.dump(IpFamily.IPv4);
    assertEquals(0, snat.apply(BASE).deletedEntries());
    assertEquals(first, ipt.dump(IpFamily.IPv4));
    assertEquals(1, first.lines().filter(l -> l.startsWith("-A POSTROUTING")).count(), first);
    snat.cleanup();
    assertFalse(ipt.dump(IpFamily.IPv4).contains("TURNPIKE-EGRESS"), ipt.dump(IpFamily.IPv4));
  }

  @Test
  void chainNamesAreTurnpikeChainsReservedFromTheBackends() {
    for (String c : List.of(EgressSnatRules.CHAIN, EgressSnatRules.POD_CHAIN)) {
      assertTrue(c.startsWith(ChainNames.PREFIX) && c.length() <= 28, c);
      assertTrue(EgressSnatRules.CHAINS.contains("nat", c), c);
    }
    assertFalse(EgressSnatRules.CHAINS.contains("filter", EgressSnatRules.CHAIN));
    assertEquals(EgressSnatRules.CHAINS, dev.turnpike.dataplane.agent.DefaultDataplaneFactory.RESERVED,
        "the agent's backends are told");
    assertThrows(IllegalArgumentException.class, () -> ReservedChains.of("nat", "TP-EGRESS"));
    assertThrows(IllegalArgumentException.class, () -> ReservedChains.of("nat", "TURNPIKE-" + "X".repeat(20)));
  }

  @Test
  void applyReplacesTheChainsOfVersionsBeforeTheRenameAndCleanupRemovesBoth() throws Exception {
    FakeIptables ipt = new FakeIptables();
    ipt.load(IpFamily.IPv4, "*nat\n-A POSTROUTING -s 10.99.0.0/16 -j MASQUERADE\nCOMMIT\n");
    String foreign = ipt.dump(IpFamily.IPv4);
    ipt.load(IpFamily.IPv4, EgressChains.LEGACY);
    EgressSnat snat = new EgressSnat(ipt, new FakeConntrack(), List.of(IpFamily.IPv4));
    snat.apply(BASE);
    String dump = ipt.dump(IpFamily.IPv4);
    assertFalse(dump.contains("TP-EGRESS"), "an upgrade leaves nothing behind: " + dump);
    List<String> postrouting = dump.lines().filter(l -> l.startsWith("-A POSTROUTING")).toList();
    assertEquals(List.of(EgressSnatRules.HOOK, "-A POSTROUTING -s 10.99.0.0/16 -j MASQUERADE"), postrouting);
    snat.apply(BASE);
    assertEquals(dump, ipt.dump(IpFamily.IPv4), "idempotent");

    // Leftovers of both generations (legacy chains put back after the upgrade): cleanup takes all.
    ipt.load(IpFamily.IPv4, EgressChains.LEGACY);
    snat.cleanup();
    assertEquals(foreign, ipt.dump(IpFamily.IPv4));
    // Only legacy ones, and then nothing at all: cleanup restores nothing.
    ipt.load(IpFamily.IPv4, EgressChains.LEGACY);
    snat.cleanup();
    assertEquals(foreign, ipt.dump(IpFamily.IPv4));
    int restores = ipt.restores();
    snat.cleanup();
    assertEquals(restores, ipt.restores(), "nothing to remove, nothing restored");
  }

  @Test
  void aNewNonMasqueradeCidrDeletesOnlyTheFlowsItUnTranslates() throws Exception {
    ConntrackEntry toNowPrivate = natted("10.244.1.2", 1000, "100.64.0.9", "192.0.2.10");
    ConntrackEntry toInternet = natted("10.244.1.2", 1001, "203.0.113.9", "192.0.2.10");
    ConntrackEntry service = new ConntrackEntry(new Tuple(ip("10.244.1.2"), ip("10.96.0.1"), 6, 1002, 443),
        new Tuple(ip("10.244.5.5"), ip("10.244.1.2"), 6, 6443, 1002),
        ConntrackEntry.IPS_CONFIRMED | ConntrackEntry.IPS_DST_NAT, 0, 0, 100, OptionalLong.empty());
    ConntrackEntry fromNode = plain("192.0.2.10", 1003, "100.64.0.9");
    FakeConntrack ct = new FakeConntrack().add(toNowPrivate, toInternet, service, fromNode);
    EgressSnat snat = new EgressSnat(new FakeIptables(), ct, List.of(IpFamily.IPv4));
    assertEquals(0, snat.apply(BASE).deletedEntries(), "consistent with the first config");
    EgressSnatConfig next = BASE.withNonMasquerade(List.of("10.0.0.0/8", "172.16.0.0/12",
        "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"));
    assertEquals(1, snat.apply(next).deletedEntries());
    assertEquals(List.of(toInternet, service, fromNode), ct.entries());
  }

  @Test
  void aRemovedNonMasqueradeCidrDeletesTheUnTranslatedFlowsToIt() {
    EgressSnatConfig withCgnat = BASE.withNonMasquerade(List.of("100.64.0.0/10"));
    ConntrackEntry unNated = plain("10.244.1.2", 1000, "100.64.0.9");
    ConntrackEntry otherNat = flow("10.244.1.2", 1001, "100.64.0.9", "192.0.2.99",
        ConntrackEntry.IPS_SRC_NAT, 0); // translated by something else: not ours to judge
    assertEquals(List.of(unNated), EgressSnat.affected(List.of(unNated, otherNat), withCgnat,
        withCgnat.withNonMasquerade(List.of())));
  }

  @Test
  void snatAddressChanges() {
    EgressSnatConfig fixed1 = BASE.withSnatAddress("192.0.2.10");
    EgressSnatConfig fixed2 = BASE.withSnatAddress("192.0.2.11");
    ConntrackEntry via1 = natted("10.244.1.2", 1000, "203.0.113.9", "192.0.2.10");
    ConntrackEntry via2 = natted("10.244.1.2", 1001, "203.0.113.9", "192.0.2.11");
    ConntrackEntry viaNodeIp = natted("10.244.1.2", 1002, "203.0.113.9", "192.0.2.50");
    List<ConntrackEntry> all = List.of(via1, via2, viaNodeIp);
    assertEquals(List.of(via1, viaNodeIp), EgressSnat.affected(all, fixed1, fixed2));
    // fixed -> MASQUERADE: the flows on the old fixed address go, masqueraded ones stay
    assertEquals(List.of(via1), EgressSnat.affected(all, fixed1, BASE));
    // unchanged config: nothing
    assertEquals(List.of(), EgressSnat.affected(List.of(via1), fixed1, fixed1));
  }

  @Test
  void ipvsModeLeavesIpvsConnectionsToTheServicePath() throws Exception {
    String ipvs = EgressSnatRules.render(BASE, IpFamily.IPv4, true);
    assertTrue(ipvs.contains("""
        -A TURNPIKE-EGRESS -m conntrack --ctstate DNAT -j RETURN
        -A TURNPIKE-EGRESS -m ipvs --ipvs -j RETURN
        -A TURNPIKE-EGRESS -s 10.244.0.0/16 -j TURNPIKE-EGRESS-POD
        """), ipvs);
    assertFalse(EgressSnatRules.render(BASE, IpFamily.IPv4).contains("-m ipvs"), "xt_ipvs only in IPVS mode");
    FakeIptables ipt = new FakeIptables();
    new EgressSnat(ipt, new FakeConntrack(), List.of(IpFamily.IPv4), true).apply(BASE);
    assertTrue(ipt.dump(IpFamily.IPv4).contains("-A TURNPIKE-EGRESS -m ipvs --ipvs -j RETURN"), ipt.dump(IpFamily.IPv4));

    // An IPVS connection: reply tuple rewritten to the real server, no IPS_DST_NAT, and the
    // masquerade may have marked it. Never a candidate, whatever the change.
    ConntrackEntry viaIpvs = new ConntrackEntry(new Tuple(ip("10.244.1.2"), ip("10.96.0.1"), 6, 1000, 443),
        new Tuple(ip("203.0.113.9"), ip("192.0.2.10"), 6, 443, 1000),
        ConntrackEntry.IPS_CONFIRMED | ConntrackEntry.IPS_SRC_NAT, BIT, 0, 100, OptionalLong.empty());
    ConntrackEntry egress = natted("10.244.1.2", 1001, "203.0.113.9", "192.0.2.10");
    EgressSnatConfig allPrivate = BASE.withNonMasquerade(List.of("0.0.0.0/0"));
    assertEquals(List.of(egress), EgressSnat.affected(List.of(viaIpvs, egress), BASE, allPrivate));
  }
}
