package dev.turnpike.dataplane.testing;

import dev.turnpike.dataplane.iptables.Iptables;
import dev.turnpike.dataplane.iptables.IptablesException;
import dev.turnpike.dataplane.iptables.RestoreText;
import dev.turnpike.net.IpFamily;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * An {@link Iptables} that interprets restore input the way iptables-restore does: it parses the
 * payload, applies each table block all-or-nothing at its COMMIT (as the real command commits
 * table by table), honours {@code --noflush}, rejects jumps to chains that do not exist and the
 * deletion of chains that are not empty or still referenced, and dumps deterministic text.
 */
public final class FakeIptables implements Iptables {
  /** Targets that are kernel extensions rather than chains. */
  static final Set<String> TARGETS =
      Set.of(
          "ACCEPT", "DROP", "RETURN", "REJECT", "DNAT", "SNAT", "MASQUERADE", "MARK", "HMARK",
          "CONNMARK", "LOG", "NOTRACK", "CT");

  static final Map<String, List<String>> BUILTIN =
      Map.of(
          "filter", List.of("INPUT", "FORWARD", "OUTPUT"),
          "nat", List.of("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
          "mangle", List.of("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
          "raw", List.of("PREROUTING", "OUTPUT"));

  /** One chain: its policy ("-" for user chains) and its rules' arguments. */
  record Chain(String policy, List<List<String>> rules) {
    Chain copy() {
      List<List<String>> r = new ArrayList<>(rules.size());
      r.addAll(rules);
      return new Chain(policy, r);
    }
  }

  private final Map<IpFamily, Map<String, Map<String, Chain>>> state = new EnumMap<>(IpFamily.class);
  private final Mode mode;
  private Predicate<String> failWhen = payload -> false;
  private int restores;

  public FakeIptables() {
    this(Mode.NFT);
  }

  public FakeIptables(Mode mode) {
    this.mode = mode;
    for (IpFamily f : IpFamily.values()) {
      state.put(f, new TreeMap<>());
    }
  }

  /** Makes restores whose payload matches fail as if iptables-restore had rejected them. */
  public void failWhen(Predicate<String> when) {
    this.failWhen = when;
  }

  public int restores() {
    return restores;
  }

  @Override
  public Mode mode() {
    return mode;
  }

  @Override
  public void restore(IpFamily family, String payload, boolean noflush) throws IptablesException {
    restores++;
    if (failWhen.test(payload)) {
      throw new IptablesException("iptables-restore: injected failure");
    }
    List<RestoreText.Block> blocks;
    try {
      blocks = RestoreText.parse(payload);
    } catch (IllegalArgumentException e) {
      throw new IptablesException("iptables-restore: " + e.getMessage());
    }
    for (RestoreText.Block b : blocks) {
      if (!b.committed()) {
        throw new IptablesException("iptables-restore: table " + b.table() + " has no COMMIT");
      }
      Map<String, Chain> next = noflush ? copy(table(family, b.table())) : fresh(b.table());
      apply(b, next);
      state.get(family).put(b.table(), next); // commit point: only a fully applied block lands
    }
  }

  /** Applies a whole table, for test setup (pre-existing rules of other software). */
  public void load(IpFamily family, String saveText) throws IptablesException {
    restore(family, saveText, true);
  }

  @Override
  public String save(IpFamily family, String table) {
    StringBuilder sb = new StringBuilder();
    dumpTable(sb, table, table(family, table));
    return sb.toString();
  }

  /** Every table of the family that holds anything beyond empty built-in chains, sorted. */
  public String dump(IpFamily family) {
    StringBuilder sb = new StringBuilder();
    for (var e : state.get(family).entrySet()) {
      boolean empty = e.getValue().values().stream().allMatch(c -> c.rules().isEmpty() && !c.policy().equals("-"));
      if (!empty) {
        dumpTable(sb, e.getKey(), e.getValue());
      }
    }
    return sb.toString();
  }

  private static void dumpTable(StringBuilder sb, String table, Map<String, Chain> chains) {
    sb.append('*').append(table).append('\n');
    for (var c : chains.entrySet()) {
      sb.append(':').append(c.getKey()).append(' ').append(c.getValue().policy()).append(" [0:0]\n");
    }
    for (var c : chains.entrySet()) {
      for (List<String> r : c.getValue().rules()) {
        sb.append("-A ").append(c.getKey()).append(' ').append(RestoreText.join(r)).append('\n');
      }
    }
    sb.append("COMMIT\n");
  }

  private Map<String, Chain> table(IpFamily family, String table) {
    return state.get(family).computeIfAbsent(table, FakeIptables::fresh);
  }

  /** Built-in chains first in kernel order, user chains sorted after them. */
  private static Map<String, Chain> fresh(String table) {
    List<String> builtin = BUILTIN.get(table);
    if (builtin == null) {
      throw new IllegalArgumentException("unknown table " + table);
    }
    Map<String, Chain> m = new LinkedHashMap<>();
    for (String b : builtin) {
      m.put(b, new Chain("ACCEPT", new ArrayList<>()));
    }
    return m;
  }

  private static Map<String, Chain> copy(Map<String, Chain> in) {
    Map<String, Chain> m = new LinkedHashMap<>();
    in.forEach((k, v) -> m.put(k, v.copy()));
    return m;
  }

  private static void apply(RestoreText.Block b, Map<String, Chain> t) throws IptablesException {
    List<String> builtin = BUILTIN.get(b.table());
    for (RestoreText.Op op : b.ops()) {
      if (op instanceof RestoreText.Declare d) {
        if (builtin.contains(d.chain())) {
          if (d.policy().equals("-")) {
            throw fail(b, "built-in chain " + d.chain() + " needs a policy");
          }
          t.put(d.chain(), new Chain(d.policy(), t.get(d.chain()).rules()));
        } else {
          if (!d.policy().equals("-")) {
            throw fail(b, "user chain " + d.chain() + " cannot have policy " + d.policy());
          }
          if (d.chain().length() > 28) {
            throw fail(b, "chain name " + d.chain() + " is longer than 28 characters");
          }
          // Declaring an existing user chain flushes it, also with --noflush.
          t.put(d.chain(), new Chain("-", new ArrayList<>()));
        }
      } else if (op instanceof RestoreText.AddRule a) {
        Chain c = existing(b, t, a.chain());
        checkTarget(b, t, a.args());
        int at = a.insertAt() == 0 ? c.rules().size() : a.insertAt() - 1;
        if (at > c.rules().size()) {
          throw fail(b, "index of insertion too big in " + a.chain());
        }
        c.rules().add(at, a.args());
      } else if (op instanceof RestoreText.DeleteRule d) {
        if (!existing(b, t, d.chain()).rules().remove(d.args())) {
          throw fail(b, "no such rule in " + d.chain() + ": " + RestoreText.join(d.args()));
        }
      } else if (op instanceof RestoreText.Flush f) {
        existing(b, t, f.chain()).rules().clear();
      } else if (op instanceof RestoreText.DeleteChain x) {
        Chain c = existing(b, t, x.chain());
        if (builtin.contains(x.chain())) {
          throw fail(b, "cannot delete built-in chain " + x.chain());
        }
        if (!c.rules().isEmpty()) {
          throw fail(b, "chain " + x.chain() + " is not empty");
        }
        for (var e : t.entrySet()) {
          for (List<String> r : e.getValue().rules()) {
            if (x.chain().equals(target(r))) {
              throw fail(b, "chain " + x.chain() + " is still referenced from " + e.getKey());
            }
          }
        }
        t.remove(x.chain());
      }
    }
    // Keep user chains sorted after the built-ins, for a deterministic dump.
    Map<String, Chain> sorted = new LinkedHashMap<>();
    for (String c : builtin) {
      sorted.put(c, t.get(c));
    }
    new TreeMap<>(t).forEach(sorted::putIfAbsent);
    t.clear();
    t.putAll(sorted);
  }

  private static void checkTarget(RestoreText.Block b, Map<String, Chain> t, List<String> args)
      throws IptablesException {
    String target = target(args);
    if (target == null || TARGETS.contains(target)) {
      return;
    }
    if (!t.containsKey(target)) {
      throw fail(b, "Couldn't load target `" + target + "': no chain or extension of that name");
    }
  }

  /** The argument of -j or -g, or null. */
  static String target(List<String> args) {
    for (int i = 0; i + 1 < args.size(); i++) {
      if (args.get(i).equals("-j") || args.get(i).equals("-g")) {
        return args.get(i + 1);
      }
    }
    return null;
  }

  private static Chain existing(RestoreText.Block b, Map<String, Chain> t, String chain)
      throws IptablesException {
    Chain c = t.get(chain);
    if (c == null) {
      throw fail(b, "chain " + chain + " does not exist");
    }
    return c;
  }

  private static IptablesException fail(RestoreText.Block b, String why) {
    return new IptablesException("iptables-restore: table " + b.table() + ": " + why);
  }
}
