package dev.turnpike.lab;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Brings the lab up and down: namespaces and links, then the API server, harness, operator and one
 * agent per node as separate processes (each recorded in {@code STATE/pids/NAME.pid}, logs in
 * {@code STATE/logs/NAME.log}).
 */
public final class Lab {
  public static final String JAVA_OPTS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx256m";

  private final Topology topo;
  private final Path root;
  private final String classpath;
  private final PrintStream out;
  /** The host's TURNPIKE- chains before {@link #up} (someone else's, if any): only new ones count as left behind. */
  private java.util.Set<String> hostChainsBefore = java.util.Set.of();

  public Lab(Topology topo, Path root, String classpath, PrintStream out) {
    this.topo = topo;
    this.root = root.toAbsolutePath().normalize();
    this.classpath = classpath;
    this.out = out;
  }

  public Topology topology() {
    return topo;
  }

  public Path operatorJar() {
    return root.resolve("operator/target/turnpike-operator.jar");
  }

  public Path agentJar() {
    return root.resolve("dataplane/target/turnpike-dataplane.jar");
  }

  public KubernetesClient client() {
    return new KubernetesClientBuilder().withConfig(io.fabric8.kubernetes.client.Config.fromKubeconfig(read(topo.kubeconfig())))
        .build();
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---------------------------------------------------------------- up

  /** Creates everything and waits until the API server answers; manifests go to the harness. */
  public void up(List<Path> manifests) throws IOException, InterruptedException {
    for (Path jar : List.of(operatorJar(), agentJar())) {
      if (!Files.isRegularFile(jar)) {
        throw new IOException(jar + " is missing: build first (mvn -B -ntp install -DskipTests)");
      }
    }
    down();
    hostChainsBefore = hostChains();
    Files.createDirectories(topo.stateDir().resolve("pids"));
    Files.createDirectories(topo.stateDir().resolve("logs"));
    network();
    startApiServer();
    startHarness(manifests);
    startOperator("operator-0");
    for (int i : topo.nodeIndexes()) {
      startAgent(i);
    }
  }

  void network() throws IOException {
    String net = topo.netNs();
    addNs(net);
    Sh.run("ip", "-n", net, "link", "add", "br0", "type", "bridge");
    Sh.run("ip", "-n", net, "link", "set", "br0", "up");
    // The host side: the API server listens here, reachable from every node namespace.
    Sh.run("ip", "link", "add", topo.hostVeth(), "type", "veth", "peer", "name", "host0", "netns", net);
    Sh.run("ip", "addr", "add", topo.hostIp() + "/24", "dev", topo.hostVeth());
    Sh.run("ip", "link", "set", topo.hostVeth(), "up");
    plug(net, "host0");
    for (int i : topo.nodeIndexes()) {
      String ns = topo.nodeNs(i);
      addNs(ns);
      for (String kv : List.of("net.ipv4.ip_forward=1", "net.ipv4.conf.all.send_redirects=0",
          "net.ipv4.conf.default.send_redirects=0", "net.ipv4.icmp_ratelimit=0", "net.ipv4.conf.all.rp_filter=0",
          "net.ipv4.conf.default.rp_filter=0")) {
        Sh.runIn(ns, "sysctl", "-q", "-w", kv);
      }
      attach(ns, topo.nodeName(i), topo.nodeIp(i));
      Sh.run("ip", "-n", ns, "link", "add", "cbr0", "type", "bridge");
      Sh.run("ip", "-n", ns, "addr", "add", topo.podGateway(i) + "/24", "dev", "cbr0");
      Sh.run("ip", "-n", ns, "link", "set", "cbr0", "up");
      for (int j : topo.nodeIndexes()) {
        if (j != i) {
          Sh.run("ip", "-n", ns, "route", "add", topo.podCidr(j), "via", topo.nodeIp(j));
        }
      }
      // Service addresses are on no link: like a node's upstream default route, send them towards
      // the client (which does not forward), so only Turnpike's DNAT can answer.
      Sh.run("ip", "-n", ns, "route", "add", topo.clusterIpRange(), "via", topo.clientIp());
      Sh.run("ip", "-n", ns, "route", "add", topo.lbRange(), "via", topo.clientIp());
    }
    addNs(topo.cpNs());
    attach(topo.cpNs(), "cp", topo.cpIp());
    String client = topo.clientNs();
    addNs(client);
    attach(client, "client", topo.clientIp());
    // The client reaches ClusterIPs and LB IPs through node-a (the "cloud LB"); tests re-point it.
    Sh.run("ip", "-n", client, "route", "add", topo.clusterIpRange(), "via", topo.nodeIp(0));
    Sh.run("ip", "-n", client, "route", "add", topo.lbRange(), "via", topo.nodeIp(0));
  }

  /**
   * Makes the API server unreachable (EHOSTUNREACH) from the operator's and the agents' namespaces,
   * or reachable again; the harness (the rest of the cluster) still reaches it.
   */
  public void apiReachable(boolean reachable) throws IOException {
    List<String> namespaces = new ArrayList<>(List.of(topo.cpNs()));
    topo.nodeIndexes().forEach(i -> namespaces.add(topo.nodeNs(i)));
    for (String ns : namespaces) {
      Sh.run("ip", "-n", ns, "route", reachable ? "del" : "add", "unreachable", topo.hostIp() + "/32");
    }
  }

  /** Points the client's routes to Service addresses at node {@code i}. */
  public void routeClientVia(int i) throws IOException {
    Sh.run("ip", "-n", topo.clientNs(), "route", "replace", topo.clusterIpRange(), "via", topo.nodeIp(i));
    Sh.run("ip", "-n", topo.clientNs(), "route", "replace", topo.lbRange(), "via", topo.nodeIp(i));
  }

  private static void addNs(String ns) throws IOException {
    Sh.run("ip", "netns", "add", ns);
    Sh.run("ip", "-n", ns, "link", "set", "lo", "up");
  }

  /** Gives namespace {@code ns} an eth0 with {@code ip}/24 on the node network (bridge port {@code port}). */
  private void attach(String ns, String port, String ip) throws IOException {
    Sh.run("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", topo.netNs());
    plug(topo.netNs(), port);
    Sh.run("ip", "-n", ns, "addr", "add", ip + "/24", "dev", "eth0");
    Sh.run("ip", "-n", ns, "link", "set", "eth0", "up");
  }

  private static void plug(String net, String port) throws IOException {
    Sh.run("ip", "-n", net, "link", "set", port, "master", "br0");
    Sh.run("ip", "-n", net, "link", "set", port, "up");
  }

  private List<String> java(String... rest) {
    return javaIn(null, rest);
  }

  /** setsid [ip netns exec NETNS] java JAVA_OPTS REST... */
  private List<String> javaIn(String netns, String... rest) {
    List<String> argv = new ArrayList<>(List.of("setsid"));
    if (netns != null) {
      argv.addAll(List.of("ip", "netns", "exec", netns));
    }
    argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    argv.addAll(List.of(JAVA_OPTS.split(" ")));
    argv.addAll(List.of(rest));
    return argv;
  }

  /** Starts a detached process (own session), records its pid, logs to STATE/logs/NAME.log. */
  public ProcessHandle spawn(String name, List<String> argv) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(topo.stateDir().resolve("logs").resolve(name + ".log").toFile()));
    pb.environment().put("KUBECONFIG", topo.kubeconfig().toString());
    pb.directory(root.toFile());
    Process p = pb.start();
    Files.writeString(topo.stateDir().resolve("pids").resolve(name + ".pid"), Long.toString(p.pid()));
    return p.toHandle();
  }

  void startApiServer() throws IOException, InterruptedException {
    spawn("apiserver", java("-cp", classpath, "dev.turnpike.lab.ApiServerMain", "--bind", topo.hostIp(), "--port",
        "" + topo.apiPort(), "--crds", root.resolve("crds/generated").toString(), "--kubeconfig", topo.kubeconfig().toString()));
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      if (Files.exists(topo.kubeconfig())) {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress(topo.hostIp(), topo.apiPort()), 500);
          return;
        } catch (IOException e) {
          // not yet
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("the API server did not come up; see " + topo.stateDir().resolve("logs/apiserver.log"));
      }
      Thread.sleep(200);
    }
  }

  public void startHarness(List<Path> manifests) throws IOException {
    List<String> argv = java("-cp", classpath, "dev.turnpike.lab.HarnessMain");
    argv.addAll(topo.toArgs());
    manifests.forEach(m -> argv.add(m.toAbsolutePath().toString()));
    spawn("harness", argv);
  }

  public ProcessHandle startOperator(String identity) throws IOException {
    int port = topo.operatorPort() + (identity.equals("operator-0") ? 0 : 1);
    return spawn(identity, javaIn(topo.cpNs(), "-jar", operatorJar().toString(), "--http-port", "" + port, "--lease-namespace",
        "default", "--identity", identity));
  }

  public ProcessHandle startAgent(int i) throws IOException {
    return spawn("agent-" + topo.nodeName(i), javaIn(topo.nodeNs(i), "-jar", agentJar().toString(), "--node-name",
        topo.nodeName(i), "--cluster-cidr", topo.clusterCidr(), "--healthz-bind-address", "0.0.0.0:10256",
        "--metrics-bind-address", "0.0.0.0:10249"));
  }

  /** The live process recorded under NAME, if it is still ours (its command line names Turnpike). */
  public Optional<ProcessHandle> process(String name) {
    Path f = topo.stateDir().resolve("pids").resolve(name + ".pid");
    try {
      long pid = Long.parseLong(Files.readString(f).trim());
      return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
          .filter(h -> h.info().commandLine().map(c -> c.contains("turnpike")).orElse(false));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** Stops a recorded process: SIGTERM, then SIGKILL after {@code grace}; with grace zero, SIGKILL at once. */
  public void stop(String name, Duration grace) {
    process(name).ifPresent(h -> {
      if (grace.isZero()) {
        h.destroyForcibly();
      } else {
        h.destroy();
      }
      try {
        h.onExit().get(Math.max(grace.toMillis(), 5000), java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        h.destroyForcibly();
      }
    });
  }

  // ---------------------------------------------------------------- down

  /** Removes every process, namespace, link and file the lab created. Safe when nothing is up. */
  public void down() throws IOException {
    Path pids = topo.stateDir().resolve("pids");
    if (Files.isDirectory(pids)) {
      List<String> names = new ArrayList<>();
      try (Stream<Path> s = Files.list(pids)) {
        s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".pid")).map(n -> n.substring(0, n.length() - 4))
            .sorted(Comparator.comparing(n -> n.equals("harness") ? 0 : n.equals("apiserver") ? 2 : 1)).forEach(names::add);
      }
      for (String n : names) {
        stop(n, Duration.ofSeconds(3));
      }
    }
    // Everything else (pods' servers, agents) lives in the lab's namespaces.
    for (String ns : Sh.netnsList()) {
      if (ns.startsWith(topo.prefix() + "-")) {
        for (String pid : Sh.exec("ip", "netns", "pids", ns).out().lines().filter(l -> !l.isBlank()).toList()) {
          ProcessHandle.of(Long.parseLong(pid.trim())).ifPresent(ProcessHandle::destroyForcibly);
        }
      }
    }
    for (String ns : Sh.netnsList()) {
      if (ns.startsWith(topo.prefix() + "-")) {
        for (int attempt = 0; attempt < 50; attempt++) {
          if (Sh.exec("ip", "netns", "pids", ns).out().isBlank()) {
            break;
          }
          sleep(100);
        }
        Sh.quiet("ip", "netns", "del", ns);
      }
    }
    Sh.quiet("ip", "link", "del", topo.hostVeth());
    if (Files.isDirectory(topo.stateDir())) {
      try (Stream<Path> s = Files.walk(topo.stateDir())) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** TURNPIKE- chain declarations in the host's own iptables (legacy and nft); the lab never writes there. */
  public static java.util.Set<String> hostChains() throws IOException {
    java.util.Set<String> out = new java.util.TreeSet<>();
    for (String bin : List.of("iptables-legacy-save", "iptables-nft-save")) {
      Sh.exec(bin).out().lines().filter(l -> l.startsWith(":TURNPIKE-")).forEach(l -> out.add(bin + " " + l.split(" ")[0]));
    }
    return out;
  }

  /** What {@link #down} should have removed and is still there (empty when clean). */
  public List<String> leftovers() throws IOException {
    List<String> left = new ArrayList<>();
    for (String ns : Sh.netnsList()) {
      if (ns.startsWith(topo.prefix() + "-")) {
        left.add("namespace " + ns);
      }
    }
    if (Sh.exec("ip", "link", "show", topo.hostVeth()).code() == 0) {
      left.add("link " + topo.hostVeth());
    }
    if (Sh.exec("ip", "-o", "addr").out().contains(" " + topo.hostIp() + "/")) {
      left.add("address " + topo.hostIp());
    }
    for (String chain : hostChains()) {
      if (!hostChainsBefore.contains(chain)) {
        left.add("chain in the host's iptables: " + chain);
      }
    }
    String tag = topo.stateDir().toString();
    ProcessHandle.allProcesses()
        .filter(h -> h.info().commandLine().map(c -> c.contains("dev.turnpike.lab.") && c.contains(tag)
            || c.contains("turnpike-") && c.contains("--node-name") && c.contains(topo.clusterCidr())
            || c.contains("turnpike-operator.jar") && (c.contains("--http-port " + topo.operatorPort())
                || c.contains("--http-port " + (topo.operatorPort() + 1)))).orElse(false))
        .forEach(h -> left.add("process " + h.pid() + " " + h.info().commandLine().orElse("")));
    if (Files.exists(topo.stateDir())) {
      left.add("directory " + topo.stateDir());
    }
    return left;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---------------------------------------------------------------- traffic

  /** Runs the client in the client namespace; one line per try. */
  public List<String> send(String proto, String dst, int port, int count, double timeout, int sport, double rate) throws IOException {
    return send(topo.clientNs(), proto, dst, port, count, timeout, sport, rate);
  }

  public List<String> send(String netns, String proto, String dst, int port, int count, double timeout, int sport, double rate)
      throws IOException {
    String o = Sh.exec(Sh.in(netns, "python3", "-c", PodServer.CLIENT, dst, "" + port, "" + count, "" + timeout, proto,
        "" + sport, "" + rate)).out();
    List<String> lines = o.lines().toList();
    if (lines.size() != count) {
      throw new IOException("client printed " + lines.size() + " of " + count + " lines: " + o);
    }
    return lines;
  }

  /** A frontend of a Service as the client reaches it. */
  public record Frontend(String service, String kind, String address, int port, String proto) {
    String label() {
      return kind + " " + address + ":" + port + "/" + proto;
    }
  }

  public List<Frontend> frontends(KubernetesClient client) {
    List<Frontend> out = new ArrayList<>();
    List<Service> services = new ArrayList<>(client.services().inAnyNamespace().list().getItems());
    services.sort(Comparator.comparing(s -> s.getMetadata().getNamespace() + "/" + s.getMetadata().getName()));
    for (Service s : services) {
      String key = s.getMetadata().getNamespace() + "/" + s.getMetadata().getName();
      for (ServicePort p : s.getSpec().getPorts()) {
        String proto = Objects.requireNonNullElse(p.getProtocol(), "TCP").toLowerCase();
        if (s.getSpec().getClusterIP() != null && !s.getSpec().getClusterIP().equals("None")) {
          out.add(new Frontend(key, "ClusterIP", s.getSpec().getClusterIP(), p.getPort(), proto));
        }
        if (p.getNodePort() != null && p.getNodePort() > 0) {
          for (int i : topo.nodeIndexes()) {
            out.add(new Frontend(key, "NodePort@" + topo.nodeName(i), topo.nodeIp(i), p.getNodePort(), proto));
          }
        }
        if (s.getStatus() != null && s.getStatus().getLoadBalancer() != null && s.getStatus().getLoadBalancer().getIngress() != null) {
          s.getStatus().getLoadBalancer().getIngress().forEach(
              in -> out.add(new Frontend(key, "LoadBalancer", in.getIp(), p.getPort(), proto)));
        }
      }
    }
    return out;
  }

  /** Waits until every ClusterIP frontend answers once (the whole path is programmed), at most {@code limit}. */
  public boolean awaitServing(KubernetesClient client, Duration limit) throws IOException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      List<Frontend> fs = frontends(client).stream().filter(f -> f.kind().equals("ClusterIP")).toList();
      boolean all = !fs.isEmpty();
      for (Frontend f : fs) {
        if (send(f.proto(), f.address(), f.port(), 1, 0.5, 0, 0).get(0).startsWith("ERR")) {
          all = false;
          break;
        }
      }
      if (all) {
        return true;
      }
      sleep(500);
    }
    return false;
  }

  /** Counts answers per backend for each frontend and prints a table. */
  public Map<Frontend, Map<String, Integer>> report(KubernetesClient client, int requests, PrintStream table) throws IOException {
    Map<Frontend, Map<String, Integer>> result = new LinkedHashMap<>();
    for (Frontend f : frontends(client)) {
      Map<String, Integer> n = new TreeMap<>();
      // Two failures in a row stop the frontend early (a node without local endpoints drops).
      List<String> lines = new ArrayList<>(send(f.proto(), f.address(), f.port(), Math.min(2, requests), 0.5, 0, 0));
      if (lines.stream().anyMatch(l -> !l.startsWith("ERR")) && requests > 2) {
        lines.addAll(send(f.proto(), f.address(), f.port(), requests - 2, 0.5, 0, 0));
      }
      for (String line : lines) {
        String who = line.startsWith("ERR") ? line : line.split(" ")[0];
        n.merge(who, 1, Integer::sum);
      }
      result.put(f, n);
    }
    table.printf("%-22s %-42s %s%n", "SERVICE", "FRONTEND (from " + topo.clientNs() + ")", "ANSWERS (backend=count)");
    result.forEach((f, n) -> {
      StringBuilder sb = new StringBuilder();
      n.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : "  ").append(k).append('=').append(v));
      table.printf("%-22s %-42s %s%n", f.service(), f.label(), sb);
    });
    return result;
  }

  public void printAccess(PrintStream o) {
    o.println();
    o.println("kubeconfig: " + topo.kubeconfig());
    o.println("  kubectl --kubeconfig " + topo.kubeconfig() + " get ft -A");
    o.println("  kubectl --kubeconfig " + topo.kubeconfig() + " get svc,endpointslices,deploy,pods -A");
    o.println("  kubectl --kubeconfig " + topo.kubeconfig() + " patch deploy -n demo web --type merge -p '{\"spec\":{\"replicas\":5}}'");
    o.println("metrics:");
    o.println("  operator  http://127.0.0.1:" + topo.operatorPort() + "/metrics");
    for (int i : topo.nodeIndexes()) {
      o.println("  " + topo.nodeName(i) + "    http://127.0.0.1:" + topo.agentMetricsLoopbackPort(i) + "/metrics   (= http://"
          + topo.nodeIp(i) + ":10249/metrics; healthz http://" + topo.nodeIp(i) + ":10256/healthz)");
    }
    o.println("client namespace: ip netns exec " + topo.clientNs() + " ...   logs: " + topo.stateDir().resolve("logs"));
  }

  static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
