package dev.turnpike.dataplane.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.DataplaneMode;
import dev.turnpike.dataplane.health.Http;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class AgentMetricsTest {
  /** The metric families' sample names in the exposition, without labels. */
  private static Set<String> sampleNames(String exposition) {
    return Arrays.stream(exposition.split("\n"))
        .filter(l -> !l.startsWith("#") && !l.isBlank())
        .map(l -> l.replaceAll("[{ ].*", ""))
        .collect(Collectors.toCollection(TreeSet::new));
  }

  @Test
  void kubeProxyNamesUnderTheTurnpikePrefix() throws Exception {
    AgentMetrics m = new AgentMetrics(DataplaneMode.IPTABLES);
    Instant at = Instant.parse("2026-01-01T00:00:10Z");
    m.syncQueued(Instant.parse("2026-01-01T00:00:09Z"));
    m.syncSucceeded(true, Duration.ofMillis(3), at, 120, Map.of("nat", 100L, "filter", 20L), Map.of("external", 2));
    m.syncSucceeded(false, Duration.ofMillis(1), at, 120, Map.of("nat", 100L), Map.of());
    m.syncFailed(true);
    m.syncFailed(false);
    m.syncFailed(false);
    m.networkProgrammed(Duration.ofMillis(700));
    m.healthz(200);
    m.healthz(503);
    m.livez(200);

    try (MetricsServer server = new MetricsServer(new InetSocketAddress("127.0.0.1", 0), m)) {
      server.start();
      HttpResponse<String> r = Http.get("http://127.0.0.1:" + server.address().getPort() + "/metrics");
      assertEquals(200, r.statusCode());
      assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain; version=0.0.4"));
      String text = r.body();
      Set<String> names = sampleNames(text);
      for (String family : List.of(
          "turnpike_sync_proxy_rules_duration_seconds",
          "turnpike_sync_full_proxy_rules_duration_seconds",
          "turnpike_sync_partial_proxy_rules_duration_seconds",
          "turnpike_network_programming_duration_seconds")) {
        for (String suffix : List.of("_bucket", "_count", "_sum")) {
          assertTrue(names.contains(family + suffix), family + suffix + " in " + names);
        }
      }
      for (String name : List.of(
          "turnpike_sync_proxy_rules_last_timestamp_seconds",
          "turnpike_sync_proxy_rules_last_queued_timestamp_seconds",
          "turnpike_sync_proxy_rules_iptables_total",
          "turnpike_sync_proxy_rules_iptables_restore_failures_total",
          "turnpike_sync_proxy_rules_iptables_partial_restore_failures_total",
          "turnpike_sync_proxy_rules_no_local_endpoints_total",
          "turnpike_proxy_healthz_total",
          "turnpike_proxy_livez_total")) {
        assertTrue(names.contains(name), name + " in " + names);
      }

      // Exact sample lines. The filter table was not in the last sync's counts, so it dropped to
      // zero; no_local_endpoints is a gauge of the last sync, not a running sum.
      Set<String> lines = Set.of(text.split("\n"));
      for (String expected : List.of(
          "turnpike_sync_proxy_rules_last_timestamp_seconds 1.76722561E9",
          "turnpike_sync_proxy_rules_iptables_total{table=\"nat\",} 100.0",
          "turnpike_sync_proxy_rules_iptables_total{table=\"filter\",} 0.0",
          "turnpike_sync_proxy_rules_iptables_restore_failures_total 1.0",
          "turnpike_sync_proxy_rules_iptables_partial_restore_failures_total 2.0",
          "turnpike_sync_proxy_rules_no_local_endpoints_total{traffic_policy=\"external\",} 0.0",
          "turnpike_proxy_healthz_total{code=\"503\",} 1.0",
          "turnpike_sync_proxy_rules_duration_seconds_count 2.0",
          "turnpike_sync_full_proxy_rules_duration_seconds_count 1.0")) {
        assertTrue(lines.contains(expected), expected + " in\n" + text);
      }
      // kube-proxy's buckets: sync 1 ms .. 16.384 s; network programming 0.25 s .. 300 s.
      assertTrue(text.contains("turnpike_sync_proxy_rules_duration_seconds_bucket{le=\"0.001\",} 1.0"), text);
      assertTrue(text.contains("turnpike_sync_proxy_rules_duration_seconds_bucket{le=\"16.384\",} 2.0"));
      assertFalse(text.contains("turnpike_sync_proxy_rules_duration_seconds_bucket{le=\"32.768\""));
      assertTrue(text.contains("turnpike_network_programming_duration_seconds_bucket{le=\"0.5\",} 0.0"));
      assertTrue(text.contains("turnpike_network_programming_duration_seconds_bucket{le=\"1.0\",} 1.0"));
      assertTrue(text.contains("turnpike_network_programming_duration_seconds_bucket{le=\"115.0\","));
      assertTrue(text.contains("turnpike_network_programming_duration_seconds_bucket{le=\"300.0\","));
      assertFalse(text.contains("turnpike_network_programming_duration_seconds_bucket{le=\"61.0\","));
    }
  }

  @Test
  void bucketBoundsMatchKubeProxy() {
    assertEquals(15, AgentMetrics.syncBuckets().length);
    assertEquals(Duration.ofMillis(16384), AgentMetrics.syncBuckets()[14]);
    Duration[] np = AgentMetrics.networkProgrammingBuckets();
    assertEquals(2 + 59 + 12 + 7, np.length);
    assertEquals(Duration.ofMillis(250), np[0]);
    assertEquals(Duration.ofSeconds(300), np[np.length - 1]);
  }
}
