package dev.turnpike.dataplane.netlink.rtnl;

import dev.turnpike.dataplane.netlink.Netlink;
import dev.turnpike.dataplane.netlink.NetlinkMessage;
import dev.turnpike.dataplane.netlink.NetlinkParseException;
import dev.turnpike.dataplane.netlink.NetlinkRequest;
import dev.turnpike.dataplane.netlink.NlAttr;
import dev.turnpike.dataplane.netlink.NlAttrs;
import dev.turnpike.dataplane.netlink.NlMsgBuilder;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * The rtnetlink requests the dataplane needs (links and addresses) and parsers for their replies.
 * Constants from linux/rtnetlink.h, if_link.h, if_addr.h and if.h. All fixed-header fields are in
 * host order; addresses are raw bytes in network order, as everywhere in the kernel.
 */
public final class RtnlMessages {
  private RtnlMessages() {}

  public static final int RTM_NEWLINK = 16;
  public static final int RTM_DELLINK = 17;
  public static final int RTM_GETLINK = 18;
  public static final int RTM_NEWADDR = 20;
  public static final int RTM_DELADDR = 21;
  public static final int RTM_GETADDR = 22;

  public static final int IFLA_IFNAME = 3;
  public static final int IFLA_LINKINFO = 18;
  public static final int IFLA_INFO_KIND = 1;
  public static final int IFF_UP = 0x1;
  public static final int IFNAMSIZ = 16;

  public static final int IFA_ADDRESS = 1;
  public static final int IFA_LOCAL = 2;
  public static final int IFA_FLAGS = 8;
  public static final int IFA_F_NODAD = 0x02;
  public static final int IFA_F_PERMANENT = 0x80;
  public static final int RT_SCOPE_UNIVERSE = 0;
  public static final int RT_SCOPE_LINK = 253;
  public static final int RT_SCOPE_HOST = 254;

  /** struct ifinfomsg: family, pad, type, index, flags, change. */
  public static final int IFINFOMSG_SIZE = 16;
  /** struct ifaddrmsg: family, prefixlen, flags, scope, index. */
  public static final int IFADDRMSG_SIZE = 8;

  /** RTM_NEWLINK creating a link of {@code kind}; EEXIST if the name is taken. */
  public static NetlinkRequest newLink(String name, String kind) {
    return ifinfomsg(RTM_NEWLINK, Netlink.NLM_F_CREATE | Netlink.NLM_F_EXCL,
            "RTM_NEWLINK " + name + " type " + kind, 0, 0, 0)
        .string(IFLA_IFNAME, checkName(name))
        .nested(IFLA_LINKINFO, info -> info.string(IFLA_INFO_KIND, kind))
        .build();
  }

  /** RTM_NEWLINK on an existing index changing only IFF_UP (what "ip link set up" sends). */
  public static NetlinkRequest setLinkUp(int index, boolean up) {
    return ifinfomsg(RTM_NEWLINK, 0, "RTM_NEWLINK index " + index + (up ? " up" : " down"),
            index, up ? IFF_UP : 0, IFF_UP)
        .build();
  }

  /** RTM_GETLINK by name: ENODEV when there is none. */
  public static NetlinkRequest getLink(String name) {
    return ifinfomsg(RTM_GETLINK, 0, "RTM_GETLINK " + name, 0, 0, 0)
        .string(IFLA_IFNAME, checkName(name))
        .build();
  }

  public static NetlinkRequest deleteLink(String name) {
    return ifinfomsg(RTM_DELLINK, 0, "RTM_DELLINK " + name, 0, 0, 0)
        .string(IFLA_IFNAME, checkName(name))
        .build();
  }

  /** RTM_NEWADDR with IFA_LOCAL and IFA_ADDRESS both the address (no peer), as iproute2 does. */
  public static NetlinkRequest newAddress(IfAddress a) {
    return ifaddrmsg(RTM_NEWADDR, Netlink.NLM_F_CREATE | Netlink.NLM_F_EXCL, "RTM_NEWADDR", a)
        .bytes(IFA_LOCAL, a.address().getAddress())
        .bytes(IFA_ADDRESS, a.address().getAddress())
        .build();
  }

