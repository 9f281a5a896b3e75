package dev.turnpike.operator;

import dev.turnpike.operator.cli.ComputeCommand;
import dev.turnpike.operator.compute.TableComputer;
import dev.turnpike.operator.reconcile.MaglevSlotsMoved;
import dev.turnpike.operator.reconcile.TableSource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** Entry point of turnpike-operator.jar. */
public final class OperatorMain {
  private OperatorMain() {}

  public static void main(String[] argv) throws Exception {
    List<String> args = Arrays.asList(argv);
    if (!args.isEmpty() && args.get(0).equals("compute")) {
      System.exit(ComputeCommand.run(args.subList(1, args.size()), System.out, System.err));
    }
    if (args.contains("--help") || args.contains("-h")) {
      System.out.print(OperatorOptions.usage());
      return;
    }
    OperatorOptions options;
    try {
      options = OperatorOptions.parse(args, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("turnpike-operator: " + e.getMessage());
      System.exit(2);
      return;
    }

    KubernetesClient client = new KubernetesClientBuilder().build();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);

    TurnpikeOperator operator =
        new TurnpikeOperator(
            client,
            options,
            LeaseTimings.DEFAULT,
            TableSource.of(new TableComputer(options.defaults())),
            new MaglevSlotsMoved(),
            registry,
            Clock.systemUTC(),
            // Not from this thread: System.exit waits for the shutdown hook, which stops the operator.
            () -> new Thread(() -> System.exit(1), "turnpike-lost-lease").start());
    HealthServer http =
        new HealthServer(options.httpPort(), operator::isHealthy, operator::isReady, registry::scrape).start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  operator.stop();
                  http.close();
                  client.close();
                  stopped.countDown();
                },
                "turnpike-shutdown"));
    operator.start();
    stopped.await(); // JOSDK's threads may all be daemons; keep the JVM up until SIGTERM
  }
}
