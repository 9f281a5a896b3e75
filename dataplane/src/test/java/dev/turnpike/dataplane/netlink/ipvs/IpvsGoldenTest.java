package dev.turnpike.dataplane.netlink.ipvs;

import static dev.turnpike.dataplane.netlink.GoldenVectors.message;
import static dev.turnpike.dataplane.netlink.GoldenVectors.wire;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.dataplane.netlink.FakeNetlinkChannel;
import dev.turnpike.dataplane.netlink.GoldenVectors;
import dev.turnpike.dataplane.netlink.Hex;
import dev.turnpike.dataplane.netlink.Netlink;
import dev.turnpike.dataplane.netlink.NetlinkClient;
import dev.turnpike.dataplane.netlink.NetlinkMessage;
import dev.turnpike.dataplane.netlink.NetlinkParseException;
import dev.turnpike.dataplane.netlink.NetlinkRequest;
import dev.turnpike.dataplane.netlink.Replies;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class IpvsGoldenTest {
  private final IpvsMessages ipvs = new IpvsMessages(GoldenVectors.IPVS_FAMILY_ID);

  private static final String SERVICE_KEY_10_96_0_10_TCP_443 =
      "0600 0100 0200 0000" // . AF AF_INET
          + "0600 0200 0600 0000" // . PROTOCOL TCP
          + "1400 0300 0a60000a 00000000 00000000 00000000" // . ADDR 10.96.0.10 in 16 bytes
          + "0600 0400 01bb 0000"; // . PORT 443, network order

  @BeforeEach
  void littleEndian() {
    GoldenVectors.assumeLittleEndian();
  }

  private static VirtualServerKey https() throws Exception {
    return VirtualServerKey.of(VirtualServerKey.IPPROTO_TCP, InetAddress.getByName("10.96.0.10"),
        443);
  }

  @Test
  void newMaglevService() throws Exception {
    VirtualServer mh = VirtualServer.of(https(), "mh",
        IpvsMessages.IP_VS_SVC_F_SCHED_MH_FALLBACK | IpvsMessages.IP_VS_SVC_F_SCHED_MH_PORT);
    assertEquals(Hex.strip(
        "6800 0000" // nlmsg_len 104
            + "2300" // nlmsg_type: the IPVS family id
            + "0500" // NLM_F_REQUEST | NLM_F_ACK
            + "0100 0000 4d00 0000" // seq 1, pid 77
            + "01 01 0000" // genlmsghdr: cmd IPVS_CMD_NEW_SERVICE, version 1
            + "5400 0180" // IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, len 84
            + SERVICE_KEY_10_96_0_10_TCP_443
            + "0700 0600 6d6800 00" // . SCHED_NAME "mh\0" + 1 pad
            + "0c00 0700 1800 0000 ffff ffff" // . FLAGS {SCHED1 (fallback) | SCHED2 (port), ~0}
            + "0800 0800 0000 0000" // . TIMEOUT 0: not persistent
            + "0800 0900 ffff ffff"), // . NETMASK /32 as a network-order mask
        wire(ipvs.newService(mh)));
  }

  @Test
  void newPersistentIpv6Service() throws Exception {
    VirtualServer affine = new VirtualServer(
        VirtualServerKey.of(VirtualServerKey.IPPROTO_TCP, InetAddress.getByName("fd00::10"), 80),
        "rr", IpvsMessages.IP_VS_SVC_F_PERSISTENT, 10800, 128);
    assertEquals(Hex.strip(
        "6800 0000 2300 0500 0100 0000 4d00 0000" // len 104, IPVS, REQUEST|ACK, seq 1, pid 77
            + "01 01 0000" // IPVS_CMD_NEW_SERVICE v1
            + "5400 0180" // IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED
            + "0600 0100 0a00 0000" // . AF AF_INET6
            + "0600 0200 0600 0000" // . PROTOCOL TCP
            + "1400 0300 fd000000 00000000 00000000 00000010" // . ADDR fd00::10
            + "0600 0400 0050 0000" // . PORT 80, network order
            + "0700 0600 727200 00" // . SCHED_NAME "rr\0"
            + "0c00 0700 0100 0000 ffff ffff" // . FLAGS {PERSISTENT, ~0}
            + "0800 0800 302a 0000" // . TIMEOUT 10800 s (ClientIP affinity default)
            + "0800 0900 8000 0000"), // . NETMASK: IPv6 takes a host-order prefix length, 128
        wire(ipvs.newService(affine)));
  }

  @Test
  void newMasqDestination() throws Exception {
    RealServer backend = RealServer.masq(InetAddress.getByName("10.244.1.5"), 8080, 1);
    assertEquals(Hex.strip(
        "8c00 0000 2300 0500 0100 0000 4d00 0000" // len 140, IPVS, REQUEST|ACK, seq 1, pid 77
            + "05 01 0000" // genlmsghdr: cmd IPVS_CMD_NEW_DEST, version 1
            + "3000 0180" // IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, len 48: which service
            + SERVICE_KEY_10_96_0_10_TCP_443
            + "4800 0280" // IPVS_CMD_ATTR_DEST | NLA_F_NESTED, len 72
            + "1400 0100 0af40105 00000000 00000000 00000000" // . ADDR 10.244.1.5
            + "0600 0200 1f90 0000" // . PORT 8080, network order
            + "0600 0b00 0200 0000" // . ADDR_FAMILY AF_INET
            + "0800 0300 0000 0000" // . FWD_METHOD IP_VS_CONN_F_MASQ
            + "0800 0400 0100 0000" // . WEIGHT 1
            + "0800 0500 0000 0000" // . U_THRESH 0: unlimited
            + "0800 0600 0000 0000"), // . L_THRESH 0
        wire(ipvs.newDest(https(), backend)));
  }

  @Test
  void getDestsDumpAndDelete() throws Exception {
    assertEquals(Hex.strip(
        "4400 0000 2300" // len 68, IPVS
            + "0103" // NLM_F_REQUEST | NLM_F_DUMP
            + "0100 0000 4d00 0000"
            + "08 01 0000" // IPVS_CMD_GET_DEST v1
            + "3000 0180" + SERVICE_KEY_10_96_0_10_TCP_443),
        wire(ipvs.getDests(https())));
    assertEquals(Hex.strip(
        "6c00 0000 2300 0500 0100 0000 4d00 0000" // len 108, IPVS, REQUEST|ACK
            + "07 01 0000" // IPVS_CMD_DEL_DEST v1
            + "3000 0180" + SERVICE_KEY_10_96_0_10_TCP_443
            + "2800 0280" // IPVS_CMD_ATTR_DEST | NLA_F_NESTED, len 40: only the key
            + "1400 0100 0af40105 00000000 00000000 00000000" // . ADDR 10.244.1.5
            + "0600 0200 1f90 0000" // . PORT 8080
            + "0600 0b00 0200 0000"), // . ADDR_FAMILY AF_INET
        wire(ipvs.delDest(https(), InetAddress.getByName("10.244.1.5"), 8080)));
  }

  @Test
  void fwmarkServiceDeleteAndServicesDump() throws Exception {
    assertEquals(Hex.strip(
        "2800 0000 2300 0500 0100 0000 4d00 0000" // len 40, IPVS, REQUEST|ACK
            + "03 01 0000" // IPVS_CMD_DEL_SERVICE v1
            + "1400 0180" // IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, len 20
            + "0600 0100 0200 0000" // . AF AF_INET
            + "0800 0500 0040 0000"), // . FWMARK 0x4000, host order
        wire(ipvs.delService(VirtualServerKey.ofFwmark(Netlink.AF_INET, 0x4000))));
    assertEquals(Hex.strip("1400 0000 2300 0103 0100 0000 4d00 0000" // len 20, dump
            + "04 01 0000"), // IPVS_CMD_GET_SERVICE v1, no attributes: every service
        wire(ipvs.getServices()));
  }

  @Test
  void setConfigTimeouts() throws Exception {
    assertEquals(Hex.strip(
        "2c00 0000 2300 0500 0100 0000 4d00 0000" // len 44, IPVS, REQUEST|ACK
            + "0c 01 0000" // IPVS_CMD_SET_CONFIG v1
            + "0800 0400 8403 0000" // IPVS_CMD_ATTR_TIMEOUT_TCP 900
            + "0800 0500 7800 0000" // IPVS_CMD_ATTR_TIMEOUT_TCP_FIN 120
            + "0800 0600 2c01 0000"), // IPVS_CMD_ATTR_TIMEOUT_UDP 300
        wire(ipvs.setConfig(new IpvsTimeouts(900, 120, 300))));
  }

  @Test
  void destinationReplyWithConnectionCounters() throws Exception {
    RealServer d = ipvs.parseDest(message(GoldenVectors.IPVS_DEST_REPLY), Netlink.AF_INET);
    assertEquals(new RealServer(InetAddress.getByName("10.244.1.5"), 8080, ForwardMethod.MASQ,
        0, 0, 0, new RealServer.Connections(3, 12, 1)), d);
    assertTrue(!d.connections().isIdle(), "3 active connections still drain");
  }

  @Test
  void serviceReplyDropsTheKernelsHashedFlag() throws Exception {
    VirtualServer s = ipvs.parseService(message(GoldenVectors.IPVS_SERVICE_REPLY));
    assertEquals(VirtualServer.of(
        VirtualServerKey.of(VirtualServerKey.IPPROTO_UDP, InetAddress.getByName("10.96.0.10"),
            53),
        "mh", IpvsMessages.IP_VS_SVC_F_SCHED1 | IpvsMessages.IP_VS_SVC_F_SCHED2), s);
  }

  @Test
  void configReply() {
    assertEquals(new IpvsTimeouts(900, 120, 300),
        ipvs.parseConfig(message(GoldenVectors.IPVS_CONFIG_REPLY)));
  }

  @Test
  void requestsRoundTripThroughTheParsers() throws Exception {
    // A NEW request carries exactly what a dump reply carries, so parse(build(x)) == x.
    List<VirtualServer> services = List.of(
        VirtualServer.of(https(), "mh", IpvsMessages.IP_VS_SVC_F_SCHED_MH_PORT),
        new VirtualServer(https(), "rr", IpvsMessages.IP_VS_SVC_F_PERSISTENT, 10800, 24),
        new VirtualServer(VirtualServerKey.ofFwmark(Netlink.AF_INET6, 7), "wrr", 0, 0, 64),
        new VirtualServer(VirtualServerKey.of(VirtualServerKey.IPPROTO_SCTP,
            InetAddress.getByName("2001:db8::1"), 65535), "sh", 0, 0, 0));
    for (VirtualServer s : services) {
      assertEquals(s, ipvs.parseService(encoded(ipvs.newService(s))));
    }
    RealServer v6 = new RealServer(InetAddress.getByName("fd00::1:5"), 443, ForwardMethod.MASQ,
        100, 1000, 10, RealServer.Connections.NONE);
    assertEquals(v6, ipvs.parseDest(encodedAs(ipvs.newDest(https(), v6),
        IpvsMessages.IPVS_CMD_NEW_DEST), Netlink.AF_INET));
  }

  @Test
  void dumpThroughTheClient() throws Exception {
    FakeNetlinkChannel fake = new FakeNetlinkChannel(GoldenVectors.PORT);
    fake.respond(req -> List.of(Replies.datagram(Hex.buffer(GoldenVectors.IPVS_DEST_REPLY),
        Replies.done(req, 0, 0))));
    List<NetlinkMessage> dump = new NetlinkClient(fake).dump(ipvs.getDests(https()));
    assertEquals(3, ipvs.parseDest(dump.get(0), Netlink.AF_INET).connections().active());
  }

  @Test
  void repliesOfAnotherFamilyOrCommandAreRejected() {
    IpvsMessages other = new IpvsMessages(0x24);
    NetlinkParseException e = assertThrows(NetlinkParseException.class,
        () -> other.parseDest(message(GoldenVectors.IPVS_DEST_REPLY), Netlink.AF_INET));
    assertTrue(e.getMessage().contains("not the IPVS family 36"), e.getMessage());
    assertThrows(NetlinkParseException.class,
        () -> ipvs.parseService(message(GoldenVectors.IPVS_DEST_REPLY)));
  }

  private static NetlinkMessage encoded(NetlinkRequest r) {
    return NetlinkMessage.parseDatagram(r.encode(1, GoldenVectors.PORT)).get(0);
  }

  private static NetlinkMessage encodedAs(NetlinkRequest r, int cmd) {
    NetlinkMessage m = encoded(r);
    assertEquals(cmd, dev.turnpike.dataplane.netlink.genl.GenlMsgHdr.of(m).cmd());
    return m;
  }
}
