package dev.turnpike.dataplane.netlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

/**
 * jffi's native stub comes from the pinned jffi 1.4.3 "native" jar (jnr-ffi 2.3.7 asks for 1.4.7,
 * which we cannot fetch); this fails at once if it does not load. Needs no privileges: anyone
 * may open a NETLINK_ROUTE socket in their own namespace.
 */
class NativeLibraryTest {
  @Test
  void libcIsBoundThroughJffi() throws Exception {
    LibC libc = LibC.load();
    assertEquals("No such file or directory", libc.strerror(Errno.ENOENT.code()));
    try (NetlinkSocket socket = NetlinkSocket.open(Netlink.NETLINK_ROUTE)) {
      assertNotEquals(0, socket.portId(), "the kernel assigned a port id at bind");
    }
  }
}
