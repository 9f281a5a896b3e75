package dev.turnpike.dataplane.ipvs;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.api.v1alpha1.Frontend;
import dev.turnpike.api.v1alpha1.Protocol;
import dev.turnpike.api.v1alpha1.SessionAffinity;
import dev.turnpike.api.v1alpha1.TrafficPolicy;
import dev.turnpike.dataplane.DesiredState;
import dev.turnpike.dataplane.NodeContext;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.iptables.IptablesConfig;
import dev.turnpike.dataplane.iptables.IptablesRenderer;
import dev.turnpike.dataplane.ipvs.IpvsPlan.Endpoint;
import dev.turnpike.dataplane.ipvs.IpvsPlan.PlannedService;
import dev.turnpike.dataplane.ipvs.IpvsPlan.PortRules;
import dev.turnpike.dataplane.netlink.ipvs.IpvsMessages;
import dev.turnpike.dataplane.netlink.ipvs.RealServer;
import dev.turnpike.dataplane.netlink.ipvs.VirtualServer;
import dev.turnpike.dataplane.netlink.ipvs.VirtualServerKey;
import dev.turnpike.net.IpAddresses;
import dev.turnpike.net.IpAddresses.Ip;
import dev.turnpike.net.IpFamily;
import dev.turnpike.topology.EndpointCategorizer;
import dev.turnpike.topology.EndpointCategorizer.Categorized;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Desired state → desired IPVS state. Pure: no I/O, no clock; the same state gives the same plan
 * (a memo of per-Service plans only saves work). Not thread-safe: one sync loop calls it.
 *
 * <p>Per Service port and family: a virtual service on the ClusterIP with the internal policy's
 * endpoints, and on every externalIP, LoadBalancer ingress IP and (for NodePorts) every NodePort
 * address of the node with the external policy's endpoints. Which endpoints is {@link
 * EndpointCategorizer}'s answer, exactly as the iptables backend uses it. Every destination is a
 * NAT (masquerading) real server of weight 1.
 */
public final class IpvsPlanner {
  /** The default for the random algorithm: round robin, what kube-proxy uses. */
  public static final String DEFAULT_SCHEDULER = "rr";
  /** Maglev hashing: the kernel's own Maglev (ip_vs_mh). */
  public static final String MAGLEV_SCHEDULER = "mh";

  /**
   * The schedulers of the stock kernel's net/netfilter/ipvs (ip_vs_*.c), the same list the
   * operator validates {@code turnpike.dev/ipvs-scheduler} against; checked again here because a
   * ForwardingTable may be written by other hands.
   */
  public static final Set<String> KERNEL_SCHEDULERS =
      Set.of("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos");

  private final IptablesConfig config;
  private final List<IpFamily> families;
  private final List<IpAddresses.Cidr> nodePortCidrs;

  public IpvsPlanner(IptablesConfig config, List<IpFamily> families) {
    this.config = config;
    this.families = List.copyOf(families);
    this.nodePortCidrs = config.nodePortAddresses().stream()
        .filter(c -> !c.equals(IptablesConfig.PRIMARY))
        .map(c -> IpAddresses.parseCidr(c).orElseThrow())
        .toList();
  }

  /** The scheduler and flags of one Service, and a complaint when its choice cannot be honoured. */
  record Scheduling(String scheduler, int flags, String error) {}

  /**
   * {@code maglev} → {@code mh} (fallback on; port hashing unless ClientIP affinity must keep a
   * client on one backend), {@code random} → {@code rr}; a valid {@code ipvsScheduler} overrides
   * either. An unknown one is an error and the default is used.
   */
  static Scheduling scheduling(ServiceKey key, ForwardingTableSpec spec) {
    String def = spec.algorithm() == Algorithm.MAGLEV ? MAGLEV_SCHEDULER : DEFAULT_SCHEDULER;
    String wanted = spec.ipvsScheduler() == null ? "" : spec.ipvsScheduler().strip().toLowerCase(Locale.ROOT);
    String error = null;
    String sched = def;
    if (!wanted.isEmpty()) {
      if (KERNEL_SCHEDULERS.contains(wanted)) {
        sched = wanted;
      } else {
        error = key + ": unknown IPVS scheduler '" + spec.ipvsScheduler() + "' (kernel schedulers: "
            + String.join(", ", new java.util.TreeSet<>(KERNEL_SCHEDULERS)) + "); using " + def;
      }
    }
    int flags = 0;
    if (sched.equals(MAGLEV_SCHEDULER)) {
      flags |= IpvsMessages.IP_VS_SVC_F_SCHED_MH_FALLBACK;
      if (spec.sessionAffinity() == null) {
        flags |= IpvsMessages.IP_VS_SVC_F_SCHED_MH_PORT;
      }
    }
    if (spec.sessionAffinity() != null) {
      flags |= IpvsMessages.IP_VS_SVC_F_PERSISTENT;
    }
    return new Scheduling(sched, flags, error);
  }

