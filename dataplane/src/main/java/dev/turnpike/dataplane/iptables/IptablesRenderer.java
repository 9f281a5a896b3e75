package dev.turnpike.dataplane.iptables;

import static dev.turnpike.dataplane.iptables.Hooks.comment;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.api.v1alpha1.Frontend;
import dev.turnpike.api.v1alpha1.MaglevLookupTable;
import dev.turnpike.api.v1alpha1.SessionAffinity;
import dev.turnpike.api.v1alpha1.TrafficPolicy;
import dev.turnpike.dataplane.DesiredState;
import dev.turnpike.dataplane.NodeContext;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.iptables.ChainNames.Kind;
import dev.turnpike.lb.Maglev;
import dev.turnpike.lb.MaglevBackend;
import dev.turnpike.lb.MaglevConfig;
import dev.turnpike.lb.MaglevTableCodec;
import dev.turnpike.lb.RandomSelection;
import dev.turnpike.net.IpAddresses;
import dev.turnpike.net.IpFamily;
import dev.turnpike.topology.EndpointCategorizer;
import dev.turnpike.topology.EndpointCategorizer.Categorized;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Turns the desired state of one IP family into one iptables-restore payload for {@code
 * --noflush}. Pure: no I/O, no clock; the same inputs give the same text.
 *
 * <p>Layout (kube-proxy's, with Turnpike names; see {@code docs/iptables.md}): nat {@code
 * TURNPIKE-SERVICES} is the root of a destination tree ({@link DispatchTree}) whose leaves jump to
 * a Service port's {@code SVC} (cluster endpoints), {@code SVL} (local endpoints), {@code EXT}
 * (external destinations) or {@code FWL} (source ranges) chain; those pick a {@code SEP} endpoint
 * chain at random (statistic) or by Maglev slot (HMARK + {@code MGD} groups). filter holds the
 * REJECT/DROP rules for Services without (local) endpoints, the source-range drops, the
 * health-check accepts, forwarding and the localnet protection.
 *
 * <p>Partial render: the fixed and dispatch chains are always written in full; per-Service chains
 * only for the changed Services (KEP-3453). Chains that disappeared are flushed and deleted.
 */
public final class IptablesRenderer {
  /** kube-proxy's large-cluster threshold: above it rules carry no comments (about 40% less text). */
  static final int LARGE_CLUSTER_ENDPOINTS = 1000;

  private final IptablesConfig config;
  private final List<IpAddresses.Cidr> clusterCidrs;
  // Per-render state; a renderer serves one sync loop and is not thread-safe.
  private boolean largeCluster;
  private final Map<Integer, String[]> probabilityText = new HashMap<>();
  /** The last render's plans; they hold the chain names (hashing 100k names costs), no separate name cache. */
  private final Map<IpFamily, Map<ServiceKey, Planned>> planned = new java.util.EnumMap<>(IpFamily.class);
  private final Map<IpFamily, NodeContext> plannedNode = new java.util.EnumMap<>(IpFamily.class);
  private final Map<IpFamily, Boolean> plannedLargeCluster = new java.util.EnumMap<>(IpFamily.class);

  public IptablesRenderer(IptablesConfig config) {
    this.config = Objects.requireNonNull(config);
    this.clusterCidrs = config.clusterCidrs().stream().map(c -> IpAddresses.parseCidr(c).orElseThrow()).toList();
  }

  public IptablesConfig config() {
    return config;
  }

  /** The per-Service chains last written for a Service, and their rule count. */
  public record ServiceChains(Set<String> chains, long rules) {
    public ServiceChains {
      chains = Set.copyOf(chains);
    }
  }

  /**
   * What exists in the kernel besides what the previous render wrote: Turnpike chains found by
   * iptables-save (table → names), the hooks already in place ("table/BUILTIN>TARGET") and those
   * hook rules as saved (table → "BUILTIN args…", what cleanup deletes).
   */
  public record Existing(Map<String, Set<String>> chains, Set<String> hooks, Map<String, List<String>> hookRules) {
    public static final Existing NONE = new Existing(Map.of(), Set.of(), Map.of());

    public Existing {
      chains = Map.copyOf(chains);
      hooks = Set.copyOf(hooks);
      hookRules = Map.copyOf(hookRules);
    }

    /** Reads iptables-save output of the tables Turnpike uses; no chain is reserved. */
    public static Existing fromSave(Map<String, String> saveByTable) {
      return fromSave(saveByTable, ReservedChains.NONE);
    }

    /**
     * Reads iptables-save output of the tables Turnpike uses. Chains in {@code reserved} (owned by
     * another Turnpike component) and the jumps to them are left out, so nothing built from the
     * result deletes them.
     */
    public static Existing fromSave(Map<String, String> saveByTable, ReservedChains reserved) {
      Map<String, Set<String>> chains = new HashMap<>();
      Set<String> hooks = new HashSet<>();
      Map<String, List<String>> hookRules = new HashMap<>();
      saveByTable.forEach(
          (table, text) -> {
            Set<String> own = new TreeSet<>();
            List<String> rules = new ArrayList<>();
            // Only declarations and the rules of other chains matter: at 10k Services the saved
            // table has 300k rules of our own, too many to tokenize for nothing.
            StringBuilder foreign = new StringBuilder("*").append(table).append('\n');
            text.lines().forEach(line -> {
              if (line.startsWith(":" + ChainNames.PREFIX)) {
                int end = line.indexOf(' ');
                String chain = line.substring(1, end < 0 ? line.length() : end);
                if (!reserved.contains(table, chain)) {
                  own.add(chain);
                }
              } else if (line.startsWith("-A ") && !line.startsWith("-A " + ChainNames.PREFIX) && line.contains(ChainNames.PREFIX)) {
                foreign.append(line).append('\n');
              }
            });
            for (RestoreText.Block b : RestoreText.parse(foreign.append("COMMIT\n").toString())) {
              for (RestoreText.Op op : b.ops()) {
                if (op instanceof RestoreText.AddRule a) {
                  String target = targetOf(a.args());
                  if (target != null && target.startsWith(ChainNames.PREFIX) && !reserved.contains(table, target)) {
                    hooks.add(table + "/" + a.chain() + ">" + target);
                    rules.add(a.chain() + " " + RestoreText.join(a.args()));
                  }
                }
              }
            }
            chains.put(table, own);
            hookRules.put(table, rules);
          });
      return new Existing(chains, hooks, hookRules);
    }

