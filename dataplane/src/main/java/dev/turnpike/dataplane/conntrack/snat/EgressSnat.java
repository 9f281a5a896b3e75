package dev.turnpike.dataplane.conntrack.snat;

import dev.turnpike.dataplane.conntrack.Conntrack;
import dev.turnpike.dataplane.conntrack.ConntrackEntry;
import dev.turnpike.dataplane.conntrack.ConntrackException;
import dev.turnpike.dataplane.conntrack.ConntrackFilter;
import dev.turnpike.dataplane.conntrack.CtNetlink;
import dev.turnpike.dataplane.iptables.Iptables;
import dev.turnpike.dataplane.iptables.IptablesException;
import dev.turnpike.egress.EgressSnatConfig;
import dev.turnpike.net.IpAddresses;
import dev.turnpike.net.IpAddresses.Ip;
import dev.turnpike.net.IpFamily;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Programs egress SNAT ({@link EgressSnatRules}) and, when the configuration changes, deletes the
 * conntrack entries whose translation the change invalidates, so their next packet is translated
 * anew. Every other entry is left alone. Applying the same configuration again is idempotent and
 * touches no entry.
 */
public final class EgressSnat {
  /** What one {@link #apply} did. */
  public record Applied(int families, int deletedEntries) {}

  private final Iptables iptables;
  private final Conntrack conntrack;
  private final List<IpFamily> families;
  private final boolean ipvsConnections;
  private EgressSnatConfig current;

  public EgressSnat(Iptables iptables, Conntrack conntrack, List<IpFamily> families) {
    this(iptables, conntrack, families, false);
  }

  /** @param ipvsConnections IPVS mode: IPVS connections are Service traffic too (see {@link EgressSnatRules#render}) */
  public EgressSnat(Iptables iptables, Conntrack conntrack, List<IpFamily> families, boolean ipvsConnections) {
    this.iptables = iptables;
    this.conntrack = conntrack;
    this.families = List.copyOf(families);
    this.ipvsConnections = ipvsConnections;
  }

  /**
   * Replaces the rules with {@code config}'s (atomically per family) and then deletes the
   * conntrack entries the change affects. The first call after a start knows no previous
   * configuration and deletes only entries that contradict {@code config} itself. When the
   * conntrack part fails the rules are already in place and the next apply (of the same config
   * too) retries the deletion.
   */
  public synchronized Applied apply(EgressSnatConfig config) throws IptablesException, ConntrackException {
    for (IpFamily f : families) {
      iptables.restore(f, EgressSnatRules.applyPayload(config, f, ipvsConnections, iptables.save(f, "nat")), true);
    }
    EgressSnatConfig previous = current;
    if (config.equals(previous)) {
      return new Applied(families.size(), 0);
    }
    int deleted = 0;
    for (IpFamily f : families) {
      int af = f == IpFamily.IPv4 ? CtNetlink.AF_INET : CtNetlink.AF_INET6;
      deleted += conntrack.delete(affected(conntrack.list(ConntrackFilter.family(af)), previous, config));
    }
    // Only now: when the cleanup failed, applying the same config again retries it.
    current = config;
    return new Applied(families.size(), deleted);
  }

  /**
   * Removes the hook and the chains, and those an earlier version left under the legacy names
   * ({@link EgressSnatRules#LEGACY_CHAINS}); leaves conntrack alone.
   */
  public synchronized void cleanup() throws IptablesException {
    for (IpFamily f : families) {
      String removal = EgressSnatRules.removal(iptables.save(f, "nat"));
      if (!removal.isEmpty()) {
        iptables.restore(f, removal, true);
      }
    }
    current = null;
  }

  /**
   * The entries whose translation {@code next} changes. Only original-direction flows from a
   * cluster CIDR that were not DNATed (Service traffic: IPS_DST_NAT, or a reply source other than
   * the original destination, as IPVS leaves it) are candidates; then an entry is affected
   * when
   * <ul>
   *   <li>this node translated it (ctmark bit) and {@code next} would not (its destination became
   *       non-masquerade, or its source left the cluster CIDRs);
   *   <li>nobody translated it (no IPS_SRC_NAT) and {@code next} would (a destination left the
   *       non-masquerade list);
   *   <li>this node translated it, {@code next} would too, but to another address: a new fixed
   *       SNAT address, or the previous fixed address replaced by MASQUERADE.
   * </ul>
   */
  static List<ConntrackEntry> affected(List<ConntrackEntry> entries, EgressSnatConfig previous,
      EgressSnatConfig next) {
    List<ConntrackEntry> out = new ArrayList<>();
    for (ConntrackEntry e : entries) {
      // Service traffic: DNATed by iptables, or redirected by IPVS (which rewrites the reply
      // tuple without setting IPS_DST_NAT), either way replies come from another address.
      if (e.dnat() || !e.reply().src().equals(e.original().dst())) {
        continue;
      }
      Ip src = ip(e.original().src());
      Ip dst = ip(e.original().dst());
      boolean ours = (e.mark() & next.connmark()) != 0
          || (previous != null && (e.mark() & previous.connmark()) != 0);
      boolean candidate = inCluster(next, src) || (previous != null && inCluster(previous, src));
      if (!candidate) {
        continue;
      }
      boolean should = next.translates(src, dst);
      Ip translatedTo = ip(e.reply().dst());
      if (ours && !should) {
        out.add(e);
      } else if (!ours && !e.snat() && should) {
        out.add(e);
      } else if (ours && should) {
        Optional<Ip> fixed = next.snatAddress(src.family());
        Optional<Ip> before = previous == null ? Optional.empty() : previous.snatAddress(src.family());
        if (fixed.isPresent() ? !fixed.get().equals(translatedTo)
            : before.isPresent() && before.get().equals(translatedTo)) {
          out.add(e);
        }
      }
    }
    return out;
  }

  private static boolean inCluster(EgressSnatConfig c, Ip ip) {
    return c.clusterCidrs().stream().anyMatch(x -> IpAddresses.contains(x, ip));
  }

  private static Ip ip(java.net.InetAddress a) {
    return IpAddresses.parse(a.getHostAddress()).orElseThrow();
  }
}
