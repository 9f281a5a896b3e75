package dev.turnpike.dataplane.netlink;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Writes a request body: first the family's fixed header with the {@code raw*} methods, then
 * attributes, each padded to 4 bytes. Host order unless the method name says big-endian (be*).
 * Nests get NLA_F_NESTED, which strict kernel policies require and liberal ones ignore.
 */
public final class NlMsgBuilder {
  private final int type;
  private final int flags;
  private final String description;
  private ByteBuffer buf = ByteBuffer.allocate(64).order(ByteOrder.nativeOrder());

  NlMsgBuilder(int type, int flags, String description) {
    if (type < 0 || type > 0xffff || flags < 0 || flags > 0xffff) {
      throw new IllegalArgumentException("type and flags are u16");
    }
    this.type = type;
    this.flags = flags;
    this.description = description;
  }

  public NlMsgBuilder rawU8(int v) {
    ensure(1).put((byte) v);
    return this;
  }

  public NlMsgBuilder rawU16(int v) {
    ensure(2).putShort((short) v);
    return this;
  }

  public NlMsgBuilder rawU32(int v) {
    ensure(4).putInt(v);
    return this;
  }

  public NlMsgBuilder rawBytes(byte[] v) {
    ensure(v.length).put(v);
    return this;
  }

  public NlMsgBuilder u8(int attr, int v) {
    return attr(attr, 1).rawU8(v).pad();
  }

  public NlMsgBuilder u16(int attr, int v) {
    return attr(attr, 2).rawU16(v).pad();
  }

  public NlMsgBuilder u32(int attr, int v) {
    return attr(attr, 4).rawU32(v);
  }

  public NlMsgBuilder u64(int attr, long v) {
    attr(attr, 8);
    ensure(8).putLong(v);
    return this;
  }

  /** A u16 in network order (ports), without NLA_F_NET_BYTEORDER: the attribute's type says so. */
  public NlMsgBuilder be16(int attr, int v) {
    return attr(attr, 2).rawU8(v >>> 8).rawU8(v).pad();
  }

  /** A u32 in network order. */
  public NlMsgBuilder be32(int attr, int v) {
    return attr(attr, 4).rawU8(v >>> 24).rawU8(v >>> 16).rawU8(v >>> 8).rawU8(v);
  }

  /** A NUL-terminated string. */
  public NlMsgBuilder string(int attr, String v) {
    byte[] s = v.getBytes(StandardCharsets.UTF_8);
    attr(attr, s.length + 1).rawBytes(s).rawU8(0);
    return pad();
  }

  public NlMsgBuilder bytes(int attr, byte[] v) {
    return attr(attr, v.length).rawBytes(v).pad();
  }

  /** A nest: the attributes {@code body} writes, under a header whose length is patched after. */
  public NlMsgBuilder nested(int attr, Consumer<NlMsgBuilder> body) {
    int start = buf.position();
    attr(attr | Netlink.NLA_F_NESTED, 0);
    body.accept(this);
    pad();
    int len = buf.position() - start;
    if (len > 0xffff) {
      throw new IllegalArgumentException("nest " + attr + " exceeds 65535 bytes");
    }
    buf.putShort(start, (short) len);
    return this;
  }

  public NetlinkRequest build() {
    byte[] body = new byte[buf.position()];
    buf.get(0, body);
    return new NetlinkRequest(type, flags, body, description);
  }

  private NlMsgBuilder attr(int attrType, int payloadLen) {
    if ((attrType & Netlink.NLA_TYPE_MASK) == 0) {
      throw new IllegalArgumentException("attribute type 0 is reserved (UNSPEC)");
    }
    int len = Netlink.NLA_HDRLEN + payloadLen;
    if (len > 0xffff) {
      throw new IllegalArgumentException("attribute " + attrType + " payload too large");
    }
    ensure(4).putShort((short) len).putShort((short) attrType);
    return this;
  }

  private NlMsgBuilder pad() {
    int p = Netlink.align(buf.position()) - buf.position();
    ensure(p);
    for (int i = 0; i < p; i++) {
      buf.put((byte) 0);
    }
    return this;
  }

  private ByteBuffer ensure(int n) {
    if (buf.remaining() < n) {
      ByteBuffer bigger = ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + n))
          .order(ByteOrder.nativeOrder());
      buf.flip();
      bigger.put(buf);
      buf = bigger;
    }
    return buf;
  }
}
