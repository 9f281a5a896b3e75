package dev.turnpike.dataplane.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.DataplaneMode;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AgentConfigTest {
  @Test
  void defaultsAreKubeProxys() {
    AgentConfig c = AgentConfig.parse(new String[0], Map.of("NODE_NAME", "n1"));
    assertEquals("n1", c.nodeName());
    assertEquals(DataplaneMode.IPTABLES, c.mode());
    assertEquals(Duration.ofSeconds(1), c.minSyncPeriod());
    assertEquals(Duration.ofSeconds(30), c.syncPeriod());
    assertEquals(new InetSocketAddress("0.0.0.0", 10256), c.healthzBindAddress());
    assertEquals(new InetSocketAddress("127.0.0.1", 10249), c.metricsBindAddress());
    assertEquals("0.0.0.0", c.healthCheckBindAddress());
    assertEquals(Duration.ofSeconds(30), c.statusUpdateInterval());
    assertFalse(c.cleanup());
    assertEquals(new AgentConfig.BackendOptions(List.of(), false, List.of(), true), c.backend());
    assertEquals(new AgentConfig.ConfigMapRef(null, "turnpike-egress-snat"), c.egressSnatConfigMap(),
        "no namespace: the client's");
  }

  @Test
  void egressSnatConfigMapNamespaceFromTheFlagOrThePod() {
    Map<String, String> env = Map.of("NODE_NAME", "n1", "POD_NAMESPACE", "turnpike-system");
    assertEquals(new AgentConfig.ConfigMapRef("turnpike-system", "turnpike-egress-snat"),
        AgentConfig.parse(new String[0], env).egressSnatConfigMap());
    assertEquals(new AgentConfig.ConfigMapRef("kube-system", "masq"),
        AgentConfig.parse(new String[] {"--egress-snat-configmap=kube-system/masq"}, env).egressSnatConfigMap());
    assertNull(AgentConfig.parse(new String[] {"--egress-snat-configmap="}, env).egressSnatConfigMap());
    assertEquals("--egress-snat-configmap must be NAME or NAMESPACE/NAME, not a/b/c", assertThrows(
        IllegalArgumentException.class, () -> AgentConfig.parse(new String[] {"--egress-snat-configmap=a/b/c"}, env))
        .getMessage());
  }

  @Test
  void flagsOverrideEnvironmentOverridesDefaults() {
    AgentConfig c = AgentConfig.parse(
        new String[] {"--min-sync-period", "250ms", "--masquerade-all", "--cluster-cidr=10.0.0.0/8, fd00::/48",
            "--metrics-bind-address=", "--healthz-bind-address=[::1]:8080", "--node-name=flag-node"},
        Map.of("NODE_NAME", "env-node", "TURNPIKE_MIN_SYNC_PERIOD", "2s", "TURNPIKE_SYNC_PERIOD", "1m30s",
            "TURNPIKE_NODEPORT_ADDRESSES", "primary", "TURNPIKE_LOCALHOST_NODEPORTS", "false"));
    assertEquals("flag-node", c.nodeName());
    assertEquals(Duration.ofMillis(250), c.minSyncPeriod());
    assertEquals(Duration.ofSeconds(90), c.syncPeriod());
    assertNull(c.metricsBindAddress(), "empty disables");
    assertEquals(new InetSocketAddress("::1", 8080), c.healthzBindAddress());
    assertEquals(new AgentConfig.BackendOptions(List.of("10.0.0.0/8", "fd00::/48"), true, List.of("primary"), false),
        c.backend());
  }

  @Test
  void invalidSettingsAreRefusedWithTheFlagName() {
    Map<String, String> env = Map.of("NODE_NAME", "n1");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> AgentConfig.parse(new String[0], Map.of()))
        .getMessage().contains("NODE_NAME"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> AgentConfig.parse(new String[] {"--sync-period=10x"}, env)).getMessage().contains("--sync-period"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> AgentConfig.parse(new String[] {"--min-sync-period=1m"}, env)).getMessage().contains("at least"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> AgentConfig.parse(new String[] {"--mode=userspace"}, env)).getMessage().contains("unknown --mode"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> AgentConfig.parse(new String[] {"--bogus"}, env)).getMessage().contains("unknown flag --bogus"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> AgentConfig.parse(new String[] {"--masquerade-all=yes"}, env)).getMessage().contains("true or false"));
  }

  @Test
  void cleanupNeedsNoNodeName() {
    assertTrue(AgentConfig.parse(new String[] {"--cleanup"}, Map.of()).cleanup());
  }

  @Test
  void goStyleDurations() {
    assertEquals(Duration.ofMillis(1500), AgentConfig.parseDuration("1.5s"));
    assertEquals(Duration.ofSeconds(3723), AgentConfig.parseDuration("1h2m3s"));
    assertEquals(Duration.ZERO, AgentConfig.parseDuration("0"));
    assertEquals(Duration.ofSeconds(5), AgentConfig.parseDuration("PT5S"));
    assertThrows(IllegalArgumentException.class, () -> AgentConfig.parseDuration("5"));
    assertThrows(IllegalArgumentException.class, () -> AgentConfig.parseDuration("s5"));
  }

  @Test
  void usageListsEveryFlagWithItsEnvironmentVariableAndDefault() {
    String usage = AgentConfig.usage();
    for (AgentConfig.Flag f : AgentConfig.FLAGS) {
      assertTrue(usage.contains("--" + f.name()) && usage.contains(f.env()), f.name());
    }
    assertTrue(usage.contains("default \"0.0.0.0:10256\""));
  }
}
