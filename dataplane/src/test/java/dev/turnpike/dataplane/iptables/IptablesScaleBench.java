package dev.turnpike.dataplane.iptables;

import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.dataplane.DesiredState;
import dev.turnpike.dataplane.NodeContext;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.dataplane.SyncResult;
import dev.turnpike.net.IpFamily;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Scale figures for docs/iptables.md, against real iptables in scratch network namespaces (root):
 * full and incremental sync time at 1k and 10k Services × 10 endpoints, Maglev rule counts and sync
 * time by table size, and first-packet cost (connection setup from a client namespace) at 100 vs
 * 10,000 Services against a kube-proxy-shaped linear ruleset. A harness, not a test.
 *
 * <pre>
 * mvn -q -pl dataplane test-compile exec:java -Dexec.classpathScope=test \
 *   -Dexec.mainClass=dev.turnpike.dataplane.iptables.IptablesScaleBench -Dexec.args="legacy"
 * </pre>
 */
public final class IptablesScaleBench {
  static final NodeContext NODE = new NodeContext("node-a", Map.of(), List.of(KernelLab.NODE_IP, KernelLab.GATEWAY));

  private IptablesScaleBench() {}

  static String clusterIp(int i) {
    return "10.250." + (128 + i / 250) + "." + (i % 250 + 1);
  }

  static String endpoint(int k) {
    return "10.250." + (2 + (k / 250) % 120) + "." + (k % 250 + 1);
  }

  static Map<ServiceKey, ForwardingTableSpec> services(int n, int endpoints, int endpointOffset) {
    Map<ServiceKey, ForwardingTableSpec> m = new HashMap<>();
    for (int i = 0; i < n; i++) {
      Specs s = Specs.service("s" + i, clusterIp(i));
      for (int j = 0; j < endpoints; j++) {
        s.backend(endpoint(i * endpoints + j + endpointOffset), 8080, "node-" + (j % 3));
      }
      m.put(new ServiceKey("bench", "s" + i), s.build());
    }
    return m;
  }

  static long timeSync(IptablesDataplane dp, Map<ServiceKey, ForwardingTableSpec> t, Set<ServiceKey> changed, boolean full) throws Exception {
    long t0 = System.nanoTime();
    dp.sync(new SyncRequest(DesiredState.of(NODE, t), changed, full));
    return (System.nanoTime() - t0) / 1_000_000;
  }

  static long median(long[] v) {
    long[] c = v.clone();
    Arrays.sort(c);
    return c[c.length / 2];
  }

  /** Arguments: the iptables mode ({@code legacy} or {@code nft}, default legacy), then parts to run (sync, render, maglev, packet; default all). */
  public static void main(String[] args) throws Exception {
    Iptables.Mode mode = args.length > 0 && args[0].equals("nft") ? Iptables.Mode.NFT : Iptables.Mode.LEGACY;
    Set<String> parts = args.length > 1 ? Set.of(args).stream().skip(0).collect(java.util.stream.Collectors.toSet()) : Set.of("sync", "render", "maglev", "packet");
    System.out.println("machine: " + Runtime.getRuntime().availableProcessors() + " CPUs, " + System.getProperty("os.name") + " " + System.getProperty("os.version") + ", iptables " + mode);
    if (parts.contains("render")) {
      renderFigures();
    }
    if (parts.contains("sync")) {
      syncFigures(mode);
    }
    if (parts.contains("maglev")) {
      maglevFigures(mode);
    }
    if (parts.contains("packet")) {
      firstPacketFigures(mode);
    }
  }

