package dev.turnpike.operator.compute;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.BackendPort;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.api.v1alpha1.Frontend;
import dev.turnpike.api.v1alpha1.LoadBalancerIngress;
import dev.turnpike.api.v1alpha1.MaglevLookupTable;
import dev.turnpike.api.v1alpha1.MaglevParameters;
import dev.turnpike.api.v1alpha1.Protocol;
import dev.turnpike.api.v1alpha1.ServiceReference;
import dev.turnpike.api.v1alpha1.ServiceType;
import dev.turnpike.api.v1alpha1.SessionAffinity;
import dev.turnpike.api.v1alpha1.Summary;
import dev.turnpike.api.v1alpha1.TopologyHints;
import dev.turnpike.api.v1alpha1.TrafficPolicy;
import dev.turnpike.lb.Maglev;
import dev.turnpike.lb.MaglevBackend;
import dev.turnpike.lb.MaglevConfig;
import dev.turnpike.lb.MaglevTableCodec;
import dev.turnpike.net.IpAddresses;
import dev.turnpike.net.IpAddresses.Ip;
import dev.turnpike.net.IpFamily;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointHints;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.ForNode;
import io.fabric8.kubernetes.api.model.discovery.v1.ForZone;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Service + EndpointSlices → ForwardingTable spec, following kube-proxy's pkg/proxy (the service
 * and endpoint-slice caches, ShouldSkipService, the traffic-policy helpers). A pure function of its
 * inputs and the cluster defaults: no I/O, no clock. Thread-safe: Maglev builders, which own
 * buffers, are kept per thread.
 */
public final class TableComputer {
  public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";
  public static final String SERVICE_PROXY_NAME_LABEL = "service.kubernetes.io/service-proxy-name";
  public static final String HEADLESS_LABEL = "service.kubernetes.io/headless";
  public static final String TRIGGER_TIME_ANNOTATION = "endpoints.kubernetes.io/last-change-trigger-time";

  private final ClusterDefaults defaults;
  private final ThreadLocal<Map<MaglevConfig, Maglev>> maglevs = ThreadLocal.withInitial(HashMap::new);

  public TableComputer(ClusterDefaults defaults) {
    this.defaults = Objects.requireNonNull(defaults);
  }

  public ClusterDefaults defaults() {
    return defaults;
  }

  /** Why Turnpike does not forward this Service, if it does not (kube-proxy's object filtering). */
  public Optional<String> skipReason(Service service) {
    ObjectMeta meta = service.getMetadata();
    Map<String, String> labels = meta == null || meta.getLabels() == null ? Map.of() : meta.getLabels();
    String proxyName = labels.get(SERVICE_PROXY_NAME_LABEL);
    if (proxyName != null && (defaults.proxyName().isEmpty() || !defaults.proxyName().equals(proxyName))) {
      return Optional.of(
          "labelled " + SERVICE_PROXY_NAME_LABEL + "=" + proxyName + (defaults.proxyName().isEmpty()
              ? " and Turnpike runs without a proxy name"
              : ", Turnpike answers to \"" + defaults.proxyName() + "\""));
    }
    if (labels.containsKey(HEADLESS_LABEL)) {
      return Optional.of("labelled " + HEADLESS_LABEL);
    }
    ServiceSpec spec = service.getSpec();
    if (spec == null) {
      return Optional.of("no spec");
    }
    if ("ExternalName".equals(spec.getType())) {
      return Optional.of("type ExternalName");
    }
    String clusterIP = spec.getClusterIP();
    if (clusterIP == null || clusterIP.isEmpty() || "None".equals(clusterIP)) {
      return Optional.of("headless (clusterIP " + (clusterIP == null || clusterIP.isEmpty() ? "unset" : "None") + ")");
    }
    if (clusterIPs(spec).isEmpty()) {
      return Optional.of("no valid clusterIP in " + spec.getClusterIPs() + " / " + clusterIP);
    }
    return Optional.empty();
  }

