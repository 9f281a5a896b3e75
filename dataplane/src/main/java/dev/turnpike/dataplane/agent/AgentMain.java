package dev.turnpike.dataplane.agent;

import dev.turnpike.dataplane.Dataplane;
import dev.turnpike.dataplane.DataplaneException;
import dev.turnpike.dataplane.iptables.IptablesException;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

/** The agent's entry point: {@code java -jar turnpike-dataplane.jar [flags]}. */
public final class AgentMain {
  static final Duration INFORMER_SYNC_TIMEOUT = Duration.ofMinutes(5);

  private AgentMain() {}

  public static void main(String[] args) {
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch closed = new CountDownLatch(1);
    // On SIGTERM let run() close the watches and servers before the JVM halts.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stop.countDown();
      try {
        closed.await(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "shutdown"));
    int code = run(args, System.getenv(), new DefaultDataplaneFactory(), new DefaultNodeNatFactory(),
        () -> new KubernetesClientBuilder().build(), System.err, stop);
    closed.countDown();
    System.exit(code);
  }

  /**
   * Runs the agent until {@code stop} opens, or the cleanup; returns the exit code. Everything
   * the process touches is a parameter, so tests run it in-process.
   */
  static int run(
      String[] args,
      Map<String, String> env,
      DataplaneFactory factory,
      Supplier<KubernetesClient> clients,
      PrintStream err,
      CountDownLatch stop) {
    return run(args, env, factory, NodeNatFactory.NONE, clients, err, stop);
  }

  /** As above, with the node's conntrack and egress SNAT from {@code natFactory}. */
  static int run(
      String[] args,
      Map<String, String> env,
      DataplaneFactory factory,
      NodeNatFactory natFactory,
      Supplier<KubernetesClient> clients,
      PrintStream err,
      CountDownLatch stop) {
    if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
      err.print(AgentConfig.usage());
      return 0;
    }
    AgentConfig config;
    Dataplane dataplane;
    NodeNat nat;
    try {
      config = AgentConfig.parse(args, env);
      dataplane = factory.create(config);
      nat = natFactory.create(config);
    } catch (IllegalArgumentException | IllegalStateException e) {
      err.println("turnpike-dataplane: " + e.getMessage());
      return 2;
    }
    if (config.cleanup()) {
      try {
        dataplane.cleanup();
        if (nat.egressSnat().isPresent()) {
          nat.egressSnat().get().cleanup();
        }
        err.println("turnpike-dataplane: cleanup done (" + config.mode().name().toLowerCase(java.util.Locale.ROOT) + ")");
        return 0;
      } catch (DataplaneException | IptablesException | RuntimeException e) {
        err.println("turnpike-dataplane: cleanup failed: " + e.getMessage());
        return 1;
      }
    }
    try (KubernetesClient client = clients.get();
        Agent agent = new Agent(config, client, dataplane, nat, Clock.systemUTC())) {
      agent.start(INFORMER_SYNC_TIMEOUT);
      stop.await();
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    } catch (Exception e) {
      err.println("turnpike-dataplane: " + e.getMessage());
      return 1;
    }
  }
}
