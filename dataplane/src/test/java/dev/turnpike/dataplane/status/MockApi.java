package dev.turnpike.dataplane.status;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The Fabric8 mock API server in CRUD mode, with the committed CRDs and a log of requests. */
public final class MockApi {
  private final KubernetesMockServer server;
  private final List<RecordedRequest> seen = new ArrayList<>();

  public MockApi(KubernetesMockServer server) {
    this.server = server;
  }

  /** Installs the CRD YAML committed under crds/generated, as a cluster would. */
  public static void installCrds(KubernetesClient client) throws IOException {
    for (String name : List.of("forwardingtables.turnpike.dev-v1.yml", "dataplanenodes.turnpike.dev-v1.yml")) {
      try (InputStream in = Files.newInputStream(Path.of("../crds/generated", name))) {
        client.apiextensions().v1().customResourceDefinitions().load(in).createOr(r -> r.update());
      }
    }
  }

  /** Every request the server received so far (drains the server's queue into this log). */
  public synchronized List<RecordedRequest> requests() throws InterruptedException {
    RecordedRequest r;
    while ((r = server.takeRequest(1, TimeUnit.MILLISECONDS)) != null) {
      seen.add(r);
    }
    return List.copyOf(seen);
  }

  /** Requests with this method whose path (without the query) is exactly {@code path}. */
  public long count(String method, String path) throws InterruptedException {
    return requests().stream()
        .filter(r -> r.getMethod().equals(method) && r.getPath().replaceAll("\\?.*", "").equals(path))
        .count();
  }

  public static String statusPath(String node) {
    return "/apis/turnpike.dev/v1alpha1/dataplanenodes/" + node + "/status";
  }
}
