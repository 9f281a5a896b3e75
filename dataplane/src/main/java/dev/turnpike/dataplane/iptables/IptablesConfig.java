package dev.turnpike.dataplane.iptables;

import dev.turnpike.net.IpAddresses;
import java.util.List;

/**
 * Node-level settings of the iptables backend; defaults follow kube-proxy.
 *
 * @param clusterCidrs pod CIDRs of the cluster (kube-proxy's detect-local ClusterCIDR): traffic to
 *     a ClusterIP from outside them is masqueraded, and with externalTrafficPolicy Local traffic
 *     from inside them takes the cluster-wide endpoints. Empty: nothing is masqueraded on that
 *     ground (kube-proxy without a local detector). Default empty.
 * @param masqueradeAll masquerade every packet sent to a ClusterIP. Default false.
 * @param masqueradeBit the bit of the packet mark that asks for SNAT; default 14 (mark 0x4000)
 * @param nodePortAddresses CIDRs whose node addresses accept NodePorts; empty means every local
 *     address ({@code --dst-type LOCAL}); the word {@code primary} means the node's first address
 *     of each family. Default empty.
 * @param localhostNodePorts accept IPv4 NodePorts on 127.0.0.0/8 (kube-proxy's default true), with
 *     route_localnet and the CVE-2020-8558 drop rule; only effective when the NodePort addresses
 *     include loopback (always when nodePortAddresses is empty)
 * @param maxMaglevTableSize the largest Maglev table programmed; larger tables are refused per
 *     Service. Default 16381; the mark layout carries at most 16384 slots.
 */
public record IptablesConfig(
    List<String> clusterCidrs,
    boolean masqueradeAll,
    int masqueradeBit,
    List<String> nodePortAddresses,
    boolean localhostNodePorts,
    int maxMaglevTableSize) {

  public static final int DEFAULT_MASQUERADE_BIT = 14;
  public static final int DEFAULT_MAX_MAGLEV_TABLE_SIZE = 16381;
  /** HMARK writes slot numbers into the low 14 bits; see {@code docs/iptables.md}. */
  public static final int MAGLEV_SLOT_BITS = 14;

  public static final String PRIMARY = "primary";

  public IptablesConfig {
    clusterCidrs = List.copyOf(clusterCidrs);
    nodePortAddresses = List.copyOf(nodePortAddresses);
    if (masqueradeBit < 0 || masqueradeBit > 31) {
      throw new IllegalArgumentException("masqueradeBit " + masqueradeBit + " is outside 0..31");
    }
    if (maxMaglevTableSize > (1 << MAGLEV_SLOT_BITS)) {
      throw new IllegalArgumentException(
          "maxMaglevTableSize " + maxMaglevTableSize + " exceeds the " + (1 << MAGLEV_SLOT_BITS) + " slots a mark can carry");
    }
    for (String c : clusterCidrs) {
      IpAddresses.parseCidr(c).orElseThrow(() -> new IllegalArgumentException("clusterCidr " + c + " is not a CIDR"));
    }
    for (String c : nodePortAddresses) {
      if (!c.equals(PRIMARY) && IpAddresses.parseCidr(c).isEmpty()) {
        throw new IllegalArgumentException("nodePortAddress " + c + " is neither a CIDR nor \"primary\"");
      }
    }
  }

  public static IptablesConfig defaults() {
    return new IptablesConfig(List.of(), false, DEFAULT_MASQUERADE_BIT, List.of(), true, DEFAULT_MAX_MAGLEV_TABLE_SIZE);
  }

  public IptablesConfig withClusterCidrs(List<String> cidrs) {
    return new IptablesConfig(cidrs, masqueradeAll, masqueradeBit, nodePortAddresses, localhostNodePorts, maxMaglevTableSize);
  }

  public IptablesConfig withMasqueradeAll(boolean all) {
    return new IptablesConfig(clusterCidrs, all, masqueradeBit, nodePortAddresses, localhostNodePorts, maxMaglevTableSize);
  }

  public IptablesConfig withNodePortAddresses(List<String> cidrs) {
    return new IptablesConfig(clusterCidrs, masqueradeAll, masqueradeBit, cidrs, localhostNodePorts, maxMaglevTableSize);
  }

  public IptablesConfig withLocalhostNodePorts(boolean on) {
    return new IptablesConfig(clusterCidrs, masqueradeAll, masqueradeBit, nodePortAddresses, on, maxMaglevTableSize);
  }

  /** The masquerade mark as iptables writes it, e.g. {@code 0x4000}. */
  public String masqueradeMark() {
    return "0x" + Integer.toHexString(1 << masqueradeBit);
  }

}
