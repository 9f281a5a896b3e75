package dev.turnpike.dataplane.ipvs;

import dev.turnpike.dataplane.iptables.Iptables;
import dev.turnpike.dataplane.iptables.ReservedChains;
import dev.turnpike.dataplane.netlink.LibC;
import dev.turnpike.dataplane.netlink.Netlink;
import dev.turnpike.dataplane.netlink.NetlinkClient;
import dev.turnpike.dataplane.netlink.NetlinkException;
import dev.turnpike.dataplane.netlink.NetlinkSocket;
import dev.turnpike.dataplane.netlink.NetworkNamespace;
import dev.turnpike.dataplane.netlink.rtnl.RtnlClient;
import dev.turnpike.net.IpFamily;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

/**
 * The IPVS backend's kernel side for real-kernel tests: generic and route netlink sockets opened
 * inside a network namespace ({@code /var/run/netns/NAME}), the IPVS client and the dummy link
 * over them, and closing both.
 */
public final class NamespaceIpvs implements AutoCloseable {
  public final NetlinkIpvs kernel;
  private final NetlinkClient genl;
  private final NetlinkClient route;

  private NamespaceIpvs(NetlinkClient genl, NetlinkClient route) {
    this.genl = genl;
    this.route = route;
    this.kernel = new NetlinkIpvs(genl);
  }

  public static NamespaceIpvs open(Path namespaceFile) throws NetlinkException {
    NetlinkClient genl = new NetlinkClient(NetworkNamespace.openSocket(LibC.load(), namespaceFile,
        Netlink.NETLINK_GENERIC, NetlinkSocket.Options.defaults()));
    try {
      return new NamespaceIpvs(genl, new NetlinkClient(NetworkNamespace.openSocket(LibC.load(), namespaceFile,
          Netlink.NETLINK_ROUTE, NetlinkSocket.Options.defaults())));
    } catch (NetlinkException | RuntimeException e) {
      genl.close();
      throw e;
    }
  }

  /** A backend over these sockets with IPv4 rules, the system clock and the default link name. */
  public IpvsDataplane dataplane(Sysctl sysctl, Iptables iptables, IpvsConfig config, ReservedChains reserved) {
    return new IpvsDataplane(kernel, new RtnlVipLink(new RtnlClient(route), RtnlVipLink.DEFAULT_NAME), sysctl, iptables,
        config, List.of(IpFamily.IPv4), Clock.systemUTC(), reserved);
  }

  @Override
  public void close() {
    for (NetlinkClient c : List.of(genl, route)) {
      try {
        c.close();
      } catch (RuntimeException e) {
        // best effort: the namespace goes with the test
      }
    }
  }
}
