package dev.turnpike.dataplane.netlink;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import jnr.ffi.byref.IntByReference;

/**
 * An AF_NETLINK socket through libc. Bound with nl_pid 0 so the kernel picks a unique port id.
 * Not thread-safe; {@link NetlinkClient} serialises its use. The socket belongs to the network
 * namespace of the thread that opened it, for its whole life (see {@link NetworkNamespace}).
 */
public final class NetlinkSocket implements NetlinkChannel {
  private static final int SOCKADDR_NL_SIZE = 12;

  /**
   * @param kernelReceiveBufferBytes SO_RCVBUF(FORCE): how much the kernel queues for us before it
   *     drops messages; dumps are flow-controlled, so this matters for bursts of replies
   * @param receiveTimeout SO_RCVTIMEO: how long a reply may take before the request fails
   * @param initialUserBufferBytes the first size of our receive buffer; it grows when a datagram
   *     is larger. 32 KiB is the largest dump datagram the kernel builds.
   * @param extendedAck ask the kernel for error strings (NETLINK_EXT_ACK) and not to echo whole
   *     requests in errors (NETLINK_CAP_ACK)
   */
  public record Options(int kernelReceiveBufferBytes, Duration receiveTimeout,
      int initialUserBufferBytes, boolean extendedAck) {
    public static Options defaults() {
      return new Options(1 << 20, Duration.ofSeconds(10), 32 * 1024, true);
    }
  }

  private final LibC libc;
  private final int fd;
  private final int portId;
  private final Duration receiveTimeout;
  private ByteBuffer receiveBuffer;
  private boolean closed;

  private NetlinkSocket(LibC libc, int fd, int portId, Options options) {
    this.libc = libc;
    this.fd = fd;
    this.portId = portId;
    this.receiveTimeout = options.receiveTimeout();
    this.receiveBuffer = direct(options.initialUserBufferBytes());
  }

  /** Opens a socket for {@code protocol} (e.g. {@link Netlink#NETLINK_ROUTE}) with defaults. */
  public static NetlinkSocket open(int protocol) throws NetlinkException {
    return open(LibC.load(), protocol, Options.defaults());
  }

  public static NetlinkSocket open(LibC libc, int protocol, Options options)
      throws NetlinkException {
    int fd = libc.socket(Netlink.AF_NETLINK, Netlink.SOCK_RAW | Netlink.SOCK_CLOEXEC, protocol);
    if (fd < 0) {
      throw syscallError(libc, "socket(AF_NETLINK, " + protocol + ")");
    }
    try {
      configure(libc, fd, options);
      ByteBuffer addr = sockaddrNl();
      check(libc, libc.bind(fd, addr, SOCKADDR_NL_SIZE), "bind(AF_NETLINK)");
      IntByReference len = new IntByReference(SOCKADDR_NL_SIZE);
      check(libc, libc.getsockname(fd, addr, len), "getsockname");
      return new NetlinkSocket(libc, fd, addr.getInt(4), options);
    } catch (NetlinkException | RuntimeException e) {
      libc.close(fd);
      throw e;
    }
  }

  private static void configure(LibC libc, int fd, Options o) throws NetlinkException {
    // FORCE may exceed net.core.rmem_max but needs CAP_NET_ADMIN; the plain one is capped.
    if (libc.setsockopt(fd, Netlink.SOL_SOCKET, Netlink.SO_RCVBUFFORCE,
        nativeInt(o.kernelReceiveBufferBytes()), 4) < 0) {
      setInt(libc, fd, Netlink.SOL_SOCKET, Netlink.SO_RCVBUF, o.kernelReceiveBufferBytes(),
          "SO_RCVBUF");
    }
    long micros = o.receiveTimeout().toNanos() / 1000;
    int longSize = jnr.ffi.Runtime.getRuntime(libc).longSize();
    ByteBuffer tv = direct(2 * longSize);
    if (longSize == 8) {
      tv.putLong(0, micros / 1_000_000).putLong(8, micros % 1_000_000);
    } else {
      tv.putInt(0, (int) (micros / 1_000_000)).putInt(4, (int) (micros % 1_000_000));
    }
    check(libc, libc.setsockopt(fd, Netlink.SOL_SOCKET, Netlink.SO_RCVTIMEO, tv, 2 * longSize),
        "setsockopt(SO_RCVTIMEO)");
    if (o.extendedAck()) {
      // Best effort: kernels before 4.12 do not know these options and answer ENOPROTOOPT.
      libc.setsockopt(fd, Netlink.SOL_NETLINK, Netlink.NETLINK_EXT_ACK, nativeInt(1), 4);
      libc.setsockopt(fd, Netlink.SOL_NETLINK, Netlink.NETLINK_CAP_ACK, nativeInt(1), 4);
    }
  }

