package dev.turnpike.dataplane.health;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.sync.FakeClock;
import java.net.InetAddress;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ServiceHealthServersTest {
  private static final ServiceKey WEB = new ServiceKey("shop", "web");
  private static final ServiceKey API = new ServiceKey("shop", "api");

  private final FakeClock clock = new FakeClock();
  private final ProxyHealth health = new ProxyHealth(clock, Duration.ofSeconds(60));
  private final ServiceHealthServers servers = new ServiceHealthServers(InetAddress.getLoopbackAddress(), health);

  @AfterEach
  void close() {
    servers.close();
  }

  @Test
  void okWithLocalEndpointsAndAHealthyAgentElseUnavailable() throws Exception {
    int port = Http.freePort();
    servers.sync(Map.of(WEB, new LocalEndpoints.HealthCheck(port, 2)));
    HttpResponse<String> r = Http.get("http://127.0.0.1:" + port + "/");
    assertEquals(200, r.statusCode());
    assertEquals("2", r.headers().firstValue("X-Load-Balancing-Endpoint-Weight").orElseThrow());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
    assertEquals("{\n\t\"service\": {\n\t\t\"namespace\": \"shop\",\n\t\t\"name\": \"web\"\n\t},\n"
        + "\t\"localEndpoints\": 2,\n\t\"serviceProxyHealthy\": true\n}", r.body());

    servers.sync(Map.of(WEB, new LocalEndpoints.HealthCheck(port, 0)));
    r = Http.get("http://127.0.0.1:" + port + "/healthz");
    assertEquals(503, r.statusCode(), "no local endpoints");
    assertEquals("0", r.headers().firstValue("X-Load-Balancing-Endpoint-Weight").orElseThrow());
    assertTrue(r.body().contains("\"localEndpoints\": 0"));

    servers.sync(Map.of(WEB, new LocalEndpoints.HealthCheck(port, 3)));
    health.queuedUpdate();
    clock.advance(Duration.ofSeconds(61));
    r = Http.get("http://127.0.0.1:" + port + "/");
    assertEquals(503, r.statusCode(), "agent unhealthy");
    assertTrue(r.body().contains("\"localEndpoints\": 3,\n\t\"serviceProxyHealthy\": false"), r.body());
  }

  @Test
  void serversOpenAndCloseAsServicesComeAndGo() throws Exception {
    int webPort = Http.freePort();
    int apiPort = Http.freePort();
    servers.sync(Map.of(WEB, new LocalEndpoints.HealthCheck(webPort, 1), API, new LocalEndpoints.HealthCheck(apiPort, 1)));
    assertEquals(Map.of(WEB, webPort, API, apiPort), servers.openPorts());
    assertEquals(200, Http.get("http://127.0.0.1:" + apiPort + "/").statusCode());

    servers.sync(Map.of(WEB, new LocalEndpoints.HealthCheck(webPort, 1)));
    await().atMost(Duration.ofSeconds(5)).until(() -> !Http.listening(apiPort));
    assertTrue(Http.listening(webPort));

    int movedPort = Http.freePort();
    servers.sync(Map.of(WEB, new LocalEndpoints.HealthCheck(movedPort, 1)));
    await().atMost(Duration.ofSeconds(5)).until(() -> !Http.listening(webPort));
    assertEquals(200, Http.get("http://127.0.0.1:" + movedPort + "/").statusCode());

    servers.sync(Map.of());
    assertEquals(Map.of(), servers.openPorts());
    await().atMost(Duration.ofSeconds(5)).until(() -> !Http.listening(movedPort));
  }

  @Test
  void aPortThatCannotBeBoundIsRetriedOnTheNextSync() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      servers.sync(Map.of(WEB, new LocalEndpoints.HealthCheck(port, 1)));
      assertFalse(servers.openPorts().containsKey(WEB));
      taken.close();
      servers.sync(Map.of(WEB, new LocalEndpoints.HealthCheck(port, 1)));
      assertEquals(Map.of(WEB, port), servers.openPorts());
      assertEquals(200, Http.get("http://127.0.0.1:" + port + "/").statusCode());
    }
  }
}
