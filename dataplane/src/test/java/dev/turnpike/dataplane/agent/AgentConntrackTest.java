package dev.turnpike.dataplane.agent;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.BackendPort;
import dev.turnpike.api.v1alpha1.DataplaneNode;
import dev.turnpike.api.v1alpha1.ForwardingTable;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.api.v1alpha1.Frontend;
import dev.turnpike.api.v1alpha1.Protocol;
import dev.turnpike.api.v1alpha1.ServiceReference;
import dev.turnpike.api.v1alpha1.ServiceType;
import dev.turnpike.api.v1alpha1.TrafficPolicy;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.dataplane.conntrack.ConntrackEntry;
import dev.turnpike.dataplane.conntrack.FakeConntrack;
import dev.turnpike.dataplane.conntrack.Tuple;
import dev.turnpike.dataplane.health.Http;
import dev.turnpike.dataplane.status.MockApi;
import dev.turnpike.dataplane.sync.FakeDataplane;
import dev.turnpike.net.IpFamily;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The agent with a fake conntrack table (which really filters and deletes): stale UDP entries are
 * deleted after the sync that made them stale, and conntrack trouble never fails a sync.
 */
@EnableKubernetesMockClient(crud = true)
class AgentConntrackTest {
  private static final String NODE = "node-a";
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final ServiceKey DNS = new ServiceKey("kube-system", "dns");
  private static final String CLUSTER_IP = "10.96.0.10";

  KubernetesMockServer server;
  KubernetesClient client;

  private final FakeDataplane dataplane = new FakeDataplane();
  private final FakeConntrack conntrack = new FakeConntrack();
  private Agent agent;