    /**
     * What a successfully applied render left: its chains, and every hook in place (a periodic
     * full sync then needs no iptables-save; if someone removed our chains meanwhile, a restore
     * that jumps to them fails and the sync after it reads iptables-save again).
     */
    public static Existing fromPrevious(Rendered previous) {
      Set<String> nat = new PreviousChains(previous);
      Set<String> hooks = new HashSet<>();
      Hooks.ALL.forEach(h -> hooks.add(h.table() + "/" + h.builtin() + ">" + h.target()));
      return new Existing(Map.of("nat", nat), hooks, Map.of());
    }
  }

  /**
   * The nat chains a render left, as a view of it (no copy of 100k names at 10k Services): its
   * dispatch chains, then each Service's. Names are unique across them by construction. Iterating
   * is what renders do; {@code contains} is linear.
   */
  private static final class PreviousChains extends java.util.AbstractSet<String> {
    private final Rendered previous;

    PreviousChains(Rendered previous) {
      this.previous = previous;
    }

    @Override
    public java.util.Iterator<String> iterator() {
      return java.util.stream.Stream.concat(
              previous.dispatchChains().stream(),
              previous.services().values().stream().flatMap(s -> s.chains().stream()))
          .iterator();
    }

    @Override
    public int size() {
      return previous.dispatchChains().size() + previous.services().values().stream().mapToInt(s -> s.chains().size()).sum();
    }
  }

  /**
   * One family's render.
   *
   * @param parts the iptables-restore input, in parts to be written one after the other (empty
   *     once applied: the backend does not keep tens of MiB for nothing)
   * @param services per-Service chains now in place (changed ones rewritten, others carried over)
   * @param dispatchChains the nat dispatch-tree chains now in place
   * @param sharedChains table → chain → rules of every chain not owned by one Service (fixed,
   *     dispatch, NodePorts, filter), as now in place: the next partial render writes only those
   *     that differ
   * @param ruleCounts rules per table after the restore, including carried-over Service chains
   * @param serviceErrors Services refused (nothing programmed for them)
   * @param noLocalEndpoints "internal"/"external" → Services with endpoints but none local
   * @param servicesProgrammed Services with at least one frontend programmed in this family
   * @param rulesWritten rules in this payload (the partial-sync cost)
   */
  public record Rendered(
      List<CharSequence> parts,
      Map<ServiceKey, ServiceChains> services,
      Set<String> dispatchChains,
      Map<String, Map<String, List<String>>> sharedChains,
      Map<String, Long> ruleCounts,
      Map<ServiceKey, String> serviceErrors,
      Map<String, Integer> noLocalEndpoints,
      int servicesProgrammed,
      long rulesWritten,
      boolean largeCluster) {
    /** The whole payload as one string (tests, diagnostics). */
    public String payload() {
      return String.join("", parts);
    }

    public long payloadLength() {
      return parts.stream().mapToLong(CharSequence::length).sum();
    }

    /** This render without its payload, kept as the reference for the next one. */
    public Rendered withoutPayload() {
      return new Rendered(List.of(), services, dispatchChains, sharedChains, ruleCounts, serviceErrors, noLocalEndpoints,
          servicesProgrammed, rulesWritten, largeCluster);
    }
  }