  /** Rendering alone (no I/O), warmed up: the Java side of a sync. */
  static void renderFigures() {
    IptablesRenderer r = new IptablesRenderer(IptablesConfig.defaults().withClusterCidrs(List.of("10.250.0.0/17")));
    for (int n : new int[] {1000, 10000}) {
      DesiredState st = DesiredState.of(NODE, services(n, 10, 0));
      IptablesRenderer.Rendered full = null;
      long[] fullMs = new long[7];
      for (int i = 0; i < fullMs.length; i++) {
        long t0 = System.nanoTime();
        full = r.render(st, IpFamily.IPv4, null, null, IptablesRenderer.Existing.NONE);
        fullMs[i] = (System.nanoTime() - t0) / 1_000_000;
      }
      long[] partMs = new long[7];
      for (int i = 0; i < partMs.length; i++) {
        long t0 = System.nanoTime();
        r.render(st, IpFamily.IPv4, Set.of(new ServiceKey("bench", "s" + i)), full, IptablesRenderer.Existing.NONE);
        partMs[i] = (System.nanoTime() - t0) / 1_000_000;
      }
      System.out.printf("render n=%d x10: full median %d ms (%d KiB payload), partial median %d ms%n", n, median(fullMs), full.payload().length() / 1024, median(partMs));
    }
  }

  /**
   * Service counts for the sync figures: {@code -Dsizes=1000,10000} (the default). {@code
   * -Dgrow=true} loads the table in steps of 1,000 Services; {@code -DfloorsOnly=true} stops after
   * the restore floors.
   */
  static int[] sizes() {
    return Arrays.stream(System.getProperty("sizes", "1000,10000").split(",")).mapToInt(Integer::parseInt).toArray();
  }

  /**
   * What iptables-restore costs whatever the payload: a {@code --noflush} restore of a table
   * header and COMMIT only, which changes nothing, against the loaded table (median of 5, ms).
   */
  static long floorMs(ExecIptables ipt, String payload) throws Exception {
    return floorMs(ipt, payload, null);
  }

  /** As above; {@code undo}, when given, runs untimed after each restore to reset the table. */
  static long floorMs(ExecIptables ipt, String payload, String undo) throws Exception {
    long[] ms = new long[5];
    for (int r = 0; r < ms.length; r++) {
      long t0 = System.nanoTime();
      ipt.restore(IpFamily.IPv4, payload, true);
      ms[r] = (System.nanoTime() - t0) / 1_000_000;
      if (undo != null) {
        ipt.restore(IpFamily.IPv4, undo, true);
      }
    }
    return median(ms);
  }

  /** Changes nothing: iptables-legacy-restore then reads the table and does not write it back. */
  static final String NO_OP = "*nat\nCOMMIT\n";
  /** The smallest change (a chain created and deleted): the table is written back whole. */
  static final String SMALLEST_CHANGE = "*nat\n:TURNPIKE-PROBE - [0:0]\n-X TURNPIKE-PROBE\nCOMMIT\n";
  /**
   * The smallest change that adds a rule: one RETURN rule in a chain nothing jumps to. On
   * iptables-nft every rule with a verdict makes the kernel validate the whole table at commit
   * (nft_table_validate walks every chain reachable from the base chains), so this floor grows with
   * the table even though the rule is unreachable; on legacy it costs what any change costs.
   */
  static final String SMALLEST_RULE_ADD = "*nat\n:TURNPIKE-PROBE - [0:0]\n-A TURNPIKE-PROBE -s 192.0.2.1/32 -j RETURN\nCOMMIT\n";
  /**
   * Removes the probe again, untimed and in its own restore: iptables-nft drops an add and a
   * delete of the same chain from one batch, so a single payload would commit nothing.
   */
  static final String UNDO_RULE_ADD = "*nat\n-F TURNPIKE-PROBE\n-X TURNPIKE-PROBE\nCOMMIT\n";

