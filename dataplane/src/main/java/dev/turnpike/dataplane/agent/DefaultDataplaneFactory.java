package dev.turnpike.dataplane.agent;

import dev.turnpike.api.v1alpha1.DataplaneMode;
import dev.turnpike.dataplane.Dataplane;
import dev.turnpike.dataplane.iptables.Exec;
import dev.turnpike.dataplane.iptables.ExecIptables;
import dev.turnpike.dataplane.iptables.Iptables;
import dev.turnpike.dataplane.iptables.IptablesConfig;
import dev.turnpike.dataplane.iptables.IptablesDataplane;
import dev.turnpike.dataplane.iptables.IptablesException;
import dev.turnpike.dataplane.iptables.ProcessExec;
import dev.turnpike.net.IpFamily;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The backends this build carries: iptables. */
public final class DefaultDataplaneFactory implements DataplaneFactory {
  private static final Logger LOG = LoggerFactory.getLogger(DefaultDataplaneFactory.class);

  private final Exec exec;

  /** Runs iptables on this host (the agent's network namespace). */
  public DefaultDataplaneFactory() {
    this(ProcessExec.host());
  }

  public DefaultDataplaneFactory(Exec exec) {
    this.exec = exec;
  }

  @Override
  public Dataplane create(AgentConfig config) {
    if (config.mode() != DataplaneMode.IPTABLES) {
      throw new IllegalStateException(
          "mode " + config.mode().name().toLowerCase(Locale.ROOT) + " is not available in this build");
    }
    IptablesConfig iptablesConfig = iptablesConfig(config.backend());
    // Legacy or nft, picked like kube-proxy's iptables-wrapper.
    ExecIptables iptables = ExecIptables.detect(exec);
    List<IpFamily> families = workingFamilies(iptables);
    LOG.info("iptables backend: {} mode, families {}", iptables.mode(), families);
    return new IptablesDataplane(iptables, exec, iptablesConfig, families);
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