  /**
   * Renders a payload.
   *
   * @param changed the Services to rewrite; null rewrites all (a full sync)
   * @param previous the last successfully applied render of this family, or null
   * @param existing what iptables-save showed (full syncs) or {@link Existing#NONE}
   */
  public Rendered render(
      DesiredState state, IpFamily family, Set<ServiceKey> changed, Rendered previous, Existing existing) {
    long endpoints = 0;
    for (ForwardingTableSpec spec : state.tables().values()) {
      endpoints += spec.backends().size();
    }
    largeCluster = endpoints > LARGE_CLUSTER_ENDPOINTS;
    // Unchanged Services keep their text from the previous render; a mode change rewrites all.
    boolean full = changed == null || previous == null || previous.largeCluster() != largeCluster;
    NodeContext node = state.node();
    Table filter = new Table("filter");
    Table nat = new Table("nat");

    // Hashed while collecting, sorted once: 10k TreeMap insertions cost more than one sort.
    Map<IpAddresses.Ip, List<String>> natDispatch = new HashMap<>(state.tables().size() * 2);
    List<String> nodePortRules = new ArrayList<>();
    Map<ServiceKey, ServiceChains> services = new HashMap<>();
    Map<ServiceKey, String> errors = new TreeMap<>();
    Map<String, Integer> noLocal = new TreeMap<>(Map.of("internal", 0, "external", 0));
    int programmed = 0;

    // A sync, full or partial, reuses the plans of unchanged Services (same spec object, same
    // node, same comment mode; a plan is a function of these): at 10k Services categorising every
    // endpoint again is most of a partial render, and the plans hold the chain names.
    Map<ServiceKey, Planned> reusable =
        node.equals(plannedNode.get(family)) && Boolean.valueOf(largeCluster).equals(plannedLargeCluster.get(family))
            ? planned.getOrDefault(family, Map.of()) : Map.of();
    Map<ServiceKey, Planned> plannedNow = new HashMap<>();
    for (var e : state.tables().entrySet()) {
      ServiceKey key = e.getKey();
      ForwardingTableSpec spec = e.getValue();
      boolean rewrite = full || changed.contains(key);
      ServiceOut out = new ServiceOut(rewrite ? nat : null);
      Planned planned = reusable.get(key);
      if (planned == null || planned.spec() != spec) {
        planned = plan(key, spec, family, node);
      }
      plannedNow.put(key, planned);
      String error = planned.error();
      List<PortPlan> plans = planned.plans();
      if (error != null) {
        errors.put(key, error);
        services.put(key, new ServiceChains(Set.of(), 0));
        continue; // refuse the whole Service rather than program half of it
      }
      if (!plans.isEmpty()) {
        programmed++;
      }
      planned.shared().addTo(natDispatch, nodePortRules, filter, noLocal);
      ServiceChains prev = rewrite ? null : previous.services().get(key);
      if (prev != null) {
        services.put(key, prev);
        continue;
      }
      for (PortPlan p : plans) {
        if (rewrite) {
          serviceChains(p, out);
        } else {
          out.chains.addAll(p.chainNames());
        }
      }
      if (rewrite) {
        out.finish();
      }
      services.put(key, new ServiceChains(out.chains, rewrite ? out.rules : 0));
    }

    // Fixed nat chains.
    String masqMark = config.masqueradeMark();
    nat.declare(ChainNames.SERVICES);
    nat.declare(ChainNames.NODEPORTS);
    nat.declare(ChainNames.POSTROUTING);
    nat.declare(ChainNames.MARK_MASQ);
    postroutingRules(masqMark).forEach(r -> nat.add(ChainNames.POSTROUTING, r));
    nat.add(ChainNames.MARK_MASQ, "-j MARK --or-mark " + masqMark);
    // With several pod CIDRs "not from a pod" needs RETURNs, so it gets its own chain.
    nat.declare(ChainNames.MARK_NON_POD);
    for (IpAddresses.Cidr cidr : clusterCidrsOf(family)) {
      nat.add(ChainNames.MARK_NON_POD, "-s " + cidr.text() + " -j RETURN");
    }
    nat.add(ChainNames.MARK_NON_POD, "-j " + ChainNames.MARK_MASQ);

    List<DispatchTree.Entry> entries = new ArrayList<>();
    natDispatch.forEach((ip, rules) -> entries.add(new DispatchTree.Entry(ip, rules)));
    entries.sort((a, b) -> compareIp(a.ip(), b.ip()));
    Map<String, List<String>> tree = DispatchTree.build(ChainNames.SERVICES, family.name(), entries);
    Set<String> dispatchChains = new LinkedHashSet<>();
    tree.forEach(
        (chain, rules) -> {
          if (!chain.equals(ChainNames.SERVICES)) {
            nat.declare(chain);
            dispatchChains.add(chain);
          }
          rules.forEach(r -> nat.add(chain, r));
        });
    for (String dest : nodePortDestinations(family, node)) {
      nat.add(ChainNames.SERVICES, comment("turnpike service nodeports; NOTE: this must be the last rule in this chain") + " " + dest + "-j " + ChainNames.NODEPORTS);
    }
    nodePortRules.forEach(r -> nat.add(ChainNames.NODEPORTS, r));

    // Fixed filter chains (their Service rules were added by dispatch()).
    filter.declare(ChainNames.FORWARD);
    filter.declare(ChainNames.FIREWALL);
    forwardRules(masqMark).forEach(r -> filter.add(ChainNames.FORWARD, r));
    if (localhostNodePortsActive(family)) {
      filter.add(
          ChainNames.FIREWALL,
          "-d 127.0.0.0/8 ! -s 127.0.0.0/8 " + comment("block incoming localnet connections")
              + " -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP");
    }

    // Chains that existed and are gone now: flush and delete them.
    // A partial render rewrote only the changed Services, so only their old chains can be stale.
    // Only chains not declared now are collected: a full render would otherwise hold every old
    // name (100k at 10k Services) once more.
    Set<String> staleNat = new TreeSet<>();
    java.util.function.Consumer<String> stale = c -> {
      if (!nat.declared.contains(c)) {
        staleNat.add(c);
      }
    };
    existing.chains().getOrDefault("nat", Set.of()).forEach(stale);
    if (previous != null) {
      previous.dispatchChains().forEach(stale);
      if (full) {
        previous.services().values().forEach(s -> s.chains().forEach(stale));
      } else {
        for (ServiceKey k : changed) {
          ServiceChains old = previous.services().get(k);
          if (old != null) {
            old.chains().forEach(stale);
          }
        }
      }
    }
    if (full) {
      services.values().forEach(s -> staleNat.removeAll(s.chains()));
    } else {
      for (ServiceKey k : changed) {
        ServiceChains now = services.get(k);
        if (now != null) {
          staleNat.removeAll(now.chains());
        }
      }
    }
    staleNat.forEach(nat::delete);
    Set<String> staleFilter = new TreeSet<>(existing.chains().getOrDefault("filter", Set.of()));
    staleFilter.removeAll(filter.declared);
    staleFilter.forEach(filter::delete);
    // A rule in another chain (a hook an earlier version placed) still jumping to a stale chain
    // would make its deletion fail, and with it every sync: delete such rules first.
    unhookStale(nat, staleNat, existing.hookRules().getOrDefault("nat", List.of()));
    unhookStale(filter, staleFilter, existing.hookRules().getOrDefault("filter", List.of()));

    for (int i = Hooks.ALL.size() - 1; i >= 0; i--) {
      Hooks.Hook h = Hooks.ALL.get(i);
      // Only when existing describes the kernel (a requested full sync); a full rewrite forced by
      // a large-cluster mode change in a partial sync keeps the hooks already in place.
      if ((changed == null || previous == null) && !existing.hooks().contains(h.table() + "/" + h.builtin() + ">" + h.target())) {
        (h.table().equals("nat") ? nat : filter).hook(h);
      }
    }

    planned.put(family, plannedNow);
    plannedNode.put(family, node);
    plannedLargeCluster.put(family, largeCluster);
    Map<String, Long> counts = new TreeMap<>();
    long serviceRules = services.values().stream().mapToLong(ServiceChains::rules).sum();
    counts.put("filter", (long) filter.rules);
    counts.put("nat", nat.fixedRules + serviceRules);
    Map<String, Map<String, List<String>>> shared = Map.of("filter", filter.shared(), "nat", nat.shared());
    if (!full) {
      // Shared chains (dispatch tree, NodePorts, filter) the kernel already holds as they are now
      // stay out of the payload: a partial restore is then proportional to the change.
      filter.omitUnchanged(previous.sharedChains().getOrDefault("filter", Map.of()));
      nat.omitUnchanged(previous.sharedChains().getOrDefault("nat", Map.of()));
    }
    List<CharSequence> parts = new ArrayList<>();
    filter.write(parts);
    nat.write(parts);
    return new Rendered(
        parts, services, dispatchChains, shared, counts, errors, noLocal, programmed,
        filter.written() + nat.written(), largeCluster);
  }

  /** Everything about one frontend in one family that decides which chains exist and where they are jumped from. */
  private final class PortPlan {
    final String portName;
    final String proto;
    final String protoMatch;
    final Frontend frontend;
    final ForwardingTableSpec spec;
    final IpAddresses.Ip clusterIp;
    final List<IpAddresses.Ip> externalIps = new ArrayList<>();
    final List<IpAddresses.Ip> lbIps = new ArrayList<>();
    final List<String> sourceRanges = new ArrayList<>();
    boolean allowFromNode;
    Categorized cat;
    final String svc;
    final String svl;
    final String ext;
    final String fw;
    boolean hasEndpoints;
    boolean hasInternal;
    boolean hasExternal;
    boolean usesSvc;
    boolean usesSvl;
    boolean usesExt;
    boolean usesFw;
    String internalChain;
    String externalPolicyChain;
    Map<Backend, String> sep = new IdentityHashMap<>();
    int[] clusterTable;
    int[] localTable;
    int maglevSize;
    long hmarkRnd;
    String maglevError;
    /** The Maglev group chains of the SVC and SVL chains, named once. */
    Map<String, List<String>> groups;

