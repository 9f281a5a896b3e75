package dev.turnpike.dataplane.ipvs;

import dev.turnpike.dataplane.netlink.Errno;
import dev.turnpike.dataplane.netlink.NetlinkException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/** A {@link VipLink} that behaves as RtnlVipLink over the kernel: no addresses without the link. */
final class FakeVipLink implements VipLink {
  private boolean exists;
  private final Set<InetAddress> addresses = new LinkedHashSet<>();
  private final List<String> ops = new ArrayList<>();
  private Predicate<String> failWhen = op -> false;

  void failWhen(Predicate<String> p) {
    failWhen = p;
  }

  List<String> ops() {
    return List.copyOf(ops);
  }

  void clearOps() {
    ops.clear();
  }

  boolean exists() {
    return exists;
  }

  private void op(String text) throws NetlinkException {
    if (failWhen.test(text)) {
      throw new NetlinkException(text + " (injected)", Errno.EIO.code());
    }
    ops.add(text);
  }

  @Override
  public String name() {
    return RtnlVipLink.DEFAULT_NAME;
  }

  @Override
  public void ensure() throws NetlinkException {
    if (!exists) {
      op("create-link");
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
    op("add-address " + a.getHostAddress());
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
    op("delete-address " + a.getHostAddress());
    return addresses.remove(a);
  }

  @Override
  public boolean delete() throws NetlinkException {
    if (!exists) {
      return false;
    }
    op("delete-link");
    exists = false;
    addresses.clear();
    return true;
  }
}
