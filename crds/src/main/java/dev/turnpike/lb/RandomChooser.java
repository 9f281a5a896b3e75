package dev.turnpike.lb;

import java.util.Objects;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * Walks a probability chain (see {@link RandomSelection}) the way the kernel does, for tests and
 * simulations: rule i matches when 31 fresh random bits fall below {@link
 * RandomSelection#kernelThreshold}. Deterministic for a given seed. Not thread-safe.
 */
public final class RandomChooser {

  private final RandomGenerator random;

  /** A chooser over {@link SplittableRandom} with this seed. */
  public RandomChooser(long seed) {
    this(new SplittableRandom(seed));
  }

  public RandomChooser(RandomGenerator random) {
    this.random = Objects.requireNonNull(random, "random");
  }

  /**
   * Picks a backend.
   *
   * @param chainProbabilities p_i per rule, in rule order
   * @return the index of the first rule that matched, or −1 when none did (only possible when no
   *     probability rounds to 1)
   */
  public int choose(double[] chainProbabilities) {
    for (int i = 0; i < chainProbabilities.length; i++) {
      if ((random.nextInt() & 0x7fffffff) < RandomSelection.kernelThreshold(chainProbabilities[i])) {
        return i;
      }
    }
    return -1;
  }
}
