package dev.turnpike.dataplane.netlink;

/**
 * Every attempt at a dump came back with NLM_F_DUMP_INTR: the kernel's table changed while it was
 * being read, each time, so no consistent snapshot was obtained.
 */
public final class NetlinkDumpInterruptedException extends NetlinkException {
  private static final long serialVersionUID = 1L;

  public NetlinkDumpInterruptedException(String what, int attempts) {
    super(what + ": interrupted (NLM_F_DUMP_INTR) on all " + attempts
        + " attempts, the kernel's table kept changing", Errno.EINTR.code());
  }
}
