package dev.turnpike.dataplane.netlink;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Opens netlink sockets inside another network namespace. A socket belongs to the namespace of
 * the thread that created it, for life; so a short-lived thread joins the namespace with setns(2),
 * creates the socket and exits, and the caller's threads never change namespace.
 */
public final class NetworkNamespace {
  private NetworkNamespace() {}

  /**
   * @param namespaceFile e.g. {@code /var/run/netns/NAME} or {@code /proc/PID/ns/net}
   */
  public static NetlinkSocket openSocket(LibC libc, Path namespaceFile, int protocol,
      NetlinkSocket.Options options) throws NetlinkException {
    AtomicReference<Object> result = new AtomicReference<>();
    Thread t = new Thread(() -> {
      try {
        result.set(openHere(libc, namespaceFile, protocol, options));
      } catch (NetlinkException | RuntimeException e) {
        result.set(e);
      }
    }, "netns-" + namespaceFile.getFileName());
    t.start();
    try {
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NetlinkException("interrupted entering " + namespaceFile, Errno.EINTR.code());
    }
    Object r = result.get();
    if (r instanceof NetlinkException e) {
      throw e;
    }
    if (r instanceof RuntimeException e) {
      throw e;
    }
    return (NetlinkSocket) r;
  }

  private static NetlinkSocket openHere(LibC libc, Path namespaceFile, int protocol,
      NetlinkSocket.Options options) throws NetlinkException {
    int nsFd = libc.open(namespaceFile.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
    if (nsFd < 0) {
      throw NetlinkSocket.syscallError(libc, "open(" + namespaceFile + ")");
    }
    try {
      if (libc.setns(nsFd, LibC.CLONE_NEWNET) < 0) {
        throw NetlinkSocket.syscallError(libc, "setns(" + namespaceFile + ", CLONE_NEWNET)");
      }
      return NetlinkSocket.open(libc, protocol, options);
    } finally {
      libc.close(nsFd);
    }
  }
}
