package dev.turnpike.lb.bench;

import dev.turnpike.lb.Maglev;
import dev.turnpike.lb.MaglevBackend;
import dev.turnpike.lb.MaglevConfig;
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
 * Maglev table build time on one thread, output preallocated (the operator's steady state: one
 * builder per worker, reused). Run with {@code hack/bench.sh crds MaglevBenchmark}. Goal: M=65521,
 * N=1000 within the paper's 1.8 ms.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class MaglevBenchmark {

  @Param({"4093", "16381", "65521"})
  int tableSize;

  @Param({"10", "100", "1000"})
  int backends;

  private Maglev maglev;
  private List<MaglevBackend> list;
  private int[] out;

  @Setup
  public void setUp() {
    maglev = new Maglev(new MaglevConfig(tableSize, MaglevConfig.DEFAULT_SEED));
    list = new ArrayList<>(backends);
    for (int i = 0; i < backends; i++) {
      list.add(MaglevBackend.of("10.0." + (i >> 8) + "." + (i & 255) + ":8080/TCP"));
    }
    out = new int[tableSize];
  }

  @Benchmark
  public int[] build() {
    maglev.build(list, out);
    return out;
  }
}