  public static NetlinkRequest deleteAddress(IfAddress a) {
    return ifaddrmsg(RTM_DELADDR, 0, "RTM_DELADDR", a)
        .bytes(IFA_LOCAL, a.address().getAddress())
        .bytes(IFA_ADDRESS, a.address().getAddress())
        .build();
  }

  /** RTM_GETADDR dump of one family, or all with AF_UNSPEC. */
  public static NetlinkRequest getAddresses(int family) {
    return NetlinkRequest.builder(RTM_GETADDR, Netlink.NLM_F_DUMP, "RTM_GETADDR dump")
        .rawU8(family).rawU8(0).rawU8(0).rawU8(0).rawU32(0)
        .build();
  }

  public static Link parseLink(NetlinkMessage m) {
    expectType(m, RTM_NEWLINK);
    ByteBuffer h = m.fixedHeader(IFINFOMSG_SIZE, "ifinfomsg");
    NlAttrs a = m.attrs(IFINFOMSG_SIZE, "ifinfomsg");
    String kind = a.find(IFLA_LINKINFO)
        .flatMap(info -> info.nested().find(IFLA_INFO_KIND))
        .map(NlAttr::string)
        .orElse("");
    return new Link(h.getInt(4), a.require(IFLA_IFNAME, "IFLA_IFNAME").string(), h.getInt(8), kind);
  }

  public static IfAddress parseAddress(NetlinkMessage m) {
    expectType(m, RTM_NEWADDR);
    ByteBuffer h = m.fixedHeader(IFADDRMSG_SIZE, "ifaddrmsg");
    NlAttrs a = m.attrs(IFADDRMSG_SIZE, "ifaddrmsg");
    int family = Byte.toUnsignedInt(h.get(0));
    // IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on point-to-point links and the
    // only one IPv6 sends.
    NlAttr addr = a.find(IFA_LOCAL).orElseGet(() -> a.require(IFA_ADDRESS, "IFA_ADDRESS"));
    int expected = family == Netlink.AF_INET ? 4 : family == Netlink.AF_INET6 ? 16 : -1;
    if (addr.length() != expected) {
      throw new NetlinkParseException("address attribute at offset " + addr.offset() + " has "
          + addr.length() + " bytes for family " + family);
    }
    int flags = a.find(IFA_FLAGS).map(NlAttr::u32).orElse(Byte.toUnsignedInt(h.get(2)));
    int prefix = Byte.toUnsignedInt(h.get(1));
    if (prefix > expected * 8) {
      throw new NetlinkParseException("prefix length " + prefix + " at offset " + m.offset()
          + " exceeds the address size");
    }
    return new IfAddress(h.getInt(4), toInet(addr.bytes()), prefix,
        Byte.toUnsignedInt(h.get(3)), flags);
  }

  public static int family(InetAddress a) {
    return a instanceof Inet4Address ? Netlink.AF_INET : Netlink.AF_INET6;
  }

  private static NlMsgBuilder ifinfomsg(int type, int flags, String description, int index,
      int ifFlags, int change) {
    return NetlinkRequest.builder(type, flags, description)
        .rawU8(Netlink.AF_UNSPEC).rawU8(0).rawU16(0)
        .rawU32(index).rawU32(ifFlags).rawU32(change);
  }

  private static NlMsgBuilder ifaddrmsg(int type, int flags, String verb, IfAddress a) {
    return NetlinkRequest.builder(type, flags,
            verb + " " + a.address().getHostAddress() + "/" + a.prefixLength() + " index "
                + a.ifindex())
        .rawU8(a.family()).rawU8(a.prefixLength()).rawU8(a.flags() & 0xff).rawU8(a.scope())
        .rawU32(a.ifindex());
  }

  private static String checkName(String name) {
    if (name.isEmpty() || name.length() >= IFNAMSIZ || name.contains("/")
        || name.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException("invalid interface name '" + name + "'");
    }
    return name;
  }

  private static void expectType(NetlinkMessage m, int type) {
    if (m.type() != type) {
      throw new NetlinkParseException("expected message type " + type + " at offset "
          + m.offset() + ", got " + m.type());
    }
  }

  static InetAddress toInet(byte[] raw) {
    try {
      return InetAddress.getByAddress(raw);
    } catch (UnknownHostException e) {
      throw new NetlinkParseException("address of " + raw.length + " bytes");
    }
  }
}
