package dev.turnpike.dataplane.conntrack;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Objects;

/**
 * One direction of a conntrack entry (struct nf_conntrack_tuple as ctnetlink carries it).
 *
 * @param src source address (IPv4 or IPv6; both ends have the same family)
 * @param dst destination address
 * @param protocol the IP protocol number ({@link CtNetlink#IPPROTO_UDP}...)
 * @param srcPort source port for TCP/UDP/SCTP/DCCP/UDPLITE, 0 otherwise
 * @param dstPort destination port, 0 for port-less protocols
 */
public record Tuple(InetAddress src, InetAddress dst, int protocol, int srcPort, int dstPort) {
  public Tuple {
    Objects.requireNonNull(src, "src");
    Objects.requireNonNull(dst, "dst");
    if ((src instanceof Inet4Address) != (dst instanceof Inet4Address)) {
      throw new IllegalArgumentException("tuple mixes address families: " + src + " -> " + dst);
    }
    if (protocol < 0 || protocol > 255) {
      throw new IllegalArgumentException("protocol is a u8: " + protocol);
    }
    if (srcPort < 0 || srcPort > 0xffff || dstPort < 0 || dstPort > 0xffff) {
      throw new IllegalArgumentException("ports are u16: " + srcPort + ", " + dstPort);
    }
  }

  public static Tuple udp(InetAddress src, int srcPort, InetAddress dst, int dstPort) {
    return new Tuple(src, dst, CtNetlink.IPPROTO_UDP, srcPort, dstPort);
  }

  /** AF_INET or AF_INET6. */
  public int family() {
    return src instanceof Inet4Address ? CtNetlink.AF_INET : CtNetlink.AF_INET6;
  }

  @Override
  public String toString() {
    return CtNetlink.protocolName(protocol) + " " + src.getHostAddress() + ":" + srcPort + " -> "
        + dst.getHostAddress() + ":" + dstPort;
  }
}
