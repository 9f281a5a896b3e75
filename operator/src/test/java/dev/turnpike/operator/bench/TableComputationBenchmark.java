package dev.turnpike.operator.bench;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.lb.MaglevConfig;
import dev.turnpike.operator.compute.ClusterDefaults;
import dev.turnpike.operator.compute.ComputeResult;
import dev.turnpike.operator.compute.TableComputer;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One Service with 1000 endpoints in 10 EndpointSlices (two ports, every 20th endpoint
 * terminating) → ForwardingTable spec, the operator's per-reconcile compute cost. Run with
 * {@code hack/bench.sh operator TableComputationBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TableComputationBenchmark {
  @Param({"random", "maglev"})
  public String algorithm;

  @Param({"4093", "65521"})
  public int tableSize;

  private TableComputer computer;
  private Service service;
  private List<EndpointSlice> slices;

  @Setup
  public void setUp() {
    computer = new TableComputer(new ClusterDefaults(
        "maglev".equals(algorithm) ? Algorithm.MAGLEV : Algorithm.RANDOM, tableSize, MaglevConfig.DEFAULT_SEED, ""));
    service = new ServiceBuilder()
        .withNewMetadata().withNamespace("bench").withName("big").withUid("u").endMetadata()
        .withNewSpec().withType("ClusterIP").withClusterIP("10.96.0.1").withClusterIPs("10.96.0.1")
        .addNewPort().withName("http").withProtocol("TCP").withPort(80).endPort()
        .addNewPort().withName("metrics").withProtocol("TCP").withPort(9090).endPort()
        .endSpec().build();
    slices = new ArrayList<>();
    for (int s = 0; s < 10; s++) {
      List<Endpoint> eps = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        int n = s * 100 + i;
        boolean terminating = n % 20 == 0;
        eps.add(new EndpointBuilder().withAddresses("10.244." + (n / 250) + "." + (n % 250 + 1))
            .withNodeName("node-" + (n % 50)).withZone("zone-" + (n % 3))
            .withNewConditions().withReady(!terminating).withServing(true).withTerminating(terminating).endConditions()
            .build());
      }
      slices.add(new EndpointSliceBuilder()
          .withNewMetadata().withNamespace("bench").withName("big-" + s)
          .addToLabels("kubernetes.io/service-name", "big").endMetadata()
          .withAddressType("IPv4")
          .addNewPort().withName("http").withProtocol("TCP").withPort(8080).endPort()
          .addNewPort().withName("metrics").withProtocol("TCP").withPort(9090).endPort()
          .withEndpoints(eps).build());
    }
  }

  @Benchmark
  public ComputeResult compute() {
    return computer.compute(service, slices);
  }
}
