package dev.turnpike.dataplane.netlink.ipvs;

import dev.turnpike.dataplane.netlink.Netlink;
import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * What identifies an IPVS virtual service: protocol + address + port, or a firewall mark (then
 * address, port and protocol are unused and null/0). {@code family} is AF_INET or AF_INET6.
 */
public record VirtualServerKey(int family, int protocol, InetAddress address, int port,
    int fwmark) {
  public static final int IPPROTO_TCP = 6;
  public static final int IPPROTO_UDP = 17;
  public static final int IPPROTO_SCTP = 132;

  public VirtualServerKey {
    if (family != Netlink.AF_INET && family != Netlink.AF_INET6) {
      throw new IllegalArgumentException("IPVS family must be AF_INET or AF_INET6: " + family);
    }
    if (fwmark == 0) {
      if (address == null || IpvsMessages.familyOf(address) != family) {
        throw new IllegalArgumentException("address " + address + " is not of family " + family);
      }
      if (port < 0 || port > 0xffff) {
        throw new IllegalArgumentException("port " + port);
      }
      if (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP && protocol != IPPROTO_SCTP) {
        throw new IllegalArgumentException("IPVS protocol must be TCP, UDP or SCTP: " + protocol);
      }
    } else if (address != null || port != 0 || protocol != 0) {
      throw new IllegalArgumentException("a fwmark service has no address, port or protocol");
    }
  }

  public static VirtualServerKey of(int protocol, InetAddress address, int port) {
    return new VirtualServerKey(address instanceof Inet4Address ? Netlink.AF_INET
        : Netlink.AF_INET6, protocol, address, port, 0);
  }

  public static VirtualServerKey ofFwmark(int family, int fwmark) {
    if (fwmark == 0) {
      throw new IllegalArgumentException("fwmark 0 means no fwmark");
    }
    return new VirtualServerKey(family, 0, null, 0, fwmark);
  }

  public boolean isFwmark() {
    return fwmark != 0;
  }

  @Override
  public String toString() {
    if (isFwmark()) {
      return "fwmark " + Integer.toUnsignedString(fwmark) + "/"
          + (family == Netlink.AF_INET ? "ipv4" : "ipv6");
    }
    String proto = protocol == IPPROTO_TCP ? "TCP" : protocol == IPPROTO_UDP ? "UDP" : "SCTP";
    String host = address.getHostAddress();
    return proto + " " + (family == Netlink.AF_INET6 ? "[" + host + "]" : host) + ":" + port;
  }
}
