package dev.turnpike.operator.scale;

import static dev.turnpike.operator.testing.Fixtures.service;

import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.ForwardingTable;
import dev.turnpike.operator.testing.Fixtures;
import dev.turnpike.operator.testing.MockCluster;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Scale benchmark (not a test): loads N Services with E endpoints each into the mock API server,
 * starts the operator jar as a separate process (so its heap and RSS are its own), and reports
 * time to the last ForwardingTable, reconciles/s, EndpointSlice-update → table-update latency and
 * the operator's memory. Run by hack/operator-scale.sh.
 *
 * <p>Arguments: operator-jar [services=10000] [endpointsPerService=10] [latencySamples=300].
 * Extra JVM options for the operator come from OPERATOR_JAVA_OPTS.
 */
public final class OperatorScaleHarness {
  public static void main(String[] args) throws Exception {
    Path jar = Path.of(args[0]);
    int services = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    int perService = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    int samples = args.length > 3 ? Integer.parseInt(args[3]) : 300;
    String ns = MockCluster.NAMESPACE;

    try (MockCluster cluster = new MockCluster(); KubernetesClient kube = cluster.newClient()) {
      long loadStart = System.nanoTime();
      ExecutorService pool = Executors.newFixedThreadPool(8);
      for (int i = 0; i < services; i++) {
        int n = i;
        pool.submit(() -> {
          kube.resource(service("svc-" + n, ip(n)).build()).create();
          kube.resource(slice(n, perService)).create();
          return null;
        });
      }
      pool.shutdown();
      pool.awaitTermination(1, TimeUnit.HOURS);
      System.out.printf("loaded %d Services / %d endpoints in %.1f s%n", services, services * perService, secs(loadStart));
      // The mock keeps every request for takeRequest(); drop what loading recorded.
      cluster.drain(r -> false);

      // Watch tables: when each first has a status, and when each changes.
      Map<String, Long> ready = new ConcurrentHashMap<>();
      Map<String, List<String>> backends = new ConcurrentHashMap<>();
      Map<String, Long> changedAt = new ConcurrentHashMap<>();
      var informer = kube.resources(ForwardingTable.class).inNamespace(ns).inform(new ResourceEventHandler<ForwardingTable>() {
        @Override public void onAdd(ForwardingTable t) { seen(t); }
        @Override public void onUpdate(ForwardingTable o, ForwardingTable t) { seen(t); }
        @Override public void onDelete(ForwardingTable t, boolean unknown) {}
        private void seen(ForwardingTable t) {
          long now = System.nanoTime();
          String name = t.getMetadata().getName();
          if (t.getStatus() != null) {
            ready.putIfAbsent(name, now);
          }
          List<String> addrs = t.getSpec().backends().stream().map(Backend::address).toList();
          if (!addrs.equals(backends.put(name, addrs))) {
            changedAt.put(name, now);
          }
        }
      });

      int port = freePort();
      List<String> cmd = new ArrayList<>(List.of("java"));
      String opts = System.getenv().getOrDefault("OPERATOR_JAVA_OPTS", "");
      if (!opts.isBlank()) {
        cmd.addAll(List.of(opts.trim().split("\\s+")));
      }
      cmd.addAll(List.of("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-jar", jar.toString(),
          "--leader-election=false", "--http-port=" + port));
      ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
      pb.environment().put("KUBERNETES_MASTER", cluster.server().url("/"));
      pb.environment().put("KUBERNETES_NAMESPACE", ns);
      pb.environment().put("KUBERNETES_AUTH_TRYKUBECONFIG", "false");
      pb.environment().put("KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false");
      pb.environment().put("KUBERNETES_TRUST_CERTIFICATES", "true");
      long start = System.nanoTime();
      Process operator = pb.start();
      try {
        while (ready.size() < services) {
          if (!operator.isAlive()) {
            throw new IllegalStateException("operator exited with " + operator.exitValue());
          }
          Thread.sleep(100);
        }
        long last = Collections.max(ready.values());
        double toLast = (last - start) / 1e9;
        double reconciles = metric(port, "operator_sdk_reconciliations_success_total");
        System.out.printf("time to last ForwardingTable: %.1f s (from operator process start)%n", toLast);
        System.out.printf("reconciles: %.0f, %.0f/s over that time%n", reconciles, reconciles / toLast);
        long rssAfterSync = rssKiB(operator.pid());
        double heapAfterSync = metric(port, "jvm_memory_used_bytes{area=\"heap\"");

        // Latency: one slice update at a time on the loaded operator.
        Random random = new Random(42);
        List<Double> latencies = new ArrayList<>();
        Map<Integer, Integer> sizes = new java.util.HashMap<>();
        for (int s = 0; s < samples; s++) {
          int n = random.nextInt(services);
          String name = "svc-" + n;
          // Every update must change the table: grow by one endpoint each time a Service is picked.
          int size = sizes.merge(n, perService + 1, (old, one) -> old + 1);
          EndpointSlice next = slice(n, size);
          changedAt.remove(name);
          long t0 = System.nanoTime();
          kube.resource(next).update();
          while (!changedAt.containsKey(name) || changedAt.get(name) < t0) {
            Thread.onSpinWait();
            if (System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(30)) {
              throw new IllegalStateException("no table update for " + name);
            }
          }
          latencies.add((changedAt.get(name) - t0) / 1e6);
          Thread.sleep(20);
        }
        Collections.sort(latencies);
        System.out.printf("slice update -> table update over %d updates: p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
            samples, pct(latencies, 50), pct(latencies, 99), latencies.get(latencies.size() - 1));
        System.out.printf("operator after sync: heap used %.0f MiB, RSS %d MiB; at end: heap used %.0f MiB, RSS %d MiB%n",
            heapAfterSync / 1048576, rssAfterSync / 1024,
            metric(port, "jvm_memory_used_bytes{area=\"heap\"") / 1048576, rssKiB(operator.pid()) / 1024);
      } finally {
        operator.destroy(); // SIGTERM: exercises the graceful shutdown path
        boolean exited = operator.waitFor(30, TimeUnit.SECONDS);
        System.out.println("operator stopped on SIGTERM: " + (exited ? "exit " + operator.exitValue() : "no, killed"));
        if (!exited) {
          operator.destroyForcibly();
        }
        informer.close();
      }
    }
    System.exit(0);
  }

  /** Service n's slice: endpoints 10.&lt;n/256+1&gt;.&lt;n%256&gt;.1.. (valid for n below 65,000). */
  static EndpointSlice slice(int n, int endpoints) {
    EndpointSlice s = Fixtures.slice("svc-" + n, "svc-" + n + "-a", 0, endpoints, null);
    for (int i = 0; i < endpoints; i++) {
      s.getEndpoints().get(i).setAddresses(List.of("10." + (n / 256 + 1) + "." + (n % 256) + "." + (i + 1)));
    }
    return s;
  }

  static String ip(int n) {
    return "10.96." + (n / 250) + "." + (n % 250 + 1);
  }

  static double secs(long since) {
    return (System.nanoTime() - since) / 1e9;
  }

  static double pct(List<Double> sorted, int p) {
    int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, i));
  }

  /** Sum of every sample of a Prometheus metric whose line starts with {@code prefix}. */
  static double metric(int port, String prefix) throws IOException, InterruptedException {
    String text = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    return text.lines().filter(l -> l.startsWith(prefix))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  static long rssKiB(long pid) throws IOException {
    return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
        .filter(l -> l.startsWith("VmRSS:"))
        .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", "")))
        .findFirst().orElse(-1);
  }

  static int freePort() throws IOException {
    try (var s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

}
