package dev.turnpike.dataplane.netlink;

/**
 * Input from the kernel (or a test) that is truncated or malformed. Unchecked: it means a codec
 * bug or a kernel we do not understand, never a condition a caller can handle per message; the
 * message always says what was wrong and at which byte offset.
 */
public final class NetlinkParseException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public NetlinkParseException(String message) {
    super(message);
  }
}