  /** Computes the table for {@code service} from the slices labelled with its name. */
  public ComputeResult compute(Service service, List<EndpointSlice> slices) {
    Optional<String> skip = skipReason(service);
    if (skip.isPresent()) {
      return new ComputeResult.Skipped(skip.get());
    }
    ObjectMeta meta = service.getMetadata();
    ServiceSpec s = service.getSpec();
    ServiceAnnotations annotations = ServiceAnnotations.parse(meta.getAnnotations(), defaults);

    List<Ip> clusterIPs = clusterIPs(s);
    Set<IpFamily> families = EnumSet.noneOf(IpFamily.class);
    clusterIPs.forEach(ip -> families.add(ip.family()));

    ServiceType type = serviceType(s.getType());
    List<Frontend> ports = frontends(s);
    List<String> externalIPs = addresses(s.getExternalIPs(), families);
    List<LoadBalancerIngress> lbIngress = loadBalancerIngress(service, families);
    List<String> sourceRanges = sourceRanges(s.getLoadBalancerSourceRanges(), families);

    // kube-proxy's ExternalPolicyLocal / InternalPolicyLocal / NeedsHealthCheck.
    boolean externallyReachable =
        type != ServiceType.ClusterIP || (s.getExternalIPs() != null && !s.getExternalIPs().isEmpty());
    TrafficPolicy etp =
        externallyReachable && "Local".equals(s.getExternalTrafficPolicy()) ? TrafficPolicy.Local : TrafficPolicy.Cluster;
    TrafficPolicy itp = "Local".equals(s.getInternalTrafficPolicy()) ? TrafficPolicy.Local : TrafficPolicy.Cluster;
    Integer healthCheckNodePort =
        type == ServiceType.LoadBalancer && etp == TrafficPolicy.Local && positive(s.getHealthCheckNodePort())
            ? s.getHealthCheckNodePort()
            : null;

    List<Backend> backends = backends(meta, ports, families, slices);

    Algorithm algorithm = annotations.algorithm();
    MaglevParameters maglev = null;
    if (algorithm == Algorithm.MAGLEV) {
      MaglevConfig config = new MaglevConfig(annotations.maglevTableSize(), defaults.maglevSeed());
      maglev = new MaglevParameters(config.tableSize(), config.seedHex());
      ports = withMaglevTables(ports, backends, families, config);
    }

    ForwardingTableSpec spec =
        new ForwardingTableSpec(
            new ServiceReference(meta.getNamespace(), meta.getName(), meta.getUid()),
            type,
            clusterIPs.stream().map(Ip::text).toList(),
            ports,
            externalIPs,
            lbIngress,
            sourceRanges,
            backends,
            etp,
            itp,
            healthCheckNodePort,
            sessionAffinity(s),
            emptyToNull(s.getTrafficDistribution()),
            algorithm,
            maglev,
            emptyToNull(annotations.ipvsScheduler()),
            lastChangeTriggerTime(slices),
            summary(ports, backends));
    return new ComputeResult.Table(spec, annotations.problems());
  }

  // ---- frontends -------------------------------------------------------------------------------

  private static List<Ip> clusterIPs(ServiceSpec s) {
    List<String> raw =
        s.getClusterIPs() != null && !s.getClusterIPs().isEmpty() ? s.getClusterIPs() : List.of(s.getClusterIP());
    Set<IpFamily> seen = EnumSet.noneOf(IpFamily.class);
    List<Ip> out = new ArrayList<>();
    for (String r : raw) {
      // At most one per family, the first (primary) one, as the API server guarantees.
      IpAddresses.parse(r).filter(ip -> seen.add(ip.family())).ifPresent(out::add);
    }
    return out;
  }

  private static ServiceType serviceType(String type) {
    if ("NodePort".equals(type)) {
      return ServiceType.NodePort;
    }
    if ("LoadBalancer".equals(type)) {
      return ServiceType.LoadBalancer;
    }
    return ServiceType.ClusterIP;
  }

  private static List<Frontend> frontends(ServiceSpec s) {
    List<Frontend> out = new ArrayList<>();
    if (s.getPorts() == null) {
      return out;
    }
    Set<String> names = new HashSet<>();
    for (ServicePort p : s.getPorts()) {
      Protocol protocol = protocol(p.getProtocol());
      String name = p.getName() == null ? "" : p.getName();
      if (protocol == null || !positive(p.getPort()) || p.getPort() > 65535 || !names.add(name)) {
        continue; // the API server rejects these; never let one break the whole Service
      }
      Integer nodePort = positive(p.getNodePort()) ? p.getNodePort() : null;
      out.add(new Frontend(name, protocol, p.getPort(), nodePort));
    }
    return out;
  }

