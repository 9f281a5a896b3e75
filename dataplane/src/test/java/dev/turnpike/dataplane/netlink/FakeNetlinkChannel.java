package dev.turnpike.dataplane.netlink;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * A kernel stand-in: records every request and answers each with the datagrams the next queued
 * {@link Responder} builds from it (so replies can echo the request's sequence number). Datagrams
 * can also be queued directly, e.g. a stale reply that must be skipped. Receiving with nothing
 * queued fails like a timed-out socket (EAGAIN).
 */
public final class FakeNetlinkChannel implements NetlinkChannel {
  /** Builds the reply datagrams for one request. */
  @FunctionalInterface
  public interface Responder {
    List<ByteBuffer> answer(NlMsgHdr request);
  }

  private final int portId;
  private final Deque<Responder> responders = new ArrayDeque<>();
  private final Deque<ByteBuffer> pending = new ArrayDeque<>();
  private final List<ByteBuffer> sent = new ArrayList<>();
  private boolean closed;

  public FakeNetlinkChannel(int portId) {
    this.portId = portId;
  }

  /** Queues the answer to the next request not yet answered. */
  public FakeNetlinkChannel respond(Responder r) {
    responders.add(r);
    return this;
  }

  /** Queues a datagram to be received before any answer to the next request. */
  public FakeNetlinkChannel enqueue(ByteBuffer datagram) {
    pending.add(datagram);
    return this;
  }

  /** Every request sent so far, as sent. */
  public List<ByteBuffer> sent() {
    return List.copyOf(sent);
  }

  public NlMsgHdr sentHeader(int i) {
    return NlMsgHdr.read(sent.get(i), 0);
  }

  public boolean isClosed() {
    return closed;
  }

  @Override
  public int portId() {
    return portId;
  }

  @Override
  public void send(ByteBuffer message) {
    ByteBuffer copy = ByteBuffer.allocate(message.remaining()).order(ByteOrder.nativeOrder());
    copy.put(message.duplicate()).flip();
    sent.add(copy);
    Responder r = responders.poll();
    if (r != null) {
      pending.addAll(r.answer(NlMsgHdr.read(copy, 0)));
    }
  }

  @Override
  public ByteBuffer receive() throws NetlinkException {
    ByteBuffer next = pending.poll();
    if (next == null) {
      throw new NetlinkException("fake channel: nothing queued", Errno.EAGAIN.code());
    }
    return next.duplicate().order(ByteOrder.nativeOrder());
  }

  @Override
  public void close() {
    closed = true;
  }
}
