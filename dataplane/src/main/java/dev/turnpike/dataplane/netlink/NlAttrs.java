package dev.turnpike.dataplane.netlink;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The attributes of one message or nest, in wire order. Immutable. */
public final class NlAttrs {
  private final List<NlAttr> attrs;

  private NlAttrs(List<NlAttr> attrs) {
    this.attrs = List.copyOf(attrs);
  }

  /**
   * Parses every attribute from the buffer's position to its limit. Each attribute must have a
   * length of at least 4 that stays inside the region, and the region must end on the last
   * attribute's aligned end (or its unpadded end); anything else is rejected with the offset.
   *
   * @param baseOffset the offset of the region in the message, for error messages
   */
  public static NlAttrs parse(ByteBuffer region, int baseOffset) {
    ByteBuffer b = region.slice().order(ByteOrder.nativeOrder());
    int end = b.limit();
    List<NlAttr> out = new ArrayList<>();
    int pos = 0;
    while (pos < end) {
      int at = baseOffset + pos;
      if (end - pos < Netlink.NLA_HDRLEN) {
        throw new NetlinkParseException(
            (end - pos) + " trailing bytes at offset " + at + " are too short for an attribute");
      }
      int len = Short.toUnsignedInt(b.getShort(pos));
      int rawType = Short.toUnsignedInt(b.getShort(pos + 2));
      if (len < Netlink.NLA_HDRLEN) {
        throw new NetlinkParseException("attribute at offset " + at + " has nla_len " + len
            + ", less than its 4-byte header");
      }
      if (len > end - pos) {
        throw new NetlinkParseException("attribute type " + (rawType & Netlink.NLA_TYPE_MASK)
            + " at offset " + at + " has nla_len " + len + " but only " + (end - pos)
            + " bytes are left");
      }
      ByteBuffer payload = b.duplicate().position(pos + Netlink.NLA_HDRLEN).limit(pos + len);
      out.add(new NlAttr(rawType & Netlink.NLA_TYPE_MASK,
          (rawType & Netlink.NLA_F_NESTED) != 0,
          (rawType & Netlink.NLA_F_NET_BYTEORDER) != 0, at, payload));
      pos = nextAligned(pos, len, end, at, "attribute");
    }
    return new NlAttrs(out);
  }

  /**
   * Where the next element starts. The last one's padding may be left off, but a region that ends
   * inside the padding is misaligned: its length cannot come from whole aligned elements.
   */
  static int nextAligned(int pos, int len, int end, int at, String what) {
    int next = pos + Netlink.align(len);
    if (next <= end) {
      return next;
    }
    if (pos + len == end) {
      return end;
    }
    throw new NetlinkParseException("misaligned total: the " + what + " at offset " + at
        + " (length " + len + ") is followed by " + (end - pos - len) + " bytes of partial padding");
  }

  public List<NlAttr> list() {
    return attrs;
  }

  public boolean isEmpty() {
    return attrs.isEmpty();
  }

  /** The first attribute of this type (nla_find semantics). */
  public Optional<NlAttr> find(int type) {
    for (NlAttr a : attrs) {
      if (a.type() == type) {
        return Optional.of(a);
      }
    }
    return Optional.empty();
  }

  /** The attribute the caller cannot do without; {@code what} names it in the error. */
  public NlAttr require(int type, String what) {
    return find(type).orElseThrow(() -> new NetlinkParseException(
        "missing attribute " + what + " (type " + type + ")"
            + (attrs.isEmpty() ? "" : " in the nest at offset " + (attrs.get(0).offset()))));
  }

  public List<NlAttr> all(int type) {
    return attrs.stream().filter(a -> a.type() == type).toList();
  }

  @Override
  public String toString() {
    return attrs.toString();
  }
}
