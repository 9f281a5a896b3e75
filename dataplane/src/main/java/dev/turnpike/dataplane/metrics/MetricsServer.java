package dev.turnpike.dataplane.metrics;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** Serves {@code /metrics} (Prometheus text format 0.0.4). */
public final class MetricsServer implements AutoCloseable {
  private final HttpServer server;

  public MetricsServer(InetSocketAddress bind, AgentMetrics metrics) throws IOException {
    server = HttpServer.create(bind, 0);
    server.createContext("/metrics", ex -> {
      byte[] body = metrics.scrape().getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      ex.sendResponseHeaders(200, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    });
  }

  public void start() {
    server.start();
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
