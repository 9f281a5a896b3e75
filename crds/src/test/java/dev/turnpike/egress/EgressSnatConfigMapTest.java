package dev.turnpike.egress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.net.IpFamily;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EgressSnatConfigMapTest {
  @Test
  void defaultsAndPerNodeAddresses() {
    Map<String, String> data = Map.of(
        "clusterCIDRs", "10.244.0.0/16, fd00:244::/56",
        "snatAddresses", "# fixed egress addresses\nnode-a=203.0.113.5,2001:db8::5\n*=203.0.113.1\n");
    EgressSnatConfig a = EgressSnatConfigMap.parse(data, "node-a");
    assertEquals(EgressSnatConfig.defaults(List.of("10.244.0.0/16", "fd00:244::/56"))
        .withSnatAddress("203.0.113.5", "2001:db8::5"), a);
    EgressSnatConfig b = EgressSnatConfigMap.parse(data, "node-b");
    assertEquals("203.0.113.1", b.snatAddress(IpFamily.IPv4).orElseThrow().text());
    assertTrue(b.snatAddress(IpFamily.IPv6).isEmpty());
    assertTrue(b.randomFully());
  }

  @Test
  void masqLinkLocalAndExplicitList() {
    EgressSnatConfig c = EgressSnatConfigMap.parse(Map.of("clusterCIDRs", "10.244.0.0/16",
        "masqLinkLocal", "true", "randomFully", "false", "connmark", "0x200000"), "n");
    assertTrue(c.nonMasqueradeCidrs().stream().noneMatch(x -> x.text().equals("169.254.0.0/16")));
    assertEquals(0x200000, c.connmark());
    EgressSnatConfig d = EgressSnatConfigMap.parse(Map.of("clusterCIDRs", "10.244.0.0/16",
        "nonMasqueradeCIDRs", "100.64.0.0/10"), "n");
    assertEquals(List.of("100.64.0.0/10"), d.nonMasqueradeCidrs().stream().map(x -> x.text()).toList());
  }

  @Test
  void everyProblemAtOnce() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> EgressSnatConfigMap.parse(Map.of("clusterCIDR", "10.244.0.0/16", "randomFully", "yes",
            "snatAddresses", "oops", "connmark", "big"), "n"));
    String m = e.getMessage();
    assertTrue(m.startsWith("ConfigMap turnpike-egress-snat: "), m);
    assertTrue(m.contains("unknown key \"clusterCIDR\""), m);
    assertTrue(m.contains("randomFully: \"yes\" is not true or false"), m);
    assertTrue(m.contains("snatAddresses: \"oops\" is not NODE=ADDRESS[,ADDRESS]"), m);
    assertTrue(m.contains("connmark: \"big\" is not a number"), m);
    assertTrue(m.contains("clusterCidrs: at least one pod CIDR is needed"), m);
  }

  @Test
  void everySnatLineIsCheckedNotOnlyThisNodes() {
    Map<String, String> data = Map.of("clusterCIDRs", "10.244.0.0/16",
        "snatAddresses", "node-a=203.0.113.5\nnode-b=203.0.113.300\nnode-c=203.0.113.7,203.0.113.8\nnode-a=203.0.113.9");
    String m = assertThrows(IllegalArgumentException.class, () -> EgressSnatConfigMap.parse(data, "node-a")).getMessage();
    assertEquals("ConfigMap turnpike-egress-snat: snatAddresses: node-b: \"203.0.113.300\" is not an IP address; "
        + "snatAddresses: node-c: more than one IPv4 address; snatAddresses: node-a: more than one line", m);
    assertEquals(List.of(m), EgressSnatConfigMap.problems(data));
    assertEquals(List.of(), EgressSnatConfigMap.problems(Map.of("clusterCIDRs", "10.244.0.0/16")));
  }
}