  @BeforeEach
  void setUp() throws Exception {
    MockApi.installCrds(client);
    client.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).withUid("uid-a").endMetadata()
        .withNewStatus().addNewAddress().withType("InternalIP").withAddress("192.0.2.10").endAddress().endStatus()
        .build()).create();
  }

  @AfterEach
  void tearDown() {
    if (agent != null) {
      agent.close();
    }
  }

  private void startAgent() throws Exception {
    AgentConfig config = AgentConfig.parse(new String[] {"--min-sync-period=100ms", "--healthz-bind-address=",
        "--metrics-bind-address=127.0.0.1:0", "--status-update-interval=100ms", "--egress-snat-configmap="},
        Map.of("NODE_NAME", NODE));
    agent = new Agent(config, client, dataplane,
        new NodeNat(Optional.of(conntrack), Optional.empty(), Set.of(IpFamily.IPv4)), Clock.systemUTC());
    agent.start(WAIT);
  }

  /** A UDP DNS Service on 10.96.0.10:53 with these endpoints serving on 5353. */
  private void dns(String... endpoints) {
    List<Backend> backends = java.util.Arrays.stream(endpoints)
        .map(ip -> new Backend(ip, List.of(new BackendPort("dns", 5353)), "node-b", null, true, true, false, null))
        .toList();
    ForwardingTable ft = new ForwardingTable();
    ft.setMetadata(new ObjectMetaBuilder().withNamespace(DNS.namespace()).withName(DNS.name()).build());
    ft.setSpec(new ForwardingTableSpec(new ServiceReference(DNS.namespace(), DNS.name(), null), ServiceType.ClusterIP,
        List.of(CLUSTER_IP), List.of(new Frontend("dns", Protocol.UDP, 53, null)), List.of(), List.of(), List.of(),
        backends, TrafficPolicy.Cluster, TrafficPolicy.Cluster, null, null, null, Algorithm.RANDOM, null, null, null,
        null));
    client.resource(ft).createOr(r -> r.update());
  }

  /** A UDP flow from a pod to the ClusterIP whose replies come from {@code replySrc}:{@code replyPort}. */
  private static ConntrackEntry flow(int clientPort, String replySrc, int replyPort) throws Exception {
    InetAddress pod = InetAddress.getByName("10.244.0.5");
    return new ConntrackEntry(new Tuple(pod, InetAddress.getByName(CLUSTER_IP), 17, clientPort, 53),
        new Tuple(InetAddress.getByName(replySrc), pod, 17, replyPort, clientPort), 0x1aa, 0, 0, 30,
        OptionalLong.of(clientPort));
  }

  private SyncRequest awaitSync(Predicate<SyncRequest> p) {
    return await().atMost(WAIT).until(
        () -> dataplane.requests().stream().filter(p).reduce((a, b) -> b).orElse(null), java.util.Objects::nonNull);
  }

  private static Predicate<SyncRequest> dnsBackends(int n) {
    return r -> r.state().tables().containsKey(DNS) && r.state().tables().get(DNS).backends().size() == n;
  }

  private Set<Integer> clientPorts() {
    return conntrack.entries().stream().map(e -> e.original().srcPort()).collect(java.util.stream.Collectors.toSet());
  }

  private String metrics() throws Exception {
    return Http.get("http://127.0.0.1:" + agent.metricsAddress().getPort() + "/metrics").body();
  }

  @Test
  void entriesToARemovedEndpointGoAfterTheSyncThatRemovedIt() throws Exception {
    dns("10.244.1.7", "10.244.2.8");
    conntrack.add(flow(40001, "10.244.1.7", 5353), flow(40002, "10.244.2.8", 5353));
    startAgent();
    awaitSync(dnsBackends(2));
    // Every entry points at a serving endpoint: the passes after the first syncs delete nothing.
    await().atMost(WAIT).until(() -> conntrack.listRequests().size() >= 1);
    assertEquals(Set.of(40001, 40002), clientPorts());

    dns("10.244.2.8"); // 10.244.1.7 goes away
    awaitSync(dnsBackends(1));
    await().atMost(WAIT).until(() -> clientPorts().equals(Set.of(40002)));
    String m = metrics();
    assertTrue(m.contains("turnpike_conntrack_reconciler_deleted_entries_total{ip_family=\"IPv4\",} 1.0"), m);
    assertTrue(m.matches("(?s).*turnpike_conntrack_reconciler_sync_duration_seconds_count\\{ip_family=\"IPv4\",} [1-9].*"),
        m);
    assertEquals(0, dataplane.failedSyncs());
  }

  @Test
  void emptyToNonEmptyDeletesTheUnNatedEntry() throws Exception {
    dns(); // no endpoints: a client's packets were never DNATed, replies would come from the ClusterIP itself
    conntrack.add(flow(40003, CLUSTER_IP, 53));
    startAgent();
    awaitSync(dnsBackends(0));
    await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> clientPorts().equals(Set.of(40003)));

    dns("10.244.1.7");
    awaitSync(dnsBackends(1));
    await().atMost(WAIT).until(() -> conntrack.entries().isEmpty());
  }

  @Test
  void aConntrackFailureNeitherFailsNorRollsBackTheSync() throws Exception {
    conntrack.failListWhen(f -> true);
    dns("10.244.1.7", "10.244.2.8");
    conntrack.add(flow(40001, "10.244.1.7", 5353));
    startAgent();
    awaitSync(dnsBackends(2));
    dns("10.244.2.8");
    awaitSync(dnsBackends(1));
    // A pass after each sync (so at least two), each failing.
    await().atMost(WAIT).until(() -> conntrack.listRequests().size() >= 2);

    // The sync stands: no failure, no retry, nothing going back to two endpoints, healthy.
    await().during(Duration.ofMillis(500)).atMost(WAIT)
        .until(() -> dataplane.failedSyncs() == 0 && dnsBackends(1).test(dataplane.last()));
    assertEquals(0, dataplane.failedSyncs());
    assertTrue(agent.health().isHealthy(), "healthy");
    await().atMost(WAIT).until(() -> {
      DataplaneNode n = client.resources(DataplaneNode.class).withName(NODE).get();
      return n != null && n.getStatus() != null && n.getStatus().tablesProgrammed() == 1
          && (n.getStatus().lastError() == null || n.getStatus().lastError().isEmpty());
    });
    assertTrue(metrics().contains("turnpike_sync_proxy_rules_iptables_restore_failures_total 0.0"), metrics());
    assertEquals(Set.of(40001), clientPorts(), "the failing table was not touched");

    // Once conntrack works again, the next sync's pass catches up.
    conntrack.failListWhen(f -> false);
    dns("10.244.2.8", "10.244.3.9");
    await().atMost(WAIT).until(() -> conntrack.entries().isEmpty());
  }
}