  /**
   * Loads n Services the way a growing cluster would: a full sync of the first 1,000, then
   * partial syncs adding 1,000 at a time. iptables-nft-restore's cost grows with (commands ×
   * chains named in one payload), so one 10k full restore takes hours there; this reaches the same
   * kernel state in payloads of 1,000 Services.
   */
  static void grow(IptablesDataplane dp, Map<ServiceKey, ForwardingTableSpec> all, int n) throws Exception {
    Map<ServiceKey, ForwardingTableSpec> t = new HashMap<>();
    for (int from = 0; from < n; from += 1000) {
      Set<ServiceKey> added = new java.util.HashSet<>();
      for (int i = from; i < Math.min(n, from + 1000); i++) {
        ServiceKey k = new ServiceKey("bench", "s" + i);
        t.put(k, all.get(k));
        added.add(k);
      }
      long t0 = System.nanoTime();
      dp.sync(new SyncRequest(DesiredState.of(NODE, t), added, from == 0));
      System.out.printf("  grow to %d Services: %d ms%n", t.size(), (System.nanoTime() - t0) / 1_000_000);
    }
  }

  static void syncFigures(Iptables.Mode mode) throws Exception {
    for (int n : sizes()) {
      try (KernelLab lab = new KernelLab()) {
        lab.start();
        Exec exec = ProcessExec.inNetns(lab.node);
        ExecIptables ipt = new ExecIptables(exec, mode);
        IptablesDataplane dp = new IptablesDataplane(ipt, exec, IptablesConfig.defaults().withClusterCidrs(List.of("10.250.0.0/17")), List.of(IpFamily.IPv4));
        Map<ServiceKey, ForwardingTableSpec> t = services(n, 10, 0);
        boolean grown = Boolean.getBoolean("grow");
        long first = -1;
        long[] full = {-1};
        if (grown) {
          grow(dp, t, n);
        } else {
          first = timeSync(dp, t, Set.of(), true);
          System.out.printf("sync %s n=%d x10: first full sync %d ms%n", ipt.mode(), n, first);
          full = new long[3];
          for (int r = 0; r < 3; r++) {
            full[r] = timeSync(dp, t, Set.of(), true);
          }
        }
        String floor = "no-op restore " + floorMs(ipt, NO_OP) + " ms, smallest change " + floorMs(ipt, SMALLEST_CHANGE) + " ms, smallest rule add " + floorMs(ipt, SMALLEST_RULE_ADD, UNDO_RULE_ADD) + " ms";
        System.out.printf("sync %s n=%d x10: floor: %s%n", ipt.mode(), n, floor);
        if (Boolean.getBoolean("floorsOnly")) {
          continue; // nft at 10k: one endpoint change does not finish in 15 min (docs/iptables.md)
        }
        long[] endpointChange = new long[5];
        long[] addService = new long[5];
        long[] changeChars = new long[5];
        long[] addChars = new long[5];
        for (int r = 0; r < 5; r++) {
          ServiceKey k = new ServiceKey("bench", "s" + (r * 7));
          Specs s = Specs.service("s" + (r * 7), clusterIp(r * 7));
          for (int j = 0; j < 9; j++) {
            s.backend(endpoint(r * 70 + j + 1), 8080, "node-1");
          }
          t.put(k, s.build());
          endpointChange[r] = timeSync(dp, t, Set.of(k), false);
          changeChars[r] = dp.lastPayloads().get(IpFamily.IPv4).length();
          ServiceKey added = new ServiceKey("bench", "new" + r);
          t.put(added, Specs.service("new" + r, clusterIp(n + r)).backend(endpoint(r), 8080, "node-1").build());
          addService[r] = timeSync(dp, t, Set.of(added), false);
          addChars[r] = dp.lastPayloads().get(IpFamily.IPv4).length();
        }
        // A last full sync reports the rule counts; a grown (nft) table skips it, because a 10k
        // full restore does not finish there (see docs/iptables.md), and reports the last partial.
        SyncResult res = grown
            ? dp.sync(new SyncRequest(DesiredState.of(NODE, t), Set.of(new ServiceKey("bench", "s0")), false))
            : dp.sync(new SyncRequest(DesiredState.of(NODE, t), Set.of(), true));
        System.out.printf("sync %s n=%d x10: first full %d ms, full median %d ms, endpoint change median %d ms (%d chars), add service median %d ms (%d chars), floor: %s, rules %s%n",
            ipt.mode(), n, first, median(full), median(endpointChange), median(changeChars), median(addService), median(addChars), floor, res.entryCounts());
      }
    }
  }

