package dev.turnpike.dataplane.ipvs;

import static dev.turnpike.dataplane.iptables.Hooks.comment;

import dev.turnpike.dataplane.iptables.ChainNames;
import dev.turnpike.dataplane.iptables.DispatchTree;
import dev.turnpike.dataplane.iptables.Hooks;
import dev.turnpike.dataplane.iptables.IptablesConfig;
import dev.turnpike.dataplane.iptables.IptablesRenderer;
import dev.turnpike.dataplane.iptables.RestoreText;
import dev.turnpike.dataplane.ipvs.IpvsPlan.Endpoint;
import dev.turnpike.dataplane.ipvs.IpvsPlan.PortRules;
import dev.turnpike.net.IpAddresses;
import dev.turnpike.net.IpAddresses.Ip;
import dev.turnpike.net.IpFamily;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The iptables rules IPVS mode needs, as one iptables-restore payload per family. Pure. IPVS does
 * the load balancing; these rules only decide who is masqueraded and who is refused:
 *
 * <ul>
 *   <li>nat {@code TURNPIKE-SERVICES} (PREROUTING, OUTPUT): marks for SNAT what reaches a
 *       ClusterIP from outside the pod CIDRs (or everything with masqueradeAll) and what reaches
 *       an externalIP/LB IP of an externalTrafficPolicy Cluster Service; a destination tree
 *       ({@link DispatchTree}) instead of kube-proxy's ipsets, so a new connection walks about
 *       log16(VIPs) rules. {@code TURNPIKE-NODEPORTS} marks Cluster-policy NodePorts.
 *   <li>nat {@code TURNPIKE-POSTROUTING}: hairpin (an endpoint reaching itself through its Service)
 *       and {@code MASQUERADE --random-fully} of marked packets, as the iptables backend.
 *   <li>filter {@code TURNPIKE-SERVICES} (INPUT, new connections): REJECT for Service ports without
 *       endpoints, DROP without local endpoints (ITP/ETP Local), loadBalancerSourceRanges.
 *       IPVS takes packets in LOCAL_IN after the filter table, so they are refused before IPVS.
 *   <li>filter {@code TURNPIKE-NODEPORTS} (INPUT): health-check node ports; {@code
 *       TURNPIKE-FORWARD} (FORWARD): the iptables backend's forwarding accepts.
 * </ul>
 */
public final class IpvsRules {
  private static final String NEW = "-m conntrack --ctstate NEW ";

  /** The jumps from built-in chains, in head-of-chain order. */
  public static final List<Hooks.Hook> HOOKS =
      List.of(
          new Hooks.Hook("filter", "INPUT", ChainNames.SERVICES, NEW + comment("turnpike ipvs service filter")),
          new Hooks.Hook("filter", "INPUT", ChainNames.NODEPORTS, comment("turnpike health check service ports")),
          new Hooks.Hook("filter", "FORWARD", ChainNames.FORWARD, comment("turnpike forwarding rules")),
          new Hooks.Hook("nat", "PREROUTING", ChainNames.SERVICES, comment("turnpike service portals")),
          new Hooks.Hook("nat", "OUTPUT", ChainNames.SERVICES, comment("turnpike service portals")),
          new Hooks.Hook("nat", "POSTROUTING", ChainNames.POSTROUTING, comment("turnpike postrouting rules")));

  private final IptablesConfig config;

  public IpvsRules(IptablesConfig config) {
    this.config = config;
  }

  /**
   * One family's render.
   *
   * @param payload the iptables-restore input (for {@code --noflush})
   * @param chains the Turnpike chains it leaves, by table
   * @param ruleCounts rules per table
   * @param chainText the payload without hook changes and chain deletions: what the Turnpike
   *     chains hold; a render with the same chain text and no housekeeping need not be restored
   * @param housekeeping whether the payload also adds or deletes hooks or deletes chains
   */
  public record Rendered(
      String payload, Map<String, Set<String>> chains, Map<String, Long> ruleCounts, String chainText, boolean housekeeping) {}

