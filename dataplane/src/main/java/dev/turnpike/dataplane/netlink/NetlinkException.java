package dev.turnpike.dataplane.netlink;

import java.io.IOException;
import java.util.Optional;

/**
 * The kernel refused a request (NLMSG_ERROR, or an error in NLMSG_DONE), or a socket call failed.
 * Carries the positive errno, its name and, for a kernel answer, the header of the request it
 * answered and the kernel's extended-ack text when it sent one.
 */
public class NetlinkException extends IOException {
  private static final long serialVersionUID = 1L;

  private final int errno;
  private final transient NlMsgHdr request;
  private final String kernelMessage;

  public NetlinkException(String message, int errno, NlMsgHdr request, String kernelMessage) {
    super(format(message, errno, kernelMessage));
    this.errno = errno;
    this.request = request;
    this.kernelMessage = kernelMessage;
  }

  /** A failed socket call; no request was answered. */
  public NetlinkException(String message, int errno) {
    this(message, errno, null, null);
  }

  /** Copies another exception's errno, request and kernel text under a more specific message. */
  protected NetlinkException(String message, NetlinkException cause) {
    super(message, cause);
    this.errno = cause.errno;
    this.request = cause.request;
    this.kernelMessage = cause.kernelMessage;
  }

  private static String format(String message, int errno, String kernelMessage) {
    StringBuilder sb = new StringBuilder(message);
    if (errno != 0) {
      sb.append(": ").append(Errno.nameOf(errno));
    }
    if (kernelMessage != null && !kernelMessage.isEmpty()) {
      sb.append(" (kernel: ").append(kernelMessage).append(')');
    }
    return sb.toString();
  }

  /** Positive errno, 0 when the failure has none (e.g. an interrupted dump that never settled). */
  public int errno() {
    return errno;
  }

  public String errnoName() {
    return Errno.nameOf(errno);
  }

  public boolean is(Errno e) {
    return errno == e.code();
  }

  /** The header of the request the kernel answered, as it echoed it. */
  public Optional<NlMsgHdr> request() {
    return Optional.ofNullable(request);
  }

  /** NLMSGERR_ATTR_MSG from an extended ack. */
  public Optional<String> kernelMessage() {
    return Optional.ofNullable(kernelMessage);
  }
}
