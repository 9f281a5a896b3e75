package dev.turnpike.dataplane.agent;

import static dev.turnpike.dataplane.sync.Specs.backend;
import static dev.turnpike.dataplane.sync.Specs.clusterIp;
import static dev.turnpike.dataplane.sync.Specs.localLoadBalancer;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.DataplaneNode;
import dev.turnpike.api.v1alpha1.DataplaneNodeStatus;
import dev.turnpike.api.v1alpha1.ForwardingTable;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.dataplane.health.Http;
import dev.turnpike.dataplane.status.MockApi;
import dev.turnpike.dataplane.sync.FakeDataplane;
import dev.turnpike.dataplane.sync.Specs;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The whole agent against the Fabric8 mock API server (CRUD mode, committed CRDs) and a fake backend. */
@EnableKubernetesMockClient(crud = true)
class AgentTest {
  private static final String NODE = "node-a";
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final ServiceKey WEB = new ServiceKey("shop", "web");
  private static final ServiceKey API = new ServiceKey("shop", "api");

  KubernetesMockServer server;
  KubernetesClient client;

  private final FakeDataplane dataplane = new FakeDataplane();
  private Agent agent;
  private MockApi api;

  @BeforeEach
  void setUp() throws Exception {
    MockApi.installCrds(client);
    api = new MockApi(server);
    client.nodes().resource(new NodeBuilder()
        .withNewMetadata().withName(NODE).withUid("uid-node-a")
            .withLabels(Map.of("topology.kubernetes.io/zone", "z1")).endMetadata()
        .withNewStatus()
            .addNewAddress().withType("Hostname").withAddress(NODE).endAddress()
            .addNewAddress().withType("ExternalIP").withAddress("198.51.100.10").endAddress()
            .addNewAddress().withType("InternalIP").withAddress("192.0.2.10").endAddress()
        .endStatus()
        .build()).create();
  }

  @AfterEach
  void tearDown() {
    if (agent != null) {
      agent.close();
    }
  }

  private void startAgent(String... extraArgs) throws Exception {
    List<String> args = new java.util.ArrayList<>(List.of(
        "--min-sync-period=100ms",
        "--healthz-bind-address=127.0.0.1:0",
        "--metrics-bind-address=127.0.0.1:0",
        "--health-check-bind-address=127.0.0.1"));
    args.addAll(List.of(extraArgs));
    AgentConfig config = AgentConfig.parse(args.toArray(String[]::new), Map.of("NODE_NAME", NODE));
    agent = new Agent(config, client, dataplane, Clock.systemUTC());
    agent.start(WAIT);
  }

  private void apply(ServiceKey key, ForwardingTableSpec spec) {
    ForwardingTable ft = new ForwardingTable();
    ft.setMetadata(new ObjectMetaBuilder().withNamespace(key.namespace()).withName(key.name()).build());
    ft.setSpec(spec);
    client.resource(ft).createOr(r -> r.update());
  }

  private void delete(ServiceKey key) {
    client.resources(ForwardingTable.class).inNamespace(key.namespace()).withName(key.name()).delete();
  }

  private SyncRequest awaitRequest(Predicate<SyncRequest> matches) {
    return await().atMost(WAIT).until(
        () -> dataplane.requests().stream().filter(matches).reduce((a, b) -> b).orElse(null),
        java.util.Objects::nonNull);
  }

  private static Predicate<SyncRequest> hasBackend(ServiceKey key, String ip) {
    return r -> r.state().tables().containsKey(key)
        && r.state().tables().get(key).backends().stream().anyMatch(b -> b.address().equals(ip));
  }

  private DataplaneNodeStatus status() {
    DataplaneNode n = client.resources(DataplaneNode.class).withName(NODE).get();
    return n == null ? null : n.getStatus();
  }

  private void editNode(java.util.function.UnaryOperator<Node> edit) {
    client.nodes().withName(NODE).edit(edit);
  }

