package dev.turnpike.operator.testing;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRuleBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A Fabric8 mock API server in CRUD mode with Turnpike's committed CRDs installed, plus the one
 * canned answer CRUD mode cannot give (JOSDK's SelfSubjectRulesReview before leader election), and
 * a log of every request so tests can count writes.
 */
public final class MockCluster implements AutoCloseable {
  public static final String NAMESPACE = "test";
  private static final Path CRDS = Path.of("..", "crds", "generated");

  private final KubernetesMockServer server;
  private final List<RecordedRequest> seen = new ArrayList<>();
  private volatile RequestTimer timer;

  /** Told how long the mock server took to answer each request (the scale harness's breakdown). */
  @FunctionalInterface
  public interface RequestTimer {
    void handled(String method, String path, long startNanos, long endNanos);
  }

  public MockCluster() {
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    server =
        new KubernetesMockServer(
            new Context(Serialization.jsonMapper()),
            new MockWebServer(),
            responses,
            new KubernetesMixedDispatcher(responses) {
              @Override
              public MockResponse dispatch(RecordedRequest request) {
                long start = System.nanoTime();
                MockResponse response = super.dispatch(request);
                RequestTimer t = timer;
                if (t != null) {
                  t.handled(request.getMethod(), request.getPath(), start, System.nanoTime());
                }
                return response;
              }
            },
            false);
    server.init();
    server
        .expect()
        .post()
        .withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .andReturn(
            201,
            new SelfSubjectRulesReviewBuilder()
                .withNewStatus()
                .withIncomplete(false)
                .withResourceRules(
                    new ResourceRuleBuilder()
                        .withApiGroups("*")
                        .withResources("*")
                        .withVerbs("*")
                        .build())
                .endStatus()
                .build())
        .always();
    try (var client = server.createClient()) {
      for (String file : List.of("forwardingtables.turnpike.dev-v1.yml", "dataplanenodes.turnpike.dev-v1.yml")) {
        try (InputStream in = Files.newInputStream(CRDS.resolve(file))) {
          client.apiextensions().v1().customResourceDefinitions()
              .resource(Serialization.unmarshal(in, CustomResourceDefinition.class))
              .create();
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the committed CRDs under " + CRDS.toAbsolutePath(), e);
    }
  }

  /** A new client (each operator instance gets its own, as separate processes would). */
  public NamespacedKubernetesClient newClient() {
    return server.createClient();
  }

  /** Times every request from now on ({@code null} stops). */
  public void timeRequests(RequestTimer timer) {
    this.timer = timer;
  }

  public KubernetesMockServer server() {
    return server;
  }

  /** Requests received since the last call that match {@code filter}. */
  public synchronized List<RecordedRequest> drain(Predicate<RecordedRequest> filter) {
    List<RecordedRequest> out = new ArrayList<>();
    try {
      RecordedRequest r;
      while ((r = server.takeRequest(1, TimeUnit.MILLISECONDS)) != null) {
        seen.add(r);
        if (filter.test(r)) {
          out.add(r);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return out;
  }

  /** Mutating requests (create, update, patch, delete) on ForwardingTables. */
  public static boolean tableWrite(RecordedRequest r) {
    return !r.getMethod().equals("GET") && r.getPath().contains("/forwardingtables");
  }

  @Override
  public void close() {
    server.destroy();
  }
}
