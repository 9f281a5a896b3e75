package dev.turnpike.dataplane.ipvs;

import dev.turnpike.dataplane.netlink.NetlinkClient;
import dev.turnpike.dataplane.netlink.NetlinkException;
import dev.turnpike.dataplane.netlink.NetlinkMessage;
import dev.turnpike.dataplane.netlink.genl.GenlFamilyResolver;
import dev.turnpike.dataplane.netlink.ipvs.IpvsMessages;
import dev.turnpike.dataplane.netlink.ipvs.IpvsTimeouts;
import dev.turnpike.dataplane.netlink.ipvs.RealServer;
import dev.turnpike.dataplane.netlink.ipvs.VirtualServer;
import dev.turnpike.dataplane.netlink.ipvs.VirtualServerKey;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link IpvsKernel} over generic netlink. The IPVS family id is resolved on first use, so a
 * cleanup on a node without ip_vs can still run (and learns there is nothing to delete).
 */
public final class NetlinkIpvs implements IpvsKernel {
  private final NetlinkClient genl;
  private IpvsMessages messages;

  /** @param genl a NETLINK_GENERIC client in the namespace to program */
  public NetlinkIpvs(NetlinkClient genl) {
    this.genl = genl;
  }

  private IpvsMessages messages() throws NetlinkException {
    if (messages == null) {
      messages = new IpvsMessages(new GenlFamilyResolver(genl).resolve(IpvsMessages.FAMILY_NAME));
    }
    return messages;
  }

  @Override
  public List<VirtualServer> services() throws NetlinkException {
    IpvsMessages m = messages();
    List<VirtualServer> out = new ArrayList<>();
    for (NetlinkMessage msg : genl.dump(m.getServices())) {
      out.add(m.parseService(msg));
    }
    return out;
  }

  @Override
  public List<RealServer> destinations(VirtualServerKey service) throws NetlinkException {
    IpvsMessages m = messages();
    List<RealServer> out = new ArrayList<>();
    for (NetlinkMessage msg : genl.dump(m.getDests(service))) {
      out.add(m.parseDest(msg, service.family()));
    }
    return out;
  }

  @Override
  public void addService(VirtualServer service) throws NetlinkException {
    genl.execute(messages().newService(service));
  }

  @Override
  public void updateService(VirtualServer service) throws NetlinkException {
    genl.execute(messages().setService(service));
  }

  @Override
  public void deleteService(VirtualServerKey service) throws NetlinkException {
    genl.execute(messages().delService(service));
  }

  @Override
  public void addDestination(VirtualServerKey service, RealServer destination) throws NetlinkException {
    genl.execute(messages().newDest(service, destination));
  }

  @Override
  public void updateDestination(VirtualServerKey service, RealServer destination) throws NetlinkException {
    genl.execute(messages().setDest(service, destination));
  }

  @Override
  public void deleteDestination(VirtualServerKey service, InetAddress address, int port) throws NetlinkException {
    genl.execute(messages().delDest(service, address, port));
  }

  @Override
  public IpvsTimeouts timeouts() throws NetlinkException {
    IpvsMessages m = messages();
    List<NetlinkMessage> replies = genl.request(m.getConfig());
    if (replies.isEmpty()) {
      throw new NetlinkException("IPVS_CMD_GET_CONFIG returned no message", 0);
    }
    return m.parseConfig(replies.get(0));
  }

  @Override
  public void setTimeouts(IpvsTimeouts timeouts) throws NetlinkException {
    genl.execute(messages().setConfig(timeouts));
  }
}
