package dev.turnpike.dataplane.testing;

import dev.turnpike.dataplane.iptables.RestoreText;
import dev.turnpike.net.IpAddresses;
import dev.turnpike.net.IpFamily;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Follows a new connection's first packet through a ruleset, after kube-proxy's iptablesTracer:
 * nat PREROUTING (or OUTPUT for a packet from the node itself), then the destination becomes the
 * DNAT target, then Turnpike's filter chains. Matches {@code -s/-d} CIDRs, {@code -p}, {@code
 * --dport}, {@code --src-type/--dst-type LOCAL} against the node's addresses, conntrack state
 * (NEW, plus DNAT once translated) and marks. History never matches ({@code recent --rcheck}). A
 * jump behind {@code --probability} keeps scanning, so every endpoint that could be chosen is
 * listed; so does a mark match after HMARK when no hash value is given, and with one given HMARK
 * sets exactly that mark, so the trace is the one endpoint its slot names.
 */
public final class PacketTracer {
  private final Map<String, Map<String, List<List<String>>>> tables = new HashMap<>();
  private final List<IpAddresses.Ip> local = new ArrayList<>();
  private final IpFamily family;

  /** A packet: protocol in lower case; hmark the HMARK value to assume, or null for "any". */
  public record Packet(String src, String protocol, String dst, int dport, Integer hmark) {
    public static Packet tcp(String src, String dst, int dport) {
      return new Packet(src, "tcp", dst, dport, null);
    }

    public Packet withHmark(int value) {
      return new Packet(src, protocol, dst, dport, value);
    }
  }

  /**
   * The outcome.
   *
   * @param output the DNAT endpoints ("ip:port", comma-separated, in rule order) or the filter
   *     verdict (DROP / REJECT) when one applies, or "" when nothing matched
   * @param masquerade whether any path marked the packet for SNAT
   */
  public record Trace(String output, boolean masquerade) {}

  public PacketTracer(FakeIptables iptables, IpFamily family, List<String> nodeIps) {
    this.family = family;
    for (String t : List.of("nat", "filter")) {
      Map<String, List<List<String>>> chains = new HashMap<>();
      for (RestoreText.Block b : RestoreText.parse(iptables.save(family, t))) {
        for (RestoreText.Op op : b.ops()) {
          if (op instanceof RestoreText.Declare d) {
            chains.computeIfAbsent(d.chain(), c -> new ArrayList<>());
          } else if (op instanceof RestoreText.AddRule a) {
            chains.computeIfAbsent(a.chain(), c -> new ArrayList<>()).add(a.args());
          }
        }
      }
      tables.put(t, chains);
    }
    nodeIps.forEach(ip -> local.add(IpAddresses.parse(ip).orElseThrow()));
  }

  /** Mutable state of one walk. */
  private final class Walk {
    final String table;
    final Packet p;
    String dst;
    int dport;
    final boolean dnated;
    long mark;
    long ctmark;
    boolean markKnown = true;
    boolean masq;
    final Set<String> endpoints = new LinkedHashSet<>();
    String verdict;

    Walk(String table, Packet p, String dst, int dport, boolean dnated) {
      this.table = table;
      this.p = p;
      this.dst = dst;
      this.dport = dport;
      this.dnated = dnated;
    }

    /** Returns true when the chain ended the packet's walk (a terminal target). */
    boolean run(String chain, int depth) {
      if (depth > 64) {
        throw new IllegalStateException("chain loop at " + chain);
      }
      List<List<String>> rules = tables.get(table).get(chain);
      if (rules == null) {
        throw new IllegalStateException("no chain " + table + "/" + chain);
      }
      for (List<String> r : rules) {
        Rule rule = Rule.parse(r);
        Match m = matches(rule);
        if (m == Match.NO) {
          continue;
        }
        boolean maybe = m == Match.MAYBE;
        String target = rule.target;
        if (target == null) {
          continue;
        }
        switch (target) {
          case "RETURN" -> {
            if (!maybe) {
              return false;
            }
          }
          case "ACCEPT", "DROP", "REJECT" -> {
            verdict = verdict == null ? target : verdict;
            if (!maybe) {
              return true;
            }
          }
          case "DNAT" -> {
            endpoints.add(rule.targetArg("--to-destination"));
            if (!maybe) {
              return true;
            }
          }
          case "MARK" -> {
            String or = rule.targetArg("--or-mark");
            if (or != null) {
              mark |= Long.decode(or);
              if (chain.equals("TURNPIKE-MARK-MASQ")) {
                masq = true;
              }
            }
            String xor = rule.targetArg("--xor-mark");
            if (xor != null) {
              mark ^= Long.decode(xor);
            }
          }
          case "HMARK" -> {
            if (p.hmark() != null) {
              mark = p.hmark();
            } else {
              markKnown = false;
            }
          }
          case "CONNMARK" -> {
            if (rule.targetArgs.contains("--save-mark")) {
              ctmark = mark;
            } else if (rule.targetArgs.contains("--restore-mark")) {
              mark = ctmark;
              markKnown = true;
            }
          }
          case "MASQUERADE", "SNAT" -> {}
          default -> {
            // A jump that may not be taken: the siblings after it see the state from before it.
            long savedMark = mark;
            boolean savedKnown = markKnown;
            boolean ended = run(target, depth + 1);
            if (!maybe && (ended || rule.goTo)) {
              // -g: a chain that falls off its end returns to this chain's caller, not here.
              return ended;
            }
            if (maybe) {
              mark = savedMark;
              markKnown = savedKnown;
            }
          }
        }
      }
      return false;
    }

