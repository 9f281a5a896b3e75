package dev.turnpike.dataplane.netlink.genl;

import static dev.turnpike.dataplane.netlink.GoldenVectors.message;
import static dev.turnpike.dataplane.netlink.GoldenVectors.wire;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.turnpike.dataplane.netlink.Errno;
import dev.turnpike.dataplane.netlink.FakeNetlinkChannel;
import dev.turnpike.dataplane.netlink.GoldenVectors;
import dev.turnpike.dataplane.netlink.Hex;
import dev.turnpike.dataplane.netlink.NetlinkClient;
import dev.turnpike.dataplane.netlink.Replies;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GenlGoldenTest {
  @BeforeEach
  void littleEndian() {
    GoldenVectors.assumeLittleEndian();
  }

  @Test
  void getFamilyRequest() throws Exception {
    assertEquals(Hex.strip(
        "2000 0000" // nlmsg_len 32
            + "1000" // nlmsg_type GENL_ID_CTRL
            + "0500" // nlmsg_flags NLM_F_REQUEST | NLM_F_ACK
            + "0100 0000" // nlmsg_seq 1
            + "4d00 0000" // nlmsg_pid 77
            + "03 01 0000" // genlmsghdr: cmd CTRL_CMD_GETFAMILY, version 1
            + "0900 0200 49505653 00 000000"), // CTRL_ATTR_FAMILY_NAME "IPVS\0" + 3 pad
        wire(GenlFamilyResolver.getFamilyRequest("IPVS")));
  }

  @Test
  void getFamilyReply() {
    GenlFamily f = GenlFamilyResolver.parseFamily(message(GoldenVectors.GETFAMILY_REPLY));
    assertEquals(new GenlFamily("nlctrl", 16, 2, 0, 10, Map.of("notify", 16)), f);
  }

  @Test
  void resolverReturnsTheFamilyAndExplainsAnAbsentOne() throws Exception {
    FakeNetlinkChannel fake = new FakeNetlinkChannel(GoldenVectors.PORT);
    fake.respond(req -> List.of(Replies.datagram(
        Hex.buffer(GoldenVectors.GETFAMILY_REPLY), Replies.ack(req))));
    fake.respond(req -> List.of(Replies.error(req, Errno.ENOENT.code())));
    GenlFamilyResolver resolver = new GenlFamilyResolver(new NetlinkClient(fake));

    assertEquals(16, resolver.resolve("nlctrl").id());
    GenlFamilyNotFoundException e =
        assertThrows(GenlFamilyNotFoundException.class, () -> resolver.resolve("IPVS"));
    assertEquals("generic netlink family IPVS not found (is the ip_vs module loaded?)",
        e.getMessage());
    assertEquals("IPVS", e.family());
    assertEquals(Errno.ENOENT.code(), e.errno());
    assertThrows(IllegalArgumentException.class, () -> resolver.resolve("x".repeat(16)));
  }
}
