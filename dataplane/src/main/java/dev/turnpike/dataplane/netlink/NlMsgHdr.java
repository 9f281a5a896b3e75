package dev.turnpike.dataplane.netlink;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** struct nlmsghdr: 16 bytes, all fields in host byte order. Values are unsigned where C's are. */
public record NlMsgHdr(int len, int type, int flags, int seq, int pid) {
  public static final int SIZE = Netlink.NLMSG_HDRLEN;

  public NlMsgHdr {
    if (type < 0 || type > 0xffff || flags < 0 || flags > 0xffff) {
      throw new IllegalArgumentException("nlmsg type/flags are u16: " + type + "/" + flags);
    }
  }

  public boolean hasFlags(int mask) {
    return (flags & mask) == mask;
  }

  /** Writes the header at the buffer's position; the buffer must be in native order. */
  public void write(ByteBuffer out) {
    requireNative(out);
    out.putInt(len).putShort((short) type).putShort((short) flags).putInt(seq).putInt(pid);
  }

  /** Reads a header at {@code offset} without moving the buffer; rejects what cannot be one. */
  public static NlMsgHdr read(ByteBuffer in, int offset) {
    NlMsgHdr h = readFields(in, offset);
    int available = in.limit() - offset;
    if (Integer.compareUnsigned(h.len(), SIZE) < 0) {
      throw new NetlinkParseException(
          "nlmsg_len " + Integer.toUnsignedString(h.len()) + " at offset " + offset
              + " is shorter than the 16-byte header");
    }
    if (Integer.compareUnsigned(h.len(), available) > 0) {
      throw new NetlinkParseException(
          "nlmsg_len " + Integer.toUnsignedString(h.len()) + " at offset " + offset
              + " runs past the end: " + available + " bytes left");
    }
    return h;
  }

  /**
   * Reads the 16 header bytes without checking nlmsg_len against what follows: for the request
   * header an NLMSG_ERROR echoes, whose body the kernel usually leaves out.
   */
  public static NlMsgHdr readFields(ByteBuffer in, int offset) {
    requireNative(in);
    if (in.limit() - offset < SIZE) {
      throw new NetlinkParseException("netlink message header truncated at offset " + offset
          + ": " + (in.limit() - offset) + " bytes, need " + SIZE);
    }
    return new NlMsgHdr(
        in.getInt(offset),
        Short.toUnsignedInt(in.getShort(offset + 4)),
        Short.toUnsignedInt(in.getShort(offset + 6)),
        in.getInt(offset + 8),
        in.getInt(offset + 12));
  }

  static void requireNative(ByteBuffer b) {
    if (b.order() != ByteOrder.nativeOrder()) {
      throw new IllegalArgumentException("netlink buffers must be in native byte order");
    }
  }

  @Override
  public String toString() {
    return "nlmsghdr{len=" + len + ", type=" + type + ", flags=0x" + Integer.toHexString(flags)
        + ", seq=" + Integer.toUnsignedString(seq) + ", pid=" + Integer.toUnsignedString(pid) + "}";
  }
}
