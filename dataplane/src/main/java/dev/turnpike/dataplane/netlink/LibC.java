package dev.turnpike.dataplane.netlink;

import java.nio.ByteBuffer;
import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The libc calls netlink needs, bound with JNR-FFI. Buffers passed here are direct and used from
 * position 0; struct contents (sockaddr_nl, socket option ints, timeval) are in native order,
 * which is why this does not reuse a general-purpose binding that packs them big-endian.
 */
public interface LibC {
  int socket(int domain, int type, int protocol);

  int bind(int fd, @In ByteBuffer addr, int addrlen);

  int getsockname(int fd, @Out ByteBuffer addr, IntByReference addrlen);

  @ssize_t
  long sendto(int fd, @In ByteBuffer buf, @size_t long len, int flags, @In ByteBuffer addr,
      int addrlen);

  @ssize_t
  long recv(int fd, @Out ByteBuffer buf, @size_t long len, int flags);

  int setsockopt(int fd, int level, int optname, @In ByteBuffer optval, int optlen);

  int getsockopt(int fd, int level, int optname, @Out ByteBuffer optval, IntByReference optlen);

  int close(int fd);

  int open(String path, int flags);

  /** setns(2): moves the calling thread into the namespace the fd refers to. */
  int setns(int fd, int nstype);

  String strerror(int errnum);

  int O_RDONLY = 0;
  int O_CLOEXEC = 0x80000;
  int CLONE_NEWNET = 0x40000000;

  /**
   * Binds libc. Every call saves errno so {@link #lastError} reads the value
   * of the call that just failed on this thread.
   */
  static LibC load() {
    return Holder.INSTANCE;
  }

  /** errno of this thread's last call through {@code libc}. */
  static int lastError(LibC libc) {
    return jnr.ffi.Runtime.getRuntime(libc).getLastError();
  }

  /** The binding is immutable and costly to generate, so it is made once. */
  final class Holder {
    private static final LibC INSTANCE = LibraryLoader.create(LibC.class)
        .option(jnr.ffi.LibraryOption.SaveError, true)
        .load("c");

    private Holder() {}
  }
}
