package dev.turnpike.dataplane.conntrack;

import static dev.turnpike.dataplane.netlink.GoldenVectors.message;
import static dev.turnpike.dataplane.netlink.GoldenVectors.wire;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.dataplane.netlink.GoldenVectors;
import dev.turnpike.dataplane.netlink.Hex;
import dev.turnpike.dataplane.netlink.NetlinkMessage;
import dev.turnpike.dataplane.netlink.NetlinkParseException;
import dev.turnpike.dataplane.netlink.NfGenMsg;
import dev.turnpike.dataplane.netlink.Replies;
import dev.turnpike.dataplane.netlink.NlMsgHdr;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.OptionalLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CtNetlinkGoldenTest {
  @BeforeEach
  void littleEndian() {
    GoldenVectors.assumeLittleEndian();
  }

  static InetAddress ip(String s) throws Exception {
    return InetAddress.getByName(s);
  }

  static ConntrackEntry dnatV4(long id) throws Exception {
    return new ConntrackEntry(
        Tuple.udp(ip("10.252.1.2"), 40000, ip("10.96.0.10"), 53),
        Tuple.udp(ip("10.252.2.5"), 5353, ip("10.252.1.2"), 40000),
        0x1aa, 0x4000, 0, 30, OptionalLong.of(id));
  }

  @Test
  void unfilteredDump() throws Exception {
    assertEquals(Hex.strip(
        "1400 0000" // nlmsg_len 20
            + "0101" // NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_GET
            + "0103" // NLM_F_REQUEST | NLM_F_DUMP (ROOT|MATCH)
            + "0100 0000 4d00 0000" // seq 1, pid 77
            + "02 00 0000"), // nfgenmsg: AF_INET, NFNETLINK_V0, res_id 0
        wire(CtNetlink.dump(ConntrackFilter.family(CtNetlink.AF_INET).protocol(17), false)));
  }

  @Test
  void filteredDump() throws Exception {
    ConntrackFilter f = ConntrackFilter.family(CtNetlink.AF_INET).protocol(CtNetlink.IPPROTO_UDP)
        .originalDst(ip("10.96.0.10"), 53).replySrc(ip("10.244.1.5")).mark(0x4000, 0x4000);
    assertEquals(Hex.strip(
        "7800 0000 0101 0103 0100 0000 4d00 0000" // len 120, CT_GET, REQUEST|DUMP, seq 1, pid 77
            + "02 00 0000" // nfgenmsg AF_INET
            + "0800 0800 00004000" // CTA_MARK 0x4000, big-endian
            + "0800 1500 00004000" // CTA_MARK_MASK 0x4000, big-endian
            + "1400 1980" // CTA_FILTER | NLA_F_NESTED
            + "0800 0100 2a00 0000" // . CTA_FILTER_ORIG_FLAGS host u32: IP_DST|PROTO_NUM|PROTO_DST_PORT
            + "0800 0200 0900 0000" // . CTA_FILTER_REPLY_FLAGS: IP_SRC|PROTO_NUM
            + "2400 0180" // CTA_TUPLE_ORIG | NLA_F_NESTED, len 36
            + "0c00 0180" // . CTA_TUPLE_IP
            + "0800 0200 0a60000a" // . . CTA_IP_V4_DST 10.96.0.10
            + "1400 0280" // . CTA_TUPLE_PROTO
            + "0500 0100 11 000000" // . . CTA_PROTO_NUM 17
            + "0600 0300 0035 0000" // . . CTA_PROTO_DST_PORT 53, big-endian
            + "1c00 0280" // CTA_TUPLE_REPLY, len 28
            + "0c00 0180" // . CTA_TUPLE_IP
            + "0800 0100 0af40105" // . . CTA_IP_V4_SRC 10.244.1.5
            + "0c00 0280" // . CTA_TUPLE_PROTO
            + "0500 0100 11 000000"), // . . CTA_PROTO_NUM 17
        wire(CtNetlink.dump(f, true)));
  }

  @Test
  void filteredIpv6DumpLeavesAddressesToTheClient() throws Exception {
    ConntrackFilter f = ConntrackFilter.family(CtNetlink.AF_INET6).protocol(CtNetlink.IPPROTO_UDP)
        .originalDst(ip("fd00::a"), 53).replySrc(ip("fd00::5"));
    assertEquals(Hex.strip(
        "3800 0000 0101 0103 0100 0000 4d00 0000" // len 56, CT_GET, REQUEST|DUMP, seq 1, pid 77
            + "0a 00 0000" // nfgenmsg AF_INET6
            + "0c00 1980" // CTA_FILTER
            + "0800 0100 2800 0000" // . ORIG_FLAGS: PROTO_NUM|PROTO_DST_PORT, no IP_DST (kernel
            // compares IPv6 addresses inverted), no REPLY_FLAGS
            + "1800 0180" // CTA_TUPLE_ORIG
            + "1400 0280" // . CTA_TUPLE_PROTO
            + "0500 0100 11 000000" // . . CTA_PROTO_NUM 17
            + "0600 0300 0035 0000"), // . . CTA_PROTO_DST_PORT 53
        wire(CtNetlink.dump(f, true)));
  }

  @Test
  void deleteByTupleAndId() throws Exception {
    assertEquals(Hex.strip(
        "5000 0000" // nlmsg_len 80
            + "0201" // NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_DELETE
            + "0500" // NLM_F_REQUEST | NLM_F_ACK
            + "0100 0000 4d00 0000" // seq 1, pid 77
            + "02 00 0000" // nfgenmsg AF_INET
            + "3400 0180" // CTA_TUPLE_ORIG, len 52
            + "1400 0180" // . CTA_TUPLE_IP
            + "0800 0100 0afc0102" // . . CTA_IP_V4_SRC 10.252.1.2
            + "0800 0200 0a60000a" // . . CTA_IP_V4_DST 10.96.0.10
            + "1c00 0280" // . CTA_TUPLE_PROTO
            + "0500 0100 11 000000" // . . CTA_PROTO_NUM 17
            + "0600 0200 9c40 0000" // . . CTA_PROTO_SRC_PORT 40000
            + "0600 0300 0035 0000" // . . CTA_PROTO_DST_PORT 53
            + "0800 0c00 deadbeef"), // CTA_ID, big-endian: only this very entry
        wire(CtNetlink.delete(dnatV4(0xdeadbeefL))));
  }

  @Test
  void deleteIpv6InAZoneWithoutId() throws Exception {
    ConntrackEntry e = new ConntrackEntry(Tuple.udp(ip("fd00::1"), 40000, ip("fd00::a"), 53),
        Tuple.udp(ip("fd00::a"), 53, ip("fd00::1"), 40000), 0, 0, 7, 0, OptionalLong.empty());
    assertEquals(Hex.strip(
        "6800 0000 0201 0500 0100 0000 4d00 0000" // len 104, CT_DELETE, REQUEST|ACK
            + "0a 00 0000" // nfgenmsg AF_INET6
            + "4c00 0180" // CTA_TUPLE_ORIG, len 76
            + "2c00 0180" // . CTA_TUPLE_IP
            + "1400 0300 fd000000 00000000 00000000 00000001" // . . CTA_IP_V6_SRC fd00::1
            + "1400 0400 fd000000 00000000 00000000 0000000a" // . . CTA_IP_V6_DST fd00::a
            + "1c00 0280" // . CTA_TUPLE_PROTO
            + "0500 0100 11 000000" // . . CTA_PROTO_NUM 17
            + "0600 0200 9c40 0000" // . . SRC_PORT 40000
            + "0600 0300 0035 0000" // . . DST_PORT 53
            + "0600 1200 0007 0000"), // CTA_ZONE 7, big-endian + 2 pad
        wire(CtNetlink.delete(e)));
  }

  @Test
  void parsesADnatedIpv4Entry() throws Exception {
    NetlinkMessage m = message(ConntrackVectors.UDP_DNAT_V4);
    assertEquals(new NfGenMsg(CtNetlink.AF_INET, 0, 0), NfGenMsg.of(m));
    ConntrackEntry e = CtNetlink.parseEntry(m);
    assertEquals(dnatV4(0xdeadbeefL), e);
    assertEquals(3735928559L, e.id().getAsLong());
    assertTrue(e.dnat());
    assertFalse(e.snat());
  }

  @Test
  void parsesAnIpv6EntryInAZone() throws Exception {
    ConntrackEntry e = CtNetlink.parseEntry(message(ConntrackVectors.UDP_ZONE_V6));
    assertEquals(new ConntrackEntry(Tuple.udp(ip("fd00::1"), 40000, ip("fd00::a"), 53),
        Tuple.udp(ip("fd00::a"), 53, ip("fd00::1"), 40000), 0x18e, 0, 7, 180,
        OptionalLong.empty()), e);
    assertEquals(CtNetlink.AF_INET6, e.family());
    assertFalse(e.dnat());
  }

  @Test
  void deleteOfAParsedEntryRoundTrips() throws Exception {
    // Build the delete of a parsed entry, parse our own tuple back out of the request.
    ConntrackEntry e = CtNetlink.parseEntry(message(ConntrackVectors.UDP_ZONE_V6));
    ByteBuffer sent = Hex.buffer(wire(CtNetlink.delete(e)));
    NetlinkMessage req = NetlinkMessage.parseDatagram(sent).get(0);
    Tuple t = CtNetlink.parseTuple(NfGenMsg.attrs(req).require(CtNetlink.CTA_TUPLE_ORIG, "orig"),
        CtNetlink.AF_INET6);
    assertEquals(e.original(), t);
    assertEquals(7, NfGenMsg.attrs(req).require(CtNetlink.CTA_ZONE, "zone").be16());
  }

  @Test
  void ipv4MappedIpv6AddressesKeepTheirFamily() throws Exception {
    String v = ConntrackVectors.UDP_ZONE_V6.replace(
        "1400 0300 fd000000 00000000 00000000 00000001",
        "1400 0300 00000000 00000000 0000ffff 0a000001");
    ConntrackEntry e = CtNetlink.parseEntry(message(v));
    assertEquals(CtNetlink.AF_INET6, e.original().family());
    assertEquals(16, e.original().src().getAddress().length);
  }

  @Test
  void refusesWhatIsNotAnEntry() {
    NlMsgHdr req = new NlMsgHdr(20, CtNetlink.TYPE_GET, 0, 1, 77);
    ByteBuffer ack = Replies.ack(req);
    NetlinkMessage m = NetlinkMessage.parseDatagram(ack).get(0);
    NetlinkParseException e = assertThrows(NetlinkParseException.class, () -> CtNetlink.parseEntry(m));
    assertTrue(e.getMessage().contains("not a ctnetlink entry"), e.getMessage());
    // wrong address length in the tuple
    String bad = ConntrackVectors.UDP_DNAT_V4.replace("0800 0100 0afc0102", "0600 0100 0afc 0000");
    NetlinkParseException e2 = assertThrows(NetlinkParseException.class,
        () -> CtNetlink.parseEntry(message(bad)));
    assertTrue(e2.getMessage().contains("needs 4 bytes, payload has 2"), e2.getMessage());
    // a reply tuple without its protocol
    String noProto = Hex.strip(ConntrackVectors.UDP_DNAT_V4).replace(
        Hex.strip("1c00 0280 0500 0100 11 000000 0600 0200 14e9"),
        Hex.strip("1c00 0280 0500 0400 11 000000 0600 0200 14e9")); // CTA_PROTO_NUM -> type 4
    assertTrue(noProto.length() == Hex.strip(ConntrackVectors.UDP_DNAT_V4).length()
        && !noProto.equals(Hex.strip(ConntrackVectors.UDP_DNAT_V4)));
    NetlinkParseException e3 = assertThrows(NetlinkParseException.class,
        () -> CtNetlink.parseEntry(message(noProto)));
    assertTrue(e3.getMessage().contains("missing attribute CTA_PROTO_NUM"), e3.getMessage());
  }
}
