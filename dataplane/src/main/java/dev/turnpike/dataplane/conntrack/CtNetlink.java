package dev.turnpike.dataplane.conntrack;

import dev.turnpike.dataplane.netlink.Netlink;
import dev.turnpike.dataplane.netlink.NetlinkMessage;
import dev.turnpike.dataplane.netlink.NetlinkParseException;
import dev.turnpike.dataplane.netlink.NetlinkRequest;
import dev.turnpike.dataplane.netlink.NfGenMsg;
import dev.turnpike.dataplane.netlink.NlAttr;
import dev.turnpike.dataplane.netlink.NlAttrs;
import dev.turnpike.dataplane.netlink.NlMsgBuilder;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.OptionalLong;

/**
 * The ctnetlink codec (NETLINK_NETFILTER, subsystem NFNL_SUBSYS_CTNETLINK), constants from
 * include/uapi/linux/netfilter/nfnetlink_conntrack.h. Pure: builds requests and parses dump
 * messages; {@link NetlinkConntrack} sends them.
 *
 * <p>Byte order: nfgenmsg.res_id, ports, CTA_STATUS, CTA_MARK(_MASK), CTA_TIMEOUT, CTA_ID,
 * CTA_ZONE and CTA_USE are network order (the kernel writes them with nla_put_be*, without
 * NLA_F_NET_BYTEORDER); addresses are raw network-order bytes; CTA_PROTO_NUM is a u8;
 * CTA_FILTER's flag words are host-order u32 (NLA_U32). Nest and attribute headers are host
 * order, as everywhere in netlink.
 */
public final class CtNetlink {
  private CtNetlink() {}

  public static final int AF_INET = Netlink.AF_INET;
  public static final int AF_INET6 = Netlink.AF_INET6;
  public static final int IPPROTO_ICMP = 1;
  public static final int IPPROTO_TCP = 6;
  public static final int IPPROTO_UDP = 17;
  public static final int IPPROTO_ICMPV6 = 58;
  public static final int IPPROTO_SCTP = 132;

  // enum cntl_msg_types
  public static final int IPCTNL_MSG_CT_NEW = 0;
  public static final int IPCTNL_MSG_CT_GET = 1;
  public static final int IPCTNL_MSG_CT_DELETE = 2;

  // enum ctattr_type
  public static final int CTA_TUPLE_ORIG = 1;
  public static final int CTA_TUPLE_REPLY = 2;
  public static final int CTA_STATUS = 3;
  public static final int CTA_PROTOINFO = 4;
  public static final int CTA_TIMEOUT = 7;
  public static final int CTA_MARK = 8;
  public static final int CTA_USE = 11;
  public static final int CTA_ID = 12;
  public static final int CTA_ZONE = 18;
  public static final int CTA_MARK_MASK = 21;
  public static final int CTA_FILTER = 25;

  // enum ctattr_tuple
  public static final int CTA_TUPLE_IP = 1;
  public static final int CTA_TUPLE_PROTO = 2;
  public static final int CTA_TUPLE_ZONE = 3;

  // enum ctattr_ip
  public static final int CTA_IP_V4_SRC = 1;
  public static final int CTA_IP_V4_DST = 2;
  public static final int CTA_IP_V6_SRC = 3;
  public static final int CTA_IP_V6_DST = 4;

  // enum ctattr_l4proto
  public static final int CTA_PROTO_NUM = 1;
  public static final int CTA_PROTO_SRC_PORT = 2;
  public static final int CTA_PROTO_DST_PORT = 3;

  // enum ctattr_filter and the CTA_FILTER_FLAG() bits
  public static final int CTA_FILTER_ORIG_FLAGS = 1;
  public static final int CTA_FILTER_REPLY_FLAGS = 2;
  public static final int CTA_FILTER_FLAG_IP_SRC = 1 << 0;
  public static final int CTA_FILTER_FLAG_IP_DST = 1 << 1;
  public static final int CTA_FILTER_FLAG_PROTO_NUM = 1 << 3;
  public static final int CTA_FILTER_FLAG_PROTO_DST_PORT = 1 << 5;

  public static final int TYPE_NEW = NfGenMsg.type(NfGenMsg.NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_NEW);
  public static final int TYPE_GET = NfGenMsg.type(NfGenMsg.NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET);
  public static final int TYPE_DELETE = NfGenMsg.type(NfGenMsg.NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE);

