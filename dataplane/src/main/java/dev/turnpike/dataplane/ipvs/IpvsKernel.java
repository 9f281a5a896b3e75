package dev.turnpike.dataplane.ipvs;

import dev.turnpike.dataplane.netlink.NetlinkException;
import dev.turnpike.dataplane.netlink.ipvs.IpvsTimeouts;
import dev.turnpike.dataplane.netlink.ipvs.RealServer;
import dev.turnpike.dataplane.netlink.ipvs.VirtualServer;
import dev.turnpike.dataplane.netlink.ipvs.VirtualServerKey;
import java.net.InetAddress;
import java.util.List;

/**
 * The kernel's IPVS table, as the backend uses it. Errors are the kernel's: adding what exists is
 * {@code EEXIST}, changing or deleting a service that does not exist {@code ESRCH}, a destination
 * that does not exist {@code ENOENT}, an unknown scheduler {@code ENOENT}.
 */
public interface IpvsKernel {
  /** Every virtual service (a dump). */
  List<VirtualServer> services() throws NetlinkException;

  /** One service's destinations with their connection counters (a dump). */
  List<RealServer> destinations(VirtualServerKey service) throws NetlinkException;

  void addService(VirtualServer service) throws NetlinkException;

  /** Changes scheduler, flags, timeout and netmask of an existing service. */
  void updateService(VirtualServer service) throws NetlinkException;

  /** Deletes a service and, with it, all its destinations. */
  void deleteService(VirtualServerKey service) throws NetlinkException;

  void addDestination(VirtualServerKey service, RealServer destination) throws NetlinkException;

  /** Changes an existing destination's weight, forwarding method and thresholds. */
  void updateDestination(VirtualServerKey service, RealServer destination) throws NetlinkException;

  void deleteDestination(VirtualServerKey service, InetAddress address, int port) throws NetlinkException;

  IpvsTimeouts timeouts() throws NetlinkException;

  /** Sets the connection timeouts; a 0 leaves that one unchanged. */
  void setTimeouts(IpvsTimeouts timeouts) throws NetlinkException;
}
