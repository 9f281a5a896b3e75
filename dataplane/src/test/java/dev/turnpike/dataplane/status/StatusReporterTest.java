package dev.turnpike.dataplane.status;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.turnpike.api.v1alpha1.DataplaneMode;
import dev.turnpike.api.v1alpha1.DataplaneNode;
import dev.turnpike.api.v1alpha1.DataplaneNodeStatus;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.SyncResult;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class StatusReporterTest {
  static KubernetesMockServer server;
  static KubernetesClient client;

  private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
  private MockApi api;

  @BeforeAll
  static void crds() throws Exception {
    MockApi.installCrds(client);
  }

  @AfterEach
  void stop() {
    executor.shutdownNow();
  }

  private StatusReporter reporter(String node, Duration interval) throws InterruptedException {
    api = new MockApi(server);
    api.requests(); // only count what this test causes
    return new StatusReporter(client, node, () -> "uid-" + node, DataplaneMode.IPTABLES, Clock.systemUTC(), interval,
        0, new Random(1), executor);
  }

  private static SyncResult result(int tables) {
    return new SyncResult(tables, 10L * tables, Map.of("nat", 8L * tables), Map.of(), Map.of());
  }

  private DataplaneNodeStatus statusOf(String node) {
    DataplaneNode n = client.resources(DataplaneNode.class).withName(node).get();
    return n == null ? null : n.getStatus();
  }

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void firstReportCreatesTheNodeObjectOwnedByTheNodeAndWritesTheStatusSubresource() throws Exception {
    StatusReporter r = reporter("n-create", Duration.ofHours(1));
    r.succeeded(result(3), T0);
    await().atMost(Duration.ofSeconds(10)).until(() -> statusOf("n-create") != null);
    assertEquals(
        new DataplaneNodeStatus(DataplaneMode.IPTABLES, "2026-01-01T00:00:00Z", 3, 30L, Map.of("nat", 24L), "", null, null),
        statusOf("n-create"));
    DataplaneNode n = client.resources(DataplaneNode.class).withName("n-create").get();
    assertEquals("Node", n.getMetadata().getOwnerReferences().get(0).getKind());
    assertEquals("uid-n-create", n.getMetadata().getOwnerReferences().get(0).getUid());
    assertEquals(1, api.count("PUT", MockApi.statusPath("n-create")));
  }

  @Test
  void manySyncsWithinAnIntervalCoalesceIntoOneWrite() throws Exception {
    StatusReporter r = reporter("n-rate", Duration.ofSeconds(2));
    r.succeeded(result(1), T0);
    await().atMost(Duration.ofSeconds(10)).until(() -> api.count("PUT", MockApi.statusPath("n-rate")) == 1);
    for (int i = 2; i <= 50; i++) {
      r.succeeded(result(i), T0.plusSeconds(i));
    }
    await().during(Duration.ofMillis(1000)).atMost(Duration.ofSeconds(5))
        .until(() -> api.count("PUT", MockApi.statusPath("n-rate")) == 1);
    await().atMost(Duration.ofSeconds(10)).until(() -> statusOf("n-rate").tablesProgrammed() == 50);
    await().during(Duration.ofMillis(1000)).atMost(Duration.ofSeconds(5))
        .until(() -> api.count("PUT", MockApi.statusPath("n-rate")) == 2);
    assertEquals("2026-01-01T00:00:50Z", statusOf("n-rate").lastSuccessfulSyncTime());
  }

  @Test
  void errorTransitionsAreWrittenAtOnceAndKeepTheProgrammedCounts() throws Exception {
    StatusReporter r = reporter("n-error", Duration.ofHours(1));
    r.succeeded(result(4), T0);
    await().atMost(Duration.ofSeconds(10)).until(() -> api.count("PUT", MockApi.statusPath("n-error")) == 1);

    r.failed("iptables-restore failed: line 3", T0.plusSeconds(5));
    await().atMost(Duration.ofSeconds(10)).until(() -> "iptables-restore failed: line 3".equals(statusOf("n-error").lastError()));
    DataplaneNodeStatus failing = statusOf("n-error");
    assertEquals("2026-01-01T00:00:05Z", failing.lastErrorTime());
    assertEquals(4, failing.tablesProgrammed(), "fail-static: the last programmed rules are still there");
    assertEquals("2026-01-01T00:00:00Z", failing.lastSuccessfulSyncTime());

    r.failed("another failure", T0.plusSeconds(6));
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
        .until(() -> api.count("PUT", MockApi.statusPath("n-error")) == 2);

    r.succeeded(result(5), T0.plusSeconds(7));
    await().atMost(Duration.ofSeconds(10)).until(() -> "".equals(statusOf("n-error").lastError()));
    assertNull(statusOf("n-error").lastErrorTime());
    assertEquals(5, statusOf("n-error").tablesProgrammed());
    assertEquals(3, api.count("PUT", MockApi.statusPath("n-error")));
  }

  @Test
  void refusedServicesAreReportedAsTheLastError() throws Exception {
    StatusReporter r = reporter("n-refused", Duration.ofHours(1));
    r.succeeded(new SyncResult(2, 20, Map.of(), Map.of(new ServiceKey("ns", "big"), "maglev table size 65521 exceeds 16381"),
        Map.of()), T0);
    await().atMost(Duration.ofSeconds(10)).until(() -> statusOf("n-refused") != null);
    assertEquals("1 Service(s) not programmed: ns/big: maglev table size 65521 exceeds 16381",
        statusOf("n-refused").lastError());
  }

  @Test
  void conditionsWaitForTheFirstSyncAndAreCarriedAcrossReportsWithTheirTransitionTime() throws Exception {
    String type = DataplaneNodeStatus.EGRESS_SNAT_CONFIG_VALID;
    StatusReporter r = reporter("n-cond", Duration.ofMillis(200));
    r.condition(type, false, DataplaneNodeStatus.REASON_INVALID, "bad key", T0);
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).until(() -> statusOf("n-cond") == null);

    r.succeeded(result(1), T0.plusSeconds(1));
    await().atMost(Duration.ofSeconds(10)).until(() -> statusOf("n-cond") != null);
    assertEquals(List.of(condition(type, "False", DataplaneNodeStatus.REASON_INVALID, "bad key", T0)),
        statusOf("n-cond").conditions());

    // Same status, other message: the transition time stays.
    r.condition(type, false, DataplaneNodeStatus.REASON_INVALID, "bad value", T0.plusSeconds(10));
    await().atMost(Duration.ofSeconds(10)).until(() -> "bad value".equals(statusOf("n-cond").conditions().get(0).getMessage()));
    assertEquals("2026-01-01T00:00:00Z", statusOf("n-cond").conditions().get(0).getLastTransitionTime());

    r.failed("boom", T0.plusSeconds(11));
    await().atMost(Duration.ofSeconds(10)).until(() -> "boom".equals(statusOf("n-cond").lastError()));
    assertEquals("bad value", statusOf("n-cond").conditions().get(0).getMessage(), "a failure keeps the conditions");

    r.condition(type, true, DataplaneNodeStatus.REASON_VALID, "ok", T0.plusSeconds(20));
    r.succeeded(result(2), T0.plusSeconds(21));
    await().atMost(Duration.ofSeconds(10)).until(() -> statusOf("n-cond").tablesProgrammed() == 2
        && "True".equals(statusOf("n-cond").conditions().get(0).getStatus()));
    assertEquals(List.of(condition(type, "True", DataplaneNodeStatus.REASON_VALID, "ok", T0.plusSeconds(20))),
        statusOf("n-cond").conditions());
    long writes = api.count("PUT", MockApi.statusPath("n-cond"));
    r.condition(type, true, DataplaneNodeStatus.REASON_VALID, "ok", T0.plusSeconds(30));
    await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(5))
        .until(() -> api.count("PUT", MockApi.statusPath("n-cond")) == writes);
  }

  private static Condition condition(String type, String status, String reason, String message, Instant since) {
    return new ConditionBuilder().withType(type).withStatus(status).withReason(reason).withMessage(message)
        .withLastTransitionTime(StatusReporter.rfc3339(since)).build();
  }

  @Test
  void aConflictRereadsTheObjectAndRetries() throws Exception {
    StatusReporter r = reporter("n-conflict", Duration.ofHours(1));
    r.succeeded(result(1), T0);
    await().atMost(Duration.ofSeconds(10)).until(() -> statusOf("n-conflict") != null);
    // The CRUD mock does not check resourceVersions, so the API server's answer to a stale one
    // is scripted: the next status write gets a 409 Conflict.
    server.expect().put().withPath(MockApi.statusPath("n-conflict"))
        .andReturn(409, new StatusBuilder().withCode(409).withReason("Conflict").withMessage("stale").build())
        .once();
    r.failed("boom", T0.plusSeconds(1));
    await().atMost(Duration.ofSeconds(10)).until(() -> "boom".equals(statusOf("n-conflict").lastError()));
    assertEquals(3, api.count("PUT", MockApi.statusPath("n-conflict")), "first write, the conflicting one, the retry");
  }
}