  /**
   * IPCTNL_MSG_CT_GET with NLM_F_DUMP for one family. With {@code kernelFilter}, the filter's
   * mark goes as CTA_MARK/CTA_MARK_MASK (any kernel with CONFIG_NF_CONNTRACK_MARK) and its
   * protocol, original destination and reply source as CTA_FILTER (Linux 5.8+); IPv6 addresses
   * and zones are always left to the caller. The caller re-checks every entry with {@link ConntrackFilter#matches}.
   */
  public static NetlinkRequest dump(ConntrackFilter f, boolean kernelFilter) {
    NlMsgBuilder b = NfGenMsg.request(NfGenMsg.NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET,
        f.family(), Netlink.NLM_F_DUMP, "IPCTNL_MSG_CT_GET dump " + familyName(f.family()));
    if (!kernelFilter) {
      return b.build();
    }
    if (f.mark() != null) {
      b.be32(CTA_MARK, (int) (long) f.mark());
      b.be32(CTA_MARK_MASK, (int) f.markMask());
    }
    if (f.protocol() == 0) {
      return b.build(); // the kernel's port and address filters need a protocol
    }
    // IPv6 addresses are never given to the kernel: ctnetlink_filter_match_tuple tests them with
    // !ipv6_addr_cmp(), inverted, and would return every entry except the one asked for.
    boolean addresses = f.family() == AF_INET;
    InetAddress origDst = addresses ? f.originalDst() : null;
    InetAddress replySrc = addresses ? f.replySrc() : null;
    int orig = CTA_FILTER_FLAG_PROTO_NUM;
    if (origDst != null) {
      orig |= CTA_FILTER_FLAG_IP_DST;
    }
    if (f.originalDstPort() != 0 && hasPorts(f.protocol())) {
      orig |= CTA_FILTER_FLAG_PROTO_DST_PORT;
    }
    int reply = replySrc != null ? CTA_FILTER_FLAG_IP_SRC | CTA_FILTER_FLAG_PROTO_NUM : 0;
    int origFlags = orig;
    b.nested(CTA_FILTER, n -> {
      n.u32(CTA_FILTER_ORIG_FLAGS, origFlags);
      if (reply != 0) {
        n.u32(CTA_FILTER_REPLY_FLAGS, reply);
      }
    });
    b.nested(CTA_TUPLE_ORIG, t -> {
      if (origDst != null) {
        t.nested(CTA_TUPLE_IP, ip -> ip.bytes(CTA_IP_V4_DST, origDst.getAddress()));
      }
      t.nested(CTA_TUPLE_PROTO, p -> {
        p.u8(CTA_PROTO_NUM, f.protocol());
        if ((origFlags & CTA_FILTER_FLAG_PROTO_DST_PORT) != 0) {
          p.be16(CTA_PROTO_DST_PORT, f.originalDstPort());
        }
      });
    });
    if (reply != 0) {
      b.nested(CTA_TUPLE_REPLY, t -> {
        t.nested(CTA_TUPLE_IP, ip -> ip.bytes(CTA_IP_V4_SRC, replySrc.getAddress()));
        t.nested(CTA_TUPLE_PROTO, p -> p.u8(CTA_PROTO_NUM, f.protocol()));
      });
    }
    return b.build();
  }

  /**
   * IPCTNL_MSG_CT_DELETE of one entry by its original tuple, in its zone, and by CTA_ID when the
   * entry has one (so a newer entry that reuses the tuple is never removed).
   */
  public static NetlinkRequest delete(ConntrackEntry e) {
    NlMsgBuilder b = NfGenMsg.request(NfGenMsg.NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE,
        e.family(), 0, "IPCTNL_MSG_CT_DELETE " + e.original());
    writeTuple(b, CTA_TUPLE_ORIG, e.original());
    if (e.zone() != 0) {
      b.be16(CTA_ZONE, e.zone());
    }
    e.id().ifPresent(id -> b.be32(CTA_ID, (int) id));
    return b.build();
  }

  static void writeTuple(NlMsgBuilder b, int attr, Tuple t) {
    boolean v4 = t.family() == AF_INET;
    b.nested(attr, n -> {
      n.nested(CTA_TUPLE_IP, ip -> {
        ip.bytes(v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, t.src().getAddress());
        ip.bytes(v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, t.dst().getAddress());
      });
      n.nested(CTA_TUPLE_PROTO, p -> {
        p.u8(CTA_PROTO_NUM, t.protocol());
        if (hasPorts(t.protocol())) {
          p.be16(CTA_PROTO_SRC_PORT, t.srcPort());
          p.be16(CTA_PROTO_DST_PORT, t.dstPort());
        }
      });
    });
  }

  /** True for a ctnetlink entry message (IPCTNL_MSG_CT_NEW, as dumps and GETs answer). */
  public static boolean isEntry(NetlinkMessage m) {
    return NfGenMsg.subsys(m.type()) == NfGenMsg.NFNL_SUBSYS_CTNETLINK
        && NfGenMsg.msg(m.type()) == IPCTNL_MSG_CT_NEW;
  }

