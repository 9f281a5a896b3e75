package dev.turnpike.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * The whole system on the lab's namespaces (prefix tpe, 10.252.0.0/16, LB IPs 198.51.100.96/27;
 * distinct from the lab a user runs): the real operator and agent jars as processes, the mock API
 * server and the harness as processes, real packets from the client namespace. Needs root, ip,
 * iptables, python3 and the operator and dataplane jars (built earlier in the reactor).
 */
@EnabledIf("available")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LabE2ETest {
  static final Path ROOT = Path.of(System.getProperty("lab.root", "..")).toAbsolutePath().normalize();
  static final Duration PROGRAMMING = Duration.ofSeconds(20); // loose: the tight figure is a benchmark

  /** One e2e lab per machine at a time: other worktrees' builds on this machine wait here. */
  static final Path LOCK = Path.of("/run/turnpike-e2e.lock");

  private Lab lab;
  private KubernetesClient client;
  private java.nio.channels.FileChannel lockChannel;
  private java.nio.channels.FileLock lock;

  static boolean available() {
    try {
      return Sh.exec("id", "-u").out().trim().equals("0") && Sh.quiet("ip", "-V") && Sh.quiet("iptables-save", "--version")
          && Sh.quiet("python3", "-V") && ROOT.resolve("operator/target/turnpike-operator.jar").toFile().isFile()
          && ROOT.resolve("dataplane/target/turnpike-dataplane.jar").toFile().isFile();
    } catch (IOException e) {
      return false;
    }
  }

  @BeforeAll
  void up() throws Exception {
    lockChannel = java.nio.channels.FileChannel.open(LOCK, java.nio.file.StandardOpenOption.CREATE,
        java.nio.file.StandardOpenOption.WRITE);
    long waitUntil = System.nanoTime() + Duration.ofMinutes(10).toNanos();
    while ((lock = lockChannel.tryLock()) == null) {
      if (System.nanoTime() > waitUntil) {
        lockChannel.close();
        throw new AssertionError("another e2e lab held " + LOCK + " for 10 minutes");
      }
      Thread.sleep(1000);
    }
    lab = new Lab(Topology.test(Path.of("/run/turnpike-e2e")), ROOT, System.getProperty("java.class.path"), System.out);
    try {
      lab.up(List.of(ROOT.resolve("test-e2e/manifests")));
      client = lab.client();
      assertTrue(lab.awaitServing(client, Duration.ofSeconds(90)), "every ClusterIP answers");
    } catch (Exception | Error e) {
      down();
      throw e;
    }
  }

  @AfterAll
  void down() throws IOException {
    if (client != null) {
      client.close();
      client = null;
    }
    try {
      if (lab != null) {
        lab.down();
        assertEquals(List.of(), lab.leftovers(), "down leaves nothing behind");
      }
    } finally {
      if (lock != null) {
        lock.release();
        lock = null;
      }
      if (lockChannel != null) {
        lockChannel.close();
        lockChannel = null;
      }
    }
  }

  private Service svc(String name) {
    return client.services().inNamespace("demo").withName(name).get();
  }

  private String lbIp(String name) {
    return svc(name).getStatus().getLoadBalancer().getIngress().get(0).getIp();
  }

  private static Map<String, Integer> byBackend(List<String> answers) {
    Map<String, Integer> n = new TreeMap<>();
    answers.forEach(a -> n.merge(a.startsWith("ERR") ? a : a.split(" ")[0], 1, Integer::sum));
    return n;
  }

  private void scale(String deployment, int replicas) {
    client.apps().deployments().inNamespace("demo").withName(deployment).edit(d -> {
      d.getSpec().setReplicas(replicas);
      return d;
    });
  }

  /** Polls until {@code ok} holds for a sample of answers; returns the time it took. */
  private Duration awaitAnswers(String dst, int port, int sample, Predicate<Map<String, Integer>> ok, Duration limit) throws Exception {
    long start = System.nanoTime();
    Map<String, Integer> last = Map.of();
    while (System.nanoTime() - start < limit.toNanos()) {
      last = byBackend(lab.send("tcp", dst, port, sample, 0.5, 0, 0));
      if (ok.test(last)) {
        return Duration.ofNanos(System.nanoTime() - start);
      }
      Thread.sleep(200);
    }
    throw new AssertionError("not within " + limit + ": last answers " + last);
  }

  @Test
  @Order(1)
  void clusterIpNodePortAndLoadBalancerReachTheirBackends() throws Exception {
    Map<Lab.Frontend, Map<String, Integer>> r = lab.report(client, 12, System.out);
    Map<String, Set<String>> answered = new TreeMap<>();
    r.forEach((f, n) -> {
      if (!(f.service().equals("demo/local") && f.kind().equals("NodePort@node-b"))) {
        assertTrue(n.keySet().stream().noneMatch(k -> k.startsWith("ERR")), f + " -> " + n);
      }
      answered.computeIfAbsent(f.service() + " " + f.kind(), k -> new TreeSet<>()).addAll(n.keySet());
    });
    String web = svc("web").getSpec().getClusterIP();
    assertEquals(3, byBackend(lab.send("tcp", web, 80, 30, 0.5, 0, 0)).size(), "ClusterIP spreads over 3 pods");
    assertEquals(3, byBackend(lab.send("udp", web, 53, 30, 0.5, 0, 0)).size(), "UDP too");
    for (int i : lab.topology().nodeIndexes()) {
      Map<String, Integer> np = byBackend(lab.send("tcp", lab.topology().nodeIp(i), 30080, 30, 0.5, 0, 0));
      assertEquals(3, np.size(), "NodePort via " + lab.topology().nodeName(i) + ": " + np);
    }
    Map<String, Integer> lb = byBackend(lab.send("tcp", lbIp("api"), 80, 20, 0.5, 0, 0));
    assertEquals(Set.of(), Set.copyOf(lb.keySet().stream().filter(k -> !k.startsWith("api-")).toList()), lb.toString());
    assertEquals(2, lb.size(), "LoadBalancer reaches both api pods: " + lb);
  }

  @Test
  @Order(2)
  void trafficFollowsScaleDownAndUp() throws Exception {
    String web = svc("web").getSpec().getClusterIP();
    scale("web", 1);
    Duration down = awaitAnswers(web, 80, 12, n -> n.size() == 1 && n.keySet().stream().noneMatch(k -> k.startsWith("ERR")),
        PROGRAMMING);
    scale("web", 4);
    Duration up = awaitAnswers(web, 80, 24, n -> n.size() == 4 && n.keySet().stream().noneMatch(k -> k.startsWith("ERR")),
        PROGRAMMING);
    System.out.printf("scale web 3->1: traffic followed in %d ms; 1->4 in %d ms%n",
        down.toMillis(), up.toMillis());
    scale("web", 3);
  }

  @Test
  @Order(3)
  void maglevSameFlowSameBackendThroughEitherNodeAndRemovalMovesOnlyItsFlows() throws Exception {
    String ip = lbIp("edge");
    int flows = 200;
    lab.routeClientVia(0);
    List<String> viaA = lab.send("tcp", ip, 80, flows, 1.0, 23000, 0);
    lab.routeClientVia(1);
    List<String> viaB = lab.send("tcp", ip, 80, flows, 1.0, 23000, 0);
    lab.routeClientVia(0);
    List<String> a = viaA.stream().map(s -> s.split(" ")[0]).toList();
    List<String> b = viaB.stream().map(s -> s.split(" ")[0]).toList();
    assertEquals(a, b, "the same 5-tuple lands on the same backend through node-a and node-b");
    assertEquals(3, new TreeSet<>(a).size(), a.toString());

    // Remove one backend (the Deployment's newest pod) and wait until no flow lands on it.
    Set<String> before = new TreeSet<>(a);
    scale("edge", 2);
    awaitAnswers(ip, 80, 12, n -> n.size() == 2 && n.keySet().stream().noneMatch(k -> k.startsWith("ERR")), PROGRAMMING);
    for (int i : lab.topology().nodeIndexes()) {
      Sh.quiet(Sh.in(lab.topology().nodeNs(i), "conntrack", "-F"));
    }
    List<String> after = lab.send("tcp", ip, 80, flows, 1.0, 23000, 0).stream().map(s -> s.split(" ")[0]).toList();
    Set<String> remaining = new TreeSet<>(after);
    assertEquals(2, remaining.size(), after.toString());
    assertTrue(before.containsAll(remaining), before + " ⊇ " + remaining);
    int moved = 0;
    int onSurvivors = 0;
    for (int i = 0; i < flows; i++) {
      if (remaining.contains(a.get(i))) {
        onSurvivors++;
        if (!a.get(i).equals(after.get(i))) {
          moved++;
        }
      }
    }
    System.out.printf("maglev: %d of the %d flows on surviving backends moved%n", moved, onSurvivors);
    // Maglev's own extra disruption at the default M=4093 is a few percent of the survivors' flows.
    assertTrue(moved <= onSurvivors / 10, moved + " of " + onSurvivors + " flows on surviving backends moved");
    scale("edge", 3);
  }

  @Test
  @Order(4)
  void externalTrafficPolicyLocalKeepsTheSourceAndHealthChecksTellTheNodesApart() throws Exception {
    Topology t = lab.topology();
    int nodePort = svc("local").getSpec().getPorts().get(0).getNodePort();
    int hc = svc("local").getSpec().getHealthCheckNodePort();
    String viaA = lab.send("tcp", lbIp("local"), 80, 1, 1.0, 0, 0).get(0);
    assertTrue(viaA.startsWith("local-") && viaA.endsWith(" " + t.clientIp()), "client address kept: " + viaA);
    assertEquals(" " + t.clientIp(), lab.send("tcp", t.nodeIp(0), nodePort, 1, 1.0, 0, 0).get(0).replaceFirst("^\\S+", ""));
    assertEquals("ERR timeout", lab.send("tcp", t.nodeIp(1), nodePort, 1, 0.5, 0, 0).get(0), "node-b has no local endpoint");
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    int[] codes = new int[2];
    for (int i : t.nodeIndexes()) {
      codes[i] = http.send(HttpRequest.newBuilder(URI.create("http://" + t.nodeIp(i) + ":" + hc + "/")).timeout(Duration.ofSeconds(2))
          .build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
    assertEquals(200, codes[0], "node-a has the pod");
    assertEquals(503, codes[1], "node-b has none");
  }

  /** Both iptables variants' rules in a node namespace (the test need not know which one the agent picked). */
  private String nodeRules(int node) throws IOException {
    return Sh.exec(Sh.in(lab.topology().nodeNs(node), "iptables-legacy-save")).out()
        + Sh.exec(Sh.in(lab.topology().nodeNs(node), "iptables-nft-save")).out();
  }

  private int httpStatus(String url) {
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  @Test
  @Order(5)
  void agentRestartUnderARequestLoopLosesNothingAndTheRulesStay() throws Exception {
    String web = svc("web").getSpec().getClusterIP();
    awaitAnswers(web, 80, 12, n -> n.size() == 3 && n.keySet().stream().noneMatch(k -> k.startsWith("ERR")), PROGRAMMING);
    int requests = 20 * 30; // 20 requests/s for 30 s (the figure), through node-a
    var loop = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return lab.send("tcp", web, 80, requests, 1.0, 0, 20);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    Thread.sleep(2000);
    String agent = "agent-" + lab.topology().nodeName(0);
    long t0 = System.nanoTime();
    lab.stop(agent, Duration.ofSeconds(10));
    lab.startAgent(0);
    int polls = 0;
    int absent = 0;
    while (!loop.isDone()) {
      polls++;
      if (!nodeRules(0).contains(":TURNPIKE-SERVICES")) {
        absent++;
      }
      Thread.sleep(100);
    }
    List<String> answers = loop.get();
    List<String> failed = answers.stream().filter(a -> a.startsWith("ERR")).toList();
    System.out.printf("agent restart: %d requests, %d failed; rules polled %d times, absent %d times%n", answers.size(),
        failed.size(), polls, absent);
    assertEquals(List.of(), failed, "no request fails while the agent restarts");
    assertEquals(0, absent, "the chains are never absent");
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (httpStatus("http://" + lab.topology().nodeIp(0) + ":10256/healthz") != 200 && System.nanoTime() < deadline) {
      Thread.sleep(250);
    }
    assertEquals(200, httpStatus("http://" + lab.topology().nodeIp(0) + ":10256/healthz"), "the new agent is healthy");
    System.out.printf("agent restart: healthy again after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
  }

  @Test
  @Order(6)
  void operatorLeaderKillTheStandbyTakesOverAndProgramsAChangeMadeMeanwhile() throws Exception {
    Topology t = lab.topology();
    lab.startOperator("operator-1");
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (httpStatus("http://127.0.0.1:" + (t.operatorPort() + 1) + "/readyz") != 200 && System.nanoTime() < deadline) {
      Thread.sleep(250);
    }
    assertEquals(200, httpStatus("http://127.0.0.1:" + (t.operatorPort() + 1) + "/readyz"), "the standby is ready");
    long t0 = System.nanoTime();
    lab.stop("operator-0", Duration.ZERO); // SIGKILL: the Lease is not released
    Service late = new io.fabric8.kubernetes.api.model.ServiceBuilder().withNewMetadata().withNamespace("demo").withName("late")
        .withUid(java.util.UUID.randomUUID().toString()).endMetadata()
        .withNewSpec().addToSelector("app", "web").addNewPort().withName("http").withPort(81)
        .withNewTargetPort(8080).endPort().endSpec().build();
    client.resource(late).create();
    Service allocated = null;
    deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while ((allocated == null || allocated.getSpec().getClusterIP() == null) && System.nanoTime() < deadline) {
      Thread.sleep(200);
      allocated = svc("late");
    }
    String ip = allocated.getSpec().getClusterIP();
    Duration took = awaitAnswers(ip, 81, 6, n -> n.keySet().stream().allMatch(k -> k.startsWith("web-")), Duration.ofSeconds(60));
    System.out.printf("operator leader kill: a Service created during the handover answered %d ms after the kill%n",
        (System.nanoTime() - t0) / 1_000_000);
    assertTrue(took.toSeconds() < 60);
  }

  @Test
  @Order(7)
  void apiServerUnreachableThirtySecondsTheDataplaneKeepsForwardingAndChangesMadeMeanwhileConverge() throws Exception {
    String web = svc("web").getSpec().getClusterIP();
    String lb = lbIp("api");
    awaitAnswers(lb, 80, 12, n -> n.size() == 2 && n.keySet().stream().noneMatch(k -> k.startsWith("ERR")), PROGRAMMING);
    List<String> failed = new ArrayList<>();
    Set<String> duringOutage = new TreeSet<>();
    int sent = 0;
    lab.apiReachable(false); // for the operator and both agents; the harness (kubelet, controllers) still writes
    long t0 = System.nanoTime();
    try {
      boolean scaled = false;
      while (System.nanoTime() - t0 < Duration.ofSeconds(30).toNanos()) {
        if (!scaled && System.nanoTime() - t0 > Duration.ofSeconds(3).toNanos()) {
          scale("api", 3); // a change made while the dataplane cannot see the API server
          scaled = true;
        }
        for (String dst : List.of(web, lb)) {
          List<String> a = lab.send("tcp", dst, 80, 10, 1.0, 0, 20);
          sent += a.size();
          a.stream().filter(x -> x.startsWith("ERR")).forEach(failed::add);
          if (dst.equals(lb)) {
            a.stream().filter(x -> !x.startsWith("ERR")).forEach(x -> duringOutage.add(x.split(" ")[0]));
          }
        }
        Thread.sleep(1000);
      }
    } finally {
      lab.apiReachable(true);
    }
    System.out.printf("api server unreachable 30 s: %d requests, %d failed; api answered from %s%n", sent, failed.size(),
        duringOutage);
    assertEquals(List.of(), failed, "the dataplane keeps forwarding without the API server");
    assertEquals(2, duringOutage.size(), "the scale-up made meanwhile is not programmed while unreachable: " + duringOutage);
    Duration took = awaitAnswers(lb, 80, 24, n -> n.size() == 3 && n.keySet().stream().noneMatch(k -> k.startsWith("ERR")),
        Duration.ofSeconds(120));
    System.out.printf("api server reachable again: the scale-up made meanwhile converged in %d ms%n", took.toMillis());
    scale("api", 2);
  }

  private String httpBody(String url) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  @Test
  @Order(8)
  void metricsOnLoopbackAndKubectlAgainstTheEmbeddedApiServer() throws Exception {
    Topology t = lab.topology();
    for (int i : t.nodeIndexes()) {
      String m = httpBody("http://127.0.0.1:" + t.agentMetricsLoopbackPort(i) + "/metrics");
      assertTrue(m.contains("turnpike_sync_proxy_rules_count"), t.nodeName(i) + " metrics on loopback");
    }
    // operator-0 was killed in the leader test; the standby answers on the next port.
    assertTrue(httpBody("http://127.0.0.1:" + (t.operatorPort() + 1) + "/metrics").contains("turnpike_forwarding_tables"));
    org.junit.jupiter.api.Assumptions.assumeTrue(Sh.quiet("kubectl", "version", "--client"), "kubectl is not installed");
    Sh.Result r = Sh.exec("kubectl", "--kubeconfig", t.kubeconfig().toString(), "--cache-dir",
        t.stateDir().resolve("kube-cache").toString(), "get", "ft", "-A");
    System.out.print(r.out());
    assertEquals(0, r.code(), r.out());
    assertTrue(r.out().contains("ALGORITHM") && r.out().lines().anyMatch(l -> l.contains("edge") && l.contains("maglev")), r.out());
  }

  @Test
  @Order(10)
  void downRemovesEverything() throws Exception {
    // Checked for real in @AfterAll (after every test); here: what down must remove exists now.
    List<String> present = new ArrayList<>(lab.leftovers());
    assertTrue(present.stream().anyMatch(s -> s.startsWith("namespace ")), present.toString());
    assertTrue(present.stream().anyMatch(s -> s.startsWith("process ")), present.toString());
  }
}
