package dev.turnpike.dataplane.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.dataplane.netlink.FakeNetlinkChannel;
import dev.turnpike.dataplane.netlink.GoldenVectors;
import dev.turnpike.dataplane.netlink.Hex;
import dev.turnpike.dataplane.netlink.Netlink;
import dev.turnpike.dataplane.netlink.NetlinkClient;
import dev.turnpike.dataplane.netlink.NetlinkMessage;
import dev.turnpike.dataplane.netlink.NlMsgHdr;
import dev.turnpike.dataplane.netlink.Replies;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** NetlinkConntrack on a scripted channel: parsing, client-side filtering, fallbacks, errors. */
class NetlinkConntrackTest {
  private final FakeNetlinkChannel fake = new FakeNetlinkChannel(GoldenVectors.PORT);
  private final NetlinkConntrack ct = new NetlinkConntrack(new NetlinkClient(fake, 1, 1));

  @BeforeEach
  void littleEndian() {
    GoldenVectors.assumeLittleEndian();
  }

  private static ByteBuffer entry(NlMsgHdr req, String vector) {
    return Replies.reply(req, CtNetlink.TYPE_NEW, Netlink.NLM_F_MULTI, Hex.strip(vector).substring(32));
  }

  private FakeNetlinkChannel answerWithBothEntries() {
    return fake.respond(req -> List.of(Replies.datagram(entry(req, ConntrackVectors.UDP_DNAT_V4),
        entry(req, ConntrackVectors.UDP_ZONE_V6), Replies.done(req, 0, 0))));
  }

  private NetlinkMessage sent(int i) {
    return NetlinkMessage.parseDatagram(fake.sent().get(i)).get(0);
  }

  @Test
  void listParsesAndRechecksEveryFieldClientSide() throws Exception {
    answerWithBothEntries();
    // the kernel is asked for AF_INET, but a reply of another family or field is still dropped
    List<ConntrackEntry> got = ct.list(ConntrackFilter.family(CtNetlink.AF_INET)
        .protocol(CtNetlink.IPPROTO_UDP).replySrc(InetAddress.getByName("10.252.2.5")));
    assertEquals(1, got.size());
    assertEquals(0xdeadbeefL, got.get(0).id().getAsLong());
    assertEquals(1, ct.requests());

    answerWithBothEntries();
    assertEquals(List.of(), ct.list(ConntrackFilter.family(CtNetlink.AF_INET).mark(0x8000, 0x8000)));
    answerWithBothEntries();
    assertEquals(1, ct.list(ConntrackFilter.family(CtNetlink.AF_INET6).zone(7)).size());
    answerWithBothEntries();
    assertEquals(0, ct.list(ConntrackFilter.family(CtNetlink.AF_INET6).zone(0)).size());
  }

  @Test
  void aKernelWithoutCtaFilterGetsUnfilteredDumpsFromThenOn() throws Exception {
    fake.respond(req -> List.of(Replies.error(req, 22))); // EINVAL: CTA_FILTER unknown (< 5.8)
    answerWithBothEntries();
    ConntrackFilter f = ConntrackFilter.family(CtNetlink.AF_INET).protocol(CtNetlink.IPPROTO_UDP);
    assertEquals(1, ct.list(f).size());
    assertFalse(ct.kernelFiltering());
    assertTrue(sent(0).payloadLength() > 4, "first try carried CTA_FILTER");
    assertEquals(4, sent(1).payloadLength(), "the retry is a bare nfgenmsg");
    answerWithBothEntries();
    ct.list(f);
    assertEquals(4, sent(2).payloadLength(), "no more filter attempts");
    assertEquals(3, ct.requests());
  }

  @Test
  void otherDumpErrorsAreThrown() {
    fake.respond(req -> List.of(Replies.error(req, 1))); // EPERM
    ConntrackException e = assertThrows(ConntrackException.class,
        () -> ct.list(ConntrackFilter.family(CtNetlink.AF_INET)));
    assertTrue(e.getMessage().contains("EPERM"), e.getMessage());
    assertTrue(ct.kernelFiltering());
  }

  @Test
  void deletesCountOnlyWhatTheKernelRemovedAndStopAtARealError() throws Exception {
    ConntrackEntry e = CtNetlinkGoldenTest.dnatV4(7);
    fake.respond(req -> List.of(Replies.ack(req)));
    fake.respond(req -> List.of(Replies.error(req, 2))); // ENOENT: expired meanwhile
    fake.respond(req -> List.of(Replies.ack(req)));
    assertEquals(2, ct.delete(List.of(e, e, e)));
    fake.respond(req -> List.of(Replies.ack(req)));
    fake.respond(req -> List.of(Replies.error(req, 1)));
    ConntrackException ex = assertThrows(ConntrackException.class, () -> ct.delete(List.of(e, e, e)));
    assertTrue(ex.getMessage().contains("1 deleted before") && ex.getMessage().contains("EPERM"),
        ex.getMessage());
    assertEquals(5, fake.sent().size(), "stopped at the failure");
    assertEquals(CtNetlink.TYPE_DELETE, sent(0).type());
  }
}