    PortPlan(ServiceKey key, ForwardingTableSpec spec, Frontend f, IpAddresses.Ip clusterIp) {
      this.spec = spec;
      this.frontend = f;
      this.clusterIp = clusterIp;
      this.portName = key + (f.name().isEmpty() ? "" : ":" + f.name());
      // Interned: three values, and a plan is kept per Service port and family.
      this.proto = f.protocol().name().toLowerCase(Locale.ROOT).intern();
      this.protoMatch = ("-p " + proto + " -m " + proto).intern();
      String base = portName + proto;
      svc = name(Kind.SVC, base);
      svl = name(Kind.SVL, base);
      ext = name(Kind.EXT, base);
      fw = name(Kind.FWL, base);
    }

    String sepChain(Backend b) {
      return sep.computeIfAbsent(b, x -> name(Kind.SEP, portName + proto + endpoint(x)));
    }

    String endpoint(Backend b) {
      int port = b.portFor(frontend.name());
      return b.address().indexOf(':') >= 0 ? "[" + b.address() + "]:" + port : b.address() + ":" + port;
    }

    List<String> groupChains(String chain, int[] table) {
      if (groups == null) {
        groups = new HashMap<>(4);
      }
      return groups.computeIfAbsent(chain, c -> IptablesRenderer.this.groupChains(c, table));
    }

    List<String> chainNames() {
      List<String> out = new ArrayList<>();
      if (usesSvc) {
        out.add(svc);
        if (clusterTable != null) {
          out.addAll(groupChains(svc, clusterTable));
        }
      }
      if (usesSvl) {
        out.add(svl);
        if (localTable != null) {
          out.addAll(groupChains(svl, localTable));
        }
      }
      if (usesExt) {
        out.add(ext);
      }
      if (usesFw) {
        out.add(fw);
      }
      for (Backend b : cat.allReachableEndpoints()) {
        out.add(sepChain(b));
      }
      return out;
    }
  }

  /**
   * A Service's loadBalancerSourceRanges of one family (empty: no filtering, also when a range is
   * /0), and whether the node's own address is inside one (then traffic from the node to the LB
   * IP, whose source is the LB IP, is allowed too). Shared with IPVS mode.
   */
  public record SourceRanges(List<String> cidrs, boolean allowFromNode) {
    public static SourceRanges of(ForwardingTableSpec spec, IpFamily family, NodeContext node) {
      IpAddresses.Ip nodeIp = firstOfFamily(node.addresses(), family);
      List<String> out = new ArrayList<>();
      boolean allowAll = false;
      boolean fromNode = false;
      for (String r : spec.loadBalancerSourceRanges()) {
        var cidr = IpAddresses.parseCidr(r).filter(c -> c.family() == family);
        if (cidr.isEmpty()) {
          continue;
        }
        allowAll |= cidr.get().prefixLength() == 0; // a zero CIDR allows everything
        out.add(cidr.get().text());
        fromNode |= nodeIp != null && IpAddresses.contains(cidr.get(), nodeIp);
      }
      return allowAll ? new SourceRanges(List.of(), fromNode) : new SourceRanges(List.copyOf(out), fromNode);
    }
  }

  /** One Service's plans in one family, with the spec they were made from. */
  private record Planned(ForwardingTableSpec spec, List<PortPlan> plans, String error, Contribution shared) {}

  private Planned plan(ServiceKey key, ForwardingTableSpec spec, IpFamily family, NodeContext node) {
    String error = null;
    List<PortPlan> plans = new ArrayList<>();
    for (Frontend f : spec.frontends()) {
      PortPlan p = plan(key, spec, f, family, node);
      if (p == null) {
        continue;
      }
      if (p.maglevError != null && error == null) {
        error = p.maglevError;
      }
      plans.add(p);
    }
    Contribution shared = new Contribution();
    if (error == null) {
      plans.forEach(p -> dispatch(p, shared));
    }
    return new Planned(spec, List.copyOf(plans), error, shared.trim());
  }

  private PortPlan plan(ServiceKey key, ForwardingTableSpec spec, Frontend f, IpFamily family, NodeContext node) {
    IpAddresses.Ip cip = firstOfFamily(spec.clusterIPs(), family);
    if (cip == null) {
      return null; // kube-proxy's per-family proxier ignores a Service without a ClusterIP of its family
    }
    PortPlan p = new PortPlan(key, spec, f, cip);
    for (String s : spec.externalIPs()) {
      IpAddresses.parse(s).filter(ip -> ip.family() == family).ifPresent(p.externalIps::add);
    }
    spec.loadBalancerIngress()
        .forEach(i -> IpAddresses.parse(i.ip()).filter(ip -> ip.family() == family).ifPresent(p.lbIps::add));
    SourceRanges ranges = SourceRanges.of(spec, family, node);
    p.sourceRanges.addAll(ranges.cidrs());
    p.allowFromNode = ranges.allowFromNode();
    p.cat = EndpointCategorizer.categorize(spec, f, family, node.topology());
    p.hasEndpoints = p.cat.hasAnyEndpoints();
    boolean externallyAccessible = EndpointCategorizer.externallyAccessible(spec, f, family);
    p.usesSvc = !p.cat.clusterEndpoints().isEmpty() && EndpointCategorizer.usesClusterEndpoints(spec, f, family);
    p.usesSvl = !p.cat.localEndpoints().isEmpty() && EndpointCategorizer.usesLocalEndpoints(spec, f, family);
    p.internalChain = p.svc;
    p.hasInternal = p.hasEndpoints;
    if (spec.internalTrafficPolicy() == TrafficPolicy.Local) {
      p.internalChain = p.svl;
      p.hasInternal = !p.cat.localEndpoints().isEmpty();
    }
    p.externalPolicyChain = p.svc;
    p.hasExternal = p.hasEndpoints;
    if (spec.externalTrafficPolicy() == TrafficPolicy.Local && externallyAccessible) {
      p.externalPolicyChain = p.svl;
      p.hasExternal = !p.cat.localEndpoints().isEmpty();
    }
    // Based on hasEndpoints, not hasExternal: the short circuits for pods and the node itself
    // must work even when no endpoint is local.
    p.usesExt = p.hasEndpoints && externallyAccessible;
    p.usesFw = p.hasEndpoints && !p.lbIps.isEmpty() && !p.sourceRanges.isEmpty();
    if (spec.algorithm() == Algorithm.MAGLEV && p.hasEndpoints) {
      planMaglev(p, family);
    }
    return p;
  }