  /**
   * @param ports the plan's Service ports of this family
   * @param nodePortAddresses the node addresses with NodePort virtual services, this family
   * @param existing what iptables-save showed (then hooks are added and foreign hooks and stale
   *     chains removed), or null when {@code previous} is known to be in place
   * @param previous the last render applied, or null
   */
  public Rendered render(
      IpFamily family, List<PortRules> ports, List<Ip> nodePortAddresses, IptablesRenderer.Existing existing,
      Rendered previous) {
    Table filter = new Table("filter");
    Table nat = new Table("nat");
    String mark = config.masqueradeMark();
    List<IpAddresses.Cidr> pods = config.clusterCidrs().stream()
        .map(c -> IpAddresses.parseCidr(c).orElseThrow())
        .filter(c -> c.family() == family)
        .toList();

    for (String c : List.of(ChainNames.SERVICES, ChainNames.NODEPORTS, ChainNames.FORWARD)) {
      filter.declare(c);
    }
    for (String c : List.of(ChainNames.SERVICES, ChainNames.NODEPORTS, ChainNames.POSTROUTING, ChainNames.MARK_MASQ)) {
      nat.declare(c);
    }
    Map<Ip, List<String>> natByDestination = new TreeMap<>((a, b) -> java.util.Arrays.compareUnsigned(a.bytes(), b.bytes()));
    Set<String> hairpin = new LinkedHashSet<>();
    Set<String> nodePortMarks = new LinkedHashSet<>();
    Set<String> healthChecks = new LinkedHashSet<>();
    for (PortRules p : ports) {
      String proto = p.protocol().name().toLowerCase(Locale.ROOT);
      String match = "-p " + proto + " -m " + proto + " --dport " + p.port();
      String refuse = p.hasEndpoints() ? "DROP" : "REJECT";
      String why = p.hasEndpoints() ? " has no local endpoints" : " has no endpoints";
      // ClusterIP.
      if (p.hasInternal()) {
        String c = comment(p.portName() + " cluster IP") + " ";
        if (config.masqueradeAll()) {
          natAt(natByDestination, p.clusterIp()).add(c + match + " -j " + ChainNames.MARK_MASQ);
        } else if (pods.size() == 1) {
          natAt(natByDestination, p.clusterIp()).add("! -s " + pods.get(0).text() + " " + c + match + " -j " + ChainNames.MARK_MASQ);
        } else if (pods.size() > 1) {
          natAt(natByDestination, p.clusterIp()).add(c + match + " -j " + ChainNames.MARK_NON_POD);
        }
      } else {
        filter.add(ChainNames.SERVICES, "-d " + host(p.clusterIp()) + " " + comment(p.portName() + why) + " " + match + " -j " + refuse);
      }
      // externalIPs and LB IPs.
      List<Ip> external = new ArrayList<>(p.externalIps());
      external.addAll(p.lbIps());
      for (Ip ip : external) {
        if (!p.hasExternal()) {
          filter.add(ChainNames.SERVICES, "-d " + host(ip) + " " + comment(p.portName() + why) + " " + match + " -j " + refuse);
        } else if (!p.externalLocal()) {
          natAt(natByDestination, ip).add(comment("masquerade " + p.portName() + " external destination") + " " + match + " -j " + ChainNames.MARK_MASQ);
        }
      }
      if (p.hasEndpoints() && !p.lbIps().isEmpty() && !p.sourceRanges().isEmpty()) {
        for (Ip lb : p.lbIps()) {
          String d = "-d " + host(lb) + " " + comment(p.portName() + " loadbalancer source ranges") + " " + match;
          for (String r : p.sourceRanges()) {
            filter.add(ChainNames.SERVICES, "-s " + r + " " + d + " -j RETURN");
          }
          if (p.allowFromNode()) {
            filter.add(ChainNames.SERVICES, "-s " + host(lb) + " " + d + " -j RETURN");
          }
          filter.add(ChainNames.SERVICES, d + " -j DROP");
        }
      }
      // NodePorts.
      if (p.nodePort() != null) {
        String npMatch = "-p " + proto + " -m " + proto + " --dport " + p.nodePort();
        if (!p.hasExternal()) {
          for (Ip ip : nodePortAddresses) {
            filter.add(ChainNames.SERVICES, "-d " + host(ip) + " " + comment(p.portName() + why) + " " + npMatch + " -j " + refuse);
          }
        } else if (!p.externalLocal()) {
          nodePortMarks.add(comment(p.portName() + " node port") + " " + npMatch + " -j " + ChainNames.MARK_MASQ);
        }
      }
      for (Endpoint ep : p.localEndpoints()) {
        hairpin.add("-s " + host(ep.ip()) + " -d " + host(ep.ip()) + " " + comment("hairpin " + p.portName())
            + " -p " + proto + " -m " + proto + " --dport " + ep.port() + " -j MASQUERADE --random-fully");
      }
      if (p.healthCheckNodePort() != null) {
        healthChecks.add(comment(p.portName() + " health check node port") + " -p tcp -m tcp --dport " + p.healthCheckNodePort() + " -j ACCEPT");
      }
    }
    healthChecks.forEach(r -> filter.add(ChainNames.NODEPORTS, r));
    IptablesRenderer.forwardRules(mark).forEach(r -> filter.add(ChainNames.FORWARD, r));

    List<DispatchTree.Entry> entries = new ArrayList<>();
    natByDestination.forEach((ip, rules) -> entries.add(new DispatchTree.Entry(ip, rules)));
    DispatchTree.build(ChainNames.SERVICES, family.name(), entries).forEach((chain, rules) -> {
      nat.declare(chain);
      rules.forEach(r -> nat.add(chain, r));
    });
    if (!nodePortMarks.isEmpty()) {
      for (Ip ip : nodePortAddresses) {
        nat.add(ChainNames.SERVICES, "-d " + host(ip) + " " + comment("turnpike service nodeports") + " -j " + ChainNames.NODEPORTS);
      }
      nodePortMarks.forEach(r -> nat.add(ChainNames.NODEPORTS, r));
    }
    hairpin.forEach(r -> nat.add(ChainNames.POSTROUTING, r));
    IptablesRenderer.postroutingRules(mark).forEach(r -> nat.add(ChainNames.POSTROUTING, r));
    nat.add(ChainNames.MARK_MASQ, "-j MARK --or-mark " + mark);
    if (pods.size() > 1) {
      nat.declare(ChainNames.MARK_NON_POD);
      pods.forEach(c -> nat.add(ChainNames.MARK_NON_POD, "-s " + c.text() + " -j RETURN"));
      nat.add(ChainNames.MARK_NON_POD, "-j " + ChainNames.MARK_MASQ);
    }

    for (Table t : List.of(filter, nat)) {
      Set<String> stale = new TreeSet<>();
      if (existing != null) {
        stale.addAll(existing.chains().getOrDefault(t.name, Set.of()));
      }
      if (previous != null) {
        stale.addAll(previous.chains().getOrDefault(t.name, Set.of()));
      }
      stale.removeAll(t.declared);
      if (existing != null) {
        hooks(t, existing, stale);
      }
      stale.forEach(t::delete);
    }
    Map<String, Set<String>> chains = Map.of("filter", Set.copyOf(filter.declared), "nat", Set.copyOf(nat.declared));
    StringBuilder sb = new StringBuilder();
    filter.write(sb, true);
    nat.write(sb, true);
    StringBuilder chainText = new StringBuilder();
    filter.write(chainText, false);
    nat.write(chainText, false);
    boolean housekeeping = !filter.hookOps.isEmpty() || !filter.deleted.isEmpty() || !nat.hookOps.isEmpty() || !nat.deleted.isEmpty();
    return new Rendered(sb.toString(), chains, Map.of("filter", (long) filter.rules, "nat", (long) nat.rules),
        chainText.toString(), housekeeping);
  }

