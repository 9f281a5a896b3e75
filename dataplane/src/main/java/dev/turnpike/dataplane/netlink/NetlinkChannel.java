package dev.turnpike.dataplane.netlink;

import java.nio.ByteBuffer;

/**
 * A datagram pipe to one netlink protocol in one network namespace. {@link NetlinkSocket} is the
 * kernel; tests use a fake that records requests and queues replies, so the request/ACK/dump
 * logic in {@link NetlinkClient} and every codec above it run without a kernel.
 */
public interface NetlinkChannel extends AutoCloseable {
  /** The port id the kernel addresses replies to; stamped into each request's nlmsg_pid. */
  int portId();

  /** Sends one complete message (header included), native order, from position to limit. */
  void send(ByteBuffer message) throws NetlinkException;

  /**
   * Blocks for the next datagram (which may hold several messages) up to the channel's receive
   * timeout, then fails with EAGAIN. The returned buffer is the caller's, position 0, native order.
   */
  ByteBuffer receive() throws NetlinkException;

  @Override
  void close();
}
