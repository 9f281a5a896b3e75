package dev.turnpike.dataplane.netlink;

import java.nio.ByteBuffer;

/**
 * struct nfgenmsg {u8 nfgen_family; u8 version; __be16 res_id}, which follows nlmsghdr on
 * NETLINK_NETFILTER (include/uapi/linux/netfilter/nfnetlink.h). The message type is
 * {@code subsys << 8 | msg}. {@code res_id} is the only network-order field of the header.
 */
public record NfGenMsg(int family, int version, int resId) {
  public static final int SIZE = 4;
  public static final int NFNETLINK_V0 = 0;
  public static final int NFNL_SUBSYS_CTNETLINK = 1;

  /** The nlmsg_type of message {@code msg} of subsystem {@code subsys}. */
  public static int type(int subsys, int msg) {
    return (subsys & 0xff) << 8 | (msg & 0xff);
  }

  public static int subsys(int nlmsgType) {
    return (nlmsgType >>> 8) & 0xff;
  }

  public static int msg(int nlmsgType) {
    return nlmsgType & 0xff;
  }

  /** A request builder with the nfgenmsg written (version 0, res_id 0); attributes follow. */
  public static NlMsgBuilder request(int subsys, int msg, int family, int flags,
      String description) {
    return NetlinkRequest.builder(type(subsys, msg), flags, description)
        .rawU8(family)
        .rawU8(NFNETLINK_V0)
        .rawU8(0) // res_id, big-endian: high byte first
        .rawU8(0);
  }

  public static NfGenMsg of(NetlinkMessage m) {
    ByteBuffer b = m.fixedHeader(SIZE, "nfgenmsg");
    return new NfGenMsg(Byte.toUnsignedInt(b.get(0)), Byte.toUnsignedInt(b.get(1)),
        (Byte.toUnsignedInt(b.get(2)) << 8) | Byte.toUnsignedInt(b.get(3)));
  }

  public static NlAttrs attrs(NetlinkMessage m) {
    return m.attrs(SIZE, "nfgenmsg");
  }
}