    Match matches(Rule r) {
      Match result = Match.YES;
      for (Cond c : r.conds) {
        Match m = cond(c);
        if (m == Match.NO) {
          return Match.NO;
        }
        if (m == Match.MAYBE) {
          result = Match.MAYBE;
        }
      }
      return result;
    }

    Match cond(Cond c) {
      boolean v;
      switch (c.option) {
        case "-s" -> v = inCidr(p.src(), c.value);
        case "-d" -> v = inCidr(dst, c.value);
        case "-p" -> v = c.value.equals(p.protocol());
        case "--dport" -> v = portMatch(dport, c.value);
        case "--src-type" -> v = c.value.equals("LOCAL") && isLocal(p.src());
        case "--dst-type" -> v = c.value.equals("LOCAL") && isLocal(dst);
        case "--ctstate" -> {
          Set<String> states = Set.of(c.value.split(","));
          v = states.contains("NEW") || (dnated && states.contains("DNAT"));
        }
        case "--mark" -> {
          if (!markKnown) {
            return Match.MAYBE;
          }
          String[] vm = c.value.split("/");
          long want = Long.decode(vm[0]);
          long mask = vm.length > 1 ? Long.decode(vm[1]) : 0xffffffffL;
          v = (mark & mask) == (want & mask);
        }
        case "--probability" -> {
          return Match.MAYBE;
        }
        case "--rcheck" -> v = false; // history never matches
        default -> {
          return Match.YES;
        }
      }
      return v != c.negated ? Match.YES : Match.NO;
    }
  }

  private enum Match {
    YES,
    NO,
    MAYBE
  }

  private record Cond(String option, String value, boolean negated) {}

  private record Rule(List<Cond> conds, String target, List<String> targetArgs, boolean goTo) {
    static Rule parse(List<String> args) {
      List<Cond> conds = new ArrayList<>();
      boolean neg = false;
      for (int i = 0; i < args.size(); i++) {
        String a = args.get(i);
        if (a.equals("!")) {
          neg = true;
          continue;
        }
        if (a.equals("-j") || a.equals("-g")) {
          return new Rule(conds, args.get(i + 1), args.subList(i + 2, args.size()), a.equals("-g"));
        }
        boolean flag = Set.of("--set", "--reap", "--rsource", "--rcheck").contains(a);
        String value = flag || i + 1 >= args.size() ? "" : args.get(++i);
        conds.add(new Cond(a, value, neg));
        neg = false;
      }
      return new Rule(conds, null, List.of(), false);
    }

    String targetArg(String name) {
      int i = targetArgs.indexOf(name);
      return i >= 0 && i + 1 < targetArgs.size() ? targetArgs.get(i + 1) : null;
    }
  }

  /** Traces a packet from {@code src}; a source that is a node address starts in nat OUTPUT. */
  public Trace trace(Packet p) {
    String natStart = isLocal(p.src()) ? "OUTPUT" : "PREROUTING";
    Walk nat = new Walk("nat", p, p.dst(), p.dport(), false);
    nat.run(natStart, 0);
    String dst = p.dst();
    int dport = p.dport();
    boolean dnated = !nat.endpoints.isEmpty();
    if (dnated) {
      String first = nat.endpoints.iterator().next();
      int colon = first.lastIndexOf(':');
      dst = first.substring(0, colon).replace("[", "").replace("]", "");
      dport = Integer.parseInt(first.substring(colon + 1));
    }
    Walk filter = new Walk("filter", p, dst, dport, dnated);
    for (String chain : List.of("TURNPIKE-PROXY-FIREWALL", "TURNPIKE-SERVICES", "TURNPIKE-EXTERNAL-SERVICES", "TURNPIKE-NODEPORTS", "TURNPIKE-FIREWALL")) {
      if (tables.get("filter").containsKey(chain)) {
        filter.run(chain, 0);
      }
      if (filter.verdict != null) {
        break;
      }
    }
    String output;
    if (filter.verdict != null && !filter.verdict.equals("ACCEPT")) {
      output = filter.verdict;
    } else if (dnated) {
      output = String.join(", ", nat.endpoints);
    } else {
      output = filter.verdict == null ? "" : filter.verdict;
    }
    return new Trace(output, nat.masq);
  }

  private boolean isLocal(String ip) {
    IpAddresses.Ip a = IpAddresses.parse(ip).orElseThrow();
    if (a.family() == IpFamily.IPv4 && inCidr(ip, "127.0.0.0/8")) {
      return true;
    }
    return a.text().equals("::1") || local.contains(a);
  }

  private static boolean inCidr(String ip, String cidr) {
    var c = IpAddresses.parseCidr(cidr.contains("/") ? cidr : cidr + (cidr.contains(":") ? "/128" : "/32")).orElseThrow();
    return IpAddresses.contains(c, IpAddresses.parse(ip).orElseThrow());
  }

  private static boolean portMatch(int port, String spec) {
    int colon = spec.indexOf(':');
    if (colon < 0) {
      return port == Integer.parseInt(spec);
    }
    return port >= Integer.parseInt(spec.substring(0, colon)) && port <= Integer.parseInt(spec.substring(colon + 1));
  }

  public IpFamily family() {
    return family;
  }
}
