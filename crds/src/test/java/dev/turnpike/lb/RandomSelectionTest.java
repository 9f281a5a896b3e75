package dev.turnpike.lb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RandomSelectionTest {

  @Test
  void chainForThreeIsKubeProxys() {
    double[] p = RandomSelection.chainProbabilities(3);
    assertArrayEquals(new double[] {1.0 / 3, 0.5, 1.0}, p);
    assertEquals(
        "[0.3333333333, 0.5000000000, 1.0000000000]",
        Arrays.toString(Arrays.stream(p).mapToObj(RandomSelection::formatProbability).toArray()));
    assertArrayEquals(new double[0], RandomSelection.chainProbabilities(0));
    assertArrayEquals(new double[] {1.0}, RandomSelection.chainProbabilities(1));
    assertThrows(IllegalArgumentException.class, () -> RandomSelection.chainProbabilities(-1));
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 7, 10, 100, 1000, 4097})
  void equalChainMultipliesOutToUniform(int n) {
    double[] p = RandomSelection.chainProbabilities(n);
    assertEquals(1.0, p[n - 1]);
    double[] overall = overall(p);
    for (int i = 0; i < n; i++) {
      assertEquals(1.0 / n, overall[i], 1e-12, "backend " + i);
    }
  }

  @Test
  void weightedChainMultipliesOutToWeightShares() {
    SplittableRandom random = new SplittableRandom(10);
    for (int round = 0; round < 200; round++) {
      int[] weights = new int[1 + random.nextInt(50)];
      long sum = 0;
      for (int i = 0; i < weights.length; i++) {
        weights[i] = random.nextInt(4) == 0 ? 0 : random.nextInt(1000);
        sum += weights[i];
      }
      double[] p = RandomSelection.chainProbabilities(weights);
      double[] overall = overall(p);
      for (int i = 0; i < weights.length; i++) {
        double expected = sum == 0 ? 0.0 : (double) weights[i] / sum;
        assertEquals(expected, overall[i], 1e-12, Arrays.toString(weights) + " at " + i);
      }
    }
  }

  @Test
  void zeroWeightsGetZeroAndTheLastPositiveWeightGetsOne() {
    assertArrayEquals(
        new double[] {0.0, 0.25, 0.0, 1.0, 0.0, 0.0},
        RandomSelection.chainProbabilities(new int[] {0, 1, 0, 3, 0, 0}));
    assertArrayEquals(new double[] {0.0, 0.0}, RandomSelection.chainProbabilities(new int[2]));
    assertThrows(
        IllegalArgumentException.class, () -> RandomSelection.chainProbabilities(new int[] {1, -1}));
  }

  /** Go's %0.10f: exact binary value rounded half to even, always '.' and 10 decimals. */
  @ParameterizedTest
  @CsvSource({
    "0.5, 0.5000000000",
    "1.0, 1.0000000000",
    "0.0, 0.0000000000",
    "0.1, 0.1000000000",
    "0.00048828125, 0.0004882812", // 1/2048 is exactly ...125: half to even, down
    "0.00146484375, 0.0014648438", // 3/2048 is exactly ...375: half to even, up
    "0.3333333333333333, 0.3333333333",
    "0.6666666666666666, 0.6666666667",
    "0.01, 0.0100000000",
  })
  void formatsLikeKubeProxy(double p, String expected) {
    assertEquals(expected, RandomSelection.formatProbability(p));
  }

  @Test
  void formattingIgnoresTheDefaultLocale() {
    Locale saved = Locale.getDefault();
    try {
      Locale.setDefault(Locale.GERMANY);
      assertEquals("0.2500000000", RandomSelection.formatProbability(0.25));
    } finally {
      Locale.setDefault(saved);
    }
  }

  @Test
  void kernelThresholdIsRoundedProbabilityTimesTwoToThe31() {
    assertEquals(1L << 31, RandomSelection.kernelThreshold(1.0));
    assertEquals(1L << 30, RandomSelection.kernelThreshold(0.5));
    assertEquals(0, RandomSelection.kernelThreshold(0.0));
    assertEquals(Math.round(0.3333333333 * 0x1p31), RandomSelection.kernelThreshold(1.0 / 3));
  }

  /**
   * 100k picks with a fixed seed; Pearson's chi-square against the expected shares stays below the
   * 0.1% critical value for the degrees of freedom (deterministic, so never flaky).
   */
  @Test
  void chooserFollowsTheChainWithinChiSquareBound() {
    assertChiSquare(RandomSelection.chainProbabilities(5), new double[] {.2, .2, .2, .2, .2}, 18.467);
    int[] weights = {1, 0, 3, 6};
    assertChiSquare(
        RandomSelection.chainProbabilities(weights), new double[] {.1, 0, .3, .6}, 13.816);
  }

  @Test
  void chooserIsDeterministicForASeed() {
    double[] p = RandomSelection.chainProbabilities(7);
    RandomChooser a = new RandomChooser(99);
    RandomChooser b = new RandomChooser(new SplittableRandom(99));
    for (int i = 0; i < 1000; i++) {
      assertEquals(a.choose(p), b.choose(p));
    }
    assertEquals(-1, a.choose(new double[] {0.0, 0.0}));
    assertEquals(-1, a.choose(new double[0]));
  }

  private static void assertChiSquare(double[] chain, double[] expectedShare, double critical) {
    RandomChooser chooser = new RandomChooser(12345);
    int picks = 100_000;
    int[] counts = new int[chain.length];
    for (int k = 0; k < picks; k++) {
      counts[chooser.choose(chain)]++;
    }
    double chiSquare = 0;
    for (int i = 0; i < counts.length; i++) {
      if (expectedShare[i] == 0) {
        assertEquals(0, counts[i], "a 0-weight backend is never chosen");
        continue;
      }
      double expected = picks * expectedShare[i];
      chiSquare += (counts[i] - expected) * (counts[i] - expected) / expected;
    }
    assertTrue(chiSquare < critical, "chi-square " + chiSquare + " " + Arrays.toString(counts));
  }

  /** P(i) = p_i·Π_{j<i}(1−p_j). */
  private static double[] overall(double[] p) {
    double[] overall = new double[p.length];
    double reach = 1.0;
    for (int i = 0; i < p.length; i++) {
      overall[i] = reach * p[i];
      reach *= 1 - p[i];
    }
    return overall;
  }
}
