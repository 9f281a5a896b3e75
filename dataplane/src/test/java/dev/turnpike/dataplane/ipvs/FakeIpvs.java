package dev.turnpike.dataplane.ipvs;

import dev.turnpike.dataplane.netlink.Errno;
import dev.turnpike.dataplane.netlink.NetlinkException;
import dev.turnpike.dataplane.netlink.ipvs.IpvsTimeouts;
import dev.turnpike.dataplane.netlink.ipvs.RealServer;
import dev.turnpike.dataplane.netlink.ipvs.VirtualServer;
import dev.turnpike.dataplane.netlink.ipvs.VirtualServerKey;
import java.net.InetAddress;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An {@link IpvsKernel} that answers as ip_vs_ctl.c does: EEXIST for a service or destination that
 * exists, ESRCH for a missing service, ENOENT for a missing destination or an unknown scheduler.
 * Updating a destination keeps its connection counters; deleting a service drops its
 * destinations. Every change is logged in {@link #log}, in ipvsadm-like words.
 */
final class FakeIpvs implements IpvsKernel {
  private final Map<VirtualServerKey, VirtualServer> services = new LinkedHashMap<>();
  private final Map<VirtualServerKey, Map<String, RealServer>> destinations = new LinkedHashMap<>();
  /** Every change made, in order; failures are injected here. */
  final OpLog log = new OpLog();
  final Set<String> schedulers = new HashSet<>(IpvsPlanner.KERNEL_SCHEDULERS);
  private IpvsTimeouts timeouts = new IpvsTimeouts(900, 120, 300);

  /** Sets the counters a destination reports, as traffic would. */
  void connections(VirtualServerKey k, InetAddress a, int port, RealServer.Connections c) {
    Map<String, RealServer> d = destinations.get(k);
    RealServer r = d.get(id(a, port));
    d.put(id(a, port), new RealServer(a, port, r.forward(), r.weight(), r.upperThreshold(), r.lowerThreshold(), c));
  }

  /** ipvsadm -Sn-like text: one line per service, then its destinations, in insertion order. */
  String dump() {
    StringBuilder sb = new StringBuilder();
    services.forEach((k, s) -> {
      sb.append(k).append(' ').append(s.scheduler());
      if (s.flags() != 0) {
        sb.append(" flags=0x").append(Integer.toHexString(s.flags()));
      }
      if (s.timeoutSeconds() != 0) {
        sb.append(" persistent=").append(s.timeoutSeconds());
      }
      sb.append('\n');
      destinations.get(k).values().forEach(d -> sb.append("  -> ").append(id(d.address(), d.port()))
          .append(" w=").append(d.weight()).append('\n'));
    });
    return sb.toString();
  }

  @Override
  public List<VirtualServer> services() {
    return List.copyOf(services.values());
  }

  @Override
  public List<RealServer> destinations(VirtualServerKey service) throws NetlinkException {
    Map<String, RealServer> d = destinations.get(service);
    if (d == null) {
      throw new NetlinkException("IPVS_CMD_GET_DEST " + service, Errno.ESRCH.code());
    }
    return List.copyOf(d.values());
  }

  @Override
  public void addService(VirtualServer s) throws NetlinkException {
    if (services.containsKey(s.key())) {
      throw new NetlinkException("IPVS_CMD_NEW_SERVICE " + s.key(), Errno.EEXIST.code());
    }
    if (!schedulers.contains(s.scheduler())) {
      throw new NetlinkException("IPVS_CMD_NEW_SERVICE " + s.key(), Errno.ENOENT.code());
    }
    log.record("add-service " + s.key() + " " + s.scheduler());
    services.put(s.key(), s);
    destinations.put(s.key(), new LinkedHashMap<>());
  }

  @Override
  public void updateService(VirtualServer s) throws NetlinkException {
    if (!services.containsKey(s.key())) {
      throw new NetlinkException("IPVS_CMD_SET_SERVICE " + s.key(), Errno.ESRCH.code());
    }
    if (!schedulers.contains(s.scheduler())) {
      throw new NetlinkException("IPVS_CMD_SET_SERVICE " + s.key(), Errno.ENOENT.code());
    }
    log.record("update-service " + s.key() + " " + s.scheduler());
    services.put(s.key(), s);
  }

  @Override
  public void deleteService(VirtualServerKey k) throws NetlinkException {
    if (!services.containsKey(k)) {
      throw new NetlinkException("IPVS_CMD_DEL_SERVICE " + k, Errno.ESRCH.code());
    }
    log.record("delete-service " + k);
    services.remove(k);
    destinations.remove(k);
  }

  @Override
  public void addDestination(VirtualServerKey k, RealServer d) throws NetlinkException {
    Map<String, RealServer> m = destinations.get(k);
    if (m == null) {
      throw new NetlinkException("IPVS_CMD_NEW_DEST " + k, Errno.ESRCH.code());
    }
    if (m.containsKey(id(d.address(), d.port()))) {
      throw new NetlinkException("IPVS_CMD_NEW_DEST " + k, Errno.EEXIST.code());
    }
    log.record("add-dest " + k + " -> " + id(d.address(), d.port()) + " w=" + d.weight());
    m.put(id(d.address(), d.port()), withoutCounters(d));
  }

  @Override
  public void updateDestination(VirtualServerKey k, RealServer d) throws NetlinkException {
    Map<String, RealServer> m = destinations.get(k);
    if (m == null) {
      throw new NetlinkException("IPVS_CMD_SET_DEST " + k, Errno.ESRCH.code());
    }
    RealServer old = m.get(id(d.address(), d.port()));
    if (old == null) {
      throw new NetlinkException("IPVS_CMD_SET_DEST " + k, Errno.ENOENT.code());
    }
    log.record("update-dest " + k + " -> " + id(d.address(), d.port()) + " w=" + d.weight());
    m.put(id(d.address(), d.port()),
        new RealServer(d.address(), d.port(), d.forward(), d.weight(), d.upperThreshold(), d.lowerThreshold(), old.connections()));
  }

  @Override
  public void deleteDestination(VirtualServerKey k, InetAddress a, int port) throws NetlinkException {
    Map<String, RealServer> m = destinations.get(k);
    if (m == null) {
      throw new NetlinkException("IPVS_CMD_DEL_DEST " + k, Errno.ESRCH.code());
    }
    if (!m.containsKey(id(a, port))) {
      throw new NetlinkException("IPVS_CMD_DEL_DEST " + k, Errno.ENOENT.code());
    }
    log.record("delete-dest " + k + " -> " + id(a, port));
    m.remove(id(a, port));
  }

  @Override
  public IpvsTimeouts timeouts() {
    return timeouts;
  }

  @Override
  public void setTimeouts(IpvsTimeouts t) throws NetlinkException {
    log.record("set-timeouts " + t);
    timeouts = new IpvsTimeouts(
        t.tcpSeconds() == 0 ? timeouts.tcpSeconds() : t.tcpSeconds(),
        t.tcpFinSeconds() == 0 ? timeouts.tcpFinSeconds() : t.tcpFinSeconds(),
        t.udpSeconds() == 0 ? timeouts.udpSeconds() : t.udpSeconds());
  }

  private static RealServer withoutCounters(RealServer d) {
    return new RealServer(d.address(), d.port(), d.forward(), d.weight(), d.upperThreshold(), d.lowerThreshold(),
        RealServer.Connections.NONE);
  }

  static String id(InetAddress a, int port) {
    String h = a.getHostAddress();
    return (h.indexOf(':') >= 0 ? "[" + h + "]" : h) + ":" + port;
  }
}