  @Test
  void handsTheBackendTheDesiredStateAndExactlyTheChangedServices() throws Exception {
    apply(WEB, clusterIp("shop", "web", "10.96.0.10", backend("10.0.0.1", NODE)));
    apply(API, clusterIp("shop", "api", "10.96.0.11", backend("10.0.0.2", "node-b")));
    startAgent("--status-update-interval=1h");

    // The very first request, not the latest: under load a second sync may already have run.
    await().atMost(WAIT).until(() -> !dataplane.requests().isEmpty());
    SyncRequest first = dataplane.requests().get(0);
    assertTrue(first.full(), "first sync is full");
    assertEquals(Set.of(WEB, API), first.state().tables().keySet(), "initial list complete before the first sync");
    assertEquals(List.of("192.0.2.10", "198.51.100.10"), first.state().node().addresses(), "InternalIP first");
    assertEquals("z1", first.state().node().topology().zone());

    apply(WEB, clusterIp("shop", "web", "10.96.0.10", backend("10.0.0.3", NODE)));
    SyncRequest update = awaitRequest(hasBackend(WEB, "10.0.0.3"));
    assertFalse(update.full());
    assertEquals(Set.of(WEB), update.changed());

    int before = dataplane.requests().size();
    apply(WEB, clusterIp("shop", "web", "10.96.0.10", backend("10.0.0.3", NODE))); // no-op update
    delete(API);
    SyncRequest deletion = awaitRequest(r -> !r.state().tables().containsKey(API));
    assertEquals(Set.of(API), deletion.changed(), "the no-op did not make WEB a change");
    assertEquals(before + 1, dataplane.requests().indexOf(deletion) + 1, "no sync for the no-op itself");

    editNode(n -> {
      n.getMetadata().getLabels().put("topology.kubernetes.io/zone", "z2");
      return n;
    });
    SyncRequest nodeChange = awaitRequest(r -> "z2".equals(r.state().node().topology().zone()));
    assertTrue(nodeChange.full(), "a node label change forces a full sync");

    editNode(n -> {
      n.getStatus().getAddresses().get(2).setAddress("192.0.2.11");
      return n;
    });
    SyncRequest addressChange = awaitRequest(r -> r.state().node().addresses().contains("192.0.2.11"));
    assertTrue(addressChange.full(), "a node address change forces a full sync");

    await().atMost(WAIT).until(() -> status() != null && status().tablesProgrammed() == 2);
    assertEquals(1, api.count("PUT", MockApi.statusPath(NODE)),
        "five syncs, one status write: the rest wait for the 1h interval");
    assertEquals(0, dataplane.cleanups());
  }

  @Test
  void failStaticRetriesWithoutFlushingAndReportsTheError() throws Exception {
    apply(WEB, clusterIp("shop", "web", "10.96.0.10", backend("10.0.0.1", NODE)));
    startAgent("--status-update-interval=1h");
    awaitRequest(r -> true);
    await().atMost(WAIT).until(() -> status() != null && "".equals(status().lastError()));

    dataplane.makeItFailWith("iptables-restore: exit status 2");
    apply(WEB, clusterIp("shop", "web", "10.96.0.10", backend("10.0.0.2", NODE)));
    await().atMost(WAIT).until(() -> dataplane.failedSyncs() >= 3);
    List<SyncRequest> retries = dataplane.requests().stream().filter(hasBackend(WEB, "10.0.0.2")).toList();
    assertTrue(retries.size() >= 3);
    assertTrue(retries.subList(1, retries.size()).stream().allMatch(SyncRequest::full), "retries are full syncs");
    assertTrue(retries.stream().allMatch(r -> r.changed().equals(Set.of(WEB))), "the failed change stays pending");
    assertEquals(0, dataplane.cleanups(), "fail-static: nothing is flushed or cleaned up");
    await().atMost(WAIT).until(() -> "iptables-restore: exit status 2".equals(status().lastError()));
    assertEquals(1, status().tablesProgrammed(), "the status still shows what is programmed");

    dataplane.makeItWork();
    await().atMost(WAIT).until(() -> "".equals(status().lastError()));
    SyncRequest recovered = dataplane.last();
    assertTrue(recovered.full());
    assertEquals(0, dataplane.cleanups());
  }

  @Test
  void healthzFailsWhileTheNodeIsTaintedForDeletionOrDeleted() throws Exception {
    startAgent();
    String base = "http://127.0.0.1:" + agent.healthzAddress().getPort();
    awaitRequest(r -> true);
    assertEquals(200, Http.get(base + "/healthz").statusCode());

    editNode(n -> {
      n.setSpec(new io.fabric8.kubernetes.api.model.NodeSpec());
      n.getSpec().setTaints(List.of(new io.fabric8.kubernetes.api.model.TaintBuilder()
          .withKey("ToBeDeletedByClusterAutoscaler").withEffect("NoSchedule").build()));
      return n;
    });
    await().atMost(WAIT).until(() -> Http.get(base + "/healthz").statusCode() == 503);
    assertEquals(200, Http.get(base + "/livez").statusCode(), "the agent itself is alive");

    editNode(n -> {
      n.getSpec().setTaints(List.of());
      return n;
    });
    await().atMost(WAIT).until(() -> Http.get(base + "/healthz").statusCode() == 200);

    client.nodes().withName(NODE).delete();
    await().atMost(WAIT).until(() -> Http.get(base + "/healthz").statusCode() == 503);
    HttpResponse<String> r = Http.get(base + "/healthz");
    assertTrue(r.body().contains("\"nodeEligible\": false"), r.body());
    assertEquals(200, Http.get(base + "/livez").statusCode());
  }

  @Test
  void healthzFailsWhenChangesAreNotAppliedWithinTwiceTheSyncPeriod() throws Exception {
    apply(WEB, clusterIp("shop", "web", "10.96.0.10", backend("10.0.0.1", NODE)));
    startAgent("--sync-period=1s");
    String base = "http://127.0.0.1:" + agent.healthzAddress().getPort();
    awaitRequest(r -> true);
    assertEquals(200, Http.get(base + "/livez").statusCode());
    dataplane.makeItFailWith("boom");
    apply(WEB, clusterIp("shop", "web", "10.96.0.10", backend("10.0.0.2", NODE)));
    await().atMost(WAIT).until(() -> Http.get(base + "/livez").statusCode() == 503);
    assertEquals(503, Http.get(base + "/healthz").statusCode());
    dataplane.makeItWork();
    await().atMost(WAIT).until(() -> Http.get(base + "/livez").statusCode() == 200);
  }

