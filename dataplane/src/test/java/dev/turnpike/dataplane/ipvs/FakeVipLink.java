package dev.turnpike.dataplane.ipvs;

import dev.turnpike.dataplane.netlink.Errno;
import dev.turnpike.dataplane.netlink.NetlinkException;
import java.net.InetAddress;
import java.util.LinkedHashSet;
import java.util.Set;

/** A {@link VipLink} that behaves as RtnlVipLink over the kernel: no addresses without the link. */
final class FakeVipLink implements VipLink {
  private boolean exists;
  private final Set<InetAddress> addresses = new LinkedHashSet<>();
  /** Every change made, in order; failures are injected here. */
  final OpLog log = new OpLog();

  boolean exists() {
    return exists;
  }

  @Override
  public String name() {
    return RtnlVipLink.DEFAULT_NAME;
  }

  @Override
  public void ensure() throws NetlinkException {
    if (!exists) {
      log.record("create-link");
      exists = true;
    }
  }

  @Override
  public Set<InetAddress> addresses() {
    return new LinkedHashSet<>(addresses);
  }

  @Override
  public boolean addAddress(InetAddress a) throws NetlinkException {
    if (!exists) {
      throw new NetlinkException("RTM_NEWADDR " + a.getHostAddress(), Errno.ENODEV.code());
    }
    if (addresses.contains(a)) {
      return false;
    }
    log.record("add-address " + a.getHostAddress());
    return addresses.add(a);
  }

  @Override
  public boolean deleteAddress(InetAddress a) throws NetlinkException {
    if (!exists) {
      throw new NetlinkException("RTM_DELADDR " + a.getHostAddress(), Errno.ENODEV.code());
    }
    if (!addresses.contains(a)) {
      return false;
    }
    log.record("delete-address " + a.getHostAddress());
    return addresses.remove(a);
  }

  @Override
  public boolean delete() throws NetlinkException {
    if (!exists) {
      return false;
    }
    log.record("delete-link");
    exists = false;
    addresses.clear();
    return true;
  }
}
