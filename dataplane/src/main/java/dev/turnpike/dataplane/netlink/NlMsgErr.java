package dev.turnpike.dataplane.netlink;

import java.nio.ByteBuffer;

/**
 * struct nlmsgerr: the kernel's answer to a request, an ACK when {@code error} is 0. {@code error}
 * is the kernel's negative errno; {@code request} is the echoed request header.
 */
public record NlMsgErr(int error, NlMsgHdr request, String kernelMessage) {

  public boolean isAck() {
    return error == 0;
  }

  /**
   * Parses an NLMSG_ERROR message. Layout: int error, the request's nlmsghdr, the request's body
   * unless NLM_F_CAPPED is set or it is an ACK, then extended-ack TLVs when NLM_F_ACK_TLVS is set.
   */
  public static NlMsgErr parse(NetlinkMessage m) {
    ByteBuffer p = m.fixedHeader(4 + NlMsgHdr.SIZE, "struct nlmsgerr");
    int error = p.getInt(0);
    NlMsgHdr request = NlMsgHdr.readFields(p, 4);
    int tlvStart = 4 + NlMsgHdr.SIZE;
    boolean bodyEchoed = error != 0 && !m.header().hasFlags(Netlink.NLM_F_CAPPED);
    if (bodyEchoed) {
      long echoed = Integer.toUnsignedLong(request.len()) - NlMsgHdr.SIZE;
      long body = echoed <= 0 ? 0 : (echoed + 3) & ~3L;
      if (tlvStart + body > m.payloadLength()) {
        throw new NetlinkParseException("NLMSG_ERROR at offset " + m.offset()
            + " echoes a request of nlmsg_len " + Integer.toUnsignedString(request.len())
            + " but carries only " + (m.payloadLength() - 4) + " bytes of it");
      }
      tlvStart += (int) body;
    }
    return new NlMsgErr(error, request, extAckMessage(m, tlvStart));
  }

  /** The error an NLMSG_DONE carries (netlink_dump_done puts an int; 0 when absent). */
  public static int doneError(NetlinkMessage m) {
    if (m.payloadLength() < 4) {
      return 0;
    }
    return m.payload().getInt(0);
  }

  /** Parses the TLVs of an NLMSG_DONE with NLM_F_ACK_TLVS. */
  public static String doneKernelMessage(NetlinkMessage m) {
    return m.payloadLength() < 4 ? null : extAckMessage(m, 4);
  }

  private static String extAckMessage(NetlinkMessage m, int tlvStart) {
    if (!m.header().hasFlags(Netlink.NLM_F_ACK_TLVS)) {
      return null;
    }
    return m.attrs(tlvStart, "extended ack")
        .find(Netlink.NLMSGERR_ATTR_MSG)
        .map(NlAttr::string)
        .orElse(null);
  }

  /** The exception for a refused request; {@code what} says what was asked. */
  public NetlinkException toException(String what) {
    return new NetlinkException(what, -error, request, kernelMessage);
  }
}
