package dev.turnpike.dataplane.agent;

import dev.turnpike.api.v1alpha1.DataplaneMode;
import dev.turnpike.dataplane.Dataplane;
import dev.turnpike.dataplane.conntrack.snat.EgressSnatRules;
import dev.turnpike.dataplane.iptables.Exec;
import dev.turnpike.dataplane.iptables.ExecIptables;
import dev.turnpike.dataplane.iptables.Iptables;
import dev.turnpike.dataplane.iptables.IptablesConfig;
import dev.turnpike.dataplane.iptables.IptablesDataplane;
import dev.turnpike.dataplane.iptables.IptablesException;
import dev.turnpike.dataplane.iptables.ProcessExec;
import dev.turnpike.dataplane.iptables.ReservedChains;
import dev.turnpike.dataplane.ipvs.IpvsConfig;
import dev.turnpike.dataplane.ipvs.IpvsDataplane;
import dev.turnpike.dataplane.ipvs.NetlinkIpvs;
import dev.turnpike.dataplane.ipvs.ProcSysctl;
import dev.turnpike.dataplane.ipvs.RtnlVipLink;
import dev.turnpike.dataplane.netlink.Netlink;
import dev.turnpike.dataplane.netlink.NetlinkClient;
import dev.turnpike.dataplane.netlink.NetlinkException;
import dev.turnpike.dataplane.netlink.NetlinkSocket;
import dev.turnpike.dataplane.netlink.rtnl.RtnlClient;
import dev.turnpike.net.IpFamily;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backends this build carries: iptables and IPVS. Each gets the chains of the components the
 * agent runs beside it ({@link #RESERVED}: egress SNAT's) as reserved, so its full syncs and its
 * cleanup leave them to their owner.
 */
public final class DefaultDataplaneFactory implements DataplaneFactory {
  private static final Logger LOG = LoggerFactory.getLogger(DefaultDataplaneFactory.class);
  /** The TURNPIKE- chains of the agent's other components ({@link NodeNat}). */
  public static final ReservedChains RESERVED = EgressSnatRules.CHAINS;

  private final Exec exec;
  private final ReservedChains reserved;

  /** Runs iptables on this host (the agent's network namespace). */
  public DefaultDataplaneFactory() {
    this(ProcessExec.host());
  }

  public DefaultDataplaneFactory(Exec exec) {
    this(exec, RESERVED);
  }

  public DefaultDataplaneFactory(Exec exec, ReservedChains reserved) {
    this.exec = exec;
    this.reserved = reserved;
  }

  @Override
  public Dataplane create(AgentConfig config) {
    if (config.mode() != DataplaneMode.IPTABLES && config.mode() != DataplaneMode.IPVS) {
      throw new IllegalStateException(
          "mode " + config.mode().name().toLowerCase(Locale.ROOT) + " is not available in this build");
    }
    IptablesConfig iptablesConfig = iptablesConfig(config.backend());
    // Legacy or nft, picked like kube-proxy's iptables-wrapper.
    ExecIptables iptables = ExecIptables.detect(exec);
    List<IpFamily> families = workingFamilies(iptables);
    if (config.mode() == DataplaneMode.IPVS) {
      LOG.info("ipvs backend: iptables {} mode for its rules, families {}", iptables.mode(), families);
      return ipvs(iptables, IpvsConfig.of(iptablesConfig), families, reserved);
    }
    LOG.info("iptables backend: {} mode, families {}", iptables.mode(), families);
    return new IptablesDataplane(iptables, exec, iptablesConfig, families, reserved);
  }

  /**
   * The IPVS backend in this process's network namespace: generic netlink for IPVS (the family is
   * resolved on first use, so --cleanup works without ip_vs), rtnetlink for the dummy link,
   * /proc/sys for the sysctls.
   */
  private static Dataplane ipvs(
      ExecIptables iptables, IpvsConfig config, List<IpFamily> families, ReservedChains reserved) {
    try {
      NetlinkClient genl = new NetlinkClient(NetlinkSocket.open(Netlink.NETLINK_GENERIC));
      NetlinkClient route = new NetlinkClient(NetlinkSocket.open(Netlink.NETLINK_ROUTE));
      return new IpvsDataplane(new NetlinkIpvs(genl), new RtnlVipLink(new RtnlClient(route), config.linkName()),
          new ProcSysctl(), iptables, config, families, Clock.systemUTC(), reserved);
    } catch (NetlinkException e) {
      throw new IllegalStateException("ipvs mode cannot open its netlink sockets: " + e.getMessage(), e);
    }
  }

  /** The backend options as the iptables backend takes them; bad CIDRs are refused here. */
  static IptablesConfig iptablesConfig(AgentConfig.BackendOptions o) {
    return IptablesConfig.defaults()
        .withClusterCidrs(o.clusterCidrs())
        .withMasqueradeAll(o.masqueradeAll())
        .withNodePortAddresses(o.nodePortAddresses())
        .withLocalhostNodePorts(o.localhostNodePorts());
  }

  /**
   * As kube-proxy, one proxier per family whose iptables works: a node without ip6tables (or
   * without IPv6) programs IPv4 only.
   */
  static List<IpFamily> workingFamilies(Iptables iptables) {
    List<IpFamily> out = new ArrayList<>();
    for (IpFamily family : IpFamily.values()) {
      try {
        iptables.save(family, "filter");
        out.add(family);
      } catch (IptablesException | RuntimeException e) {
        LOG.info("no {} rules will be programmed: {}", family, e.getMessage());
      }
    }
    if (out.isEmpty()) {
      throw new IllegalStateException("neither iptables nor ip6tables works on this node");
    }
    return out;
  }
}
