package dev.turnpike.dataplane.conntrack;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.BackendPort;
import dev.turnpike.api.v1alpha1.ForwardingTable;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.api.v1alpha1.Frontend;
import dev.turnpike.api.v1alpha1.Protocol;
import dev.turnpike.api.v1alpha1.ServiceReference;
import dev.turnpike.api.v1alpha1.ServiceType;
import dev.turnpike.api.v1alpha1.TrafficPolicy;
import dev.turnpike.dataplane.agent.Agent;
import dev.turnpike.dataplane.agent.AgentConfig;
import dev.turnpike.dataplane.agent.DefaultDataplaneFactory;
import dev.turnpike.dataplane.agent.DefaultNodeNatFactory;
import dev.turnpike.dataplane.agent.NodeNat;
import dev.turnpike.dataplane.iptables.ProcessExec;
import dev.turnpike.dataplane.status.MockApi;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * Issue 7's blackholed UDP client through the whole agent: real iptables backend and real
 * ctnetlink in the lab's node namespace ({@link CtLab}), ForwardingTables from the mock API
 * server. When the table drops the client's endpoint, the agent's sync reprograms the rules and
 * its conntrack cleanup (run after that sync) unpins the flow: the client, sending every 100 ms,
 * reaches the new endpoint within 1 s of the table change. (ConntrackKernelTest shows the control:
 * without the cleanup it stays stuck.)
 */
@EnabledIf("dev.turnpike.dataplane.conntrack.CtLab#available")
@EnableKubernetesMockClient(crud = true)
class AgentConntrackKernelTest {
  private static final String NODE = "node-a";
  private static final String CLUSTER_IP = "10.252.96.10";
  private static final Duration WAIT = Duration.ofSeconds(30);

  KubernetesMockServer server;
  KubernetesClient client;

  private CtLab lab;
  private Agent agent;

  @BeforeEach
  void setUp() throws Exception {
    lab = CtLab.create();
    MockApi.installCrds(client);
    client.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).endMetadata()
        .withNewStatus().addNewAddress().withType("InternalIP").withAddress("10.252.1.1").endAddress().endStatus()
        .build()).create();
  }

  @AfterEach
  void tearDown() throws Exception {
    try {
      if (agent != null) {
        agent.close();
      }
    } finally {
      lab.close(); // deleting the namespaces takes their rules and conntrack tables with them
    }
  }

  private void dns(String endpoint) {
    ForwardingTable ft = new ForwardingTable();
    ft.setMetadata(new ObjectMetaBuilder().withNamespace("ns").withName("dns").build());
    ft.setSpec(new ForwardingTableSpec(new ServiceReference("ns", "dns", null), ServiceType.ClusterIP,
        List.of(CLUSTER_IP), List.of(new Frontend("p", Protocol.UDP, 53, null)), List.of(), List.of(), List.of(),
        List.of(new Backend(endpoint, List.of(new BackendPort("p", 5353)), "node-b", null, true, true, false, null)),
        TrafficPolicy.Cluster, TrafficPolicy.Cluster, null, null, null, Algorithm.RANDOM, null, null, null, null));
    client.resource(ft).createOr(r -> r.update());
  }

  private static long firstAnswer(List<CtLab.Line> answers, long since, String from) {
    return answers.stream().filter(a -> a.nanos() >= since && a.text().equals(from))
        .mapToLong(a -> a.nanos() - since).min().orElse(-1);
  }

  @Test
  void theAgentUnpinsTheClientWithinOneSecondOfTheTableChange() throws Exception {
    ProcessExec exec = ProcessExec.inNetns(lab.node);
    AgentConfig config = AgentConfig.parse(new String[] {"--min-sync-period=100ms", "--healthz-bind-address=",
        "--metrics-bind-address=", "--cluster-cidr=10.252.1.0/24", "--egress-snat-configmap="},
        Map.of("NODE_NAME", NODE));
    NodeNat nat = new DefaultNodeNatFactory(exec, Optional.of(lab.nodeNetns())).create(config);
    assertTrue(nat.conntrack().isPresent(), "ctnetlink in the node namespace");
    dns(CtLab.ENDPOINT_A);
    agent = new Agent(config, client, new DefaultDataplaneFactory(exec).create(config), nat, Clock.systemUTC());
    agent.start(WAIT);
    CtLab.Running a = lab.udpServer(CtLab.ENDPOINT_A, 5353, "A");
    lab.udpServer(CtLab.ENDPOINT_B, 5353, "B");
    long started = System.nanoTime();
    List<CtLab.Line> answers = lab.udpClient(CLUSTER_IP, 53, 40053).lines();
    await().atMost(WAIT).until(() -> firstAnswer(answers, started, "A") >= 0);

    // A's pod dies and the Service's table moves to B: one table update, nothing else.
    CtLab.stop(a.process());
    long change = System.nanoTime();
    dns(CtLab.ENDPOINT_B);
    await().atMost(Duration.ofSeconds(5)).until(() -> firstAnswer(answers, change, "B") >= 0);
    long ms = firstAnswer(answers, change, "B") / 1_000_000;
    System.err.printf("agent: first answer from B %d ms after the ForwardingTable update%n", ms);
    assertTrue(ms < 1000, "the client must reach B within 1 s of the change, took " + ms + " ms");
    String deleted = agent.metrics().scrape().lines()
        .filter(l -> l.startsWith("turnpike_conntrack_reconciler_deleted_entries_total{ip_family=\"IPv4\"")).findFirst()
        .orElse("");
    assertTrue(deleted.endsWith(" 1.0"), deleted);
  }
}
