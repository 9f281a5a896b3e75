package dev.turnpike.dataplane.netlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** nlmsghdr, attributes, alignment, byte order and the parser's refusals. */
class CodecTest {
  @Test
  void alignRoundsUpToFour() {
    for (int i = 0; i < 64; i++) {
      assertEquals((i + 3) / 4 * 4, Netlink.align(i));
    }
  }

  @Test
  void headerRoundTrip() {
    NlMsgHdr h = new NlMsgHdr(20, 0xffff, 0x0605, -1, 0x7fffffff);
    ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.nativeOrder());
    h.write(b);
    assertEquals(h, NlMsgHdr.read(b.position(20).flip(), 0));
  }

  @Test
  void attributesArePaddedAndReadBackInEitherOrder() {
    NetlinkRequest r = NetlinkRequest.builder(0x30, 0, "t")
        .u8(1, 0xab)
        .u16(2, 0xbeef)
        .u32(3, 0xdeadbeef)
        .u64(4, 0x0102030405060708L)
        .be16(5, 0x1f90)
        .be32(6, 0x0a60000a)
        .string(7, "mh")
        .bytes(8, new byte[] {1, 2, 3, 4, 5})
        .nested(9, n -> n.u32(1, 42).string(2, "x"))
        .build();
    NetlinkMessage m = NetlinkMessage.parseDatagram(r.encode(5, 6)).get(0);
    assertEquals(0, m.payloadLength() % 4, "every attribute padded");
    NlAttrs a = m.attrs(0, "none");
    assertEquals(0xab, a.require(1, "u8").u8());
    assertEquals(0xbeef, a.require(2, "u16").u16());
    assertEquals(0xdeadbeef, a.require(3, "u32").u32());
    assertEquals(0x0102030405060708L, a.require(4, "u64").u64());
    NlAttr port = a.require(5, "be16");
    assertEquals(0x1f90, port.be16());
    assertEquals(List.of((byte) 0x1f, (byte) 0x90),
        List.of(port.bytes()[0], port.bytes()[1]), "network order on the wire");
    assertEquals(0x0a60000a, a.require(6, "be32").be32());
    assertEquals("mh", a.require(7, "string").string());
    assertEquals(3, a.require(7, "string").length(), "NUL included");
    assertEquals(5, a.require(8, "bytes").bytes().length);
    NlAttr nest = a.require(9, "nest");
    assertTrue(nest.nestedFlag());
    assertFalse(nest.netByteOrderFlag());
    assertEquals(42, nest.nested().require(1, "inner").u32());
    assertEquals("x", nest.nested().require(2, "inner").string());
    assertEquals(1, a.all(9).size());
    assertTrue(a.find(10).isEmpty());
  }

  @Test
  void typeBitsAreSplitFromTheAttributeNumber() {
    NlAttrs a = NlAttrs.parse(Hex.buffer("0800 0540 01020304"), 0); // type 5 | NET_BYTEORDER
    NlAttr attr = a.list().get(0);
    assertEquals(5, attr.type());
    assertTrue(attr.netByteOrderFlag());
    assertEquals(0x01020304, attr.be32());
  }

  @Test
  void aStringWithoutNulIsAccepted() {
    assertEquals("abc", NlAttrs.parse(Hex.buffer("0700 0100 616263 00"), 0)
        .require(1, "s").string());
  }

  @Test
  void malformedInputIsRefusedWithWhatAndWhere() {
    assertRefused("0200 0100", "nla_len 2, less than its 4-byte header");
    assertRefused("0c00 0100 00000000", "nla_len 12 but only 8 bytes are left");
    assertRefused("0800 0100 00000000 0000", "2 trailing bytes at offset 8");
    assertRefused("0500 0100 00 0000", "partial padding");
    NetlinkParseException size = assertThrows(NetlinkParseException.class,
        () -> NlAttrs.parse(Hex.buffer("0600 0300 0100 0000"), 40).require(3, "x").u32());
    assertEquals("attribute type 3 at offset 40: u32 needs 4 bytes, payload has 2",
        size.getMessage());
    NetlinkParseException missing = assertThrows(NetlinkParseException.class,
        () -> NlAttrs.parse(Hex.buffer("0800 0100 00000000"), 20).require(2, "IFLA_FOO"));
    assertEquals("missing attribute IFLA_FOO (type 2) in the nest at offset 20",
        missing.getMessage());
  }

  @Test
  void malformedMessagesAreRefusedWithWhatAndWhere() {
    assertDatagramRefused("", "empty netlink datagram");
    assertDatagramRefused("1000 0000 0300 0000 0000", "truncated at offset 0: 10 bytes");
    assertDatagramRefused("0c00 0000 0300 0000 0000 0000 0000 0000",
        "nlmsg_len 12 at offset 0 is shorter than the 16-byte header");
    assertDatagramRefused("1400 0000 0300 0000 0000 0000 0000 0000",
        "nlmsg_len 20 at offset 0 runs past the end: 16 bytes left");
    assertDatagramRefused("1100 0000 0300 0000 0000 0000 0000 0000 00 0000",
        "partial padding");
    assertDatagramRefused("1000 0000 0300 0000 0000 0000 0000 0000 ffff ffff",
        "truncated at offset 16: 4 bytes");
  }

  @Test
  void errorReply() {
    GoldenVectors.assumeLittleEndian();
    NlMsgErr err = NlMsgErr.parse(GoldenVectors.message(GoldenVectors.ERROR_EOPNOTSUPP));
    assertEquals(-95, err.error());
    assertEquals(new NlMsgHdr(68, 16, 0x605, 1, 77), err.request());
    assertEquals("Unknown device type", err.kernelMessage());
    NetlinkException e = err.toException("RTM_NEWLINK turnpike-ipvs0 type dummy");
    assertEquals("EOPNOTSUPP", e.errnoName());
    assertEquals(
        "RTM_NEWLINK turnpike-ipvs0 type dummy: EOPNOTSUPP (kernel: Unknown device type)",
        e.getMessage());
  }

  @Test
  void builderRefusesWhatCannotBeEncoded() {
    NlMsgBuilder b = NetlinkRequest.builder(0x30, 0, "t");
    assertThrows(IllegalArgumentException.class, () -> b.u32(0, 1));
    assertThrows(IllegalArgumentException.class, () -> b.bytes(1, new byte[70000]));
    assertThrows(IllegalArgumentException.class,
        () -> NetlinkRequest.builder(0x10000, 0, "t"));
  }

  @Test
  void errnoNames() {
    assertEquals("EEXIST", Errno.nameOf(17));
    assertEquals("errno 999", Errno.nameOf(999));
  }

  private static void assertRefused(String hex, String expected) {
    NetlinkParseException e =
        assertThrows(NetlinkParseException.class, () -> NlAttrs.parse(Hex.buffer(hex), 0));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  private static void assertDatagramRefused(String hex, String expected) {
    NetlinkParseException e = assertThrows(NetlinkParseException.class,
        () -> NetlinkMessage.parseDatagram(Hex.buffer(hex)));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
