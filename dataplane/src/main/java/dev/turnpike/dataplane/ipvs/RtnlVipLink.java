package dev.turnpike.dataplane.ipvs;

import dev.turnpike.dataplane.netlink.Errno;
import dev.turnpike.dataplane.netlink.NetlinkException;
import dev.turnpike.dataplane.netlink.rtnl.IfAddress;
import dev.turnpike.dataplane.netlink.rtnl.Link;
import dev.turnpike.dataplane.netlink.rtnl.RtnlClient;
import java.net.InetAddress;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/** {@link VipLink} over rtnetlink: a dummy link of the given name. */
public final class RtnlVipLink implements VipLink {
  public static final String DEFAULT_NAME = "turnpike-ipvs0";

  private final RtnlClient rtnl;
  private final String name;
  private Integer index; // from the last ensure(); a missing link resets it

  public RtnlVipLink(RtnlClient rtnl, String name) {
    this.rtnl = rtnl;
    this.name = name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void ensure() throws NetlinkException {
    index = rtnl.ensureDummyLink(name).index();
  }

  @Override
  public Set<InetAddress> addresses() throws NetlinkException {
    Optional<Link> link = rtnl.findLink(name);
    Set<InetAddress> out = new LinkedHashSet<>();
    if (link.isPresent()) {
      rtnl.listAddresses(link.get().index()).forEach(a -> out.add(a.address()));
    }
    return out;
  }

  @Override
  public boolean addAddress(InetAddress address) throws NetlinkException {
    return rtnl.addAddress(IfAddress.host(index(), address));
  }

  @Override
  public boolean deleteAddress(InetAddress address) throws NetlinkException {
    return rtnl.deleteAddress(IfAddress.host(index(), address));
  }

  @Override
  public boolean delete() throws NetlinkException {
    index = null;
    return rtnl.deleteLink(name);
  }

  /** The index ensure() saw; looked up when ensure() was not called (cleanup). */
  private int index() throws NetlinkException {
    if (index == null) {
      index = rtnl.findLink(name)
          .orElseThrow(() -> new NetlinkException("link " + name + " does not exist", Errno.ENODEV.code()))
          .index();
    }
    return index;
  }
}
