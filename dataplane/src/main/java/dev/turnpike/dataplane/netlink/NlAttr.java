package dev.turnpike.dataplane.netlink;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * One parsed attribute (struct nlattr + payload). {@code type} has the NLA_F_NESTED and
 * NLA_F_NET_BYTEORDER bits stripped; they are reported separately. The payload is a read-only
 * view limited to this attribute, so no accessor can read a neighbour; {@code offset} is where the
 * attribute header sits in the message, for error messages.
 */
public record NlAttr(int type, boolean nestedFlag, boolean netByteOrderFlag, int offset,
    ByteBuffer payload) {

  public NlAttr {
    payload = payload.slice().asReadOnlyBuffer().order(ByteOrder.nativeOrder());
  }

  public int length() {
    return payload.remaining();
  }

  public int u8() {
    return Byte.toUnsignedInt(sized(1, "u8").get(0));
  }

  public int u16() {
    return Short.toUnsignedInt(sized(2, "u16").getShort(0));
  }

  /** A u32 in host order; use {@link Integer#toUnsignedLong} where the top bit matters. */
  public int u32() {
    return sized(4, "u32").getInt(0);
  }

  public long u64() {
    return sized(8, "u64").getLong(0);
  }

  /** A u16 in network order (ports). */
  public int be16() {
    return Short.toUnsignedInt(bigEndian(2, "be16").getShort(0));
  }

  /** A u32 in network order. */
  public int be32() {
    return bigEndian(4, "be32").getInt(0);
  }

  /** A string up to the first NUL (the kernel sends them NUL-terminated; a missing NUL is ok). */
  public String string() {
    int n = 0;
    while (n < payload.limit() && payload.get(n) != 0) {
      n++;
    }
    byte[] b = new byte[n];
    payload.get(0, b);
    return new String(b, StandardCharsets.UTF_8);
  }

  public byte[] bytes() {
    byte[] b = new byte[payload.limit()];
    payload.get(0, b);
    return b;
  }

  /** The payload parsed as attributes, whether or not the kernel set NLA_F_NESTED. */
  public NlAttrs nested() {
    return NlAttrs.parse(payload, offset + Netlink.NLA_HDRLEN);
  }

  private ByteBuffer sized(int size, String what) {
    if (payload.limit() != size) {
      throw new NetlinkParseException(
          "attribute type " + type + " at offset " + offset + ": " + what + " needs " + size
              + " bytes, payload has " + payload.limit());
    }
    return payload;
  }

  private ByteBuffer bigEndian(int size, String what) {
    return sized(size, what).duplicate().order(ByteOrder.BIG_ENDIAN);
  }

  @Override
  public String toString() {
    return "nlattr{type=" + type + (nestedFlag ? ", nested" : "")
        + (netByteOrderFlag ? ", net-byteorder" : "") + ", offset=" + offset + ", len="
        + length() + "}";
  }
}
