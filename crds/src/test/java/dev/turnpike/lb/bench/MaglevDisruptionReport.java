package dev.turnpike.lb.bench;

import dev.turnpike.lb.Maglev;
import dev.turnpike.lb.MaglevCases;
import dev.turnpike.lb.MaglevBackend;
import dev.turnpike.lb.MaglevConfig;
import dev.turnpike.lb.MaglevDisruption;
import dev.turnpike.lb.MaglevTableCodec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Prints the disruption and encoded-size figures of docs/benchmarks.md: for each (M, N), random
 * backend sets and seeds, one random backend removed; the slots-moved ratio minus the ideal 1/N,
 * and the share of the remaining backends' slots that moved. Not a test (no assertions);
 * deterministic for a given seed. Run: {@code java -cp <test classpath>
 * dev.turnpike.lb.bench.MaglevDisruptionReport [cases per row]}.
 */
public final class MaglevDisruptionReport {

  private static final int[][] ROWS = {
    {4093, 10}, {4093, 40}, {4093, 100}, {16381, 10}, {16381, 100}, {65521, 10}, {65521, 100},
    {65521, 1000}, {131071, 1000},
  };

  public static void main(String[] args) {
    int cases = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    SplittableRandom random = new SplittableRandom(2016);
    System.out.println(
        "| M | N | M/N | cases | moved − 1/N: median | p99 | worst | within 1/N+1% |"
            + " others moved: median | worst |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|");
    for (int[] row : ROWS) {
      int m = row[0];
      int n = row[1];
      int rowCases = (long) m * n > 10_000_000 ? Math.max(cases / 5, 1) : cases;
      double[] excess = new double[rowCases];
      double[] others = new double[rowCases];
      int within = 0;
      int[] before = new int[m];
      int[] after = new int[m];
      for (int c = 0; c < rowCases; c++) {
        Maglev maglev = new Maglev(new MaglevConfig(m, random.nextLong()));
        List<MaglevBackend> backends = backends(random, n);
        maglev.build(backends, before);
        int removed = random.nextInt(n);
        List<MaglevBackend> remaining = new ArrayList<>(backends);
        remaining.remove(removed);
        maglev.build(remaining, after);
        excess[c] =
            MaglevDisruption.slotsMovedRatio(before, keys(backends), after, keys(remaining))
                - 1.0 / n;
        if (excess[c] <= 0.01) {
          within++;
        }
        others[c] = MaglevCases.remainingMovedRatio(before, backends, removed, after, remaining);
      }
      Arrays.sort(excess);
      Arrays.sort(others);
      System.out.printf(
          Locale.ROOT,
          "| %d | %d | %.0f | %d | %.2f%% | %.2f%% | %.2f%% | %.1f%% | %.2f%% | %.2f%% |%n",
          m, n, (double) m / n, rowCases, 100 * excess[rowCases / 2],
          100 * excess[rowCases * 99 / 100], 100 * excess[rowCases - 1],
          100.0 * within / rowCases, 100 * others[rowCases / 2], 100 * others[rowCases - 1]);
    }
    System.out.println();
    System.out.println("| M | N | encoded characters |");
    System.out.println("|---|---|---|");
    for (int[] row : new int[][] {{4093, 10}, {16381, 100}, {65521, 1000}, {131071, 1000}}) {
      int[] table =
          new Maglev(new MaglevConfig(row[0], MaglevConfig.DEFAULT_SEED))
              .build(backends(random, row[1]));
      System.out.printf(
          Locale.ROOT, "| %d | %d | %d |%n", row[0], row[1], MaglevTableCodec.encode(table).length());
    }
  }

  private static List<MaglevBackend> backends(SplittableRandom random, int n) {
    return MaglevCases.randomBackends(random, n, 1, false);
  }

  private static List<String> keys(List<MaglevBackend> backends) {
    return MaglevCases.keys(backends);
  }
}
