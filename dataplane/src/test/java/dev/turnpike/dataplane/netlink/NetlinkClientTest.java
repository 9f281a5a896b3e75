package dev.turnpike.dataplane.netlink;

import static dev.turnpike.dataplane.netlink.Replies.ack;
import static dev.turnpike.dataplane.netlink.Replies.datagram;
import static dev.turnpike.dataplane.netlink.Replies.done;
import static dev.turnpike.dataplane.netlink.Replies.error;
import static dev.turnpike.dataplane.netlink.Replies.reply;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Sequence numbers, ACKs, errors, multipart dumps and DUMP_INTR retries, without a kernel. */
class NetlinkClientTest {
  private static final int PORT = 77;
  private static final int TYPE = 0x30;

  private final FakeNetlinkChannel fake = new FakeNetlinkChannel(PORT);
  private final NetlinkClient client = new NetlinkClient(fake, 100, 3);

  private static NetlinkRequest get() {
    return NetlinkRequest.builder(TYPE, 0, "TEST_GET").u32(1, 7).build();
  }

  private static NetlinkRequest dumpAll() {
    return NetlinkRequest.builder(TYPE, 0, "TEST_DUMP").build();
  }

  private static ByteBuffer item(NlMsgHdr req, int flags, int value) {
    return reply(req, TYPE, flags, "0800 0100" + String.format("%02x000000", value));
  }

  private static int value(NetlinkMessage m) {
    return m.attrs(0, "none").require(1, "value").u32();
  }

  @Test
  void requestsAreStampedAndAcked() throws Exception {
    fake.respond(req -> List.of(datagram(item(req, 0, 5), ack(req))));
    fake.respond(req -> List.of(ack(req)));

    List<NetlinkMessage> replies = client.request(get());
    client.execute(get());

    assertEquals(1, replies.size());
    assertEquals(5, value(replies.get(0)));
    NlMsgHdr first = fake.sentHeader(0);
    assertEquals(100, first.seq());
    assertEquals(101, fake.sentHeader(1).seq());
    assertEquals(PORT, first.pid());
    assertEquals(Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK, first.flags());
    assertEquals(TYPE, first.type());
  }

  @Test
  void repliesToOtherSequenceNumbersAreSkipped() throws Exception {
    NlMsgHdr stale = new NlMsgHdr(20, TYPE, 0, 99, PORT);
    NlMsgHdr notification = new NlMsgHdr(20, TYPE, 0, 0, 0);
    fake.enqueue(datagram(item(stale, 0, 1), error(stale, 17)));
    fake.enqueue(item(notification, 0, 2));
    fake.respond(req -> List.of(datagram(item(req, 0, 3)), ack(req)));

    List<NetlinkMessage> replies = client.request(get());

    assertEquals(List.of(3), replies.stream().map(NetlinkClientTest::value).toList());
  }

  @Test
  void anErrorBecomesATypedExceptionNamingTheRequest() {
    fake.respond(req -> List.of(error(req, Errno.EEXIST.code())));

    NetlinkException e = assertThrows(NetlinkException.class, () -> client.execute(get()));

    assertEquals(17, e.errno());
    assertEquals("EEXIST", e.errnoName());
    assertTrue(e.is(Errno.EEXIST));
    assertEquals(fake.sentHeader(0), e.request().orElseThrow());
    assertEquals("TEST_GET: EEXIST", e.getMessage());
  }

  @Test
  void extendedAckTextAndAnEchoedBodyAreUnderstood() {
    // Uncapped: the kernel echoes the whole 24-byte request, then the TLVs follow it.
    fake.respond(req -> List.of(Replies.message(Netlink.NLMSG_ERROR, Netlink.NLM_F_ACK_TLVS,
        req.seq(), PORT, Hex.buffer(
            "eaffffff" // error -22 (EINVAL)
                + Hex.of(fake.sent().get(0)) // the request, header and body
                + "0800 0100 62616400" // NLMSGERR_ATTR_MSG "bad"
                + "0800 0200 14000000")))); // NLMSGERR_ATTR_OFFS 20

    NetlinkException e = assertThrows(NetlinkException.class, () -> client.execute(get()));

    assertEquals("EINVAL", e.errnoName());
    assertEquals("bad", e.kernelMessage().orElseThrow());
    assertEquals("TEST_GET: EINVAL (kernel: bad)", e.getMessage());
  }

