package dev.turnpike.dataplane.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.DataplaneMode;
import dev.turnpike.dataplane.iptables.Exec;
import dev.turnpike.dataplane.iptables.IptablesConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The factory over a scripted Exec: an nft-only host with iptables but no ip6tables. */
class DefaultDataplaneFactoryTest {
  private final List<List<String>> commands = new ArrayList<>();
  private final Exec nftIpv4Only = (argv, stdin) -> {
    synchronized (commands) {
      commands.add(argv);
    }
    String bin = argv.get(0);
    if (bin.startsWith("ip6tables") || bin.contains("legacy")) {
      throw new IOException("No such file or directory");
    }
    if (bin.equals("iptables-nft-save")) {
      return new Exec.Result(0, "*" + argv.get(argv.size() - 1) + "\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n", "");
    }
    return new Exec.Result(0, "", "");
  };

  private static AgentConfig config(String... args) {
    return AgentConfig.parse(args, Map.of("NODE_NAME", "n1"));
  }

  @Test
  void backendOptionsReachTheIptablesConfig() {
    AgentConfig c = config("--cluster-cidr=10.244.0.0/16", "--masquerade-all", "--nodeport-addresses=primary",
        "--localhost-nodeports=false");
    assertEquals(
        new IptablesConfig(List.of("10.244.0.0/16"), true, IptablesConfig.DEFAULT_MASQUERADE_BIT, List.of("primary"),
            false, IptablesConfig.DEFAULT_MAX_MAGLEV_TABLE_SIZE),
        DefaultDataplaneFactory.iptablesConfig(c.backend()));
  }

  @Test
  void iptablesModeDetectsTheVariantAndTheWorkingFamilies() {
    var dataplane = new DefaultDataplaneFactory(nftIpv4Only).create(config());
    assertEquals(DataplaneMode.IPTABLES, dataplane.mode());
    assertTrue(commands.contains(List.of("iptables-nft-save", "-t", "filter")), commands.toString());
  }

  @Test
  void cleanupThroughAgentMainUsesTheDetectedBackendAndExitsZero() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = AgentMain.run(new String[] {"--cleanup"}, Map.of(), new DefaultDataplaneFactory(nftIpv4Only),
        () -> {
          throw new AssertionError("cleanup needs no API server");
        }, new PrintStream(err, true, StandardCharsets.UTF_8), new CountDownLatch(1));
    assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
    assertTrue(commands.stream().anyMatch(c -> c.equals(List.of("iptables-nft-save", "-t", "nat"))), commands.toString());
    assertTrue(commands.stream().noneMatch(c -> c.get(0).startsWith("ip6tables-nft-restore")), "no IPv6 on this host");
  }

  @Test
  void ipvsModeBuildsTheIpvsBackendWithTheDetectedIptables() {
    var dataplane = new DefaultDataplaneFactory(nftIpv4Only).create(config("--mode=ipvs", "--cluster-cidr=10.244.0.0/16"));
    assertEquals(DataplaneMode.IPVS, dataplane.mode());
    assertTrue(dataplane instanceof dev.turnpike.dataplane.ipvs.IpvsDataplane, dataplane.getClass().getName());
    assertTrue(commands.contains(List.of("iptables-nft-save", "-t", "filter")), commands.toString());
  }

  @Test
  void otherModesAndBadOptionsAreClearErrors() {
    assertEquals("mode nftables is not available in this build",
        assertThrows(IllegalStateException.class, () -> new DefaultDataplaneFactory(nftIpv4Only).create(config("--mode=nftables")))
            .getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new DefaultDataplaneFactory(nftIpv4Only).create(config("--cluster-cidr=10.0.0.0/33")));
    Exec nothing = (argv, stdin) -> {
      throw new IOException("not found");
    };
    assertEquals("neither iptables nor ip6tables works on this node",
        assertThrows(IllegalStateException.class, () -> new DefaultDataplaneFactory(nothing).create(config())).getMessage());
  }
}
