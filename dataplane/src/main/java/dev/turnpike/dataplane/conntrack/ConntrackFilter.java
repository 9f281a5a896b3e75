package dev.turnpike.dataplane.conntrack;

import java.net.InetAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * Which entries a dump or delete concerns. Every set field must match (AND); an unset field
 * matches anything. The netlink implementation hands what the kernel can filter to the kernel
 * (family, protocol via CTA_FILTER, mark/mask) and always re-checks every field here, so the
 * result does not depend on the kernel version.
 *
 * @param family AF_INET or AF_INET6 (required: ctnetlink dumps are per family)
 * @param protocol IP protocol number, 0 for any
 * @param originalDst the original direction's destination (a Service IP), or null
 * @param originalDstPort the original destination port (a Service port or NodePort), 0 for any
 * @param replySrc the reply direction's source (the endpoint a flow was DNATed to), or null
 * @param mark the ctmark to match under {@code markMask}, or null
 * @param markMask mask for {@code mark} (0xffffffff for an exact match)
 * @param zone the conntrack zone, or null for any
 */
public record ConntrackFilter(int family, int protocol, InetAddress originalDst,
    int originalDstPort, InetAddress replySrc, Long mark, long markMask, Integer zone) {

  public ConntrackFilter {
    if (family != CtNetlink.AF_INET && family != CtNetlink.AF_INET6) {
      throw new IllegalArgumentException("family must be AF_INET or AF_INET6: " + family);
    }
    if (protocol < 0 || protocol > 255 || originalDstPort < 0 || originalDstPort > 0xffff) {
      throw new IllegalArgumentException("protocol is a u8 and a port a u16");
    }
    checkFamily(family, originalDst);
    checkFamily(family, replySrc);
  }

  /** Every entry of one family. */
  public static ConntrackFilter family(int family) {
    return new ConntrackFilter(family, 0, null, 0, null, null, 0, null);
  }

  public ConntrackFilter protocol(int p) {
    return new ConntrackFilter(family, p, originalDst, originalDstPort, replySrc, mark, markMask, zone);
  }

  public ConntrackFilter originalDst(InetAddress a, int port) {
    return new ConntrackFilter(family, protocol, a, port, replySrc, mark, markMask, zone);
  }

  public ConntrackFilter replySrc(InetAddress a) {
    return new ConntrackFilter(family, protocol, originalDst, originalDstPort, a, mark, markMask, zone);
  }

  public ConntrackFilter mark(long m, long mask) {
    return new ConntrackFilter(family, protocol, originalDst, originalDstPort, replySrc, m & 0xffffffffL,
        mask & 0xffffffffL, zone);
  }

  public ConntrackFilter zone(int z) {
    return new ConntrackFilter(family, protocol, originalDst, originalDstPort, replySrc, mark, markMask, z);
  }

  public Optional<Long> markOpt() {
    return Optional.ofNullable(mark);
  }

  public boolean matches(ConntrackEntry e) {
    return e.family() == family
        && (protocol == 0 || e.protocol() == protocol)
        && (originalDst == null || originalDst.equals(e.original().dst()))
        && (originalDstPort == 0 || e.original().dstPort() == originalDstPort)
        && (replySrc == null || replySrc.equals(e.reply().src()))
        && (mark == null || (e.mark() & markMask) == (mark & markMask))
        && (zone == null || Objects.equals(e.zone(), zone));
  }

  private static void checkFamily(int family, InetAddress a) {
    if (a != null && CtNetlink.familyOf(a) != family) {
      throw new IllegalArgumentException(a.getHostAddress() + " is not of family " + family);
    }
  }
}