  /** Chooses the operator's table when it covers exactly this node's endpoint set, else rebuilds it. */
  private void planMaglev(PortPlan p, IpFamily family) {
    if (p.spec.maglev() == null) {
      p.maglevError = p.portName + ": algorithm maglev without maglev parameters";
      return;
    }
    MaglevConfig mc;
    try {
      mc = MaglevConfig.of(p.spec.maglev());
    } catch (IllegalArgumentException e) {
      p.maglevError = p.portName + ": " + e.getMessage();
      return;
    }
    if (mc.tableSize() > config.maxMaglevTableSize()) {
      p.maglevError =
          p.portName + ": Maglev table size " + mc.tableSize() + " exceeds this node's maximum "
              + config.maxMaglevTableSize() + "; Service not programmed";
      return;
    }
    p.maglevSize = mc.tableSize();
    p.hmarkRnd = (mc.seed() ^ (mc.seed() >>> 32)) & 0xffffffffL;
    Maglev builder = null;
    if (p.usesSvc) {
      int[] given = null;
      for (MaglevLookupTable t : p.frontend.maglevTables()) {
        if (t.ipFamily() == family) {
          try {
            given = MaglevTableCodec.decode(t.table(), p.spec.backends().size());
          } catch (IllegalArgumentException e) {
            given = null; // rebuilt below; the operator reports its own bad tables
          }
        }
      }
      if (given != null && given.length == mc.tableSize() && sameSet(given, p.spec.backends(), p.cat.clusterEndpoints())) {
        p.clusterTable = given;
      } else {
        builder = new Maglev(mc);
        p.clusterTable = rebuild(builder, p, p.cat.clusterEndpoints());
      }
    }
    if (p.usesSvl) {
      p.localTable = rebuild(builder != null ? builder : new Maglev(mc), p, p.cat.localEndpoints());
    }
  }

  /** A table over {@code subset} with the same seed and size; slots index spec.backends like the operator's. */
  private static int[] rebuild(Maglev m, PortPlan p, List<Backend> subset) {
    List<MaglevBackend> keyed = new ArrayList<>(subset.size());
    for (Backend b : subset) {
      keyed.add(MaglevBackend.of(MaglevBackend.keyOf(b.address(), b.portFor(p.frontend.name()), p.frontend.protocol())));
    }
    int[] local = m.build(keyed);
    Map<Backend, Integer> index = indexOf(p.spec.backends());
    int[] out = new int[local.length];
    for (int s = 0; s < local.length; s++) {
      out[s] = local[s] < 0 ? -1 : index.get(subset.get(local[s]));
    }
    return out;
  }

  private static boolean sameSet(int[] table, List<Backend> all, List<Backend> wanted) {
    Set<Integer> inTable = new HashSet<>();
    for (int s : table) {
      if (s >= 0) {
        inTable.add(s);
      }
    }
    Map<Backend, Integer> index = indexOf(all);
    Set<Integer> want = new HashSet<>();
    wanted.forEach(b -> want.add(index.get(b)));
    return inTable.equals(want);
  }

  private static Map<Backend, Integer> indexOf(List<Backend> all) {
    Map<Backend, Integer> index = new IdentityHashMap<>();
    for (int i = 0; i < all.size(); i++) {
      index.put(all.get(i), i);
    }
    return index;
  }

  /** The jumps into a Service port (always written) and its filter verdicts. */
  private void dispatch(PortPlan p, Contribution out) {
    String port = String.valueOf(p.frontend.port());
    String match = p.protoMatch + " --dport " + port;
    String internalTarget = p.hasEndpoints ? "DROP" : "REJECT";
    String externalTarget = internalTarget;
    String why = p.hasEndpoints ? " has no local endpoints" : " has no endpoints";
    if (p.hasEndpoints && !p.hasInternal) {
      out.noLocalInternal++;
    }
    if (p.hasEndpoints && !p.hasExternal) {
      out.noLocalExternal++;
    }
    if (p.hasInternal) {
      out.nat(p.clusterIp, note(p.portName + " cluster IP") + match + " -j " + p.internalChain);
    } else {
      out.filter(ChainNames.SERVICES, "-d " + host(p.clusterIp) + " " + note(p.portName + why) + match + " -j " + internalTarget);
    }
    for (IpAddresses.Ip ip : p.externalIps) {
      if (p.hasEndpoints) {
        out.nat(ip, note(p.portName + " external IP") + match + " -j " + p.ext);
      }
      if (!p.hasExternal) {
        out.filter(ChainNames.EXTERNAL_SERVICES, "-d " + host(ip) + " " + note(p.portName + why) + match + " -j " + externalTarget);
      }
    }
    for (IpAddresses.Ip ip : p.lbIps) {
      if (p.hasEndpoints) {
        out.nat(ip, note(p.portName + " loadbalancer IP") + match + " -j " + (p.usesFw ? p.fw : p.ext));
      }
      if (p.usesFw) {
        // Traffic the FWL chain accepted was DNATed; what still has the LB IP as destination was not.
        out.filter(ChainNames.PROXY_FIREWALL, "-d " + host(ip) + " " + note(p.portName + " traffic not accepted by " + p.fw) + match + " -j DROP");
      }
      if (!p.hasExternal) {
        out.filter(ChainNames.EXTERNAL_SERVICES, "-d " + host(ip) + " " + note(p.portName + why) + match + " -j " + externalTarget);
      }
    }
    Integer np = p.frontend.nodePort();
    if (np != null && np > 0) {
      String npMatch = p.protoMatch + " --dport " + np;
      if (p.hasEndpoints) {
        out.nodePorts.add(note(p.portName) + npMatch + " -j " + p.ext);
      }
      if (!p.hasExternal) {
        out.filter(ChainNames.EXTERNAL_SERVICES, note(p.portName + why) + "-m addrtype --dst-type LOCAL " + npMatch + " -j " + externalTarget);
      }
    }
    Integer hc = p.spec.healthCheckNodePort();
    if (hc != null && hc > 0 && p.spec.externalTrafficPolicy() == TrafficPolicy.Local) {
      String rule = note(p.portName + " health check node port") + "-p tcp -m tcp --dport " + hc + " -j ACCEPT";
      out.filter(ChainNames.NODEPORTS, rule); // deduplicated when assembled: Services may share the port
    }
  }

  /**
   * One Service's rules in the chains it shares with others (dispatch, NodePorts, filter), kept
   * with its plan: a partial render reuses them for unchanged Services instead of rendering again.
   */
  private static final class Contribution {
    List<IpAddresses.Ip> natIps = new ArrayList<>();
    List<String> natRules = new ArrayList<>();
    List<String> nodePorts = new ArrayList<>();
    List<String> filterChains = new ArrayList<>();
    List<String> filterRules = new ArrayList<>();
    int noLocalInternal;
    int noLocalExternal;

    /** Done collecting: compact copies (most lists hold no or one rule, and a plan is kept per Service and family). */
    Contribution trim() {
      natIps = List.copyOf(natIps);
      natRules = List.copyOf(natRules);
      nodePorts = List.copyOf(nodePorts);
      filterChains = List.copyOf(filterChains);
      filterRules = List.copyOf(filterRules);
      return this;
    }

