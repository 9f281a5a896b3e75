package dev.turnpike.dataplane.agent;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.DataplaneNode;
import dev.turnpike.api.v1alpha1.DataplaneNodeStatus;
import dev.turnpike.dataplane.conntrack.ConntrackEntry;
import dev.turnpike.dataplane.conntrack.FakeConntrack;
import dev.turnpike.dataplane.conntrack.Tuple;
import dev.turnpike.dataplane.conntrack.snat.EgressSnat;
import dev.turnpike.dataplane.health.Http;
import dev.turnpike.dataplane.status.MockApi;
import dev.turnpike.dataplane.sync.FakeDataplane;
import dev.turnpike.dataplane.testing.EgressChains;
import dev.turnpike.dataplane.testing.FakeIptables;
import dev.turnpike.net.IpFamily;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The agent's egress SNAT watch against the Fabric8 mock API server, with the real {@link EgressSnat}
 * on a fake iptables (which interprets the restore payloads) and a fake conntrack table.
 */
@EnableKubernetesMockClient(crud = true)
class AgentEgressSnatTest {
  private static final String NODE = "node-a";
  private static final String NS = "turnpike-system";
  private static final String NAME = "turnpike-egress-snat";
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final long OURS = 0x100000L;

  KubernetesMockServer server;
  KubernetesClient client;

  private final FakeIptables iptables = new FakeIptables();
  private final FakeConntrack conntrack = new FakeConntrack();
  private final FakeDataplane dataplane = new FakeDataplane();
  private Agent agent;

