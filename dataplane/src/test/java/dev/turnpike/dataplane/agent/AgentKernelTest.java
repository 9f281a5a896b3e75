package dev.turnpike.dataplane.agent;

import static dev.turnpike.dataplane.sync.Specs.backend;
import static dev.turnpike.dataplane.sync.Specs.clusterIp;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.DataplaneNode;
import dev.turnpike.api.v1alpha1.ForwardingTable;
import dev.turnpike.dataplane.Dataplane;
import dev.turnpike.dataplane.iptables.ExecIptables;
import dev.turnpike.dataplane.iptables.ProcessExec;
import dev.turnpike.dataplane.status.MockApi;
import dev.turnpike.dataplane.testing.EgressChains;
import dev.turnpike.net.IpFamily;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * The agent with the real iptables backend, in a scratch network namespace this test creates and
 * removes: ForwardingTables from the (mock) API server become kernel rules, a deleted table's
 * rules go, and --cleanup leaves no Turnpike chain. Runs as root with ip and iptables present.
 */
@EnabledIf("available")
@EnableKubernetesMockClient(crud = true)
class AgentKernelTest {
  private static final String NODE = "node-k";
  private static final Duration WAIT = Duration.ofSeconds(30);

  KubernetesMockServer server;
  KubernetesClient client;

  private final String netns = "tp-agent-" + ProcessHandle.current().pid();
  private Agent agent;

