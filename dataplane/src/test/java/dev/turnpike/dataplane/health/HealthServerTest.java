package dev.turnpike.dataplane.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.dataplane.sync.FakeClock;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class HealthServerTest {
  private final FakeClock clock = new FakeClock();
  private final ProxyHealth health = new ProxyHealth(clock, Duration.ofSeconds(60));
  private final List<Integer> healthzCodes = new ArrayList<>();
  private final List<Integer> livezCodes = new ArrayList<>();
  private HealthServer server;
  private String base;

  @BeforeEach
  void start() throws Exception {
    server = new HealthServer(new InetSocketAddress("127.0.0.1", 0), health, healthzCodes::add, livezCodes::add);
    server.start();
    base = "http://127.0.0.1:" + server.address().getPort();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private int healthz() throws Exception {
    return Http.get(base + "/healthz").statusCode();
  }

  private int livez() throws Exception {
    return Http.get(base + "/livez").statusCode();
  }

  @Test
  void healthyWithKubeProxysJsonBody() throws Exception {
    HttpResponse<String> r = Http.get(base + "/healthz");
    assertEquals(200, r.statusCode());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
    assertEquals(
        "{\"lastUpdated\": \"2026-01-01 00:00:00.000000000 +0000 UTC\",\"currentTime\": "
            + "\"2026-01-01 00:00:00.000000000 +0000 UTC\", \"nodeEligible\": true}",
        r.body());
    HttpResponse<String> l = Http.get(base + "/livez");
    assertEquals(200, l.statusCode());
    assertTrue(l.body().startsWith("{\"lastUpdated\": \"") && !l.body().contains("nodeEligible"), l.body());
  }

  @Test
  void queuedUpdateOlderThanTheTimeoutFailsBoth() throws Exception {
    health.queuedUpdate();
    clock.advance(Duration.ofSeconds(59));
    health.queuedUpdate(); // a later change does not reset the oldest pending one
    assertEquals(200, healthz());
    clock.advance(Duration.ofSeconds(1));
    assertEquals(503, healthz());
    assertEquals(503, livez());
    HttpResponse<String> r = Http.get(base + "/healthz");
    assertTrue(r.body().startsWith("{\"lastUpdated\": \"1970-01-01 00:00:00.000000000 +0000 UTC\""),
        "unhealthy responses report the last real update: " + r.body());
    health.updated(false);
    assertEquals(200, healthz());
    assertEquals(200, livez());
  }

  @Test
  void changesArrivingDuringASyncRestartTheWait() throws Exception {
    health.queuedUpdate();
    clock.advance(Duration.ofSeconds(50));
    health.updated(true);
    clock.advance(Duration.ofSeconds(59));
    assertEquals(200, healthz());
    clock.advance(Duration.ofSeconds(1));
    assertEquals(503, healthz());
  }

  @Test
  void ineligibleNodeFailsHealthzButNotLivez() throws Exception {
    health.nodeEligible(false);
    HttpResponse<String> r = Http.get(base + "/healthz");
    assertEquals(503, r.statusCode());
    assertTrue(r.body().endsWith("\"nodeEligible\": false}"), r.body());
    assertEquals(200, livez());
    health.nodeEligible(true);
    assertEquals(200, healthz());
    assertEquals(List.of(503, 200), healthzCodes);
    assertEquals(List.of(200), livezCodes);
  }
}
