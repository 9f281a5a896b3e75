package dev.turnpike.dataplane.testing;

import dev.turnpike.dataplane.conntrack.ConntrackException;
import dev.turnpike.dataplane.conntrack.FakeConntrack;
import dev.turnpike.dataplane.conntrack.snat.EgressSnat;
import dev.turnpike.dataplane.iptables.Iptables;
import dev.turnpike.dataplane.iptables.IptablesException;
import dev.turnpike.egress.EgressSnatConfig;
import dev.turnpike.net.IpFamily;
import java.util.List;

/**
 * Egress SNAT's chains beside a Service backend, for the tests that prove the backends leave them
 * alone: the chains as the current version writes them, as versions before the rename wrote them,
 * and a stale Turnpike chain that a backend must still delete.
 */
public final class EgressChains {
  /** What a version before the rename left: hook, {@code TP-EGRESS} and {@code TP-EGRESS-POD}. */
  public static final String LEGACY = """
      *nat
      :TP-EGRESS - [0:0]
      :TP-EGRESS-POD - [0:0]
      -I POSTROUTING 1 -m comment --comment "turnpike egress SNAT" -j TP-EGRESS
      -A TP-EGRESS -m conntrack --ctstate DNAT -j RETURN
      -A TP-EGRESS -s 10.244.0.0/16 -j TP-EGRESS-POD
      -A TP-EGRESS-POD -d 10.244.0.0/16 -j RETURN
      -A TP-EGRESS-POD -j CONNMARK --set-xmark 0x100000/0x100000
      -A TP-EGRESS-POD -j MASQUERADE --random-fully
      COMMIT
      """;

  /** Turnpike chains of an earlier process, in filter and nat, that no backend writes today. */
  public static final String STALE = """
      *filter
      :TURNPIKE-OLD-FILTER - [0:0]
      -A TURNPIKE-OLD-FILTER -j RETURN
      COMMIT
      *nat
      :TURNPIKE-SVC-AAAAAAAAAAAAAAA - [0:0]
      :TURNPIKE-SEP-AAAAAAAAAAAAAAA - [0:0]
      -A TURNPIKE-SVC-AAAAAAAAAAAAAAA -j TURNPIKE-SEP-AAAAAAAAAAAAAAA
      -A TURNPIKE-SEP-AAAAAAAAAAAAAAA -j DNAT --to-destination 10.1.1.1:80
      COMMIT
      """;

  private EgressChains() {}

  /** Egress SNAT with the defaults for 10.244.0.0/16 applied to {@code iptables}, IPv4. */
  public static EgressSnat applied(Iptables iptables, boolean ipvsMode) throws IptablesException, ConntrackException {
    EgressSnat snat = new EgressSnat(iptables, new FakeConntrack(), List.of(IpFamily.IPv4), ipvsMode);
    snat.apply(EgressSnatConfig.defaults(List.of("10.244.0.0/16")));
    return snat;
  }

  /** Every saved nat line that is egress SNAT's: the chains, their rules and the hook. */
  public static List<String> lines(Iptables iptables) throws IptablesException {
    return iptables.save(IpFamily.IPv4, "nat").lines().filter(l -> l.contains("TURNPIKE-EGRESS")).toList();
  }

  /** Whether any chain of {@link #STALE} is left, in either table. */
  public static boolean staleLeft(FakeIptables iptables) {
    String dump = iptables.dump(IpFamily.IPv4);
    return dump.contains("AAAAAAAAAAAAAAA") || dump.contains("TURNPIKE-OLD-FILTER");
  }
}
