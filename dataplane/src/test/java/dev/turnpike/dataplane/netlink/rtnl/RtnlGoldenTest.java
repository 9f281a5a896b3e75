package dev.turnpike.dataplane.netlink.rtnl;

import static dev.turnpike.dataplane.netlink.GoldenVectors.message;
import static dev.turnpike.dataplane.netlink.GoldenVectors.wire;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.turnpike.dataplane.netlink.GoldenVectors;
import dev.turnpike.dataplane.netlink.Hex;
import dev.turnpike.dataplane.netlink.Netlink;
import java.net.InetAddress;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RtnlGoldenTest {
  @BeforeEach
  void littleEndian() {
    GoldenVectors.assumeLittleEndian();
  }

  @Test
  void newDummyLink() throws Exception {
    assertEquals(Hex.strip(
        "4400 0000" // nlmsg_len 68
            + "1000" // nlmsg_type RTM_NEWLINK
            + "0506" // nlmsg_flags REQUEST | ACK | EXCL (0x200) | CREATE (0x400)
            + "0100 0000" // nlmsg_seq 1
            + "4d00 0000" // nlmsg_pid 77
            + "00 00 0000" // ifinfomsg: family AF_UNSPEC, pad, ifi_type 0
            + "0000 0000" // ifi_index 0: the kernel picks
            + "0000 0000" // ifi_flags
            + "0000 0000" // ifi_change
            + "1300 0300 7475726e70696b652d697076733000 00" // IFLA_IFNAME "turnpike-ipvs0\0"
            + "1000 1280" // IFLA_LINKINFO | NLA_F_NESTED, len 16
            + "0a00 0100 64756d6d7900 0000"), // . IFLA_INFO_KIND "dummy\0" + 2 pad
        wire(RtnlMessages.newLink("turnpike-ipvs0", "dummy")));
  }

  @Test
  void setLinkUp() throws Exception {
    assertEquals(Hex.strip(
        "2000 0000 1000 0500 0100 0000 4d00 0000" // len 32, RTM_NEWLINK, REQUEST|ACK
            + "00 00 0000" // family, pad, type
            + "0700 0000" // ifi_index 7
            + "0100 0000" // ifi_flags IFF_UP
            + "0100 0000"), // ifi_change IFF_UP: touch nothing else
        wire(RtnlMessages.setLinkUp(7, true)));
  }

  @Test
  void newAddressIpv4() throws Exception {
    assertEquals(Hex.strip(
        "2800 0000" // nlmsg_len 40
            + "1400" // nlmsg_type RTM_NEWADDR
            + "0506" // REQUEST | ACK | EXCL | CREATE
            + "0100 0000 4d00 0000" // seq 1, pid 77
            + "02 20 00 00" // ifaddrmsg: AF_INET, prefixlen 32, flags 0, scope universe
            + "0700 0000" // ifa_index 7
            + "0800 0200 0a60000a" // IFA_LOCAL 10.96.0.10
            + "0800 0100 0a60000a"), // IFA_ADDRESS 10.96.0.10
        wire(RtnlMessages.newAddress(
            IfAddress.host(7, InetAddress.getByName("10.96.0.10")))));
  }

  @Test
  void newAddressIpv6() throws Exception {
    assertEquals(Hex.strip(
        "4000 0000 1400 0506 0100 0000 4d00 0000" // len 64, RTM_NEWADDR, as above
            + "0a 80 00 00" // AF_INET6, prefixlen 128, flags 0, scope universe
            + "0700 0000" // ifa_index 7
            + "1400 0200 fd000000 00000000 00000000 00000010" // IFA_LOCAL fd00::10
            + "1400 0100 fd000000 00000000 00000000 00000010"), // IFA_ADDRESS fd00::10
        wire(RtnlMessages.newAddress(IfAddress.host(7, InetAddress.getByName("fd00::10")))));
  }

  @Test
  void getAddressesDump() throws Exception {
    assertEquals(Hex.strip(
        "1800 0000" // nlmsg_len 24
            + "1600" // RTM_GETADDR
            + "0103" // NLM_F_REQUEST | NLM_F_DUMP (ROOT|MATCH)
            + "0100 0000 4d00 0000"
            + "00 00 00 00 0000 0000"), // ifaddrmsg: AF_UNSPEC = every family
        wire(RtnlMessages.getAddresses(Netlink.AF_UNSPEC)));
  }

  @Test
  void addressReply() throws Exception {
    assertEquals(new IfAddress(7, InetAddress.getByName("fd00::10"), 128,
            RtnlMessages.RT_SCOPE_UNIVERSE, RtnlMessages.IFA_F_PERMANENT),
        RtnlMessages.parseAddress(message(GoldenVectors.ADDRESS_REPLY)));
  }

  @Test
  void linkReplyRoundTrip() {
    // An RTM_NEWLINK request has the shape of the kernel's answer to RTM_GETLINK.
    Link l = RtnlMessages.parseLink(message(wire0(RtnlMessages.newLink("tp0", "dummy"))));
    assertEquals(new Link(0, "tp0", 0, "dummy"), l);
  }

  @Test
  void interfaceNamesAreChecked() {
    assertThrows(IllegalArgumentException.class,
        () -> RtnlMessages.newLink("sixteen-chars-xx", "dummy"));
    assertThrows(IllegalArgumentException.class, () -> RtnlMessages.getLink("a b"));
  }

  private static String wire0(dev.turnpike.dataplane.netlink.NetlinkRequest r) {
    return Hex.of(r.encode(1, 77));
  }
}