  /** Protocol as the API defaults it: unset means TCP; anything unknown is unusable. */
  private static Protocol protocol(String p) {
    if (p == null || p.isEmpty()) {
      return Protocol.TCP;
    }
    for (Protocol x : Protocol.values()) {
      if (x.name().equals(p)) {
        return x;
      }
    }
    return null;
  }

  /** Valid IPs of the Service's families, canonical, de-duplicated, in the Service's order. */
  private static List<String> addresses(List<String> raw, Set<IpFamily> families) {
    LinkedHashSet<String> out = new LinkedHashSet<>();
    if (raw != null) {
      for (String r : raw) {
        IpAddresses.parse(r).filter(ip -> families.contains(ip.family())).ifPresent(ip -> out.add(ip.text()));
      }
    }
    return List.copyOf(out);
  }

  /** Ingress IPs with ipMode VIP or unset; ipMode Proxy means the load balancer proxies, no VIP here. */
  private static List<LoadBalancerIngress> loadBalancerIngress(Service service, Set<IpFamily> families) {
    if (service.getStatus() == null
        || service.getStatus().getLoadBalancer() == null
        || service.getStatus().getLoadBalancer().getIngress() == null) {
      return List.of();
    }
    Map<String, LoadBalancerIngress> out = new LinkedHashMap<>();
    for (var ing : service.getStatus().getLoadBalancer().getIngress()) {
      String mode = ing.getIpMode();
      if (ing.getIp() == null || ing.getIp().isEmpty() || (mode != null && !"VIP".equals(mode))) {
        continue;
      }
      IpAddresses.parse(ing.getIp())
          .filter(ip -> families.contains(ip.family()))
          .ifPresent(ip -> out.putIfAbsent(ip.text(), new LoadBalancerIngress(ip.text(), mode)));
    }
    return List.copyOf(out.values());
  }

  private static List<String> sourceRanges(List<String> raw, Set<IpFamily> families) {
    LinkedHashSet<String> out = new LinkedHashSet<>();
    if (raw != null) {
      for (String r : raw) {
        IpAddresses.parseCidr(r).filter(c -> families.contains(c.family())).ifPresent(c -> out.add(c.text()));
      }
    }
    return List.copyOf(out);
  }

  private static SessionAffinity sessionAffinity(ServiceSpec s) {
    if (!SessionAffinity.CLIENT_IP.equals(s.getSessionAffinity())) {
      return null;
    }
    Integer t = null;
    if (s.getSessionAffinityConfig() != null && s.getSessionAffinityConfig().getClientIP() != null) {
      t = s.getSessionAffinityConfig().getClientIP().getTimeoutSeconds();
    }
    // The API server defaults a missing timeout and rejects values outside 1..86400.
    int timeout = t == null || t <= 0 ? SessionAffinity.DEFAULT_TIMEOUT_SECONDS : Math.min(t, SessionAffinity.MAX_TIMEOUT_SECONDS);
    return SessionAffinity.clientIp(timeout);
  }

  // ---- backends --------------------------------------------------------------------------------

  /** One slice endpoint serving one frontend: kube-proxy's per-ServicePortName endpoint. */
  private record PortEndpoint(Ip ip, String frontend, int port, Endpoint source) {}