  /** Parses one entry; {@link NetlinkParseException} for anything truncated or inconsistent. */
  public static ConntrackEntry parseEntry(NetlinkMessage m) {
    if (!isEntry(m)) {
      throw new NetlinkParseException("message type 0x" + Integer.toHexString(m.type())
          + " at offset " + m.offset() + " is not a ctnetlink entry (IPCTNL_MSG_CT_NEW)");
    }
    NfGenMsg h = NfGenMsg.of(m);
    if (h.family() != AF_INET && h.family() != AF_INET6) {
      throw new NetlinkParseException("ctnetlink entry at offset " + m.offset()
          + " has family " + h.family() + ", not AF_INET or AF_INET6");
    }
    NlAttrs a = NfGenMsg.attrs(m);
    Tuple orig = parseTuple(a.require(CTA_TUPLE_ORIG, "CTA_TUPLE_ORIG"), h.family());
    Tuple reply = parseTuple(a.require(CTA_TUPLE_REPLY, "CTA_TUPLE_REPLY"), h.family());
    if (orig.protocol() != reply.protocol()) {
      throw new NetlinkParseException("ctnetlink entry at offset " + m.offset()
          + ": original protocol " + orig.protocol() + " but reply " + reply.protocol());
    }
    long status = a.find(CTA_STATUS).map(x -> Integer.toUnsignedLong(x.be32())).orElse(0L);
    long mark = a.find(CTA_MARK).map(x -> Integer.toUnsignedLong(x.be32())).orElse(0L);
    int zone = a.find(CTA_ZONE).map(NlAttr::be16).orElse(0);
    long timeout = a.find(CTA_TIMEOUT).map(x -> Integer.toUnsignedLong(x.be32())).orElse(0L);
    OptionalLong id = a.find(CTA_ID).map(x -> OptionalLong.of(Integer.toUnsignedLong(x.be32())))
        .orElse(OptionalLong.empty());
    return new ConntrackEntry(orig, reply, status, mark, zone, timeout, id);
  }

  static Tuple parseTuple(NlAttr tupleAttr, int family) {
    NlAttrs t = tupleAttr.nested();
    NlAttrs ip = t.require(CTA_TUPLE_IP, "CTA_TUPLE_IP").nested();
    boolean v4 = family == AF_INET;
    InetAddress src = address(ip.require(v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC,
        v4 ? "CTA_IP_V4_SRC" : "CTA_IP_V6_SRC"), v4);
    InetAddress dst = address(ip.require(v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST,
        v4 ? "CTA_IP_V4_DST" : "CTA_IP_V6_DST"), v4);
    NlAttrs proto = t.require(CTA_TUPLE_PROTO, "CTA_TUPLE_PROTO").nested();
    int num = proto.require(CTA_PROTO_NUM, "CTA_PROTO_NUM").u8();
    int sport = 0;
    int dport = 0;
    if (hasPorts(num)) {
      sport = proto.require(CTA_PROTO_SRC_PORT, "CTA_PROTO_SRC_PORT").be16();
      dport = proto.require(CTA_PROTO_DST_PORT, "CTA_PROTO_DST_PORT").be16();
    }
    return new Tuple(src, dst, num, sport, dport);
  }

  private static InetAddress address(NlAttr a, boolean v4) {
    int want = v4 ? 4 : 16;
    if (a.length() != want) {
      throw new NetlinkParseException("attribute type " + a.type() + " at offset " + a.offset()
          + ": an IPv" + (v4 ? "4" : "6") + " address needs " + want + " bytes, payload has "
          + a.length());
    }
    try {
      InetAddress ia = InetAddress.getByAddress(a.bytes());
      if (!v4 && ia instanceof Inet4Address) {
        // getByAddress folds IPv4-mapped IPv6 (::ffff:a.b.c.d) into IPv4; keep the family.
        return java.net.Inet6Address.getByAddress(null, a.bytes(), null);
      }
      return ia;
    } catch (UnknownHostException e) {
      throw new NetlinkParseException("bad address at offset " + a.offset());
    }
  }

  /** Protocols whose conntrack tuples carry ports (the kernel's nf_ct_port_nlattr_to_tuple users). */
  public static boolean hasPorts(int protocol) {
    return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == IPPROTO_SCTP
        || protocol == 33 /* DCCP */ || protocol == 136 /* UDPLITE */;
  }

  public static int familyOf(InetAddress a) {
    return a instanceof Inet4Address ? AF_INET : AF_INET6;
  }

  static String familyName(int family) {
    return family == AF_INET ? "AF_INET" : family == AF_INET6 ? "AF_INET6" : "family " + family;
  }

  public static String protocolName(int p) {
    return switch (p) {
      case IPPROTO_TCP -> "tcp";
      case IPPROTO_UDP -> "udp";
      case IPPROTO_SCTP -> "sctp";
      case IPPROTO_ICMP -> "icmp";
      case IPPROTO_ICMPV6 -> "icmpv6";
      default -> "proto" + p;
    };
  }
}
