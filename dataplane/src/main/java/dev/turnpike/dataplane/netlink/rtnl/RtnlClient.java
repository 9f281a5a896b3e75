package dev.turnpike.dataplane.netlink.rtnl;

import dev.turnpike.dataplane.netlink.Errno;
import dev.turnpike.dataplane.netlink.Netlink;
import dev.turnpike.dataplane.netlink.NetlinkClient;
import dev.turnpike.dataplane.netlink.NetlinkException;
import dev.turnpike.dataplane.netlink.NetlinkMessage;
import dev.turnpike.dataplane.netlink.NetlinkRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Links and addresses over a NETLINK_ROUTE {@link NetlinkClient}. Creating and deleting are
 * idempotent: "already there" and "already gone" are answers, not errors, because a sync may be
 * repeated after a crash halfway through.
 */
public final class RtnlClient {
  private final NetlinkClient client;

  public RtnlClient(NetlinkClient client) {
    this.client = client;
  }

  /**
   * Creates a dummy link (what IPVS mode puts its virtual IPs on) unless it exists, and returns
   * it. A link of that name but another kind is an error: it is not ours to reuse. A kernel
   * without CONFIG_DUMMY answers EOPNOTSUPP.
   */
  public Link ensureDummyLink(String name) throws NetlinkException {
    return ensureLink(name, "dummy");
  }

  /** {@link #ensureDummyLink} for any link kind that needs no attributes but its name. */
  public Link ensureLink(String name, String kind) throws NetlinkException {
    executeUnless(RtnlMessages.newLink(name, kind), Errno.EEXIST);
    Link link = findLink(name).orElseThrow(() -> new NetlinkException(
        "link " + name + " vanished right after it was created", Errno.ENODEV.code()));
    if (!link.kind().equals(kind)) {
      throw new NetlinkException("link " + name + " exists but is of kind '" + link.kind()
          + "', not " + kind, Errno.EEXIST.code());
    }
    return link;
  }

  public Optional<Link> findLink(String name) throws NetlinkException {
    try {
      List<NetlinkMessage> replies = client.request(RtnlMessages.getLink(name));
      return replies.stream().filter(m -> m.type() == RtnlMessages.RTM_NEWLINK).findFirst()
          .map(RtnlMessages::parseLink);
    } catch (NetlinkException e) {
      if (e.is(Errno.ENODEV)) {
        return Optional.empty();
      }
      throw e;
    }
  }

  public void setLinkUp(int index, boolean up) throws NetlinkException {
    client.execute(RtnlMessages.setLinkUp(index, up));
  }

  /** Returns false when there was no such link. */
  public boolean deleteLink(String name) throws NetlinkException {
    return executeUnless(RtnlMessages.deleteLink(name), Errno.ENODEV);
  }

  /** Returns false when the address was already there. */
  public boolean addAddress(IfAddress address) throws NetlinkException {
    return executeUnless(RtnlMessages.newAddress(address), Errno.EEXIST);
  }

  /** Returns false when the address was not there. */
  public boolean deleteAddress(IfAddress address) throws NetlinkException {
    return executeUnless(RtnlMessages.deleteAddress(address), Errno.EADDRNOTAVAIL);
  }

  /** Executes; false when the kernel answered {@code alreadyDone}, the idempotent outcome. */
  private boolean executeUnless(NetlinkRequest request, Errno alreadyDone)
      throws NetlinkException {
    try {
      client.execute(request);
      return true;
    } catch (NetlinkException e) {
      if (e.is(alreadyDone)) {
        return false;
      }
      throw e;
    }
  }

  /** Every IPv4 and IPv6 address of one link. */
  public List<IfAddress> listAddresses(int ifindex) throws NetlinkException {
    List<IfAddress> out = new ArrayList<>();
    for (NetlinkMessage m : client.dump(RtnlMessages.getAddresses(Netlink.AF_UNSPEC))) {
      if (m.type() == RtnlMessages.RTM_NEWADDR) {
        IfAddress a = RtnlMessages.parseAddress(m);
        if (a.ifindex() == ifindex) {
          out.add(a);
        }
      }
    }
    return List.copyOf(out);
  }
}
