package dev.turnpike.dataplane.conntrack.snat;

import dev.turnpike.dataplane.iptables.ReservedChains;
import dev.turnpike.egress.EgressSnatConfig;
import dev.turnpike.net.IpAddresses.Cidr;
import dev.turnpike.net.IpFamily;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Renders the egress SNAT rules of one family as an {@code iptables-restore --noflush} payload
 * for the nat table. Pure. The chains are {@code TURNPIKE-EGRESS} (hooked from POSTROUTING) and
 * {@code TURNPIKE-EGRESS-POD}. The Service backends own the other {@code TURNPIKE-} chains and
 * delete those they did not write; these two are {@link #CHAINS}, which the agent hands to the
 * backend as reserved ({@link ReservedChains}), so the backend leaves them and their hook alone.
 *
 * <pre>
 * TURNPIKE-EGRESS      -m conntrack --ctstate DNAT -j RETURN     Service traffic: the Service path masquerades it
 *                      -m ipvs --ipvs -j RETURN                   IPVS mode only: IPVS Service traffic
 *                      -s CLUSTER_CIDR -j TURNPIKE-EGRESS-POD     once per cluster CIDR
 * TURNPIKE-EGRESS-POD  -d CLUSTER_CIDR -j RETURN                  pod to pod keeps the pod address
 *                      -d NON_MASQ_CIDR -j RETURN
 *                      -j CONNMARK --set-xmark BIT/BIT            remembered in the connection
 *                      -j MASQUERADE [--random-fully]             or -j SNAT --to-source ADDR [--random-fully]
 * </pre>
 *
 * nat POSTROUTING sees only the first packet of a connection in its original direction, so an
 * established connection keeps the translation conntrack recorded and replies are never
 * translated again; a rule change affects only new connections until the changed ones are
 * deleted from conntrack ({@link EgressSnat}).
 *
 * <p>Earlier versions named the chains {@code TP-EGRESS} and {@code TP-EGRESS-POD} ({@link
 * #LEGACY_CHAINS}); every apply and the cleanup remove those, with their hook, when present.
 */
public final class EgressSnatRules {
  public static final String CHAIN = "TURNPIKE-EGRESS";
  public static final String POD_CHAIN = "TURNPIKE-EGRESS-POD";
  public static final String COMMENT = "-m comment --comment \"turnpike egress SNAT\"";
  public static final String HOOK = "-A POSTROUTING " + COMMENT + " -j " + CHAIN;
  /** The chains egress SNAT owns, which the Service backends must not delete. */
  public static final ReservedChains CHAINS = ReservedChains.of("nat", CHAIN, POD_CHAIN);
  /** What versions before the rename wrote: removed by every apply and by cleanup. */
  public static final List<String> LEGACY_CHAINS = List.of("TP-EGRESS", "TP-EGRESS-POD");

  private EgressSnatRules() {}

  public static String render(EgressSnatConfig c, IpFamily family) {
    return render(c, family, false);
  }

  /**
   * @param ipvsConnections also leave packets of IPVS connections alone ({@code -m ipvs --ipvs}):
   *     IPVS rewrites the conntrack reply tuple without setting IPS_DST_NAT, so {@code --ctstate
   *     DNAT} does not see its Service traffic. Only in IPVS mode: the match needs xt_ipvs.
   */
  public static String render(EgressSnatConfig c, IpFamily family, boolean ipvsConnections) {
    StringBuilder b = new StringBuilder("*nat\n");
    b.append(':').append(CHAIN).append(" - [0:0]\n");
    b.append(':').append(POD_CHAIN).append(" - [0:0]\n");
    b.append("-A ").append(CHAIN).append(" -m conntrack --ctstate DNAT -j RETURN\n");
    if (ipvsConnections) {
      b.append("-A ").append(CHAIN).append(" -m ipvs --ipvs -j RETURN\n");
    }
    for (Cidr cidr : c.clusterCidrs(family)) {
      b.append("-A ").append(CHAIN).append(" -s ").append(cidr.text()).append(" -j ").append(POD_CHAIN).append('\n');
    }
    for (Cidr cidr : c.clusterCidrs(family)) {
      b.append("-A ").append(POD_CHAIN).append(" -d ").append(cidr.text()).append(" -j RETURN\n");
    }
    for (Cidr cidr : c.nonMasqueradeCidrs(family)) {
      b.append("-A ").append(POD_CHAIN).append(" -d ").append(cidr.text()).append(" -j RETURN\n");
    }
    String bit = "0x" + Long.toHexString(c.connmark());
    b.append("-A ").append(POD_CHAIN).append(" -j CONNMARK --set-xmark ").append(bit).append('/').append(bit).append('\n');
    b.append("-A ").append(POD_CHAIN);
    c.snatAddress(family).ifPresentOrElse(
        ip -> b.append(" -j SNAT --to-source ").append(ip.text()),
        () -> b.append(" -j MASQUERADE"));
    if (c.randomFully()) {
      b.append(" --random-fully");
    }
    b.append('\n');
    return b.append("COMMIT\n").toString();
  }

  /**
   * The payload {@link EgressSnat#apply} restores over {@code saved} (the family's nat table as
   * iptables-save shows it): the rules, the hook when it is missing (inserted at the top of
   * POSTROUTING), and the removal of legacy chains and of every jump to them.
   */
  static String applyPayload(EgressSnatConfig c, IpFamily family, boolean ipvsConnections, String saved) {
    String rules = render(c, family, ipvsConnections);
    List<String> legacy = present(saved, LEGACY_CHAINS);
    StringBuilder b = new StringBuilder(rules.substring(0, rules.indexOf("-A ")));
    legacy.forEach(ch -> b.append(':').append(ch).append(" - [0:0]\n"));
    jumpsTo(saved, legacy).forEach(rule -> b.append("-D ").append(rule).append('\n'));
    if (!saved.lines().anyMatch(HOOK::equals)) {
      b.append(HOOK.replaceFirst("^-A POSTROUTING", "-I POSTROUTING 1")).append('\n');
    }
    b.append(rules, rules.indexOf("-A "), rules.indexOf("COMMIT\n"));
    legacy.forEach(ch -> b.append("-X ").append(ch).append('\n'));
    return b.append("COMMIT\n").toString();
  }

  /**
   * A payload that removes the hooks and the chains, current and legacy, found in {@code saved};
   * empty when there is nothing to remove (used by {@link EgressSnat#cleanup}).
   */
  static String removal(String saved) {
    List<String> all = new ArrayList<>(List.of(CHAIN, POD_CHAIN));
    all.addAll(LEGACY_CHAINS);
    List<String> chains = present(saved, all);
    List<String> jumps = jumpsTo(saved, chains);
    if (chains.isEmpty() && jumps.isEmpty()) {
      return "";
    }
    StringBuilder b = new StringBuilder("*nat\n");
    chains.forEach(ch -> b.append(':').append(ch).append(" - [0:0]\n"));
    jumps.forEach(rule -> b.append("-D ").append(rule).append('\n'));
    chains.forEach(ch -> b.append("-X ").append(ch).append('\n'));
    return b.append("COMMIT\n").toString();
  }

  /** Those of {@code chains} that {@code saved} declares. */
  private static List<String> present(String saved, List<String> chains) {
    Set<String> declared = new HashSet<>();
    saved.lines().filter(l -> l.startsWith(":")).forEach(l -> {
      int end = l.indexOf(' ');
      declared.add(l.substring(1, end < 0 ? l.length() : end));
    });
    return chains.stream().filter(declared::contains).toList();
  }

  /**
   * The rules (as saved, without "-A ") of chains other than {@code targets} that jump to one of
   * {@code targets}: the hooks, also one whose chain is already gone, or duplicated by hand.
   */
  private static List<String> jumpsTo(String saved, List<String> targets) {
    List<String> out = new ArrayList<>();
    for (String line : saved.lines().toList()) {
      if (!line.startsWith("-A ")) {
        continue;
      }
      String chain = line.substring(3, line.indexOf(' ', 3) < 0 ? line.length() : line.indexOf(' ', 3));
      for (String t : targets) {
        if (!targets.contains(chain) && (line.endsWith(" -j " + t) || line.endsWith(" -g " + t))) {
          out.add(line.substring(3));
        }
      }
    }
    return out;
  }
}