  static boolean available() {
    try {
      return new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes(), StandardCharsets.UTF_8)
              .trim().equals("0")
          && run("ip", "-V") == 0 && run("iptables-restore", "--version") == 0;
    } catch (IOException e) {
      return false;
    }
  }

  private static int run(String... argv) throws IOException {
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    try {
      p.getInputStream().readAllBytes();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return -1;
      }
      return p.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** Both variants' nat and filter tables in the namespace: the test need not know which one the agent chose. */
  private String saved() throws IOException {
    StringBuilder out = new StringBuilder();
    for (String bin : List.of("iptables-nft-save", "iptables-legacy-save")) {
      Process p = new ProcessBuilder("ip", "netns", "exec", netns, bin).redirectErrorStream(true).start();
      out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
    return out.toString();
  }

  @BeforeEach
  void setUp() throws Exception {
    assertEquals(0, run("ip", "netns", "add", netns));
    MockApi.installCrds(client);
    client.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).endMetadata()
        .withNewStatus().addNewAddress().withType("InternalIP").withAddress("192.0.2.20").endAddress().endStatus()
        .build()).create();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (agent != null) {
      agent.close();
    }
    run("ip", "netns", "del", netns);
  }

  @Test
  void forwardingTablesBecomeKernelRulesAndCleanupRemovesThem() throws Exception {
    DefaultDataplaneFactory factory = new DefaultDataplaneFactory(ProcessExec.inNetns(netns));
    AgentConfig config = AgentConfig.parse(new String[] {"--min-sync-period=100ms", "--healthz-bind-address=",
        "--metrics-bind-address=", "--cluster-cidr=10.244.0.0/16"}, Map.of("NODE_NAME", NODE));
    Dataplane dataplane = factory.create(config);
    ForwardingTable ft = new ForwardingTable();
    ft.setMetadata(new ObjectMetaBuilder().withNamespace("shop").withName("web").build());
    ft.setSpec(clusterIp("shop", "web", "10.96.0.10", backend("10.244.1.5", NODE)));
    client.resource(ft).create();

    agent = new Agent(config, client, dataplane, Clock.systemUTC());
    agent.start(WAIT);
    await().atMost(WAIT).until(() -> saved().contains("10.96.0.10/32"));
    String rules = saved();
    assertTrue(rules.contains("TURNPIKE-"), rules);
    assertTrue(rules.contains("10.244.1.5:8080"), "DNAT to the backend:\n" + rules);
    await().atMost(WAIT).until(() -> {
      DataplaneNode n = client.resources(DataplaneNode.class).withName(NODE).get();
      return n != null && n.getStatus() != null && n.getStatus().tablesProgrammed() == 1 && n.getStatus().ruleCount() > 0;
    });

    client.resource(ft).delete();
    await().atMost(WAIT).until(() -> !saved().contains("10.96.0.10/32"));
    agent.close();
    agent = null;

    int code = AgentMain.run(new String[] {"--cleanup"}, Map.of(), c -> factory.create(config), () -> {
      throw new AssertionError("cleanup needs no API server");
    }, System.err, new CountDownLatch(1));
    assertEquals(0, code);
    assertFalse(saved().contains("TURNPIKE-"), saved());
  }

  @Test
  void egressSnatSurvivesTheBackendsFullSyncsAndRestartsAndCleanupRemovesBoth() throws Exception {
    DefaultDataplaneFactory factory = new DefaultDataplaneFactory(ProcessExec.inNetns(netns));
    NodeNatFactory natFactory =
        new DefaultNodeNatFactory(ProcessExec.inNetns(netns), Optional.of(Path.of("/var/run/netns", netns)));
    AgentConfig config = AgentConfig.parse(new String[] {"--min-sync-period=100ms", "--sync-period=1s",
        "--healthz-bind-address=", "--metrics-bind-address=", "--cluster-cidr=10.244.0.0/16",
        "--egress-snat-configmap=default/turnpike-egress-snat"}, Map.of("NODE_NAME", NODE));
    client.configMaps().inNamespace("default").resource(new ConfigMapBuilder().withNewMetadata()
        .withNamespace("default").withName("turnpike-egress-snat").endMetadata()
        .withData(Map.of("clusterCIDRs", "10.244.0.0/16")).build()).create();
    ForwardingTable ft = new ForwardingTable();
    ft.setMetadata(new ObjectMetaBuilder().withNamespace("shop").withName("web").build());
    ft.setSpec(clusterIp("shop", "web", "10.96.0.10", backend("10.244.1.5", NODE)));
    client.resource(ft).create();
    // What a version before the rename of the chains left: the first apply replaces it.
    ExecIptables.detect(ProcessExec.inNetns(netns)).restore(IpFamily.IPv4, EgressChains.LEGACY, true);
    assertTrue(saved().contains("-j TP-EGRESS"), saved());

    NodeNat nat = natFactory.create(config);
    assertTrue(nat.conntrack().isPresent(), "ctnetlink opened in the namespace");
    agent = new Agent(config, client, factory.create(config), nat, Clock.systemUTC());
    agent.start(WAIT);
    await().atMost(WAIT).until(() -> saved().contains("-A TURNPIKE-EGRESS -s 10.244.0.0/16 -j TURNPIKE-EGRESS-POD")
        && saved().contains("10.96.0.10/32"));
    await().atMost(WAIT).until(() -> !saved().contains("TP-EGRESS"));
    // The backend's full syncs (every second here) delete TURNPIKE- chains they did not write,
    // except the reserved egress chains.
    var fullSyncs = agent.metrics().registry().find("turnpike.sync.full.proxy.rules.duration").timer();
    await().atMost(WAIT).until(() -> fullSyncs.count() >= 3);
    String rules = saved();
    assertTrue(rules.contains("-A TURNPIKE-EGRESS-POD -j MASQUERADE --random-fully"), rules);
    assertEquals(1, egressHooks(rules), rules);
    agent.close();

    // A restart: the new backend's first sync reads iptables-save, where the egress chains are
    // TURNPIKE- chains it did not write (and POSTROUTING jumps to one).
    agent = new Agent(config, client, factory.create(config), natFactory.create(config), Clock.systemUTC());
    agent.start(WAIT);
    var restartedSyncs = agent.metrics().registry().find("turnpike.sync.full.proxy.rules.duration").timer();
    await().atMost(WAIT).until(() -> restartedSyncs.count() >= 2);
    assertEquals(0.0, agent.metrics().registry().find("turnpike.sync.proxy.rules.iptables.restore.failures")
        .counter().count(), "no failed sync");
    rules = saved();
    assertTrue(rules.contains("-A TURNPIKE-EGRESS-POD -j MASQUERADE --random-fully"), rules);
    assertEquals(1, egressHooks(rules), rules);

    client.configMaps().inNamespace("default").withName("turnpike-egress-snat")
        .edit(cm -> new ConfigMapBuilder(cm).addToData("snatAddresses", "*=192.0.2.20").build());
    await().atMost(WAIT).until(() -> saved().contains("-A TURNPIKE-EGRESS-POD -j SNAT --to-source 192.0.2.20 --random-fully"));
    agent.close();
    agent = null;

    int code = AgentMain.run(new String[] {"--cleanup"}, Map.of(), c -> factory.create(config), natFactory, () -> {
      throw new AssertionError("cleanup needs no API server");
    }, System.err, new CountDownLatch(1));
    assertEquals(0, code);
    assertFalse(saved().contains("TURNPIKE-"), saved());
    assertFalse(saved().contains("TP-EGRESS"), saved());
  }

  private static long egressHooks(String saved) {
    return saved.lines().filter(l -> l.startsWith("-A POSTROUTING") && l.endsWith("-j TURNPIKE-EGRESS")).count();
  }
}