    void nat(IpAddresses.Ip ip, String rule) {
      natIps.add(ip);
      natRules.add(rule);
    }

    void filter(String chain, String rule) {
      filterChains.add(chain);
      filterRules.add(rule);
    }

    void addTo(Map<IpAddresses.Ip, List<String>> nat, List<String> nodePortRules, Table filter, Map<String, Integer> noLocal) {
      for (int i = 0; i < natIps.size(); i++) {
        nat.computeIfAbsent(natIps.get(i), k -> new ArrayList<>(2)).add(natRules.get(i));
      }
      nodePortRules.addAll(nodePorts);
      for (int i = 0; i < filterChains.size(); i++) {
        String chain = filterChains.get(i);
        if (!chain.equals(ChainNames.NODEPORTS) || filter.healthChecks.add(filterRules.get(i))) {
          filter.add(chain, filterRules.get(i));
        }
      }
      if (noLocalInternal > 0) {
        noLocal.merge("internal", noLocalInternal, Integer::sum);
      }
      if (noLocalExternal > 0) {
        noLocal.merge("external", noLocalExternal, Integer::sum);
      }
    }
  }

  /**
   * Collects one Service's chains while it is rendered, then hands their rules to the table as
   * text: at 10k Services, keeping 300k rule strings until the payload is written doubles the
   * memory a full sync needs.
   */
  private static final class ServiceOut {
    final Table nat;
    final Set<String> chains = new LinkedHashSet<>();
    final Map<String, List<String>> rulesByChain = new LinkedHashMap<>();
    long rules;

    ServiceOut(Table nat) {
      this.nat = nat;
    }

    void declare(String chain) {
      if (chains.add(chain)) {
        nat.declareService(chain);
        rulesByChain.computeIfAbsent(chain, c -> new ArrayList<>());
      }
    }

    void add(String chain, String rule) {
      rulesByChain.computeIfAbsent(chain, c -> new ArrayList<>()).add(rule);
      rules++;
    }

    void finish() {
      rulesByChain.forEach(nat::appendServiceRules);
    }
  }

  private void serviceChains(PortPlan p, ServiceOut out) {
    String dst = "-d " + host(p.clusterIp) + " " + p.protoMatch + " --dport " + p.frontend.port();
    if (p.usesSvc) {
      out.declare(p.svc);
    }
    if (p.usesSvl) {
      out.declare(p.svl);
    }
    if (p.usesExt) {
      out.declare(p.ext);
    }
    if (p.usesFw) {
      out.declare(p.fw);
    }
    // Masquerade for ClusterIP traffic: everything, or what does not come from a pod.
    if (p.hasInternal && (p.internalChain.equals(p.svc) ? p.usesSvc : p.usesSvl)) {
      String c = note(p.portName + " cluster IP");
      if (config.masqueradeAll()) {
        out.add(p.internalChain, c + dst + " -j " + ChainNames.MARK_MASQ);
      } else {
        List<IpAddresses.Cidr> pods = clusterCidrsOf(p.clusterIp.family());
        if (pods.size() == 1) {
          out.add(p.internalChain, c + dst + " ! -s " + pods.get(0).text() + " -j " + ChainNames.MARK_MASQ);
        } else if (pods.size() > 1) {
          out.add(p.internalChain, c + dst + " -j " + ChainNames.MARK_NON_POD);
        }
      }
    }
    if (p.usesExt) {
      if (p.externalPolicyChain.equals(p.svc)) {
        out.add(p.ext, note("masquerade traffic for " + p.portName + " external destinations") + "-j " + ChainNames.MARK_MASQ);
      } else {
        if (p.usesSvc) {
          for (IpAddresses.Cidr cidr : clusterCidrsOf(p.clusterIp.family())) {
            out.add(p.ext, "-s " + cidr.text() + " " + note("pod traffic for " + p.portName + " external destinations") + "-j " + p.svc);
          }
          out.add(p.ext, note("masquerade LOCAL traffic for " + p.portName + " external destinations") + "-m addrtype --src-type LOCAL -j " + ChainNames.MARK_MASQ);
          out.add(p.ext, note("route LOCAL traffic for " + p.portName + " external destinations") + "-m addrtype --src-type LOCAL -j " + p.svc);
        }
      }
      if (p.hasExternal) {
        out.add(p.ext, "-j " + p.externalPolicyChain);
      }
    }
    if (p.usesFw) {
      String c = note(p.portName + " loadbalancer IP");
      for (String r : p.sourceRanges) {
        out.add(p.fw, c + "-s " + r + " -j " + p.ext);
      }
      if (p.allowFromNode) {
        for (IpAddresses.Ip ip : p.lbIps) {
          out.add(p.fw, c + "-s " + host(ip) + " -j " + p.ext);
        }
      }
    }
    if (p.usesSvc) {
      endpointSelection(p, p.svc, p.cat.clusterEndpoints(), p.clusterTable, out);
    }
    if (p.usesSvl) {
      endpointSelection(p, p.svl, p.cat.localEndpoints(), p.localTable, out);
    }
    boolean maglev = p.clusterTable != null || p.localTable != null;
    SessionAffinity aff = p.spec.sessionAffinity();
    for (Backend b : p.cat.allReachableEndpoints()) {
      String sep = p.sepChain(b);
      out.declare(sep);
      if (maglev) {
        // Undo the HMARK slot: give the packet back the mark it had (saved in the SVC/SVL chain).
        out.add(sep, "-j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff");
      }
      out.add(sep, note(p.portName) + "-s " + host(IpAddresses.parse(b.address()).orElseThrow()) + " -j " + ChainNames.MARK_MASQ);
      String recent = aff != null ? "-m recent --name " + sep + " --set --rsource " : "";
      out.add(sep, note(p.portName) + recent + p.protoMatch + " -j DNAT --to-destination " + p.endpoint(b));
    }
  }

  private void endpointSelection(PortPlan p, String chain, List<Backend> endpoints, int[] table, ServiceOut out) {
    SessionAffinity aff = p.spec.sessionAffinity();
    if (table != null) {
      // Save the packet's mark in the connection: HMARK overwrites all 32 bits, the endpoint chain restores them.
      out.add(chain, "-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff");
    }
    // Endpoint chains are entered with -g (goto), not -j: each ends in an unconditional DNAT, so
    // nothing returns and the two are the same to a packet. iptables-restore resolves every -j
    // target through libxtables' 512-bucket "notargets" list of chain names, which -g skips: at
    // 10k Services that lookup was a sixth of a full restore's CPU (docs/iptables.md § Figures).
    if (aff != null) {
      for (Backend b : endpoints) {
        String sep = p.sepChain(b);
        out.add(chain, note(p.portName + " -> " + p.endpoint(b)) + "-m recent --name " + sep + " --rcheck --seconds " + aff.timeoutSeconds() + " --reap --rsource -g " + sep);
      }
    }
    if (table != null) {
      maglevDispatch(p, chain, table, out);
      return;
    }
    String[] prob = probabilities(endpoints.size());
    for (int i = 0; i < endpoints.size(); i++) {
      Backend b = endpoints.get(i);
      String stat = i < endpoints.size() - 1 ? "-m statistic --mode random --probability " + prob[i] + " " : "";
      out.add(chain, note(p.portName + " -> " + p.endpoint(b)) + stat + "-g " + p.sepChain(b));
    }
  }

