package dev.turnpike.dataplane.netlink.genl;

import dev.turnpike.dataplane.netlink.NetlinkMessage;
import dev.turnpike.dataplane.netlink.NetlinkRequest;
import dev.turnpike.dataplane.netlink.NlAttrs;
import dev.turnpike.dataplane.netlink.NlMsgBuilder;
import java.nio.ByteBuffer;

/** struct genlmsghdr {u8 cmd; u8 version; u16 reserved}, which follows nlmsghdr in genl. */
public record GenlMsgHdr(int cmd, int version) {
  public static final int SIZE = 4;

  /** A generic-netlink request builder with this header written; attributes follow. */
  public static NlMsgBuilder request(int familyId, int cmd, int version, int flags,
      String description) {
    return NetlinkRequest.builder(familyId, flags, description)
        .rawU8(cmd)
        .rawU8(version)
        .rawU16(0);
  }

  public static GenlMsgHdr of(NetlinkMessage m) {
    ByteBuffer b = m.fixedHeader(SIZE, "genlmsghdr");
    return new GenlMsgHdr(Byte.toUnsignedInt(b.get(0)), Byte.toUnsignedInt(b.get(1)));
  }

  /** The attributes after the genl header (families with a user header are not used here). */
  public static NlAttrs attrs(NetlinkMessage m) {
    return m.attrs(SIZE, "genlmsghdr");
  }
}
