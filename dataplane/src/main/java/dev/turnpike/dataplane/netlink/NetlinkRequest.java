package dev.turnpike.dataplane.netlink;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A request before the channel stamps it: message type, flags and the body (family header and
 * attributes). Sequence number and port id are added by {@link #encode}, so the same request can
 * be retried (an interrupted dump) under a new sequence number. Immutable.
 */
public final class NetlinkRequest {
  private final int type;
  private final int flags;
  private final byte[] body;
  private final String description;

  NetlinkRequest(int type, int flags, byte[] body, String description) {
    if (NlMsgHdr.SIZE + (long) body.length > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("request too large");
    }
    this.type = type;
    this.flags = flags;
    this.body = body.clone();
    this.description = description;
  }

  public static NlMsgBuilder builder(int type, int flags, String description) {
    return new NlMsgBuilder(type, flags, description);
  }

  public int type() {
    return type;
  }

  public int flags() {
    return flags;
  }

  public boolean isDump() {
    return (flags & Netlink.NLM_F_DUMP) == Netlink.NLM_F_DUMP;
  }

  /** Human-readable, used in exception messages: "RTM_NEWLINK turnpike-ipvs0". */
  public String description() {
    return description;
  }

  public int length() {
    return NlMsgHdr.SIZE + body.length;
  }

  public NetlinkRequest withFlags(int extra) {
    return new NetlinkRequest(type, flags | extra, body, description);
  }

  /** The wire form: nlmsghdr then body, native order, ready to send. */
  public ByteBuffer encode(int seq, int pid) {
    ByteBuffer b = ByteBuffer.allocate(length()).order(ByteOrder.nativeOrder());
    new NlMsgHdr(length(), type, flags, seq, pid).write(b);
    b.put(body);
    return b.flip();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NetlinkRequest r && r.type == type && r.flags == flags
        && Arrays.equals(r.body, body);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * type + flags) + Arrays.hashCode(body);
  }

  @Override
  public String toString() {
    return description + " {type=" + type + ", flags=0x" + Integer.toHexString(flags) + ", body="
        + HexFormat.of().formatHex(body) + "}";
  }
}