  @Test
  void healthCheckNodePortServersFollowTheServices() throws Exception {
    int port = Http.freePort();
    startAgent();
    String url = "http://127.0.0.1:" + port + "/";
    apply(WEB, localLoadBalancer("shop", "web", "10.96.0.10", port, backend("10.0.0.1", NODE), backend("10.0.0.2", "node-b")));
    await().atMost(WAIT).until(() -> Http.listening(port));
    HttpResponse<String> ok = Http.get(url);
    assertEquals(200, ok.statusCode());
    assertEquals("1", ok.headers().firstValue("X-Load-Balancing-Endpoint-Weight").orElseThrow());
    assertTrue(ok.body().contains("\"namespace\": \"shop\",\n\t\t\"name\": \"web\""), ok.body());

    apply(WEB, localLoadBalancer("shop", "web", "10.96.0.10", port, backend("10.0.0.2", "node-b")));
    await().atMost(WAIT).until(() -> Http.get(url).statusCode() == 503);
    assertTrue(Http.get(url).body().contains("\"localEndpoints\": 0"));

    delete(WEB);
    await().atMost(WAIT).until(() -> !Http.listening(port));
  }

  @Test
  void metricsReportSyncsAndNetworkProgrammingLatency() throws Exception {
    startAgent();
    awaitRequest(r -> true);
    String recent = Instant.now().toString(); // after the agent started: earlier trigger times are ignored
    apply(WEB, Specs.withTriggerTime(clusterIp("shop", "web", "10.96.0.10", backend("10.0.0.1", NODE)), recent));
    awaitRequest(r -> r.state().tables().containsKey(WEB));
    String metricsUrl = "http://127.0.0.1:" + agent.metricsAddress().getPort() + "/metrics";
    await().atMost(WAIT).until(() -> Http.get(metricsUrl).body()
        .contains("turnpike_network_programming_duration_seconds_count 1.0"));
    String text = Http.get(metricsUrl).body();
    assertTrue(text.contains("turnpike_sync_full_proxy_rules_duration_seconds_count 1.0"), text);
    assertTrue(text.contains("turnpike_sync_partial_proxy_rules_duration_seconds_count 1.0"), text);
    assertTrue(text.contains("turnpike_sync_proxy_rules_iptables_total{table=\"nat\",} 8.0"), text);
    assertFalse(text.contains("turnpike_sync_proxy_rules_last_timestamp_seconds 0.0"), text);
    assertFalse(text.contains("turnpike_sync_proxy_rules_last_queued_timestamp_seconds 0.0"), text);
  }

  @Test
  void refusedServicesGetOneWarningEventAndShowInTheStatus() throws Exception {
    dataplane.refuse(Map.of(WEB, "maglev table size 65521 exceeds 16381"));
    startAgent("--status-update-interval=1h");
    apply(WEB, clusterIp("shop", "web", "10.96.0.10", backend("10.0.0.1", NODE)));
    await().atMost(WAIT).until(() -> !client.v1().events().inNamespace("shop").list().getItems().isEmpty());
    var event = client.v1().events().inNamespace("shop").list().getItems().get(0);
    assertEquals("Warning", event.getType());
    assertEquals("FailedToProgramService", event.getReason());
    assertEquals("Service", event.getInvolvedObject().getKind());
    assertEquals("web", event.getInvolvedObject().getName());
    assertEquals("node node-a: maglev table size 65521 exceeds 16381", event.getMessage());
    await().atMost(WAIT).until(() -> status() != null && status().lastError().contains("shop/web: maglev table size"));

    apply(API, clusterIp("shop", "api", "10.96.0.11", backend("10.0.0.2", NODE)));
    awaitRequest(r -> r.state().tables().containsKey(API));
    await().during(Duration.ofMillis(500)).atMost(WAIT)
        .until(() -> client.v1().events().inNamespace("shop").list().getItems().size() == 1);
  }

  @Test
  void agentMainRunsTheAgentUntilStopped() throws Exception {
    apply(WEB, clusterIp("shop", "web", "10.96.0.10", backend("10.0.0.1", NODE)));
    java.util.concurrent.CountDownLatch stop = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CompletableFuture<Integer> exit = java.util.concurrent.CompletableFuture.supplyAsync(() ->
        AgentMain.run(new String[] {"--healthz-bind-address=127.0.0.1:0", "--metrics-bind-address=", "--min-sync-period=100ms"},
            Map.of("NODE_NAME", NODE), c -> dataplane, () -> server.createClient(), System.err, stop));
    SyncRequest first = awaitRequest(r -> true);
    assertEquals(Set.of(WEB), first.state().tables().keySet());
    stop.countDown();
    assertEquals(0, exit.get(30, java.util.concurrent.TimeUnit.SECONDS));
    assertEquals(0, dataplane.cleanups(), "stopping the agent leaves the rules in place");
  }
}
