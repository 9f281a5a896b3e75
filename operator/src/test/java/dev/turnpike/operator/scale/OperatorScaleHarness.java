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
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Scale benchmark (not a test): loads N Services with E endpoints each into the mock API server,
 * starts the operator jar as a separate process (so its heap and RSS are its own), and reports
 * time to the last ForwardingTable, reconciles/s, EndpointSlice-update → table-update latency and
 * the operator's memory. Run by hack/operator-scale.sh.
 *
 * <p>Arguments: operator-jar [services=10000] [endpointsPerService=10] [latencySamples=300]
 * [latencyRounds=1]; each round is a separate p50/p99 on the same loaded operator, to show the spread.
 * Extra JVM options for the operator come from OPERATOR_JAVA_OPTS.
 */
public final class OperatorScaleHarness {
  public static void main(String[] args) throws Exception {
    Path jar = Path.of(args[0]);
    int services = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    int perService = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    int samples = args.length > 3 ? Integer.parseInt(args[3]) : 300;
    int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 1;
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

      // The harness's own view of the slices: the latency phase updates from it (one PUT carrying the
      // cached resourceVersion, as the EndpointSlice controller does), and its watch event marks when
      // the mock server told its watchers about the update.
      Map<String, Long> sliceSeen = new ConcurrentHashMap<>();
      SharedIndexInformer<EndpointSlice> sliceInformer = kube.resources(EndpointSlice.class).inNamespace(ns).inform(new ResourceEventHandler<EndpointSlice>() {
        @Override public void onAdd(EndpointSlice s) { sliceSeen.put(s.getMetadata().getName(), System.nanoTime()); }
        @Override public void onUpdate(EndpointSlice o, EndpointSlice s) { onAdd(s); }
        @Override public void onDelete(EndpointSlice s, boolean unknown) {}
      });
      mockFloor(cluster, kube, sliceInformer, services);

      // Watch tables: when each first has a status, and when each changes.
      Map<String, Long> ready = new ConcurrentHashMap<>();
      Map<String, List<String>> backends = new ConcurrentHashMap<>();
      Map<String, Long> changedAt = new ConcurrentHashMap<>();
      BlockingQueue<String> changes = new LinkedBlockingQueue<>();
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
            changes.add(name);
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
          cluster.drain(r -> false); // the mock records every request; keep the harness heap flat
        }
        long last = Collections.max(ready.values());
        double toLast = (last - start) / 1e9;
        double reconciles = metric(port, "operator_sdk_reconciliations_success_total");
        System.out.printf("time to last ForwardingTable: %.1f s (from operator process start)%n", toLast);
        System.out.printf("reconciles: %.0f, %.0f/s over that time%n", reconciles, reconciles / toLast);
        long rssAfterSync = rssKiB(operator.pid());
        double heapAfterSync = metric(port, "jvm_memory_used_bytes{area=\"heap\"");