  /**
   * HMARK puts the flow's slot (hash of the 5-tuple mod M) into the mark; group rules on the high
   * bits pick one of about √M group chains, whose per-slot rules jump to the endpoint. Only the
   * first packet of a connection traverses nat, so conntrack keeps the flow on its endpoint.
   */
  private void maglevDispatch(PortPlan p, String chain, int[] table, ServiceOut out) {
    int m = table.length;
    int k = groupBits(m);
    out.add(chain, note(p.portName + " maglev slot") + "-j HMARK --hmark-tuple src,dst,sport,dport,proto --hmark-mod " + m
        + " --hmark-offset 0 --hmark-rnd 0x" + String.format(Locale.ROOT, "%08x", p.hmarkRnd));
    String groupMask = "0x" + Integer.toHexString(~((1 << k) - 1));
    List<String> groups = p.groupChains(chain, table);
    for (int g = 0; g * (1 << k) < m; g++) {
      String gc = groups.get(g);
      out.declare(gc);
      out.add(chain, "-m mark --mark 0x" + Integer.toHexString(g << k) + "/" + groupMask + " -j " + gc);
      for (int s = g << k; s < Math.min(m, (g + 1) << k); s++) {
        if (table[s] >= 0) {
          out.add(gc, "-m mark --mark 0x" + Integer.toHexString(s) + " -g " + p.sepChain(p.spec.backends().get(table[s])));
        }
      }
    }
    // Reached only through an empty slot: hand the mark back and leave the packet undisturbed.
    out.add(chain, "-j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff");
  }

  /** TURNPIKE-POSTROUTING: SNAT what carries the masquerade mark (shared with IPVS mode). */
  public static List<String> postroutingRules(String masqMark) {
    return List.of(
        "-m mark ! --mark " + masqMark + "/" + masqMark + " -j RETURN",
        // Clear the bit so a re-traversal (e.g. over a tunnel) is not masqueraded twice.
        "-j MARK --xor-mark " + masqMark,
        comment("turnpike service traffic requiring SNAT") + " -j MASQUERADE --random-fully");
  }