  @Override
  public int portId() {
    return portId;
  }

  /** What the kernel granted for SO_RCVBUF (it doubles the request for bookkeeping). */
  public int kernelReceiveBufferBytes() throws NetlinkException {
    ByteBuffer v = direct(4);
    IntByReference len = new IntByReference(4);
    check(libc, libc.getsockopt(fd, Netlink.SOL_SOCKET, Netlink.SO_RCVBUF, v, len),
        "getsockopt(SO_RCVBUF)");
    return v.getInt(0);
  }

  /** The current size of the user-space receive buffer; grows with the largest datagram seen. */
  public int userReceiveBufferBytes() {
    return receiveBuffer.capacity();
  }

  @Override
  public void send(ByteBuffer message) throws NetlinkException {
    ensureOpen();
    ByteBuffer out = direct(message.remaining());
    out.put(0, message, message.position(), message.remaining());
    while (true) {
      long n = libc.sendto(fd, out, out.capacity(), 0, sockaddrNl(), SOCKADDR_NL_SIZE);
      if (n >= 0) {
        if (n != out.capacity()) {
          throw new NetlinkException("sendto sent " + n + " of " + out.capacity() + " bytes", 0);
        }
        return;
      }
      if (LibC.lastError(libc) != Errno.EINTR.code()) {
        throw syscallError(libc, "sendto(netlink)");
      }
    }
  }

  @Override
  public ByteBuffer receive() throws NetlinkException {
    ensureOpen();
    // Peek with MSG_TRUNC returns the datagram's full length without consuming it, so the buffer
    // can grow before the real read; a plain read into a short buffer would lose the tail.
    int size = (int) recv(0, Netlink.MSG_PEEK | Netlink.MSG_TRUNC);
    if (size > receiveBuffer.capacity()) {
      receiveBuffer = direct(Integer.highestOneBit(size - 1) << 1);
    }
    int n = (int) recv(receiveBuffer.capacity(), 0);
    ByteBuffer copy = ByteBuffer.allocate(n).order(ByteOrder.nativeOrder());
    copy.put(0, receiveBuffer, 0, n);
    return copy;
  }

  private long recv(int len, int flags) throws NetlinkException {
    while (true) {
      long n = libc.recv(fd, receiveBuffer, len, flags);
      if (n >= 0) {
        return n;
      }
      int errno = LibC.lastError(libc);
      if (errno == Errno.EAGAIN.code()) {
        throw new NetlinkException("no netlink reply within " + receiveTimeout, errno);
      }
      if (errno != Errno.EINTR.code()) {
        throw syscallError(libc, "recv(netlink)");
      }
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      libc.close(fd);
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("netlink socket is closed");
    }
  }

  /** struct sockaddr_nl {nl_family, pad, nl_pid = 0 (the kernel), nl_groups = 0}. */
  private static ByteBuffer sockaddrNl() {
    ByteBuffer b = direct(SOCKADDR_NL_SIZE);
    b.putShort(0, (short) Netlink.AF_NETLINK);
    return b;
  }

  private static ByteBuffer nativeInt(int v) {
    return direct(4).putInt(0, v);
  }

  private static void setInt(LibC libc, int fd, int level, int opt, int v, String what)
      throws NetlinkException {
    check(libc, libc.setsockopt(fd, level, opt, nativeInt(v), 4), "setsockopt(" + what + ")");
  }

  private static void check(LibC libc, int rc, String what) throws NetlinkException {
    if (rc < 0) {
      throw syscallError(libc, what);
    }
  }

  /** For the errno a libc call just left on this thread: "bind(...) failed (text): ENAME". */
  static NetlinkException syscallError(LibC libc, String what) {
    int errno = LibC.lastError(libc);
    return new NetlinkException(what + " failed (" + libc.strerror(errno) + ")", errno);
  }

  private static ByteBuffer direct(int size) {
    return ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder());
  }
}
