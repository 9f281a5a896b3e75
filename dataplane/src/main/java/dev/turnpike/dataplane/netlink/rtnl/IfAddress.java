package dev.turnpike.dataplane.netlink.rtnl;

import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * An interface address (struct ifaddrmsg + IFA_LOCAL/IFA_ADDRESS). {@code flags} are the IFA_F_*
 * bits; only the low 8 travel in ifaddrmsg, which is all this code sets.
 */
public record IfAddress(int ifindex, InetAddress address, int prefixLength, int scope,
    int flags) {
  public IfAddress {
    int max = address instanceof Inet4Address ? 32 : 128;
    if (prefixLength < 0 || prefixLength > max) {
      throw new IllegalArgumentException("prefix length " + prefixLength + " for " + address);
    }
  }

  /** A host address (/32 or /128) of global scope, as the IPVS dummy link holds VIPs. */
  public static IfAddress host(int ifindex, InetAddress address) {
    return new IfAddress(ifindex, address, address instanceof Inet4Address ? 32 : 128,
        RtnlMessages.RT_SCOPE_UNIVERSE, 0);
  }

  public int family() {
    return RtnlMessages.family(address);
  }
}