  /** filter TURNPIKE-FORWARD: drop INVALID, accept marked and established (shared with IPVS mode). */
  public static List<String> forwardRules(String masqMark) {
    return List.of(
        "-m conntrack --ctstate INVALID " + comment("turnpike drops invalid packets") + " -j DROP",
        comment("turnpike forwarding rules") + " -m mark --mark " + masqMark + "/" + masqMark + " -j ACCEPT",
        comment("turnpike forwarding conntrack rule") + " -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
  }

  /** Half the bits of the largest slot, rounded up: about √M groups of about √M slots. */
  static int groupBits(int m) {
    int bits = 32 - Integer.numberOfLeadingZeros(m - 1);
    return (bits + 1) / 2;
  }

  private List<String> groupChains(String chain, int[] table) {
    int k = groupBits(table.length);
    List<String> out = new ArrayList<>();
    for (int g = 0; g * (1 << k) < table.length; g++) {
      out.add(groupChain(chain, g));
    }
    return out;
  }

  private String groupChain(String chain, int g) {
    return name(Kind.MGD, chain + "/" + g);
  }

  private String name(Kind kind, String input) {
    return ChainNames.of(kind, input);
  }

  /** A rule's comment and a space, or nothing in large-cluster mode. */
  private String note(String text) {
    return largeCluster ? "" : comment(text) + " ";
  }

  /** kube-proxy's probabilities for n endpoints as rule text, formatted once per n. */
  private String[] probabilities(int n) {
    return probabilityText.computeIfAbsent(
        n, k -> java.util.Arrays.stream(RandomSelection.chainProbabilities(k)).mapToObj(RandomSelection::formatProbability).toArray(String[]::new));
  }

  private List<IpAddresses.Cidr> clusterCidrsOf(IpFamily family) {
    return clusterCidrs.stream().filter(c -> c.family() == family).toList();
  }

  private boolean localhostNodePortsActive(IpFamily family) {
    if (family != IpFamily.IPv4 || !config.localhostNodePorts()) {
      return false;
    }
    if (config.nodePortAddresses().isEmpty()) {
      return true;
    }
    IpAddresses.Ip lo = IpAddresses.parse("127.0.0.1").orElseThrow();
    return config.nodePortAddresses().stream()
        .filter(c -> !c.equals(IptablesConfig.PRIMARY))
        .anyMatch(c -> IpAddresses.contains(IpAddresses.parseCidr(c).orElseThrow(), lo));
  }

  /** Whether this render needs net.ipv4.conf.all.route_localnet=1. */
  public boolean needsRouteLocalnet(IpFamily family) {
    return localhostNodePortsActive(family);
  }

  /** The match parts (each ending in a space) of the jumps from TURNPIKE-SERVICES to TURNPIKE-NODEPORTS. */
  private List<String> nodePortDestinations(IpFamily family, NodeContext node) {
    if (config.nodePortAddresses().isEmpty()) {
      if (localhostNodePortsActive(family)) {
        return List.of("-m addrtype --dst-type LOCAL ");
      }
      return List.of("-m addrtype --dst-type LOCAL ! -d " + (family == IpFamily.IPv4 ? "127.0.0.0/8 " : "::1/128 "));
    }
    Set<String> out = new LinkedHashSet<>();
    List<IpAddresses.Ip> addrs = new ArrayList<>();
    node.addresses().forEach(a -> IpAddresses.parse(a).filter(ip -> ip.family() == family).ifPresent(addrs::add));
    for (String c : config.nodePortAddresses()) {
      if (c.equals(IptablesConfig.PRIMARY)) {
        if (!addrs.isEmpty()) {
          out.add("-d " + host(addrs.get(0)) + " ");
        }
        continue;
      }
      IpAddresses.Cidr cidr = IpAddresses.parseCidr(c).orElseThrow();
      if (cidr.family() != family) {
        continue;
      }
      addrs.stream().filter(ip -> IpAddresses.contains(cidr, ip)).forEach(ip -> out.add("-d " + host(ip) + " "));
      IpAddresses.Ip lo = IpAddresses.parse(family == IpFamily.IPv4 ? "127.0.0.1" : "::1").orElseThrow();
      if (IpAddresses.contains(cidr, lo) && localhostNodePortsActive(family)) {
        out.add("-d 127.0.0.0/8 ");
      }
    }
    return List.copyOf(out);
  }

  static String host(IpAddresses.Ip ip) {
    return ip.text() + (ip.family() == IpFamily.IPv4 ? "/32" : "/128");
  }

  private static IpAddresses.Ip firstOfFamily(List<String> ips, IpFamily family) {
    for (String s : ips) {
      var ip = IpAddresses.parse(s);
      if (ip.isPresent() && ip.get().family() == family) {
        return ip.get();
      }
    }
    return null;
  }

  static int compareIp(IpAddresses.Ip a, IpAddresses.Ip b) {
    return java.util.Arrays.compareUnsigned(a.bytes(), b.bytes());
  }

  private static void unhookStale(Table table, Set<String> stale, List<String> hookRules) {
    for (String rule : hookRules) {
      List<String> args = RestoreText.tokenize(rule, 0);
      if (stale.contains(targetOf(args))) {
        table.unhook(rule);
      }
    }
  }

  static String targetOf(List<String> args) {
    for (int i = 0; i + 1 < args.size(); i++) {
      if (args.get(i).equals("-j") || args.get(i).equals("-g")) {
        return args.get(i + 1);
      }
    }
    return null;
  }

  /**
   * Size of the pieces the Service chains' text is kept in: one 30 MiB builder at 10k Services
   * would, while doubling, need half as much again as its content.
   */
  static final int TEXT_CHUNK = 1 << 20;

  /** One table's part of the payload: declarations, hooks, rules, deletions, in that order. */
  private static final class Table {
    final String name;
    final Set<String> declared = new LinkedHashSet<>();
    final List<String> deleted = new ArrayList<>();
    final List<String> hooks = new ArrayList<>();
    final List<String> unhooks = new ArrayList<>();
    /** The chains not owned by one Service (a Service's chains go to serviceText, never here). */
    final Map<String, List<String>> chainRules = new LinkedHashMap<>();
    /** filter NODEPORTS: Services with the same health check node port share its accept rule. */
    final Set<String> healthChecks = new HashSet<>();
    /** The Service chains' rules, already as payload lines (written before the shared chains'). */
    final List<CharSequence> serviceText = new ArrayList<>();
    /** The last piece of serviceText, while it is filled. */
    private StringBuilder filling;
    long serviceRulesWritten;
    int rules;
    long fixedRules;

    Table(String name) {
      this.name = name;
      if (name.equals("filter")) {
        for (String c : List.of(ChainNames.SERVICES, ChainNames.EXTERNAL_SERVICES, ChainNames.NODEPORTS, ChainNames.PROXY_FIREWALL)) {
          declare(c);
        }
      }
    }

    void declare(String chain) {
      declared.add(chain);
      chainRules.computeIfAbsent(chain, c -> new ArrayList<>());
    }

    void declareService(String chain) {
      declared.add(chain);
    }

    void appendServiceRules(String chain, List<String> list) {
      if (filling == null) {
        filling = new StringBuilder(TEXT_CHUNK + 4096);
        serviceText.add(filling);
      }
      StringBuilder sb = filling;
      for (String r : list) {
        sb.append("-A ").append(chain).append(' ').append(r).append('\n');
      }
      rules += list.size();
      serviceRulesWritten += list.size();
      if (sb.length() > TEXT_CHUNK) {
        // A full piece stays deflated until written (a 10k-Service payload: 34 MB, packed 5 MB).
        serviceText.set(serviceText.size() - 1, PackedText.of(sb));
        sb.setLength(0);
        serviceText.add(sb);
      }
    }

    /** The chains not owned by one Service, with their rules. */
    Map<String, List<String>> shared() {
      return new HashMap<>(chainRules);
    }

    /** Leaves out of the payload the shared chains whose rules equal {@code before}'s. */
    void omitUnchanged(Map<String, List<String>> before) {
      before.forEach((c, r) -> {
        List<String> now = chainRules.get(c);
        if (now != null && now.equals(r)) {
          chainRules.remove(c);
          declared.remove(c);
        }
      });
    }

    /** Rules this table's payload writes. */
    long written() {
      long n = serviceRulesWritten;
      for (List<String> r : chainRules.values()) {
        n += r.size();
      }
      return n;
    }

    void add(String chain, String rule) {
      chainRules.computeIfAbsent(chain, c -> new ArrayList<>()).add(rule);
      rules++;
      fixedRules++;
    }


    void delete(String chain) {
      deleted.add(chain);
    }

    void hook(Hooks.Hook h) {
      hooks.add("-I " + h.builtin() + " 1 " + h.rule());
    }

    /** Deletes a saved rule ("CHAIN args…") of another chain; written before the hooks. */
    void unhook(String savedRule) {
      unhooks.add("-D " + savedRule);
    }

    /**
     * Appends the payload: head (declarations, hooks), the Service chains' text, the shared chains.
     * Chains are declared in name order. libiptc keeps its chains in a sorted list that it walks to
     * insert, find and re-index them; created in name order, the list's nodes also lie in memory in
     * that order, and a 10k-Service first restore takes less than half the CPU (docs/iptables.md).
     */
    void write(List<CharSequence> parts) {
      StringBuilder sb = new StringBuilder((declared.size() + deleted.size()) * 40 + hooks.size() * 100 + 64);
      sb.append('*').append(name).append('\n');
      String[] chains = new String[declared.size() + deleted.size()];
      int n = 0;
      for (String c : declared) {
        chains[n++] = c;
      }
      for (String c : deleted) {
        chains[n++] = c;
      }
      Arrays.sort(chains);
      for (String c : chains) {
        sb.append(':').append(c).append(" - [0:0]\n");
      }
      for (String h : unhooks) {
        sb.append(h).append('\n');
      }
      for (String h : hooks) {
        sb.append(h).append('\n');
      }
      parts.add(sb);
      parts.addAll(serviceText);
      StringBuilder tail = new StringBuilder((int) Math.min(Integer.MAX_VALUE / 2, (rules - serviceRulesWritten) * 100L + 64));
      parts.add(tail);
      chainRules.forEach(
          (chain, list) -> {
            for (String r : list) {
              tail.append("-A ").append(chain).append(' ').append(r).append('\n');
            }
          });
      for (String c : deleted) {
        tail.append("-X ").append(c).append('\n');
      }
      tail.append("COMMIT\n");
    }
  }
}
