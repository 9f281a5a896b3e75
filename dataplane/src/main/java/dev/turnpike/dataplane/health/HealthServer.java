package dev.turnpike.dataplane.health;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.function.IntConsumer;

/**
 * /healthz and /livez with kube-proxy's status codes and JSON bodies. /healthz is 200 only when
 * the agent is healthy and the node is eligible; /livez ignores node eligibility.
 */
public final class HealthServer implements AutoCloseable {
  // Go's time.Time String() layout, which kube-proxy's %q of a time prints.
  private static final DateTimeFormatter GO_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSSSSS Z 'UTC'").withZone(ZoneOffset.UTC);

  private final ProxyHealth health;
  private final HttpServer server;

  /**
   * @param healthzCodes told each /healthz status code (for turnpike_proxy_healthz_total)
   * @param livezCodes told each /livez status code
   */
  public HealthServer(InetSocketAddress bind, ProxyHealth health, IntConsumer healthzCodes, IntConsumer livezCodes)
      throws IOException {
    this.health = health;
    this.server = HttpServer.create(bind, 0);
    server.createContext("/healthz", ex -> respond(ex, true, healthzCodes));
    server.createContext("/livez", ex -> respond(ex, false, livezCodes));
  }

  public void start() {
    server.start();
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  private void respond(HttpExchange ex, boolean healthz, IntConsumer codes) throws IOException {
    ProxyHealth.State s = health.state();
    boolean ok = s.healthy() && (!healthz || s.nodeEligible());
    int code = ok ? 200 : 503;
    codes.accept(code);
    // As kube-proxy: a healthy response reports "now" as lastUpdated, for compatibility with
    // clients that read it as "the sync loop is running".
    Instant lastUpdated = ok ? s.now() : s.lastUpdated();
    String body = "{\"lastUpdated\": \"" + GO_TIME.format(lastUpdated) + "\",\"currentTime\": \""
        + GO_TIME.format(s.now()) + "\"" + (healthz ? ", \"nodeEligible\": " + s.nodeEligible() : "") + "}";
    send(ex, code, body);
  }

  static void send(HttpExchange ex, int code, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    ex.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
