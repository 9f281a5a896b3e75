package dev.turnpike.dataplane.agent;

import dev.turnpike.api.v1alpha1.DataplaneMode;
import dev.turnpike.dataplane.conntrack.Conntrack;
import dev.turnpike.dataplane.conntrack.ConntrackEntry;
import dev.turnpike.dataplane.conntrack.ConntrackException;
import dev.turnpike.dataplane.conntrack.ConntrackFilter;
import dev.turnpike.dataplane.conntrack.NetlinkConntrack;
import dev.turnpike.dataplane.conntrack.snat.EgressSnat;
import dev.turnpike.dataplane.iptables.Exec;
import dev.turnpike.dataplane.iptables.ExecIptables;
import dev.turnpike.dataplane.iptables.ProcessExec;
import dev.turnpike.net.IpFamily;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's real conntrack table (ctnetlink) and egress SNAT (iptables, legacy or nft as
 * detected), for the families whose iptables works. Independent of the Service backend: the SNAT
 * chains are plain nat POSTROUTING rules, so they sit beside iptables or IPVS rules alike.
 */
public final class DefaultNodeNatFactory implements NodeNatFactory {
  private static final Logger LOG = LoggerFactory.getLogger(DefaultNodeNatFactory.class);

  private final Exec exec;
  private final Optional<Path> namespaceFile;

  /** This host (the agent's network namespace). */
  public DefaultNodeNatFactory() {
    this(ProcessExec.host(), Optional.empty());
  }

  /** {@code namespaceFile} ({@code /var/run/netns/NAME}) for the conntrack socket, with an exec that runs there too. */
  public DefaultNodeNatFactory(Exec exec, Optional<Path> namespaceFile) {
    this.exec = exec;
    this.namespaceFile = namespaceFile;
  }

  @Override
  public NodeNat create(AgentConfig config) {
    ExecIptables iptables = ExecIptables.detect(exec);
    List<IpFamily> families = DefaultDataplaneFactory.workingFamilies(iptables);
    Optional<Conntrack> conntrack;
    Conntrack forSnat;
    try {
      NetlinkConntrack ct = namespaceFile.isPresent()
          ? NetlinkConntrack.openIn(namespaceFile.get()) : NetlinkConntrack.open();
      conntrack = Optional.of(ct);
      forSnat = ct;
    } catch (ConntrackException | RuntimeException e) {
      // Rules still work without it; only the cleanup of stale and re-translated entries is lost.
      LOG.warn("no conntrack cleanup on this node (stale UDP flows expire on their own): {}", e.getMessage());
      conntrack = Optional.empty();
      forSnat = new Unavailable(e.getMessage());
    }
    boolean ipvs = config.mode() == DataplaneMode.IPVS;
    return new NodeNat(conntrack, Optional.of(new EgressSnat(iptables, forSnat, families, ipvs)), new HashSet<>(families));
  }

  /** Stands in when ctnetlink cannot be opened: egress SNAT rules apply, the entry cleanup reports why it cannot. */
  private record Unavailable(String reason) implements Conntrack {
    @Override
    public List<ConntrackEntry> list(ConntrackFilter filter) throws ConntrackException {
      throw new ConntrackException("conntrack unavailable: " + reason, null);
    }

    @Override
    public int delete(Collection<ConntrackEntry> entries) throws ConntrackException {
      throw new ConntrackException("conntrack unavailable: " + reason, null);
    }
  }
}