  static void maglevFigures(Iptables.Mode mode) throws Exception {
    try (KernelLab lab = new KernelLab()) {
      lab.start();
      Exec exec = ProcessExec.inNetns(lab.node);
      IptablesDataplane dp = new IptablesDataplane(new ExecIptables(exec, mode), exec, IptablesConfig.defaults(), List.of(IpFamily.IPv4));
      long base = dp.sync(new SyncRequest(DesiredState.of(NODE, Map.of()), Set.of(), true)).ruleCount();
      for (int m : new int[] {251, 1021, 4093, 16381}) {
        Specs s = Specs.service("mg", clusterIp(0)).maglev(m);
        for (int j = 0; j < 100; j++) {
          s.backend(endpoint(j), 8080, "node-" + (j % 3));
        }
        Map<ServiceKey, ForwardingTableSpec> t = Map.of(new ServiceKey("bench", "mg"), s.build());
        long[] ms = new long[3];
        long rules = 0;
        for (int r = 0; r < 3; r++) {
          long t0 = System.nanoTime();
          rules = dp.sync(new SyncRequest(DesiredState.of(NODE, t), Set.of(), true)).ruleCount() - base;
          ms[r] = (System.nanoTime() - t0) / 1_000_000;
        }
        System.out.printf("maglev M=%d, 100 backends: %d rules for the Service, full sync median %d ms%n", m, rules, median(ms));
      }
    }
  }

