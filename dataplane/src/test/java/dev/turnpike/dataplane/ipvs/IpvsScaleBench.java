package dev.turnpike.dataplane.ipvs;

import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.dataplane.DesiredState;
import dev.turnpike.dataplane.NodeContext;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.dataplane.SyncResult;
import dev.turnpike.dataplane.iptables.Exec;
import dev.turnpike.dataplane.iptables.ExecIptables;
import dev.turnpike.dataplane.iptables.IptablesConfig;
import dev.turnpike.dataplane.iptables.KernelLab;
import dev.turnpike.dataplane.iptables.ProcessExec;
import dev.turnpike.dataplane.iptables.Specs;
import dev.turnpike.dataplane.netlink.LibC;
import dev.turnpike.dataplane.netlink.Netlink;
import dev.turnpike.dataplane.netlink.NetlinkClient;
import dev.turnpike.dataplane.netlink.NetlinkSocket;
import dev.turnpike.dataplane.netlink.NetworkNamespace;
import dev.turnpike.dataplane.netlink.rtnl.RtnlClient;
import dev.turnpike.net.IpFamily;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Scale figures for docs/benchmarks.md: the IPVS backend applying N virtual services × E real
 * servers into a scratch network namespace on a kernel with IPVS (the IPVS VM), then a no-op
 * partial sync, one endpoint change, and a full resync that dumps everything back. A harness, not
 * a test; needs root and ip_vs.
 *
 * <pre>
 * hack/vm-run.sh --timeout 1200 -- java -cp CLASSPATH dev.turnpike.dataplane.ipvs.IpvsScaleBench 10000 10
 * </pre>
 */
public final class IpvsScaleBench {
  static final NodeContext NODE = new NodeContext("node-a", Map.of(), List.of(KernelLab.NODE_IP));

  private IpvsScaleBench() {}

  static Map<ServiceKey, ForwardingTableSpec> services(int n, int endpoints, int changedEndpoint) {
    Map<ServiceKey, ForwardingTableSpec> m = new HashMap<>();
    for (int i = 0; i < n; i++) {
      Specs s = Specs.service("s" + i, "10.250." + (128 + i / 250) + "." + (i % 250 + 1));
      for (int j = 0; j < endpoints; j++) {
        int k = i * endpoints + j + (i == 0 && j == 0 ? changedEndpoint : 0);
        s.backend("10.251." + (k / 250) % 250 + "." + (k % 250 + 1), 8080, "node-" + (j % 3));
      }
      m.put(new ServiceKey("bench", "s" + i), s.build());
    }
    return m;
  }

  static long timed(IpvsDataplane dp, Map<ServiceKey, ForwardingTableSpec> t, Set<ServiceKey> changed, boolean full, String what)
      throws Exception {
    long t0 = System.nanoTime();
    SyncResult r = dp.sync(new SyncRequest(DesiredState.of(NODE, t), changed, full));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.printf("%-44s %8d ms  %s%n", what, ms, r.entryCounts());
    return ms;
  }

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int e = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    String ns = "tp-ipvs-bench-" + ProcessHandle.current().pid();
    KernelLab.run(true, "ip", "netns", "add", ns);
    try {
      Path file = Path.of("/var/run/netns", ns);
      NetlinkSocket.Options big = new NetlinkSocket.Options(8 << 20, java.time.Duration.ofSeconds(30), 32 * 1024, true);
      try (NetlinkClient genl = new NetlinkClient(NetworkNamespace.openSocket(LibC.load(), file, Netlink.NETLINK_GENERIC, big));
          NetlinkClient route = new NetlinkClient(NetworkNamespace.openSocket(LibC.load(), file, Netlink.NETLINK_ROUTE, big))) {
        Exec exec = ProcessExec.inNetns(ns);
        IpvsDataplane dp = new IpvsDataplane(new NetlinkIpvs(genl), new RtnlVipLink(new RtnlClient(route), RtnlVipLink.DEFAULT_NAME),
            new ExecSysctl(exec), ExecIptables.detect(exec), IpvsConfig.of(IptablesConfig.defaults().withClusterCidrs(List.of("10.251.0.0/16"))),
            List.of(IpFamily.IPv4), Clock.systemUTC());
        Map<ServiceKey, ForwardingTableSpec> t = services(n, e, 0);
        System.out.printf("IPVS backend, %d Services x %d endpoints, java %s%n", n, e, System.getProperty("java.version"));
        timed(dp, t, Set.of(), true, "first full sync (empty kernel)");
        timed(dp, t, Set.of(), false, "partial sync, nothing changed");
        // As the agent's tracker: unchanged Services keep their spec objects, s0 gets a new one.
        Map<ServiceKey, ForwardingTableSpec> one = new HashMap<>(t);
        ServiceKey s0 = new ServiceKey("bench", "s0");
        one.put(s0, services(1, e, 7_000_123).get(s0));
        timed(dp, one, Set.of(new ServiceKey("bench", "s0")), false, "partial sync, one endpoint replaced");
        timed(dp, one, Set.of(), true, "full resync (dump all, nothing to change)");
        long t0 = System.nanoTime();
        dp.cleanup();
        System.out.printf("%-44s %8d ms%n", "cleanup", (System.nanoTime() - t0) / 1_000_000);
      }
    } finally {
      KernelLab.run(false, "ip", "netns", "del", ns);
    }
  }
}