  @BeforeEach
  void setUp() throws Exception {
    MockApi.installCrds(client);
    client.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).withUid("uid-a").endMetadata().build())
        .create();
  }

  @AfterEach
  void tearDown() {
    if (agent != null) {
      agent.close();
    }
  }

  private NodeNat nat() {
    return new NodeNat(Optional.of(conntrack), Optional.of(new EgressSnat(iptables, conntrack, List.of(IpFamily.IPv4))),
        Set.of(IpFamily.IPv4));
  }

  private void startAgent(String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("--min-sync-period=100ms", "--status-update-interval=100ms",
        "--healthz-bind-address=",
        "--metrics-bind-address=127.0.0.1:0", "--egress-snat-configmap=" + NS + "/" + NAME));
    args.addAll(List.of(extra));
    agent = new Agent(AgentConfig.parse(args.toArray(String[]::new), Map.of("NODE_NAME", NODE)), client, dataplane,
        nat(), Clock.systemUTC());
    agent.start(WAIT);
  }

  private void configMap(Map<String, String> data) {
    client.configMaps().inNamespace(NS).resource(new ConfigMapBuilder()
        .withNewMetadata().withNamespace(NS).withName(NAME).endMetadata().withData(data).build())
        .createOr(r -> r.update());
  }

  private String nat4() {
    return iptables.save(IpFamily.IPv4, "nat");
  }

  private List<Event> events(String reason) {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> reason.equals(e.getReason())).toList();
  }

  /** The EgressSnatConfigValid condition on this node's DataplaneNode, as written; null while there is none. */
  private Condition condition() {
    DataplaneNode n = client.resources(DataplaneNode.class).withName(NODE).get();
    return n == null || n.getStatus() == null ? null : n.getStatus().conditions().stream()
        .filter(c -> DataplaneNodeStatus.EGRESS_SNAT_CONFIG_VALID.equals(c.getType())).findFirst().orElse(null);
  }

  private Condition awaitCondition(String status, String reason) {
    return await().atMost(WAIT).until(this::condition,
        c -> c != null && status.equals(c.getStatus()) && reason.equals(c.getReason()));
  }

  private String metrics() throws Exception {
    return Http.get("http://127.0.0.1:" + agent.metricsAddress().getPort() + "/metrics").body();
  }

  /** A TCP flow pod:sport -> dst:443 that this node masqueraded to 192.0.2.10. */
  private static ConntrackEntry translated(int sport, String dst) throws Exception {
    InetAddress pod = InetAddress.getByName("10.244.1.5");
    InetAddress to = InetAddress.getByName(dst);
    return new ConntrackEntry(new Tuple(pod, to, 6, sport, 443),
        new Tuple(to, InetAddress.getByName("192.0.2.10"), 6, 443, sport),
        ConntrackEntry.IPS_CONFIRMED | ConntrackEntry.IPS_SRC_NAT, OURS, 0, 100, OptionalLong.of(sport));
  }

  private Set<Integer> ports() {
    return conntrack.entries().stream().map(e -> e.original().srcPort()).collect(java.util.stream.Collectors.toSet());
  }

  @Test
  void watchAppliesEveryChangeAndDeletesOnlyTheAffectedEntries() throws Exception {
    startAgent();
    await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> !nat4().contains("TURNPIKE-EGRESS"));
    assertEquals("ConfigMap turnpike-system/turnpike-egress-snat does not exist: egress SNAT is off",
        awaitCondition("True", DataplaneNodeStatus.REASON_NOT_FOUND).getMessage());

    conntrack.add(translated(40001, "100.64.0.9"), translated(40002, "203.0.113.9"));
    configMap(Map.of("clusterCIDRs", "10.244.0.0/16"));
    await().atMost(WAIT).until(() -> nat4().contains("-A TURNPIKE-EGRESS -s 10.244.0.0/16 -j TURNPIKE-EGRESS-POD"));
    assertTrue(nat4().contains("-A TURNPIKE-EGRESS-POD -j MASQUERADE --random-fully"), nat4());
    assertEquals(Set.of(40001, 40002), ports(), "both flows are translated as the config says");
    assertEquals("ConfigMap turnpike-system/turnpike-egress-snat is valid",
        awaitCondition("True", DataplaneNodeStatus.REASON_VALID).getMessage());

    // 100.64.0.0/10 becomes non-masquerade: the flow to it loses its translation, nothing else.
    configMap(Map.of("clusterCIDRs", "10.244.0.0/16", "nonMasqueradeCIDRs", "10.0.0.0/8, 100.64.0.0/10"));
    await().atMost(WAIT).until(() -> nat4().contains("-A TURNPIKE-EGRESS-POD -d 100.64.0.0/10 -j RETURN"));
    await().atMost(WAIT).until(() -> ports().equals(Set.of(40002)));
    await().atMost(WAIT).until(() -> metrics().contains("turnpike_egress_snat_conntrack_deleted_entries_total 1.0"));
    assertTrue(metrics().contains("turnpike_egress_snat_config_invalid 0.0"), metrics());

    // A fixed SNAT address for this node (another node's line does not apply here).
    configMap(Map.of("clusterCIDRs", "10.244.0.0/16", "nonMasqueradeCIDRs", "10.0.0.0/8, 100.64.0.0/10",
        "snatAddresses", "node-b=198.51.100.2\nnode-a=198.51.100.1\n"));
    await().atMost(WAIT).until(() -> nat4().contains("-A TURNPIKE-EGRESS-POD -j SNAT --to-source 198.51.100.1 --random-fully"));
    await().atMost(WAIT).until(() -> conntrack.entries().isEmpty()); // translated to the node address before

    // Deleting the ConfigMap turns egress SNAT off.
    client.configMaps().inNamespace(NS).withName(NAME).delete();
    await().atMost(WAIT).until(() -> !nat4().contains("TURNPIKE-EGRESS"));
    assertTrue(events(EgressSnatWatch.INVALID).isEmpty());
  }

  @Test
  void invalidConfigKeepsTheLastValidOneAndIsReported() throws Exception {
    configMap(Map.of("clusterCIDRs", "10.244.0.0/16", "nonMasqueradeCIDRs", "10.0.0.0/8"));
    startAgent();
    await().atMost(WAIT).until(() -> nat4().contains("-A TURNPIKE-EGRESS-POD -d 10.0.0.0/8 -j RETURN"));
    String validSince = awaitCondition("True", DataplaneNodeStatus.REASON_VALID).getLastTransitionTime();
    String valid = nat4();
    conntrack.add(translated(40001, "100.64.0.9"));

    configMap(Map.of("clusterCIDRs", "10.244.0.1/16", "nonMasqueradeCIDRs", "100.64.0.0/10", "randomFully", "yes",
        "clusterCIDR", "10.0.0.0/8"));
    Event e = await().atMost(WAIT).until(() -> events(EgressSnatWatch.INVALID).stream().findFirst().orElse(null),
        java.util.Objects::nonNull);
    assertEquals("Warning", e.getType());
    assertEquals("ConfigMap", e.getInvolvedObject().getKind());
    assertEquals(NAME, e.getInvolvedObject().getName());
    assertEquals("node node-a: ConfigMap turnpike-egress-snat: unknown key \"clusterCIDR\" (known: clusterCIDRs, "
        + "connmark, masqLinkLocal, nonMasqueradeCIDRs, randomFully, snatAddresses); randomFully: \"yes\" is not true "
        + "or false; clusterCidrs: \"10.244.0.1/16\" has host bits set (did you mean 10.244.0.0/16?); "
        + "the previous valid configuration stays in place", e.getMessage());
    await().atMost(WAIT).until(() -> metrics().contains("turnpike_egress_snat_config_invalid 1.0"));
    // The same message as a condition on this node's DataplaneNode (the Event adds the node's name).
    Condition invalid = awaitCondition("False", DataplaneNodeStatus.REASON_INVALID);
    assertEquals(e.getMessage(), "node node-a: " + invalid.getMessage());
    assertTrue(invalid.getLastTransitionTime() != null && invalid.getLastTransitionTime().compareTo(validSince) >= 0,
        invalid + " after " + validSince);
    assertEquals(valid, nat4(), "the previous rules stay");
    assertEquals(Set.of(40001), ports(), "no entry touched");
    assertTrue(agent.health().isHealthy(), "the agent carries on");

    // Fixed: applied, the gauge goes back to 0.
    configMap(Map.of("clusterCIDRs", "10.244.0.0/16", "nonMasqueradeCIDRs", "10.0.0.0/8, 100.64.0.0/10"));
    await().atMost(WAIT).until(() -> nat4().contains("-d 100.64.0.0/10 -j RETURN"));
    await().atMost(WAIT).until(() -> metrics().contains("turnpike_egress_snat_config_invalid 0.0"));
    awaitCondition("True", DataplaneNodeStatus.REASON_VALID);
    assertEquals(1, events(EgressSnatWatch.INVALID).size());
  }

  @Test
  void invalidFirstConfigUsesTheDefaultsForTheAgentsClusterCidrOrStaysOff() throws Exception {
    configMap(Map.of("clusterCIDRs", "not-a-cidr"));
    startAgent("--cluster-cidr=10.244.0.0/16");
    await().atMost(WAIT).until(() -> nat4().contains("-A TURNPIKE-EGRESS -s 10.244.0.0/16 -j TURNPIKE-EGRESS-POD"));
    assertTrue(nat4().contains("-A TURNPIKE-EGRESS-POD -d 192.168.0.0/16 -j RETURN"), "the default non-masquerade CIDRs");
    await().atMost(WAIT).until(() -> events(EgressSnatWatch.INVALID).stream()
        .anyMatch(e -> e.getMessage().endsWith("the defaults for --cluster-cidr 10.244.0.0/16 are used")));
    assertEquals("ConfigMap turnpike-egress-snat: clusterCidrs: \"not-a-cidr\" is not a CIDR (like 10.244.0.0/16); the defaults for "
        + "--cluster-cidr 10.244.0.0/16 are used", awaitCondition("False", DataplaneNodeStatus.REASON_INVALID).getMessage());
    agent.close();

    FakeIptables fresh = new FakeIptables();
    agent = new Agent(AgentConfig.parse(new String[] {"--healthz-bind-address=", "--metrics-bind-address=",
        "--egress-snat-configmap=" + NS + "/" + NAME}, Map.of("NODE_NAME", NODE)), client, dataplane,
        new NodeNat(Optional.empty(), Optional.of(new EgressSnat(fresh, conntrack, List.of(IpFamily.IPv4))),
            Set.of(IpFamily.IPv4)), Clock.systemUTC());
    agent.start(WAIT);
    await().atMost(WAIT).until(() -> events(EgressSnatWatch.INVALID).stream()
        .anyMatch(e -> e.getMessage().endsWith("egress SNAT stays off")));
    assertFalse(fresh.save(IpFamily.IPv4, "nat").contains("TURNPIKE-EGRESS"));
  }

  @Test
  void aFailedApplyIsReportedAndRetried() throws Exception {
    iptables.failWhen(p -> p.contains("TURNPIKE-EGRESS"));
    configMap(Map.of("clusterCIDRs", "10.244.0.0/16"));
    startAgent();
    Event e = await().atMost(WAIT).until(() -> events(EgressSnatWatch.FAILED).stream().findFirst().orElse(null),
        java.util.Objects::nonNull);
    assertEquals("node node-a: iptables-restore: injected failure", e.getMessage());
    await().atMost(WAIT).until(() -> metrics().matches("(?s).*turnpike_egress_snat_apply_failures_total [1-9].*"));
    iptables.failWhen(p -> false);
    await().atMost(WAIT).until(() -> nat4().contains("-A TURNPIKE-EGRESS -s 10.244.0.0/16 -j TURNPIKE-EGRESS-POD"));
    assertEquals(1, events(EgressSnatWatch.FAILED).size(), "one Event, not one per retry");
  }

  @Test
  void cleanupRemovesTheSnatChainsToo() throws Exception {
    new EgressSnat(iptables, conntrack, List.of(IpFamily.IPv4))
        .apply(dev.turnpike.egress.EgressSnatConfig.defaults(List.of("10.244.0.0/16")));
    iptables.load(IpFamily.IPv4, EgressChains.LEGACY); // and what a version before the rename left
    assertTrue(nat4().contains("TURNPIKE-EGRESS") && nat4().contains("TP-EGRESS"), nat4());
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = AgentMain.run(new String[] {"--cleanup"}, Map.of(), c -> dataplane, c -> nat(), () -> {
      throw new AssertionError("cleanup needs no API server");
    }, new PrintStream(err, true, StandardCharsets.UTF_8), new CountDownLatch(1));
    assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
    assertEquals(1, dataplane.cleanups());
    assertFalse(nat4().contains("TURNPIKE-EGRESS"), nat4());
    assertFalse(nat4().contains("TP-EGRESS"), nat4());
  }
}
