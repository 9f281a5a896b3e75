package dev.turnpike.dataplane.health;

import com.sun.net.httpserver.HttpServer;
import dev.turnpike.dataplane.ServiceKey;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP server per healthCheckNodePort of the node's ETP-Local LoadBalancer Services, as
 * kube-proxy's ServiceHealthServer: 200 when the Service has local endpoints and the agent is
 * healthy, else 503, so the cloud load balancer only sends traffic to nodes that can serve it.
 * Servers open and close as Services come and go; a port that fails to bind (for example one
 * still closing) is retried on the next sync.
 */
public final class ServiceHealthServers implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ServiceHealthServers.class);

  private final InetAddress bindAddress;
  private final ProxyHealth health;
  private final Map<ServiceKey, Instance> instances = new HashMap<>(); // guarded by this
  // HttpServer.stop can take about a second (the dispatcher's select timeout); the sync thread
  // must not wait for it.
  private final ExecutorService closer = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "health-check-closer");
    t.setDaemon(true);
    return t;
  });

  private static final class Instance {
    final int port;
    final HttpServer server;
    volatile int localEndpoints;

    Instance(int port, HttpServer server) {
      this.port = port;
      this.server = server;
    }
  }

  public ServiceHealthServers(InetAddress bindAddress, ProxyHealth health) {
    this.bindAddress = bindAddress;
    this.health = health;
  }

  /** Makes the open servers exactly {@code wanted}, and sets their local endpoint counts. */
  public synchronized void sync(Map<ServiceKey, LocalEndpoints.HealthCheck> wanted) {
    instances.entrySet().removeIf(e -> {
      LocalEndpoints.HealthCheck w = wanted.get(e.getKey());
      if (w != null && w.port() == e.getValue().port) {
        return false;
      }
      LOG.info("closing health check for {} on port {}", e.getKey(), e.getValue().port);
      HttpServer server = e.getValue().server;
      closer.execute(() -> server.stop(0));
      return true;
    });
    wanted.forEach((key, w) -> {
      Instance inst = instances.get(key);
      if (inst == null) {
        try {
          inst = open(key, w.port());
        } catch (IOException e) {
          LOG.error("cannot open health check for {} on port {}: {}", key, w.port(), e.toString());
          return;
        }
        instances.put(key, inst);
      }
      inst.localEndpoints = w.localEndpoints();
    });
  }

  private Instance open(ServiceKey key, int port) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(bindAddress, port), 0);
    Instance inst = new Instance(port, server);
    server.createContext("/", ex -> {
      int count = inst.localEndpoints;
      boolean healthy = health.isHealthy();
      ex.getResponseHeaders().set("X-Load-Balancing-Endpoint-Weight", Integer.toString(count));
      HealthServer.send(ex, count != 0 && healthy ? 200 : 503, body(key, count, healthy));
    });
    server.start();
    LOG.info("opened health check for {} on port {}", key, port);
    return inst;
  }

  /** kube-proxy's body, byte for byte. */
  static String body(ServiceKey key, int count, boolean healthy) {
    return "{\n\t\"service\": {\n\t\t\"namespace\": " + quote(key.namespace()) + ",\n\t\t\"name\": "
        + quote(key.name()) + "\n\t},\n\t\"localEndpoints\": " + count + ",\n\t\"serviceProxyHealthy\": "
        + healthy + "\n}";
  }

  // Namespaces and names are DNS labels, so only the quotes are needed.
  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  public synchronized Map<ServiceKey, Integer> openPorts() {
    Map<ServiceKey, Integer> out = new HashMap<>();
    instances.forEach((k, v) -> out.put(k, v.port));
    return out;
  }

  @Override
  public synchronized void close() {
    instances.values().forEach(i -> closer.execute(() -> i.server.stop(0)));
    instances.clear();
    closer.shutdown();
  }
}