  /**
   * One Service's share of the plan, independent of the other Services.
   *
   * @param services its virtual services, before duplicates across Services are removed
   * @param schedulingError the complaint about its scheduler, or null
   */
  private record ServicePlan(
      ForwardingTableSpec spec,
      NodeContext node,
      List<PlannedService> services,
      List<PortRules> ports,
      Set<InetAddress> addresses,
      String schedulingError,
      int noLocalInternal,
      int noLocalExternal) {}

  /**
   * The last plans by Service: a Service whose spec object and node are unchanged reuses its plan
   * (at 10k Services categorising every endpoint again is most of a sync's CPU). Same inputs, same
   * output: this only skips work.
   */
  private Map<ServiceKey, ServicePlan> memo = new HashMap<>();

  public IpvsPlan plan(DesiredState state) {
    NodeContext node = state.node();
    Map<VirtualServerKey, PlannedService> services = new LinkedHashMap<>();
    Set<InetAddress> addresses = new LinkedHashSet<>();
    List<PortRules> ports = new ArrayList<>();
    Map<ServiceKey, String> errors = new TreeMap<>();
    Map<IpFamily, List<Ip>> nodePortAddresses = new EnumMap<>(IpFamily.class);
    for (IpFamily f : families) {
      nodePortAddresses.put(f, nodePortAddresses(node, f));
    }
    int programmed = 0;
    int noLocalInternal = 0;
    int noLocalExternal = 0;
    Map<ServiceKey, ServicePlan> memoNow = new HashMap<>(state.tables().size() * 2);
    for (var e : state.tables().entrySet()) {
      ServiceKey key = e.getKey();
      ServicePlan sp = memo.get(key);
      if (sp == null || sp.spec() != e.getValue() || !sp.node().equals(node)) {
        sp = planService(key, e.getValue(), node, nodePortAddresses);
      }
      memoNow.put(key, sp);
      List<String> problems = new ArrayList<>();
      if (sp.schedulingError() != null) {
        problems.add(sp.schedulingError());
      }
      for (PlannedService ps : sp.services()) {
        VirtualServerKey vk = ps.server().key();
        PlannedService taken = services.putIfAbsent(vk, ps);
        if (taken != null) {
          problems.add(key + ": " + vk + " is already served for " + taken.owner() + "; not programmed twice");
        }
      }
      addresses.addAll(sp.addresses());
      ports.addAll(sp.ports());
      noLocalInternal += sp.noLocalInternal();
      noLocalExternal += sp.noLocalExternal();
      if (!sp.ports().isEmpty()) {
        programmed++;
      }
      if (!problems.isEmpty()) {
        errors.put(key, String.join("; ", problems));
      }
    }
    memo = memoNow;
    Map<String, Integer> noLocal = Map.of("internal", noLocalInternal, "external", noLocalExternal);
    return new IpvsPlan(services, addresses, ports, nodePortAddresses, errors, noLocal, programmed);
  }

  private ServicePlan planService(ServiceKey key, ForwardingTableSpec spec, NodeContext node, Map<IpFamily, List<Ip>> nodePortAddresses) {
    Scheduling sched = scheduling(key, spec);
    List<PlannedService> services = new ArrayList<>();
    List<PortRules> ports = new ArrayList<>();
    Set<InetAddress> addresses = new LinkedHashSet<>();
    int noLocalInternal = 0;
    int noLocalExternal = 0;
    for (IpFamily family : families) {
      Ip clusterIp = firstOfFamily(spec.clusterIPs(), family);
      if (clusterIp == null) {
        continue; // as the iptables backend: no ClusterIP of this family, nothing of this family
      }
      for (Frontend f : spec.frontends()) {
        Categorized cat = EndpointCategorizer.categorize(spec, f, family, node.topology());
        PortRules p = portRules(key, spec, f, family, clusterIp, node, cat);
        ports.add(p);
        if (p.hasEndpoints() && !p.hasInternal()) {
          noLocalInternal++;
        }
        if (p.hasEndpoints() && !p.hasExternal()) {
          noLocalExternal++;
        }
        List<RealServer> internal = destinations(f, internalEndpoints(spec, cat));
        List<RealServer> external = destinations(f, p.externalLocal() ? cat.localEndpoints() : cat.clusterEndpoints());
        Map<VirtualServerKey, List<RealServer>> vips = new LinkedHashMap<>();
        vips.put(key(f, clusterIp), internal);
        addresses.add(inet(clusterIp));
        for (Ip ip : p.externalIps()) {
          vips.putIfAbsent(key(f, ip), external);
          addresses.add(inet(ip));
        }
        for (Ip ip : p.lbIps()) {
          vips.putIfAbsent(key(f, ip), external);
          addresses.add(inet(ip));
        }
        if (p.nodePort() != null) {
          for (Ip ip : nodePortAddresses.get(family)) {
            vips.putIfAbsent(new VirtualServerKey(afOf(family), protocol(f.protocol()), inet(ip), p.nodePort(), 0), external);
          }
        }
        vips.forEach((vk, dests) -> services.add(new PlannedService(key, server(vk, sched, spec.sessionAffinity()), dests)));
      }
    }
    return new ServicePlan(spec, node, List.copyOf(services), List.copyOf(ports), addresses, sched.error(),
        noLocalInternal, noLocalExternal);
  }

