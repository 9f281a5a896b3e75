package dev.turnpike.dataplane.agent;

import static dev.turnpike.dataplane.sync.Specs.backend;
import static dev.turnpike.dataplane.sync.Specs.clusterIp;

import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.DataplaneNode;
import dev.turnpike.api.v1alpha1.ForwardingTable;
import dev.turnpike.dataplane.status.MockApi;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Agent memory at scale (a harness, not a test): N ForwardingTables × E endpoints in the Fabric8
 * mock API server (CRUD mode, in this JVM), the agent jar as its own process with the iptables
 * backend, and its RSS (/proc/PID/status VmRSS) and heap (its /metrics) after the first full sync
 * and after churn. Run by hack/agent-rss.sh, which runs this JVM inside a scratch network namespace
 * so the agent's iptables rules and the mock server's loopback are that namespace's only.
 *
 * <p>Arguments: agent-jar [services=10000] [endpointsPerService=10] [churnUpdates=200]. JVM flags
 * for the agent come from AGENT_JAVA_OPTS.
 */
public final class AgentRssHarness {
  static final String NODE = "node-a";

  private AgentRssHarness() {}

  static String serviceIp(int i) {
    return "10.96." + (i / 250) + "." + (i % 250 + 1);
  }

  static String endpointIp(int k) {
    return "10." + (100 + k / 62500) + "." + (k / 250 % 250) + "." + (k % 250 + 1);
  }

  static ForwardingTable table(int i, int endpoints, int generation) {
    Backend[] b = new Backend[endpoints];
    for (int j = 0; j < endpoints; j++) {
      // Endpoints spread over 3 nodes; a churn generation moves the Service to other addresses.
      b[j] = backend(endpointIp((i * endpoints + j + generation * 7) % 1_000_000), "node-" + "abc".charAt(j % 3));
    }
    ForwardingTable ft = new ForwardingTable();
    ft.setMetadata(new ObjectMetaBuilder().withNamespace("bench").withName("s" + i).build());
    ft.setSpec(clusterIp("bench", "s" + i, serviceIp(i), b));
    return ft;
  }