  /** Inserts missing hooks and deletes hook rules that are not IPVS mode's (left by another mode). */
  private static void hooks(Table t, IptablesRenderer.Existing existing, Set<String> stale) {
    Set<String> wanted = new HashSet<>();
    for (Hooks.Hook h : HOOKS) {
      if (h.table().equals(t.name)) {
        wanted.add(h.builtin() + ">" + h.target());
      }
    }
    for (String rule : existing.hookRules().getOrDefault(t.name, List.of())) {
      List<String> args = RestoreText.tokenize(rule, 0);
      String builtin = args.get(0);
      String target = null;
      for (int i = 1; i + 1 < args.size(); i++) {
        if (args.get(i).equals("-j") || args.get(i).equals("-g")) {
          target = args.get(i + 1);
        }
      }
      if (!wanted.contains(builtin + ">" + target) || stale.contains(target)) {
        t.unhook(rule);
      }
    }
    for (int i = HOOKS.size() - 1; i >= 0; i--) {
      Hooks.Hook h = HOOKS.get(i);
      if (h.table().equals(t.name) && !existing.hooks().contains(h.table() + "/" + h.builtin() + ">" + h.target())) {
        t.hook("-I " + h.builtin() + " 1 " + h.rule());
      }
    }
  }

  private static List<String> natAt(Map<Ip, List<String>> m, Ip ip) {
    return m.computeIfAbsent(ip, k -> new ArrayList<>());
  }

  static String host(Ip ip) {
    return ip.text() + (ip.family() == IpFamily.IPv4 ? "/32" : "/128");
  }

  /** One table's part of the payload: declarations, hooks, rules, deletions. */
  private static final class Table {
    final String name;
    final Set<String> declared = new LinkedHashSet<>();
    final List<String> deleted = new ArrayList<>();
    final List<String> hookOps = new ArrayList<>();
    final Map<String, List<String>> rulesByChain = new LinkedHashMap<>();
    int rules;

    Table(String name) {
      this.name = name;
    }

    void declare(String chain) {
      declared.add(chain);
      rulesByChain.computeIfAbsent(chain, c -> new ArrayList<>());
    }

    void add(String chain, String rule) {
      rulesByChain.get(chain).add(rule);
      rules++;
    }

    void delete(String chain) {
      deleted.add(chain);
    }

    void hook(String op) {
      hookOps.add(op);
    }

    void unhook(String savedRule) {
      hookOps.add(0, "-D " + savedRule);
    }

    void write(StringBuilder sb, boolean housekeeping) {
      sb.append('*').append(name).append('\n');
      declared.forEach(c -> sb.append(':').append(c).append(" - [0:0]\n"));
      if (housekeeping) {
        // Declaring flushes: a stale chain's jumps go before it is deleted.
        deleted.forEach(c -> sb.append(':').append(c).append(" - [0:0]\n"));
        hookOps.forEach(h -> sb.append(h).append('\n'));
      }
      rulesByChain.forEach((chain, list) -> list.forEach(r -> sb.append("-A ").append(chain).append(' ').append(r).append('\n')));
      if (housekeeping) {
        deleted.forEach(c -> sb.append("-X ").append(c).append('\n'));
      }
      sb.append("COMMIT\n");
    }
  }
}