  private static VirtualServer server(VirtualServerKey k, Scheduling s, SessionAffinity affinity) {
    int fullMask = k.family() == afOf(IpFamily.IPv4) ? 32 : 128;
    int timeout = affinity == null ? 0 : affinity.timeoutSeconds();
    return new VirtualServer(k, s.scheduler(), s.flags(), timeout, fullMask);
  }

  private static List<Backend> internalEndpoints(ForwardingTableSpec spec, Categorized cat) {
    return spec.internalTrafficPolicy() == TrafficPolicy.Local ? cat.localEndpoints() : cat.clusterEndpoints();
  }

  private PortRules portRules(ServiceKey key, ForwardingTableSpec spec, Frontend f, IpFamily family, Ip clusterIp, NodeContext node, Categorized cat) {
    List<Ip> externalIps = ofFamily(spec.externalIPs(), family);
    List<Ip> lbIps = ofFamily(spec.loadBalancerIngress().stream().map(i -> i.ip()).toList(), family);
    IptablesRenderer.SourceRanges ranges = IptablesRenderer.SourceRanges.of(spec, family, node);
    boolean hasEndpoints = cat.hasAnyEndpoints();
    boolean externallyAccessible = EndpointCategorizer.externallyAccessible(spec, f, family);
    boolean externalLocal = spec.externalTrafficPolicy() == TrafficPolicy.Local && externallyAccessible;
    boolean hasInternal = !internalEndpoints(spec, cat).isEmpty();
    boolean hasExternal = externalLocal ? !cat.localEndpoints().isEmpty() : hasEndpoints;
    List<Endpoint> local = new ArrayList<>();
    for (Backend b : cat.allReachableEndpoints()) {
      if (node.nodeName().equals(b.nodeName())) {
        local.add(new Endpoint(IpAddresses.parse(b.address()).orElseThrow(), b.portFor(f.name())));
      }
    }
    Integer np = f.nodePort() != null && f.nodePort() > 0 ? f.nodePort() : null;
    Integer hc = spec.externalTrafficPolicy() == TrafficPolicy.Local ? spec.healthCheckNodePort() : null;
    String portName = key + (f.name().isEmpty() ? "" : ":" + f.name());
    return new PortRules(key, portName, family, f.protocol(), f.port(), clusterIp, externalIps, lbIps, np, ranges.cidrs(),
        ranges.allowFromNode(), hasEndpoints, hasInternal, hasExternal, externalLocal, local, hc);
  }

  /** NAT destinations of weight 1, one per distinct address and target port. */
  private static List<RealServer> destinations(Frontend f, List<Backend> endpoints) {
    Map<String, RealServer> out = new LinkedHashMap<>();
    for (Backend b : endpoints) {
      int port = b.portFor(f.name());
      Ip ip = IpAddresses.parse(b.address()).orElseThrow();
      out.putIfAbsent(ip.text() + "/" + port, RealServer.masq(inet(ip), port, 1));
    }
    return List.copyOf(out.values());
  }

  /** The node addresses of this family that accept NodePorts (all, the primary one, or those in the CIDRs). */
  List<Ip> nodePortAddresses(NodeContext node, IpFamily family) {
    List<Ip> all = ofFamily(node.addresses(), family);
    if (config.nodePortAddresses().isEmpty()) {
      return all;
    }
    Set<Ip> out = new LinkedHashSet<>();
    if (config.nodePortAddresses().contains(IptablesConfig.PRIMARY) && !all.isEmpty()) {
      out.add(all.get(0));
    }
    for (Ip ip : all) {
      if (nodePortCidrs.stream().anyMatch(c -> c.family() == family && IpAddresses.contains(c, ip))) {
        out.add(ip);
      }
    }
    return List.copyOf(out);
  }

  static int afOf(IpFamily family) {
    return family == IpFamily.IPv4 ? 2 : 10; // AF_INET, AF_INET6
  }

  static int protocol(Protocol p) {
    return switch (p) {
      case TCP -> VirtualServerKey.IPPROTO_TCP;
      case UDP -> VirtualServerKey.IPPROTO_UDP;
      case SCTP -> VirtualServerKey.IPPROTO_SCTP;
    };
  }

  private static VirtualServerKey key(Frontend f, Ip ip) {
    return new VirtualServerKey(afOf(ip.family()), protocol(f.protocol()), inet(ip), f.port(), 0);
  }

  static InetAddress inet(Ip ip) {
    try {
      return InetAddress.getByAddress(ip.bytes());
    } catch (UnknownHostException e) {
      throw new IllegalStateException("a parsed address has 4 or 16 bytes", e);
    }
  }

  private static List<Ip> ofFamily(List<String> ips, IpFamily family) {
    List<Ip> out = new ArrayList<>();
    for (String s : ips) {
      IpAddresses.parse(s).filter(ip -> ip.family() == family).filter(ip -> !out.contains(ip)).ifPresent(out::add);
    }
    return out;
  }

  private static Ip firstOfFamily(List<String> ips, IpFamily family) {
    List<Ip> all = ofFamily(ips, family);
    return all.isEmpty() ? null : all.get(0);
  }
}