  /**
   * Backends from the slices, as kube-proxy's EndpointSliceCache builds them: ports matched by name
   * and protocol, FQDN slices and slices of a family the Service lacks ignored, endpoints without
   * addresses ignored, the first address used, and one endpoint per (frontend, ip:port) — the first
   * in slice-name order wins, so the result never depends on list order.
   */
  private static List<Backend> backends(
      ObjectMeta svc, List<Frontend> frontends, Set<IpFamily> families, List<EndpointSlice> slices) {
    List<EndpointSlice> sorted = new ArrayList<>();
    for (EndpointSlice slice : slices) {
      ObjectMeta m = slice.getMetadata();
      if (m != null
          && Objects.equals(svc.getNamespace(), m.getNamespace())
          && m.getLabels() != null
          && Objects.equals(svc.getName(), m.getLabels().get(SERVICE_NAME_LABEL))) {
        sorted.add(slice);
      }
    }
    sorted.sort(Comparator.comparing(sl -> sl.getMetadata().getName() == null ? "" : sl.getMetadata().getName()));

    Set<String> seen = new HashSet<>(); // frontend + ip:port
    List<PortEndpoint> endpoints = new ArrayList<>();
    for (EndpointSlice slice : sorted) {
      IpFamily family = addressTypeFamily(slice.getAddressType());
      if (family == null || !families.contains(family) || slice.getPorts() == null || slice.getEndpoints() == null) {
        continue;
      }
      for (EndpointPort port : slice.getPorts()) {
        // kube-proxy skips ports with a nil name or no number.
        if (port.getName() == null || !positive(port.getPort())) {
          continue;
        }
        Protocol protocol = protocol(port.getProtocol());
        Optional<Frontend> frontend =
            frontends.stream().filter(f -> f.name().equals(port.getName()) && f.protocol() == protocol).findFirst();
        if (frontend.isEmpty()) {
          continue;
        }
        for (Endpoint ep : slice.getEndpoints()) {
          if (ep.getAddresses() == null || ep.getAddresses().isEmpty()) {
            continue;
          }
          Optional<Ip> ip = IpAddresses.parse(ep.getAddresses().get(0)).filter(a -> a.family() == family);
          if (ip.isPresent() && seen.add(frontend.get().name() + "|" + ip.get().text() + ":" + port.getPort())) {
            endpoints.add(new PortEndpoint(ip.get(), frontend.get().name(), port.getPort(), ep));
          }
        }
      }
    }
    return groupByAddress(endpoints, frontends);
  }

  /**
   * Folds per-port endpoints into one Backend per address. An address serving the same frontend
   * on two ports (two host-network pods, say) becomes two Backends, so nothing kube-proxy would
   * forward to is lost.
   */
  private static List<Backend> groupByAddress(List<PortEndpoint> endpoints, List<Frontend> frontends) {
    record Draft(Ip ip, Endpoint source, Map<String, Integer> ports) {}
    Map<String, List<Draft>> byAddress = new LinkedHashMap<>();
    for (PortEndpoint pe : endpoints) {
      List<Draft> drafts = byAddress.computeIfAbsent(pe.ip().text(), k -> new ArrayList<>());
      Draft target = drafts.stream().filter(d -> !d.ports().containsKey(pe.frontend())).findFirst().orElse(null);
      if (target == null) {
        target = new Draft(pe.ip(), pe.source(), new HashMap<>());
        drafts.add(target);
      }
      target.ports().put(pe.frontend(), pe.port());
    }
    List<Draft> all = new ArrayList<>();
    byAddress.values().forEach(all::addAll);
    // IPv4 before IPv6, numeric address order; drafts of one address keep their (slice) order.
    all.sort(Comparator.comparing(Draft::ip, ADDRESS_ORDER));
    List<Backend> out = new ArrayList<>(all.size());
    for (Draft d : all) {
      List<BackendPort> ports = new ArrayList<>();
      for (Frontend f : frontends) {
        Integer p = d.ports().get(f.name());
        if (p != null) {
          ports.add(new BackendPort(f.name(), p));
        }
      }
      out.add(backend(d.ip(), ports, d.source()));
    }
    return out;
  }

  private static final Comparator<Ip> ADDRESS_ORDER =
      (a, b) -> {
        byte[] x = a.bytes();
        byte[] y = b.bytes();
        return x.length != y.length ? Integer.compare(x.length, y.length) : Arrays.compareUnsigned(x, y);
      };

  private static Backend backend(Ip ip, List<BackendPort> ports, Endpoint ep) {
    EndpointConditions c = ep.getConditions();
    // Unset ready and serving mean true, unset terminating means false (discovery.k8s.io/v1).
    boolean ready = c == null || c.getReady() == null || c.getReady();
    boolean serving = c == null || c.getServing() == null || c.getServing();
    boolean terminating = c != null && c.getTerminating() != null && c.getTerminating();
    return new Backend(ip.text(), ports, emptyToNull(ep.getNodeName()), emptyToNull(ep.getZone()), ready, serving,
        terminating, hints(ep.getHints()));
  }

  private static TopologyHints hints(EndpointHints h) {
    if (h == null) {
      return null;
    }
    List<String> zones = h.getForZones() == null ? List.of()
        : h.getForZones().stream().map(ForZone::getName).filter(Objects::nonNull).sorted().distinct().toList();
    List<String> nodes = h.getForNodes() == null ? List.of()
        : h.getForNodes().stream().map(ForNode::getName).filter(Objects::nonNull).sorted().distinct().toList();
    return zones.isEmpty() && nodes.isEmpty() ? null : new TopologyHints(zones, nodes);
  }