  /**
   * Connection setup time from the client namespace, as the overhead over connecting to the pod
   * directly: the median connect() latency of each run (see {@link #CONNECT_LATENCY}). Targets are
   * measured in interleaved rounds and each round's overhead is taken against the same round's
   * direct time. Ours at 10k and the kube-proxy shape at 10k are loaded side by side (the linear
   * chain is hooked after ours and uses other addresses), so they share every round.
   */
  static void firstPacketFigures(Iptables.Mode mode) throws Exception {
    int conns = 1000;
    int rounds = 9;
    try (KernelLab lab = new KernelLab()) {
      lab.start();
      String pod = lab.addPod("p1", 11);
      lab.serve(pod, "p1", 8080);
      Exec exec = ProcessExec.inNetns(lab.node);
      ExecIptables ipt = new ExecIptables(exec, mode);
      IptablesDataplane dp = new IptablesDataplane(ipt, exec, IptablesConfig.defaults().withClusterCidrs(List.of("10.250.0.0/17")), List.of(IpFamily.IPv4));
      lab.in(lab.node, "ip", "route", "add", "10.250.128.0/17", "via", KernelLab.CLIENT_IP);
      lab.in(lab.node, "ip", "route", "add", "10.250.64.0/18", "via", KernelLab.CLIENT_IP);
      Map<String, Double> small = rounds(lab, rounds, conns, Map.of("ours@100", clusterIp(99)), dp, 100);
      int n = 10000;
      dp.sync(new SyncRequest(DesiredState.of(NODE, services(n, 1, 0, "10.250.1.11")), Set.of(), true));
      StringBuilder p = new StringBuilder("*nat\n:KP-SERVICES - [0:0]\n:KP-SEP - [0:0]\n");
      List<String> rules = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        p.append(":KP-SVC-").append(i).append(" - [0:0]\n");
        rules.add("-A KP-SERVICES -d " + linearIp(i) + "/32 -p tcp -m tcp --dport 80 -j KP-SVC-" + i);
        rules.add("-A KP-SVC-" + i + " -j KP-SEP");
      }
      rules.forEach(r -> p.append(r).append('\n'));
      p.append("-A KP-SEP -p tcp -m tcp -j DNAT --to-destination 10.250.1.11:8080\n");
      // Hooked for its own range only, so direct and ours@10k connections never walk it (kube-proxy
      // hooks KUBE-SERVICES for every destination, so there every new connection pays it).
      p.append("-A PREROUTING -d 10.250.64.0/18 -j KP-SERVICES\nCOMMIT\n");
      ipt.restore(IpFamily.IPv4, p.toString(), true);
      Map<String, Double> large = rounds(lab, rounds, conns, Map.of("ours@10k", clusterIp(n - 1), "linear@10k", linearIp(n - 1)), null, 0);
      System.out.printf("first packet (%s), connect() latency over direct (median of %d rounds, each the median of %d connections): ours@100 %.2f us, ours@10k %.2f us, kube-proxy-shaped linear@10k (last Service) %.2f us; direct %.2f us%n",
          ipt.mode(), rounds, conns, small.get("ours@100"), large.get("ours@10k"), large.get("linear@10k"), large.get("direct"));
    }
  }

  static String linearIp(int i) {
    return "10.250." + (64 + i / 250) + "." + (i % 250 + 1);
  }

  /** Services with one endpoint each at the given address (first-packet runs). */
  static Map<ServiceKey, ForwardingTableSpec> services(int n, int endpoints, int offset, String address) {
    Map<ServiceKey, ForwardingTableSpec> m = new HashMap<>();
    for (int i = 0; i < n; i++) {
      m.put(new ServiceKey("bench", "s" + i), Specs.service("s" + i, clusterIp(i)).backend(address, 8080, "node-a").build());
    }
    return m;
  }

  /** Per target: the median over rounds of (target µs/conn − direct µs/conn); "direct" is the median direct time. */
  static Map<String, Double> rounds(KernelLab lab, int rounds, int conns, Map<String, String> targets, IptablesDataplane dp, int n) throws Exception {
    if (dp != null) {
      dp.sync(new SyncRequest(DesiredState.of(NODE, services(n, 1, 0, "10.250.1.11")), Set.of(), true));
    }
    Map<String, double[]> over = new HashMap<>();
    double[] direct = new double[rounds];
    targets.keySet().forEach(k -> over.put(k, new double[rounds]));
    for (int r = 0; r < rounds; r++) {
      direct[r] = perConnection(lab, "10.250.1.11", 8080, conns);
      for (var t : targets.entrySet()) {
        over.get(t.getKey())[r] = perConnection(lab, t.getValue(), 80, conns) - direct[r];
      }
    }
    Map<String, Double> out = new HashMap<>();
    over.forEach((k, v) -> out.put(k, medianOf(v)));
    out.put("direct", medianOf(direct));
    return out;
  }

  static double medianOf(double[] v) {
    double[] c = v.clone();
    Arrays.sort(c);
    return c[c.length / 2];
  }

  /**
   * Times each connect() alone, in the client, with a monotonic nanosecond clock: the SYN's way
   * through the node's nat rules and the SYN-ACK back. Interpreter start-up and the server's accept
   * work stay outside the measurement, which the whole-run timing used earlier did not. SO_LINGER 0
   * closes with a reset, so no TIME_WAIT piles up over the rounds.
   */
  static final String CONNECT_LATENCY = """
      import socket, struct, sys, time
      dst, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
      lat = []
      for i in range(n):
          s = socket.socket()
          s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
          s.settimeout(2)
          t = time.perf_counter_ns()
          s.connect((dst, port))
          lat.append(time.perf_counter_ns() - t)
          s.close()
      lat.sort()
      print(lat[len(lat) // 2])
      """;

  /** Median connect() latency in microseconds over {@code conns} sequential connections. */
  static double perConnection(KernelLab lab, String dst, int port, int conns) throws Exception {
    String out = lab.output(lab.client, "python3", "-c", CONNECT_LATENCY, dst, String.valueOf(port), String.valueOf(conns)).strip();
    try {
      return Long.parseLong(out) / 1000.0;
    } catch (NumberFormatException e) {
      throw new IllegalStateException("connect timing to " + dst + ":" + port + " failed: " + out, e);
    }
  }
}
