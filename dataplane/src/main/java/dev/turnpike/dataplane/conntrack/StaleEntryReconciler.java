package dev.turnpike.dataplane.conntrack;

import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.api.v1alpha1.Frontend;
import dev.turnpike.api.v1alpha1.LoadBalancerIngress;
import dev.turnpike.api.v1alpha1.Protocol;
import dev.turnpike.dataplane.DesiredState;
import dev.turnpike.net.IpAddresses;
import dev.turnpike.net.IpFamily;
import dev.turnpike.topology.EndpointCategorizer;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Deletes conntrack entries that keep UDP (and SCTP) flows pinned to an endpoint that no longer
 * serves, with kube-proxy's reconciler semantics (pkg/proxy/conntrack/cleanup.go): an entry whose
 * original destination is a Service IP (ClusterIP, LoadBalancer ingress IP, externalIP) and port,
 * or a node address and NodePort, of a UDP/SCTP frontend, and whose reply source is not one of
 * that frontend's serving endpoints, is stale. That includes entries made while the Service had
 * no endpoints (reply source = the Service or node IP itself, k/k 48370), so the first packet
 * after an endpoint appears is DNATed.
 *
 * <p>Differences from kube-proxy (which, like this class, keys by Service IP and port): the
 * endpoint match includes the target port (a targetPort change unpins flows), SCTP frontends are
 * reconciled too (kube-proxy: UDP only), and a NodePort entry counts only when its destination is
 * a node address ({@link Options#nodePortDestination}); kube-proxy matches the port on any
 * destination, which also cuts unrelated egress flows that happen to use it. A frontend without
 * serving endpoints is skipped, as in kube-proxy.
 *
 * <p>Serving endpoints are every endpoint of the frontend and family with the serving condition
 * ({@link EndpointCategorizer#endpointsOf}), not only the topology-filtered ones the rules use, as
 * kube-proxy: a serving-but-terminating endpoint keeps its flows (graceful termination), and a
 * hints change does not cut flows to endpoints that still serve.
 *
 * <p>Bounded: at most {@link Options#maxDeletesPerSync} deletions per call; the rest are reported
 * as deferred for the next sync.
 */
public final class StaleEntryReconciler {
  /**
   * @param families families to reconcile (those the node programs)
   * @param protocols UDP and SCTP by default (TCP flows are reset by the endpoint, not pinned)
   * @param maxDeletesPerSync bound on deletions per {@link #reconcile} call, over all families
   * @param nodePortDestination which original destinations count as the node for NodePorts;
   *     null means the DesiredState's node addresses and loopback
   */
  public record Options(Set<IpFamily> families, Set<Protocol> protocols, int maxDeletesPerSync,
      Predicate<InetAddress> nodePortDestination) {
    public Options {
      families = Set.copyOf(families);
      protocols = Set.copyOf(protocols);
      if (maxDeletesPerSync < 1) {
        throw new IllegalArgumentException("maxDeletesPerSync must be positive");
      }
      if (protocols.contains(Protocol.TCP)) {
        throw new IllegalArgumentException("TCP flows are not reconciled");
      }
    }

    public static Options defaults() {
      return new Options(Set.of(IpFamily.IPv4, IpFamily.IPv6), Set.of(Protocol.UDP, Protocol.SCTP),
          10_000, null);
    }

    public Options withFamilies(Set<IpFamily> f) {
      return new Options(f, protocols, maxDeletesPerSync, nodePortDestination);
    }

    public Options withMaxDeletesPerSync(int n) {
      return new Options(families, protocols, n, nodePortDestination);
    }

    public Options withNodePortDestination(Predicate<InetAddress> p) {
      return new Options(families, protocols, maxDeletesPerSync, p);
    }
  }

  /** One family's pass. {@code deferred} stale entries were left for the next call. */
  public record Result(IpFamily family, int scanned, int stale, int deleted, int deferred,
      long nanos) {}

  /** Where a flow was headed: a Service IP and port, or (address null) a NodePort. */
  record Frontend4(InetAddress address, int protocol, int port) {}

  /** An endpoint as the reply direction shows it. */
  record Endpoint(InetAddress address, int port) {}

  /** Serving endpoints per destination, for one family. */
  record Index(Map<Frontend4, Set<Endpoint>> byServiceIp, Map<Frontend4, Set<Endpoint>> byNodePort) {}

  private final Conntrack conntrack;
  private final ConntrackMetrics metrics;
  private final Options options;
  private final LongSupplier nanoTime;

  public StaleEntryReconciler(Conntrack conntrack, ConntrackMetrics metrics, Options options) {
    this(conntrack, metrics, options, System::nanoTime);
  }

  StaleEntryReconciler(Conntrack conntrack, ConntrackMetrics metrics, Options options,
      LongSupplier nanoTime) {
    this.conntrack = conntrack;
    this.metrics = metrics;
    this.options = options;
    this.nanoTime = nanoTime;
  }

  /**
   * One pass over each configured family. A failure of one family is thrown after the others
   * ran (the duration is recorded either way).
   */
  public List<Result> reconcile(DesiredState state) throws ConntrackException {
    List<Result> out = new ArrayList<>();
    ConntrackException failure = null;
    int budget = options.maxDeletesPerSync();
    for (IpFamily family : new IpFamily[] {IpFamily.IPv4, IpFamily.IPv6}) {
      if (!options.families().contains(family)) {
        continue;
      }
      try {
        Result r = reconcile(state, family, budget);
        budget -= r.deleted();
        out.add(r);
      } catch (ConntrackException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
    return out;
  }

  private Result reconcile(DesiredState state, IpFamily family, int budget)
      throws ConntrackException {
    long start = nanoTime.getAsLong();
    int af = family == IpFamily.IPv4 ? CtNetlink.AF_INET : CtNetlink.AF_INET6;
    Predicate<InetAddress> nodeDst = options.nodePortDestination() != null
        ? options.nodePortDestination() : nodeAddresses(state);
    int scanned = 0;
    int deleted = 0;
    List<ConntrackEntry> stale = new ArrayList<>();
    try {
      Index index = index(state, family, options.protocols());
      Set<Integer> inUse = new HashSet<>();
      index.byServiceIp().keySet().forEach(k -> inUse.add(k.protocol()));
      index.byNodePort().keySet().forEach(k -> inUse.add(k.protocol()));
      for (Protocol p : List.of(Protocol.UDP, Protocol.SCTP)) {
        if (!inUse.contains(protocolNumber(p))) {
          continue; // no frontend of this protocol (or not configured): nothing of it is stale
        }
        List<ConntrackEntry> entries =
            conntrack.list(ConntrackFilter.family(af).protocol(protocolNumber(p)));
        scanned += entries.size();
        stale.addAll(stale(entries, index, nodeDst));
      }
      List<ConntrackEntry> now = stale.size() > budget ? stale.subList(0, Math.max(0, budget)) : stale;
      deleted = conntrack.delete(now);
      return new Result(family, scanned, stale.size(), deleted, stale.size() - now.size(),
          nanoTime.getAsLong() - start);
    } finally {
      metrics.syncDuration(family.name(), nanoTime.getAsLong() - start);
      if (deleted > 0) {
        metrics.deletedEntries(family.name(), deleted);
      }
    }
  }

  /** The entries of {@code entries} that point at a frontend but not at one of its endpoints. */
  static List<ConntrackEntry> stale(List<ConntrackEntry> entries, Index index,
      Predicate<InetAddress> nodePortDestination) {
    List<ConntrackEntry> out = new ArrayList<>();
    for (ConntrackEntry e : entries) {
      Tuple o = e.original();
      Endpoint replied = new Endpoint(e.reply().src(), e.reply().srcPort());
      Set<Endpoint> serving = index.byServiceIp().get(new Frontend4(o.dst(), o.protocol(), o.dstPort()));
      if (serving == null && nodePortDestination.test(o.dst())) {
        serving = index.byNodePort().get(new Frontend4(null, o.protocol(), o.dstPort()));
      }
      if (serving != null && !serving.contains(replied)) {
        out.add(e);
      }
    }
    return out;
  }

  /** Serving endpoints of every UDP/SCTP frontend, keyed by its Service IPs and its NodePort. */
  static Index index(DesiredState state, IpFamily family, Set<Protocol> protocols) {
    Map<Frontend4, Set<Endpoint>> byIp = new HashMap<>();
    Map<Frontend4, Set<Endpoint>> byNodePort = new HashMap<>();
    for (ForwardingTableSpec spec : state.tables().values()) {
      List<InetAddress> ips = new ArrayList<>();
      spec.clusterIPs().forEach(ip -> address(ip, family).ifPresent(ips::add));
      spec.externalIPs().forEach(ip -> address(ip, family).ifPresent(ips::add));
      for (LoadBalancerIngress ing : spec.loadBalancerIngress()) {
        address(ing.ip(), family).ifPresent(ips::add);
      }
      for (Frontend fe : spec.frontends()) {
        if (!protocols.contains(fe.protocol())) {
          continue;
        }
        int proto = protocolNumber(fe.protocol());
        Set<Endpoint> serving = new HashSet<>();
        for (Backend b : EndpointCategorizer.endpointsOf(spec, fe, family)) {
          if (Boolean.TRUE.equals(b.serving())) {
            address(b.address(), family).ifPresent(a -> serving.add(new Endpoint(a, b.portFor(fe.name()))));
          }
        }
        if (serving.isEmpty()) {
          // As kube-proxy: nothing to clean while nothing serves (new flows are rejected); the
          // entries made meanwhile go once an endpoint appears (reply source != endpoint).
          continue;
        }
        for (InetAddress ip : ips) {
          byIp.merge(new Frontend4(ip, proto, fe.port()), serving, StaleEntryReconciler::union);
        }
        if (fe.nodePort() != null && fe.nodePort() > 0) {
          byNodePort.merge(new Frontend4(null, proto, fe.nodePort()), serving,
              StaleEntryReconciler::union);
        }
      }
    }
    return new Index(byIp, byNodePort);
  }

  private static Set<Endpoint> union(Set<Endpoint> a, Set<Endpoint> b) {
    Set<Endpoint> u = new HashSet<>(a);
    u.addAll(b);
    return u;
  }

  private static Predicate<InetAddress> nodeAddresses(DesiredState state) {
    Set<InetAddress> node = new HashSet<>();
    for (String a : state.node().addresses()) {
      for (IpFamily f : IpFamily.values()) {
        address(a, f).ifPresent(node::add);
      }
    }
    return a -> a.isLoopbackAddress() || node.contains(a);
  }

  static int protocolNumber(Protocol p) {
    return switch (p) {
      case TCP -> CtNetlink.IPPROTO_TCP;
      case UDP -> CtNetlink.IPPROTO_UDP;
      case SCTP -> CtNetlink.IPPROTO_SCTP;
    };
  }

  private static Optional<InetAddress> address(String text, IpFamily family) {
    return IpAddresses.parse(text).filter(ip -> ip.family() == family).map(ip -> {
      try {
        return InetAddress.getByAddress(ip.bytes());
      } catch (UnknownHostException e) {
        throw new IllegalStateException(e);
      }
    });
  }
}
