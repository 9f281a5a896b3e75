package dev.turnpike.dataplane.netlink;

/**
 * Constants from {@code include/uapi/linux/netlink.h} and the socket ABI that every netlink
 * protocol shares. Family-specific constants live next to their codec (genl, rtnl, ipvs).
 */
public final class Netlink {
  private Netlink() {}

  // Socket ABI (linux/socket.h, asm-generic/socket.h): identical on x86-64 and arm64.
  public static final int AF_UNSPEC = 0;
  public static final int AF_INET = 2;
  public static final int AF_NETLINK = 16;
  public static final int AF_INET6 = 10;
  public static final int SOCK_RAW = 3;
  public static final int SOCK_CLOEXEC = 0x80000;
  public static final int SOL_SOCKET = 1;
  public static final int SO_SNDBUF = 7;
  public static final int SO_RCVBUF = 8;
  public static final int SO_RCVTIMEO = 20;
  public static final int SO_RCVBUFFORCE = 33;
  public static final int MSG_PEEK = 0x2;
  public static final int MSG_TRUNC = 0x20;
  public static final int SOL_NETLINK = 270;
  public static final int NETLINK_CAP_ACK = 10;
  public static final int NETLINK_EXT_ACK = 11;

  // Netlink protocols (the third argument of socket(2)).
  public static final int NETLINK_ROUTE = 0;
  public static final int NETLINK_NETFILTER = 12;
  public static final int NETLINK_GENERIC = 16;

  // Control message types; family messages start at NLMSG_MIN_TYPE.
  public static final int NLMSG_NOOP = 1;
  public static final int NLMSG_ERROR = 2;
  public static final int NLMSG_DONE = 3;
  public static final int NLMSG_OVERRUN = 4;
  public static final int NLMSG_MIN_TYPE = 0x10;

  // nlmsg_flags
  public static final int NLM_F_REQUEST = 0x01;
  public static final int NLM_F_MULTI = 0x02;
  public static final int NLM_F_ACK = 0x04;
  public static final int NLM_F_ECHO = 0x08;
  public static final int NLM_F_DUMP_INTR = 0x10;
  public static final int NLM_F_DUMP_FILTERED = 0x20;
  // ... for GET requests
  public static final int NLM_F_ROOT = 0x100;
  public static final int NLM_F_MATCH = 0x200;
  public static final int NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
  // ... for NEW requests
  public static final int NLM_F_REPLACE = 0x100;
  public static final int NLM_F_EXCL = 0x200;
  public static final int NLM_F_CREATE = 0x400;
  public static final int NLM_F_APPEND = 0x800;
  // ... on NLMSG_ERROR replies
  public static final int NLM_F_CAPPED = 0x100;
  public static final int NLM_F_ACK_TLVS = 0x200;

  // Extended-ack TLVs after struct nlmsgerr (enum nlmsgerr_attrs).
  public static final int NLMSGERR_ATTR_MSG = 1;
  public static final int NLMSGERR_ATTR_OFFS = 2;

  // struct nlattr type bits; the rest of nla_type is the attribute number.
  public static final int NLA_F_NESTED = 1 << 15;
  public static final int NLA_F_NET_BYTEORDER = 1 << 14;
  public static final int NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

  public static final int NLMSG_HDRLEN = 16;
  public static final int NLA_HDRLEN = 4;
  public static final int ALIGNTO = 4;

  /** NLMSG_ALIGN and NLA_ALIGN: both round up to 4 bytes. */
  public static int align(int len) {
    return (len + ALIGNTO - 1) & ~(ALIGNTO - 1);
  }
}
