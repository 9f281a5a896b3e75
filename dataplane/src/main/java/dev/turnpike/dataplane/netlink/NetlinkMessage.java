package dev.turnpike.dataplane.netlink;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One received message: its header and a read-only payload view that ends at nlmsg_len.
 * {@code offset} is where the message starts in its datagram, so parse errors can point at bytes.
 */
public record NetlinkMessage(NlMsgHdr header, int offset, ByteBuffer payload) {

  public NetlinkMessage {
    payload = payload.slice().asReadOnlyBuffer().order(ByteOrder.nativeOrder());
  }

  /** Splits a datagram into messages; rejects a truncated or malformed one with its offset. */
  public static List<NetlinkMessage> parseDatagram(ByteBuffer datagram) {
    ByteBuffer b = datagram.slice().order(ByteOrder.nativeOrder());
    if (!b.hasRemaining()) {
      throw new NetlinkParseException("empty netlink datagram");
    }
    List<NetlinkMessage> out = new ArrayList<>();
    int pos = 0;
    int end = b.limit();
    while (pos < end) {
      NlMsgHdr h = NlMsgHdr.read(b, pos);
      ByteBuffer payload = b.duplicate().position(pos + NlMsgHdr.SIZE).limit(pos + h.len());
      out.add(new NetlinkMessage(h, pos, payload));
      pos = NlAttrs.nextAligned(pos, h.len(), end, pos, "message");
    }
    return out;
  }

  public int type() {
    return header.type();
  }

  public int flags() {
    return header.flags();
  }

  public int payloadLength() {
    return payload.limit();
  }

  /** The family's fixed header (ifinfomsg, genlmsghdr...), exactly {@code size} bytes. */
  public ByteBuffer fixedHeader(int size, String what) {
    requirePayload(size, what);
    return payload.duplicate().position(0).limit(size).slice().order(ByteOrder.nativeOrder());
  }

  /** The attributes after a fixed header of {@code fixedSize} bytes. */
  public NlAttrs attrs(int fixedSize, String what) {
    requirePayload(fixedSize, what);
    int start = Netlink.align(fixedSize);
    if (start > payload.limit()) {
      start = payload.limit();
    }
    return NlAttrs.parse(payload.duplicate().position(start),
        offset + NlMsgHdr.SIZE + start);
  }

  private void requirePayload(int size, String what) {
    if (payload.limit() < size) {
      throw new NetlinkParseException("message type " + type() + " at offset " + offset
          + ": payload of " + payload.limit() + " bytes is too short for " + what + " ("
          + size + " bytes)");
    }
  }
}