        // Latency: one slice update at a time on the loaded operator. The mock server times every
        // request, which splits each sample into: harness -> mock (client send), the mock's own
        // handling of the slice PUT, mock's watch event -> the operator's table PUT arriving (the
        // operator's share: watch delivery, informer, reconcile, HTTP), the mock's handling of the
        // table PUT, and the table's watch event reaching the harness.
        Random random = new Random(42);
        Map<Integer, Integer> sizes = new java.util.HashMap<>();
        List<Timing> timings = Collections.synchronizedList(new ArrayList<>());
        cluster.timeRequests((method, path, from, to) -> timings.add(new Timing(method, path, from, to)));
        for (int round = 1; round <= rounds; round++) {
          double gcCount = metric(port, "jvm_gc_pause_seconds_count");
          double gcSum = metric(port, "jvm_gc_pause_seconds_sum");
          List<Double> latencies = new ArrayList<>();
          List<Segments> segments = new ArrayList<>();
          for (int s = 0; s < samples; s++) {
            int n = random.nextInt(services);
            String name = "svc-" + n;
            // Every update must change the table: grow by one endpoint each time a Service is picked.
            int size = sizes.merge(n, perService + 1, (old, one) -> old + 1);
            EndpointSlice next = slice(n, size);
            next.getMetadata().setResourceVersion(
                sliceInformer.getStore().getByKey(ns + "/" + name + "-a").getMetadata().getResourceVersion());
            changedAt.remove(name);
            changes.clear();
            timings.clear();
            long t0 = System.nanoTime();
            kube.resource(next).update();
            while (!changedAt.containsKey(name) || changedAt.get(name) < t0) {
              if (changes.poll(30, TimeUnit.SECONDS) == null) {
                throw new IllegalStateException("no table update for " + name);
              }
            }
            long seen = changedAt.get(name);
            latencies.add((seen - t0) / 1e6);
            segments.add(Segments.of(name, t0, seen, List.copyOf(timings)));
            Thread.sleep(20);
          }
          Collections.sort(latencies);
          System.out.printf("round %d (load %s): slice update -> table update over %d updates: p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
              round, Files.readString(Path.of("/proc/loadavg")).trim(), samples, pct(latencies, 50), pct(latencies, 99),
              latencies.get(latencies.size() - 1));
          System.out.printf("  operator GC pauses during the round: %.0f, %.0f ms in total (largest pause in the last minutes %.0f ms)%n",
              metric(port, "jvm_gc_pause_seconds_count") - gcCount, (metric(port, "jvm_gc_pause_seconds_sum") - gcSum) * 1000,
              maxMetric(port, "jvm_gc_pause_seconds_max") * 1000);
          Segments.report(segments);
        }
        cluster.timeRequests(null);
        System.out.printf("operator after sync: heap used %.0f MiB, RSS %d MiB; at end: heap used %.0f MiB, RSS %d MiB%n",
            heapAfterSync / 1048576, rssAfterSync / 1024,
            metric(port, "jvm_memory_used_bytes{area=\"heap\"") / 1048576, rssKiB(operator.pid()) / 1024);
        if (System.getenv("OPERATOR_HISTOGRAM") != null) {
          // Live objects by class (forces a full GC, so only after the measurements).
          Process jcmd = new ProcessBuilder("jcmd", String.valueOf(operator.pid()), "GC.class_histogram").redirectErrorStream(true).start();
          String histogram = new String(jcmd.getInputStream().readAllBytes());
          jcmd.waitFor();
          histogram.lines().limit(Integer.parseInt(System.getenv("OPERATOR_HISTOGRAM")) + 3L).forEach(System.out::println);
          histogram.lines().filter(l -> l.startsWith("Total")).forEach(System.out::println);
          System.out.printf("operator after the histogram's full GC: heap used %.0f MiB, RSS %d MiB%n",
              metric(port, "jvm_memory_used_bytes{area=\"heap\"") / 1048576, rssKiB(operator.pid()) / 1024);
        }
      } finally {
        operator.destroy(); // SIGTERM: exercises the graceful shutdown path
        boolean exited = operator.waitFor(30, TimeUnit.SECONDS);
        System.out.println("operator stopped on SIGTERM: " + (exited ? "exit " + operator.exitValue() : "no, killed"));
        if (!exited) {
          operator.destroyForcibly();
        }
        informer.close();
        sliceInformer.close();
      }
    }
    System.exit(0);
  }

  /**
   * The mock server's own cost per request at this object count, before the operator runs: GETs
   * and PUTs (unchanged content, cached resourceVersion) of random slices, timed inside the mock.
   */
  static void mockFloor(MockCluster cluster, KubernetesClient kube, SharedIndexInformer<EndpointSlice> slices, int services)
      throws InterruptedException {
    Random random = new Random(7);
    List<Timing> timings = Collections.synchronizedList(new ArrayList<>());
    List<Double> getClient = new ArrayList<>();
    List<Double> putClient = new ArrayList<>();
    cluster.timeRequests((method, path, from, to) -> timings.add(new Timing(method, path, from, to)));
    for (int i = 0; i < 100; i++) {
      String slice = "svc-" + random.nextInt(services) + "-a";
      long t0 = System.nanoTime();
      EndpointSlice got = kube.resources(EndpointSlice.class).inNamespace(MockCluster.NAMESPACE).withName(slice).get();
      long t1 = System.nanoTime();
      kube.resource(got).update();
      long t2 = System.nanoTime();
      getClient.add((t1 - t0) / 1e6);
      putClient.add((t2 - t1) / 1e6);
      Thread.sleep(20);
    }
    cluster.timeRequests(null);
    List<Double> getMock = new ArrayList<>();
    List<Double> putMock = new ArrayList<>();
    for (Timing t : timings) {
      (t.method().equals("GET") ? getMock : putMock).add(t.millis());
    }
    System.out.printf("mock server alone (no operator), %d stored objects: slice GET p50 %.1f / p99 %.1f ms in the mock (%.1f / %.1f ms client round trip); "
            + "slice PUT p50 %.1f / p99 %.1f ms in the mock (%.1f / %.1f ms round trip), %d GET + %d PUT%n",
        kube.resources(EndpointSlice.class).inNamespace(MockCluster.NAMESPACE).list().getItems().size()
            + kube.services().inNamespace(MockCluster.NAMESPACE).list().getItems().size(),
        pct(sorted(getMock), 50), pct(sorted(getMock), 99), pct(sorted(getClient), 50), pct(sorted(getClient), 99),
        pct(sorted(putMock), 50), pct(sorted(putMock), 99), pct(sorted(putClient), 50), pct(sorted(putClient), 99),
        getMock.size(), putMock.size());
  }

  record Timing(String method, String path, long start, long end) {
    double millis() {
      return (end - start) / 1e6;
    }
  }

  /** One latency sample split at the mock server's request boundaries (ms; NaN when not found). */
  record Segments(String name, double total, double send, double slicePut, double operator, double tablePut,
      double toHarness, int otherRequests, String others) {
    static Segments of(String name, long t0, long seen, List<Timing> timings) {
      Timing slice = null;
      Timing table = null;
      List<String> others = new ArrayList<>();
      for (Timing t : timings) {
        if (slice == null && t.method().equals("PUT") && t.path().contains("/endpointslices/" + name + "-a")) {
          slice = t;
        } else if (table == null && t.method().equals("PUT") && t.path().matches(".*/forwardingtables/" + name + "(\\?.*)?")) {
          table = t;
        } else {
          others.add(t.method() + " " + t.path().replaceAll("\\?.*", "") + String.format(" %.1fms", t.millis()));
        }
      }
      double nan = Double.NaN;
      return new Segments(name, (seen - t0) / 1e6,
          slice == null ? nan : (slice.start() - t0) / 1e6,
          slice == null ? nan : slice.millis(),
          slice == null || table == null ? nan : (table.start() - slice.end()) / 1e6,
          table == null ? nan : table.millis(),
          table == null ? nan : (seen - table.end()) / 1e6,
          others.size(), String.join(", ", others));
    }

    static void report(List<Segments> all) {
      System.out.printf("  segments p50 / p99 / max (ms): harness->mock %s; mock handles slice PUT %s; "
              + "slice PUT done -> table PUT arrives (operator) %s; mock handles table PUT %s; table PUT done -> harness sees it %s%n",
          stats(all, Segments::send), stats(all, Segments::slicePut), stats(all, Segments::operator),
          stats(all, Segments::tablePut), stats(all, Segments::toHarness));
      all.stream().sorted(Comparator.comparingDouble(Segments::total).reversed()).limit(5).forEach(s ->
          System.out.printf("  slow sample %s: total %.1f = send %.1f + slice PUT %.1f + operator %.1f + table PUT %.1f + to harness %.1f; other requests: %s%n",
              s.name(), s.total(), s.send(), s.slicePut(), s.operator(), s.tablePut(), s.toHarness(), s.others()));
    }

    static String stats(List<Segments> all, java.util.function.ToDoubleFunction<Segments> f) {
      List<Double> v = all.stream().mapToDouble(f).filter(d -> !Double.isNaN(d)).boxed().sorted().toList();
      return v.isEmpty() ? "n/a" : String.format("%.1f / %.1f / %.1f", pct(v, 50), pct(v, 99), v.get(v.size() - 1));
    }
  }

  static List<Double> sorted(List<Double> values) {
    List<Double> copy = new ArrayList<>(values);
    Collections.sort(copy);
    return copy;
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
    return samples(port, prefix).sum();
  }

  /** Largest sample of a Prometheus metric whose line starts with {@code prefix}. */
  static double maxMetric(int port, String prefix) throws IOException, InterruptedException {
    return samples(port, prefix).max().orElse(0);
  }

  static java.util.stream.DoubleStream samples(int port, String prefix) throws IOException, InterruptedException {
    String text = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    return text.lines().filter(l -> l.startsWith(prefix))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)));
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
