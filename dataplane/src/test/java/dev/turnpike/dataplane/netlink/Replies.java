package dev.turnpike.dataplane.netlink;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Builds kernel-style reply messages and datagrams for tests. */
public final class Replies {
  private Replies() {}

  /** One message: header with nlmsg_len filled in, then the payload, padded to 4. */
  public static ByteBuffer message(int type, int flags, int seq, int pid, ByteBuffer payload) {
    int len = NlMsgHdr.SIZE + payload.remaining();
    ByteBuffer b = ByteBuffer.allocate(Netlink.align(len)).order(ByteOrder.nativeOrder());
    new NlMsgHdr(len, type, flags, seq, pid).write(b);
    b.put(payload.duplicate());
    return b.position(b.capacity()).flip();
  }

  /** An ACK (NLMSG_ERROR with error 0, capped) for a request. */
  public static ByteBuffer ack(NlMsgHdr request) {
    return error(request, 0);
  }

  /** A capped NLMSG_ERROR carrying -errno for a request. */
  public static ByteBuffer error(NlMsgHdr request, int errno) {
    ByteBuffer p = ByteBuffer.allocate(4 + NlMsgHdr.SIZE).order(ByteOrder.nativeOrder());
    p.putInt(-errno);
    request.write(p);
    return message(Netlink.NLMSG_ERROR, Netlink.NLM_F_CAPPED, request.seq(), request.pid(),
        p.flip());
  }

  /** NLMSG_DONE with its int error (0 for a clean end). */
  public static ByteBuffer done(NlMsgHdr request, int flags, int error) {
    ByteBuffer p = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(0, error);
    return message(Netlink.NLMSG_DONE, Netlink.NLM_F_MULTI | flags, request.seq(), request.pid(),
        p);
  }

  /** A family message answering a request, payload given as hex. */
  public static ByteBuffer reply(NlMsgHdr request, int type, int flags, String payloadHex) {
    return message(type, flags, request.seq(), request.pid(), Hex.buffer(payloadHex));
  }

  /** Several messages in one datagram, as the kernel packs dumps. */
  public static ByteBuffer datagram(ByteBuffer... messages) {
    int total = 0;
    for (ByteBuffer m : messages) {
      total += m.remaining();
    }
    ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.nativeOrder());
    for (ByteBuffer m : messages) {
      b.put(m.duplicate());
    }
    return b.flip();
  }
}
