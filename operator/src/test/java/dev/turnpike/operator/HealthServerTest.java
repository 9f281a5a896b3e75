package dev.turnpike.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class HealthServerTest {
  final HttpClient http = HttpClient.newHttpClient();

  HttpResponse<String> get(HealthServer s, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void probesFollowTheirChecksAndMetricsAreServedAsPrometheusText() throws Exception {
    AtomicBoolean healthy = new AtomicBoolean(true);
    AtomicBoolean ready = new AtomicBoolean(false);
    try (HealthServer s = new HealthServer(0, healthy::get, ready::get, () -> "turnpike_backends 3.0\n").start()) {
      assertEquals(200, get(s, "/healthz").statusCode());
      assertEquals(503, get(s, "/readyz").statusCode());
      ready.set(true);
      healthy.set(false);
      assertEquals(200, get(s, "/readyz").statusCode());
      assertEquals(503, get(s, "/healthz").statusCode());
      var metrics = get(s, "/metrics");
      assertEquals(200, metrics.statusCode());
      assertTrue(metrics.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain; version=0.0.4"));
      assertEquals("turnpike_backends 3.0\n", metrics.body());
    }
  }

  @Test
  void aThrowingCheckIsNotOk() throws Exception {
    try (HealthServer s = new HealthServer(0, () -> { throw new IllegalStateException(); }, () -> true, () -> "").start()) {
      assertEquals(503, get(s, "/healthz").statusCode());
    }
  }
}
