package dev.turnpike.dataplane.ipvs;

import dev.turnpike.dataplane.netlink.NetlinkException;
import java.net.InetAddress;
import java.util.Set;

/**
 * The dummy interface that holds the virtual IPs (ClusterIPs, externalIPs, LB IPs), so the node
 * accepts their traffic and IPVS sees it in LOCAL_IN. Left down, as kube-proxy's kube-ipvs0: the
 * kernel adds the local routes of its addresses anyway, and a down link answers no ARP.
 */
public interface VipLink {
  String name();

  /** Creates the link unless it exists; a link of that name but another kind is an error. */
  void ensure() throws NetlinkException;

  /** The link's addresses; empty when the link does not exist. */
  Set<InetAddress> addresses() throws NetlinkException;

  /** Adds a host address (/32, /128); false when it was there already. */
  boolean addAddress(InetAddress address) throws NetlinkException;

  /** False when the address was not there. */
  boolean deleteAddress(InetAddress address) throws NetlinkException;

  /** Deletes the link and with it its addresses; false when there was none. */
  boolean delete() throws NetlinkException;
}
