package dev.turnpike.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.Algorithm;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OperatorOptionsTest {
  @Test
  void defaultsAreTheDocumentedOnes() {
    OperatorOptions o = OperatorOptions.parse(List.of(), Map.of());
    assertEquals(Algorithm.RANDOM, o.defaults().algorithm());
    assertEquals(4093, o.defaults().maglevTableSize());
    assertEquals(0x5475726e70696b65L, o.defaults().maglevSeed());
    assertEquals("", o.defaults().proxyName());
    assertEquals(8080, o.httpPort());
    assertTrue(o.leaderElection());
    assertEquals("turnpike-operator", o.leaseName());
    assertNull(o.leaseNamespace());
    assertNull(o.identity());
    assertNull(o.egressSnatNamespace(), "the client's namespace");
    assertEquals("turnpike-egress-snat", o.egressSnatName());
  }

  @Test
  void flagsBeatEnvironmentWhichBeatsDefaults() {
    Map<String, String> env = Map.of(
        "TURNPIKE_DEFAULT_ALGORITHM", "maglev",
        "TURNPIKE_MAGLEV_TABLE_SIZE", "251",
        "POD_NAMESPACE", "kube-system",
        "POD_NAME", "turnpike-0",
        "HOSTNAME", "ignored");
    OperatorOptions o = OperatorOptions.parse(
        List.of("--maglev-table-size=509", "--maglev-seed", "00000000000000ff", "--proxy-name=turnpike", "--leader-election=false"), env);
    assertEquals(Algorithm.MAGLEV, o.defaults().algorithm());
    assertEquals(509, o.defaults().maglevTableSize());
    assertEquals(255L, o.defaults().maglevSeed());
    assertEquals("turnpike", o.defaults().proxyName());
    assertFalse(o.leaderElection());
    assertEquals("kube-system", o.leaseNamespace());
    assertEquals("turnpike-0", o.identity());
    assertEquals("kube-system", o.egressSnatNamespace(), "$POD_NAMESPACE");
    OperatorOptions other = OperatorOptions.parse(List.of("--egress-snat-configmap=net/masq"), env);
    assertEquals("net", other.egressSnatNamespace());
    assertEquals("masq", other.egressSnatName());
    assertNull(OperatorOptions.parse(List.of("--egress-snat-configmap="), env).egressSnatName(), "empty: not checked");
  }

  @Test
  void badValuesAreRejectedWithTheFlagName() {
    for (List<String> args : List.of(
        List.of("--maglev-table-size=4000"),
        List.of("--maglev-seed=ABC"),
        List.of("--default-algorithm=roundrobin"),
        List.of("--leader-election=yes"),
        List.of("--http-port=70000"),
        List.of("--no-such-flag=1"),
        List.of("--proxy-name"),
        List.of("--egress-snat-configmap=a/b/c"))) {
      var e = assertThrows(IllegalArgumentException.class, () -> OperatorOptions.parse(args, Map.of()), args.toString());
      String flag = args.get(0).substring(2).split("=")[0];
      assertTrue(e.getMessage().contains(flag), e.getMessage());
    }
  }
}
