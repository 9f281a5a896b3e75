package dev.turnpike.dataplane.conntrack.snat;

import dev.turnpike.egress.EgressSnatConfig;
import dev.turnpike.net.IpAddresses.Cidr;
import dev.turnpike.net.IpFamily;

/**
 * Renders the egress SNAT rules of one family as an {@code iptables-restore --noflush} payload
 * for the nat table. Pure. The chains are {@code TP-EGRESS} (hooked from POSTROUTING) and
 * {@code TP-EGRESS-POD}: deliberately outside the {@code TURNPIKE-} prefix, whose chains and hooks
 * the iptables backend owns and prunes.
 *
 * <pre>
 * TP-EGRESS      -m conntrack --ctstate DNAT -j RETURN     Service traffic: the Service path masquerades it
 *                -m ipvs --ipvs -j RETURN                   IPVS mode only: IPVS Service traffic
 *                -s CLUSTER_CIDR -j TP-EGRESS-POD           once per cluster CIDR
 * TP-EGRESS-POD  -d CLUSTER_CIDR -j RETURN                  pod to pod keeps the pod address
 *                -d NON_MASQ_CIDR -j RETURN
 *                -j CONNMARK --set-xmark BIT/BIT            remembered in the connection
 *                -j MASQUERADE [--random-fully]             or -j SNAT --to-source ADDR [--random-fully]
 * </pre>
 *
 * nat POSTROUTING sees only the first packet of a connection in its original direction, so an
 * established connection keeps the translation conntrack recorded and replies are never
 * translated again; a rule change affects only new connections until the changed ones are
 * deleted from conntrack ({@link EgressSnat}).
 */
public final class EgressSnatRules {
  public static final String CHAIN = "TP-EGRESS";
  public static final String POD_CHAIN = "TP-EGRESS-POD";
  public static final String HOOK = "-A POSTROUTING -m comment --comment \"turnpike egress SNAT\" -j " + CHAIN;

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

  /** A payload that removes the hook and both chains (used by {@link EgressSnat#cleanup}). */
  static String removal(boolean hookPresent) {
    StringBuilder b = new StringBuilder("*nat\n");
    b.append(':').append(CHAIN).append(" - [0:0]\n");
    b.append(':').append(POD_CHAIN).append(" - [0:0]\n");
    if (hookPresent) {
      b.append(HOOK.replaceFirst("^-A", "-D")).append('\n');
    }
    b.append("-X ").append(CHAIN).append('\n');
    b.append("-X ").append(POD_CHAIN).append('\n');
    return b.append("COMMIT\n").toString();
  }
}