  private static IpFamily addressTypeFamily(String addressType) {
    if ("IPv4".equals(addressType)) {
      return IpFamily.IPv4;
    }
    if ("IPv6".equals(addressType)) {
      return IpFamily.IPv6;
    }
    return null; // FQDN slices are not proxied
  }

  // ---- Maglev ----------------------------------------------------------------------------------

  /**
   * Adds a lookup table per frontend and family over the backends kube-proxy would call usable
   * cluster-wide: ready ones, else serving and terminating ones. Topology and traffic-policy
   * subsets are node-specific; the agent derives those.
   */
  private List<Frontend> withMaglevTables(
      List<Frontend> frontends, List<Backend> backends, Set<IpFamily> families, MaglevConfig config) {
    Maglev maglev = maglevs.get().computeIfAbsent(config, Maglev::new);
    IpFamily[] backendFamilies = new IpFamily[backends.size()];
    for (int i = 0; i < backendFamilies.length; i++) {
      backendFamilies[i] = IpAddresses.parse(backends.get(i).address()).orElseThrow().family();
    }
    List<Frontend> out = new ArrayList<>();
    for (Frontend f : frontends) {
      List<MaglevLookupTable> tables = new ArrayList<>();
      for (IpFamily family : families) {
        List<Integer> usable = usableBackends(backends, backendFamilies, f, family);
        if (usable.isEmpty()) {
          continue;
        }
        List<MaglevBackend> keyed = new ArrayList<>(usable.size());
        for (int i : usable) {
          Backend b = backends.get(i);
          keyed.add(new MaglevBackend(MaglevBackend.keyOf(b.address(), b.portFor(f.name()), f.protocol()), 1));
        }
        int[] slots = maglev.build(keyed);
        for (int k = 0; k < slots.length; k++) {
          slots[k] = usable.get(slots[k]); // index into spec.backends
        }
        tables.add(new MaglevLookupTable(family, MaglevTableCodec.encode(slots)));
      }
      out.add(new Frontend(f.name(), f.protocol(), f.port(), f.nodePort(), tables));
    }
    return out;
  }

  /** Indices of the frontend's usable backends of one family. */
  static List<Integer> usableBackends(List<Backend> backends, IpFamily[] backendFamilies, Frontend f, IpFamily family) {
    List<Integer> ready = new ArrayList<>();
    List<Integer> servingTerminating = new ArrayList<>();
    for (int i = 0; i < backends.size(); i++) {
      Backend b = backends.get(i);
      if (backendFamilies[i] != family || b.portFor(f.name()) <= 0) {
        continue;
      }
      if (b.ready()) {
        ready.add(i);
      } else if (b.serving() && b.terminating()) {
        servingTerminating.add(i);
      }
    }
    return ready.isEmpty() ? servingTerminating : ready;
  }

  // ---- small things ----------------------------------------------------------------------------

  /** The latest last-change-trigger-time among the slices, as written (RFC 3339). */
  private static String lastChangeTriggerTime(List<EndpointSlice> slices) {
    Instant latest = null;
    String text = null;
    for (EndpointSlice slice : slices) {
      Map<String, String> a = slice.getMetadata() == null ? null : slice.getMetadata().getAnnotations();
      String v = a == null ? null : a.get(TRIGGER_TIME_ANNOTATION);
      if (v == null) {
        continue;
      }
      try {
        Instant t = Instant.parse(v);
        if (latest == null || t.isAfter(latest)) {
          latest = t;
          text = v;
        }
      } catch (DateTimeParseException e) {
        // A malformed time only loses one latency sample.
      }
    }
    return text;
  }

  private static Summary summary(List<Frontend> ports, List<Backend> backends) {
    String p = ports.stream()
        .map(f -> f.port() + (f.nodePort() == null ? "" : ":" + f.nodePort()) + "/" + f.protocol())
        .collect(Collectors.joining(","));
    long ready = backends.stream().filter(Backend::ready).count();
    return new Summary(p.isEmpty() ? "<none>" : p, ready + "/" + backends.size());
  }

  private static boolean positive(Integer i) {
    return i != null && i > 0;
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