  public static void main(String[] args) throws Exception {
    Path jar = Path.of(args[0]);
    int services = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    int perService = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    int churn = args.length > 3 ? Integer.parseInt(args[3]) : 200;
    KubernetesMockServer server = new KubernetesMockServer(
        new Context(Serialization.jsonMapper()), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
    server.start(InetAddress.getLoopbackAddress(), 0);
    try (KubernetesClient kube = server.createClient()) {
      MockApi.installCrds(kube);
      kube.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).endMetadata()
          .withNewStatus().addNewAddress().withType("InternalIP").withAddress("192.0.2.20").endAddress().endStatus()
          .build()).create();
      long t0 = System.nanoTime();
      ExecutorService pool = Executors.newFixedThreadPool(4);
      for (int i = 0; i < services; i++) {
        int n = i;
        pool.submit(() -> kube.resource(table(n, perService, 0)).create());
      }
      pool.shutdown();
      pool.awaitTermination(1, TimeUnit.HOURS);
      System.out.printf("loaded %d ForwardingTables x %d endpoints in %.1f s%n", services, perService, (System.nanoTime() - t0) / 1e9);
      drain(server);

      // Several agent JVM configurations, one after the other, against the same loaded server.
      for (String opts : System.getenv().getOrDefault("AGENT_JAVA_OPTS", "").split("\\|")) {
        runAgent(server, kube, jar, opts, services, perService, churn);
      }
    } finally {
      server.destroy();
    }
  }

  static void runAgent(KubernetesMockServer server, KubernetesClient kube, Path jar, String opts, int services, int perService, int churn)
      throws Exception {
    kube.resources(DataplaneNode.class).withName(NODE).delete();
    List<String> cmd = new ArrayList<>(List.of("java"));
    if (!opts.isBlank()) {
      cmd.addAll(List.of(opts.trim().split("\\s+")));
    }
    cmd.addAll(List.of("-jar", jar.toString(), "--healthz-bind-address=", "--metrics-bind-address=",
        "--cluster-cidr=10.64.0.0/10", "--min-sync-period=1s", "--sync-period=30s"));
    ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
    pb.environment().put("NODE_NAME", NODE);
    pb.environment().put("KUBERNETES_MASTER", server.url("/"));
    pb.environment().put("KUBERNETES_AUTH_TRYKUBECONFIG", "false");
    pb.environment().put("KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false");
    pb.environment().put("KUBERNETES_TRUST_CERTIFICATES", "true");
    System.out.println("agent: " + String.join(" ", cmd));
    long start = System.nanoTime();
    Process agent = pb.start();
    try {
      // The first full sync is done when the agent's status reports every table programmed.
      while (programmed(kube) < services) {
        if (!agent.isAlive()) {
          System.out.println("agent exited with " + agent.exitValue() + " before its first full sync");
          return;
        }
        Thread.sleep(200);
        drain(server);
      }
      System.out.printf("first full sync of %d tables done %.1f s after agent start%n", services, (System.nanoTime() - start) / 1e9);
      Thread.sleep(2000);
      report("after first full sync", agent);
      for (int u = 1; u <= churn; u++) {
        // One Service's endpoints move per update, ~20 updates/s: the agent syncs at most once a second.
        kube.resource(table((u * 37) % services, perService, u)).update();
        Thread.sleep(50);
        if (u % 100 == 0) {
          drain(server);
        }
      }
      // Wait past a periodic full sync (30 s) so both kinds of sync ran on the churned state.
      Thread.sleep(35_000);
      if (!agent.isAlive()) {
        System.out.println("agent exited with " + agent.exitValue() + " during churn");
        return;
      }
      report("after " + churn + " updates and a periodic full sync", agent);
      if (Boolean.getBoolean("histogram")) {
        // Where the heap goes: live objects only (the histogram forces a full GC). A periodic full
        // sync may be in flight at any one moment, so take four, 5 s apart, and show the smallest
        // (the resting set) in full and the others' totals (a sync's peak, if one was caught).
        String smallest = null;
        long smallestBytes = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
          if (i > 0) {
            Thread.sleep(5000);
          }
          Process h = new ProcessBuilder("jcmd", Long.toString(agent.pid()), "GC.class_histogram").redirectErrorStream(true).start();
          String out = new String(h.getInputStream().readAllBytes());
          h.waitFor();
          String total = out.lines().filter(l -> l.startsWith("Total")).findFirst().orElse("Total ? ?");
          long bytes = Long.parseLong(total.trim().split("\\s+")[2]);
          System.out.printf("live heap (class histogram %d): %.1f MiB%n", i + 1, bytes / 1048576.0);
          if (bytes < smallestBytes) {
            smallestBytes = bytes;
            smallest = out;
          }
        }
        smallest.lines().limit(30).forEach(System.out::println);
        report("after the histograms' full GCs", agent);
      }
    } finally {
      agent.destroy();
      if (!agent.waitFor(30, TimeUnit.SECONDS)) {
        agent.destroyForcibly();
      }
      // The next configuration starts from empty tables, as this one did.
      new ProcessBuilder("java", "-jar", jar.toString(), "--cleanup").inheritIO().start().waitFor();
    }
  }

  static int programmed(KubernetesClient kube) {
    DataplaneNode n = kube.resources(DataplaneNode.class).withName(NODE).get();
    return n == null || n.getStatus() == null ? 0 : n.getStatus().tablesProgrammed();
  }

  /** The mock keeps every request for takeRequest(); drop them so this JVM does not grow. */
  static void drain(KubernetesMockServer server) throws InterruptedException {
    while (server.takeRequest(1, TimeUnit.MILLISECONDS) != null) {
      // discard
    }
  }

  static void report(String when, Process agent) throws Exception {
    String status = Files.readString(Path.of("/proc/" + agent.pid() + "/status"));
    String rss = status.lines().filter(l -> l.startsWith("VmRSS") || l.startsWith("VmHWM") || l.startsWith("RssAnon") || l.startsWith("RssFile")).map(l -> l.replaceAll("\\s+", " ")).reduce((a, b) -> a + ", " + b).orElse("?");
    // The agent exports no JVM metrics; jcmd reads the heap (same user, any namespace).
    Process jcmd = new ProcessBuilder("jcmd", Long.toString(agent.pid()), "GC.heap_info").redirectErrorStream(true).start();
    String heap = new String(jcmd.getInputStream().readAllBytes()).lines()
        .filter(l -> l.contains("total") && l.contains("used") || l.contains("Metaspace")).map(String::trim)
        .reduce((a, b) -> a + "; " + b).orElse("?");
    jcmd.waitFor();
    // CPU the agent used so far (utime + stime, clock ticks of 10 ms): what the GC flags cost.
    String[] stat = Files.readString(Path.of("/proc/" + agent.pid() + "/stat")).replaceAll("^.*\\) ", "").split(" ");
    double cpu = (Long.parseLong(stat[11]) + Long.parseLong(stat[12])) / 100.0;
    System.out.printf("%s: %s; CPU %.1f s; %s%n", when, rss, cpu, heap);
    if (Boolean.getBoolean("nmt")) {
      // Where the rest goes (the agent needs -XX:NativeMemoryTracking=summary): committed KB per category.
      Process nmt = new ProcessBuilder("jcmd", Long.toString(agent.pid()), "VM.native_memory", "summary")
          .redirectErrorStream(true).start();
      String summary = new String(nmt.getInputStream().readAllBytes()).lines()
          .filter(l -> l.matches("^(Total:|-\\s+\\S).*reserved=\\d+KB, committed=\\d+KB.*"))
          .map(l -> l.replaceAll("^-?\\s*([^(:]*?):? *\\(?reserved=\\d+KB, committed=(\\d+)KB.*", "$1 $2 KB"))
          .reduce((a, b) -> a + "; " + b).orElse("?");
      nmt.waitFor();
      System.out.printf("%s, NMT committed: %s%n", when, summary);
    }
  }
}
