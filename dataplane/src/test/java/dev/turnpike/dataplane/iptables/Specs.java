package dev.turnpike.dataplane.iptables;

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
import dev.turnpike.api.v1alpha1.TrafficPolicy;
import dev.turnpike.lb.Maglev;
import dev.turnpike.lb.MaglevBackend;
import dev.turnpike.lb.MaglevConfig;
import dev.turnpike.lb.MaglevTableCodec;
import dev.turnpike.net.IpFamily;
import java.util.ArrayList;
import java.util.List;

/** A small builder for ForwardingTableSpecs in tests: one frontend named "p", backends in order. */
public final class Specs {
  private final String name;
  private ServiceType type = ServiceType.ClusterIP;
  private String clusterIp;
  private Protocol protocol = Protocol.TCP;
  private int port = 80;
  private Integer nodePort;
  private final List<String> externalIps = new ArrayList<>();
  private final List<String> lbIps = new ArrayList<>();
  private final List<String> sourceRanges = new ArrayList<>();
  private final List<Backend> backends = new ArrayList<>();
  private TrafficPolicy etp = TrafficPolicy.Cluster;
  private TrafficPolicy itp = TrafficPolicy.Cluster;
  private Integer hcPort;
  private SessionAffinity affinity;
  private Algorithm algorithm = Algorithm.RANDOM;
  private MaglevConfig maglev;
  private String ipvsScheduler;

  private Specs(String name, String clusterIp) {
    this.name = name;
    this.clusterIp = clusterIp;
  }

  public static Specs service(String name, String clusterIp) {
    return new Specs(name, clusterIp);
  }

  public Specs udp() {
    protocol = Protocol.UDP;
    return this;
  }

  public Specs port(int p) {
    port = p;
    return this;
  }

  public Specs nodePort(int np) {
    type = ServiceType.NodePort;
    nodePort = np;
    return this;
  }

  public Specs loadBalancer(int np, String... ips) {
    nodePort(np);
    type = ServiceType.LoadBalancer;
    lbIps.addAll(List.of(ips));
    return this;
  }

  public Specs sourceRanges(String... cidrs) {
    sourceRanges.addAll(List.of(cidrs));
    return this;
  }

  public Specs externalIp(String ip) {
    externalIps.add(ip);
    return this;
  }

  public Specs backend(String ip, int targetPort, String node) {
    backends.add(new Backend(ip, List.of(new BackendPort("p", targetPort)), node, null, true, true, false, null));
    return this;
  }

  public Specs terminatingBackend(String ip, int targetPort, String node) {
    backends.add(new Backend(ip, List.of(new BackendPort("p", targetPort)), node, null, false, true, true, null));
    return this;
  }

  public Specs etpLocal(int healthCheckNodePort) {
    etp = TrafficPolicy.Local;
    hcPort = healthCheckNodePort;
    return this;
  }

  public Specs itpLocal() {
    itp = TrafficPolicy.Local;
    return this;
  }

  public Specs affinity(int seconds) {
    affinity = SessionAffinity.clientIp(seconds);
    return this;
  }

  public Specs maglev(int tableSize) {
    algorithm = Algorithm.MAGLEV;
    maglev = new MaglevConfig(tableSize, MaglevConfig.DEFAULT_SEED);
    return this;
  }

  /** The turnpike.dev/ipvs-scheduler annotation as the operator copies it into the spec. */
  public Specs ipvsScheduler(String name) {
    ipvsScheduler = name;
    return this;
  }

  /** A backend as given (hints, zone, conditions), for the cases the shorthands do not cover. */
  public Specs backend(Backend b) {
    backends.add(b);
    return this;
  }

  public ForwardingTableSpec build() {
    List<MaglevLookupTable> tables = List.of();
    if (maglev != null) {
      List<MaglevBackend> keyed = new ArrayList<>();
      for (Backend b : backends) {
        keyed.add(MaglevBackend.of(MaglevBackend.keyOf(b.address(), b.portFor("p"), protocol)));
      }
      // The operator's table: over every usable backend (here: all listed ready ones).
      List<Backend> usable = backends.stream().filter(Backend::ready).toList();
      List<MaglevBackend> usableKeys = new ArrayList<>();
      for (Backend b : usable) {
        usableKeys.add(keyed.get(backends.indexOf(b)));
      }
      int[] sub = new Maglev(maglev).build(usableKeys);
      int[] table = new int[sub.length];
      for (int s = 0; s < sub.length; s++) {
        table[s] = sub[s] < 0 ? -1 : backends.indexOf(usable.get(sub[s]));
      }
      IpFamily fam = clusterIp.indexOf(':') >= 0 ? IpFamily.IPv6 : IpFamily.IPv4;
      tables = List.of(new MaglevLookupTable(fam, MaglevTableCodec.encode(table)));
    }
    Frontend f = new Frontend("p", protocol, port, nodePort, tables);
    return new ForwardingTableSpec(
        new ServiceReference("ns", name, null),
        type,
        List.of(clusterIp),
        List.of(f),
        externalIps,
        lbIps.stream().map(ip -> new LoadBalancerIngress(ip, null)).toList(),
        sourceRanges,
        backends,
        etp,
        itp,
        hcPort,
        affinity,
        null,
        algorithm,
        maglev == null ? null : new MaglevParameters(maglev.tableSize(), maglev.seedHex()),
        ipvsScheduler,
        null,
        null);
  }
}
