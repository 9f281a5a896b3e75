package dev.turnpike.dataplane.netlink;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Request/reply over a {@link NetlinkChannel}: stamps sequence numbers, waits for the ACK or the
 * end of a dump, turns NLMSG_ERROR into {@link NetlinkException}, and retries dumps the kernel
 * marks as interrupted. Messages with another sequence number (a reply to an earlier request that
 * timed out, a multicast notification) are skipped. Thread-safe: requests are serialised.
 */
public final class NetlinkClient implements AutoCloseable {
  public static final int DEFAULT_DUMP_ATTEMPTS = 5;

  private final NetlinkChannel channel;
  private final int maxDumpAttempts;
  private int seq;

  public NetlinkClient(NetlinkChannel channel) {
    this(channel, 1, DEFAULT_DUMP_ATTEMPTS);
  }

  /**
   * @param firstSeq the first sequence number (tests fix it to get stable bytes)
   * @param maxDumpAttempts how many times a dump is tried before it is declared interrupted
   */
  public NetlinkClient(NetlinkChannel channel, int firstSeq, int maxDumpAttempts) {
    if (maxDumpAttempts < 1) {
      throw new IllegalArgumentException("maxDumpAttempts must be at least 1");
    }
    this.channel = channel;
    this.seq = firstSeq;
    this.maxDumpAttempts = maxDumpAttempts;
  }

  public NetlinkChannel channel() {
    return channel;
  }

  /**
   * Sends a request with NLM_F_ACK and returns the messages the kernel answered before its ACK
   * (none for NEW/DEL/SET, the object for a GET).
   */
  public synchronized List<NetlinkMessage> request(NetlinkRequest request)
      throws NetlinkException {
    if (request.isDump()) {
      throw new IllegalArgumentException("use dump() for " + request.description());
    }
    int s = send(request.withFlags(Netlink.NLM_F_REQUEST | Netlink.NLM_F_ACK));
    List<NetlinkMessage> replies = new ArrayList<>();
    while (true) {
      for (NetlinkMessage m : receive(s)) {
        if (m.type() == Netlink.NLMSG_ERROR) {
          NlMsgErr err = NlMsgErr.parse(m);
          if (err.isAck()) {
            return List.copyOf(replies);
          }
          throw err.toException(request.description());
        }
        if (m.type() != Netlink.NLMSG_DONE) {
          replies.add(m);
        }
      }
    }
  }

  /** {@link #request} for when only success matters. */
  public void execute(NetlinkRequest request) throws NetlinkException {
    request(request);
  }

  /**
   * Sends a dump request and returns every message of the dump (NLMSG_DONE excluded). A dump the
   * kernel marks NLM_F_DUMP_INTR is read to its end and then asked again, up to the bound.
   */
  public synchronized List<NetlinkMessage> dump(NetlinkRequest request) throws NetlinkException {
    NetlinkRequest r = request.withFlags(Netlink.NLM_F_REQUEST | Netlink.NLM_F_DUMP);
    for (int attempt = 1; attempt <= maxDumpAttempts; attempt++) {
      int s = send(r);
      List<NetlinkMessage> messages = new ArrayList<>();
      boolean interrupted = false;
      boolean done = false;
      while (!done) {
        for (NetlinkMessage m : receive(s)) {
          interrupted |= m.header().hasFlags(Netlink.NLM_F_DUMP_INTR);
          if (m.type() == Netlink.NLMSG_ERROR) {
            NlMsgErr err = NlMsgErr.parse(m);
            if (!err.isAck()) {
              throw err.toException(request.description());
            }
            done = true;
          } else if (m.type() == Netlink.NLMSG_DONE) {
            int error = NlMsgErr.doneError(m);
            if (error < 0) {
              throw new NetlinkException(request.description(), -error, null,
                  NlMsgErr.doneKernelMessage(m));
            }
            done = true;
          } else {
            messages.add(m);
          }
        }
      }
      if (!interrupted) {
        return List.copyOf(messages);
      }
    }
    throw new NetlinkDumpInterruptedException(request.description(), maxDumpAttempts);
  }

  private int send(NetlinkRequest request) throws NetlinkException {
    int s = seq++;
    if (seq == 0) {
      seq = 1; // 0 is what notifications carry
    }
    channel.send(request.encode(s, channel.portId()));
    return s;
  }

  /** The next datagram's messages that answer sequence number {@code s}. */
  private List<NetlinkMessage> receive(int s) throws NetlinkException {
    ByteBuffer datagram = channel.receive();
    List<NetlinkMessage> mine = new ArrayList<>();
    for (NetlinkMessage m : NetlinkMessage.parseDatagram(datagram)) {
      if (m.header().seq() != s || m.type() == Netlink.NLMSG_NOOP) {
        continue;
      }
      if (m.type() == Netlink.NLMSG_OVERRUN) {
        throw new NetlinkException("netlink overrun: the kernel dropped data for this socket",
            Errno.ENOBUFS.code());
      }
      mine.add(m);
    }
    return mine;
  }

  @Override
  public void close() {
    channel.close();
  }
}