  @Test
  void multipartDumpsAreCollectedUntilDone() throws Exception {
    fake.respond(req -> List.of(
        datagram(item(req, Netlink.NLM_F_MULTI, 1), item(req, Netlink.NLM_F_MULTI, 2)),
        datagram(item(req, Netlink.NLM_F_MULTI, 3)),
        datagram(item(req, Netlink.NLM_F_MULTI, 4), done(req, 0, 0))));

    List<NetlinkMessage> all = client.dump(dumpAll());

    assertEquals(List.of(1, 2, 3, 4), all.stream().map(NetlinkClientTest::value).toList());
    assertEquals(Netlink.NLM_F_REQUEST | Netlink.NLM_F_DUMP, fake.sentHeader(0).flags());
  }

  @Test
  void anInterruptedDumpIsReadToItsEndAndRetried() throws Exception {
    fake.respond(req -> List.of(
        datagram(item(req, Netlink.NLM_F_MULTI, 1)),
        datagram(item(req, Netlink.NLM_F_MULTI | Netlink.NLM_F_DUMP_INTR, 2)),
        datagram(done(req, Netlink.NLM_F_DUMP_INTR, 0))));
    fake.respond(req -> List.of(
        datagram(item(req, Netlink.NLM_F_MULTI, 1), item(req, Netlink.NLM_F_MULTI, 3),
            done(req, 0, 0))));

    List<NetlinkMessage> all = client.dump(dumpAll());

    assertEquals(List.of(1, 3), all.stream().map(NetlinkClientTest::value).toList());
    assertEquals(2, fake.sent().size());
    assertEquals(fake.sentHeader(0).seq() + 1, fake.sentHeader(1).seq());
  }

  @Test
  void aDumpThatKeepsBeingInterruptedGivesUpAfterTheBound() {
    for (int i = 0; i < 3; i++) {
      fake.respond(req -> List.of(datagram(item(req, Netlink.NLM_F_MULTI, 1),
          done(req, Netlink.NLM_F_DUMP_INTR, 0))));
    }

    NetlinkDumpInterruptedException e =
        assertThrows(NetlinkDumpInterruptedException.class, () -> client.dump(dumpAll()));

    assertEquals(3, fake.sent().size());
    assertTrue(e.getMessage().contains("all 3 attempts"), e.getMessage());
  }

  @Test
  void errorsInsideADumpAreRaised() {
    fake.respond(req -> List.of(datagram(item(req, Netlink.NLM_F_MULTI, 1),
        done(req, 0, -Errno.ENOBUFS.code()))));
    fake.respond(req -> List.of(error(req, Errno.EPERM.code())));

    assertEquals("ENOBUFS", assertThrows(NetlinkException.class,
        () -> client.dump(dumpAll())).errnoName());
    assertEquals("EPERM", assertThrows(NetlinkException.class,
        () -> client.dump(dumpAll())).errnoName());
  }

  @Test
  void noopIsSkippedAndOverrunIsAnError() {
    fake.respond(req -> List.of(datagram(
        Replies.message(Netlink.NLMSG_NOOP, 0, req.seq(), PORT, ByteBuffer.allocate(0)),
        Replies.message(Netlink.NLMSG_OVERRUN, 0, req.seq(), PORT, ByteBuffer.allocate(0)))));

    assertEquals("ENOBUFS", assertThrows(NetlinkException.class,
        () -> client.request(get())).errnoName());
  }

  @Test
  void aMissingReplyTimesOut() {
    assertEquals("EAGAIN", assertThrows(NetlinkException.class,
        () -> client.request(get())).errnoName());
  }

  @Test
  void malformedRepliesAreParseErrors() {
    fake.respond(req -> List.of(Hex.buffer("1800 0000 3000 0000 6400 0000 4d00 0000"
        + "0800 0100"))); // nlmsg_len 24, but the datagram has 20 bytes

    NetlinkParseException e = assertThrows(NetlinkParseException.class,
        () -> client.request(get()));
    assertTrue(e.getMessage().contains("offset 0"), e.getMessage());
  }

  @Test
  void dumpsAreRefusedByRequestAndCloseClosesTheChannel() {
    NetlinkRequest dump = NetlinkRequest.builder(TYPE, Netlink.NLM_F_DUMP, "D").build();
    assertThrows(IllegalArgumentException.class, () -> client.request(dump));
    client.close();
    assertTrue(fake.isClosed());
  }
}
