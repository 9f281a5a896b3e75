package dev.turnpike.dataplane.netlink;

import java.util.HashMap;
import java.util.Map;

/**
 * The Linux errno values netlink answers with (asm-generic/errno-base.h and errno.h; the same on
 * x86-64 and arm64), so an error can say "EEXIST" instead of "-17".
 */
public enum Errno {
  EPERM(1), ENOENT(2), ESRCH(3), EINTR(4), EIO(5), ENXIO(6), E2BIG(7), EBADF(9), EAGAIN(11),
  ENOMEM(12), EACCES(13), EFAULT(14), EBUSY(16), EEXIST(17), EXDEV(18), ENODEV(19), ENOTDIR(20),
  EINVAL(22), ENFILE(23), EMFILE(24), ENOSPC(28), ERANGE(34), ENAMETOOLONG(36), ENOSYS(38),
  ENOTEMPTY(39), ELOOP(40), ENOMSG(42), ENODATA(61), EPROTO(71), EBADMSG(74), EOVERFLOW(75),
  EMSGSIZE(90), EPROTONOSUPPORT(93), EOPNOTSUPP(95), EAFNOSUPPORT(97), EADDRINUSE(98),
  EADDRNOTAVAIL(99), ENETDOWN(100), ENETUNREACH(101), ENOBUFS(105), ENOTCONN(107), ETIMEDOUT(110),
  ECONNREFUSED(111), EHOSTUNREACH(113), EALREADY(114), EINPROGRESS(115);

  private static final Map<Integer, Errno> BY_CODE = new HashMap<>();

  static {
    for (Errno e : values()) {
      BY_CODE.put(e.code, e);
    }
  }

  private final int code;

  Errno(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** The symbolic name, or "errno N" for one this table does not know. */
  public static String nameOf(int code) {
    Errno e = BY_CODE.get(code);
    return e == null ? "errno " + code : e.name();
  }
}
