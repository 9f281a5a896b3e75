package dev.turnpike.lb;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * The {@code random} algorithm as kube-proxy renders it: a chain of rules where rule i matches with
 * probability p_i among the flows that reached it, and the last rule always matches. The chain is
 * uniform (or weight-proportional) overall: P(i) = p_i·Π_{j&lt;i}(1−p_j).
 */
public final class RandomSelection {

  /** iptables' statistic match compares 31 random bits with round(p·2^31). */
  private static final double KERNEL_SCALE = 0x1p31;

  private RandomSelection() {}

  /**
   * kube-proxy's chain for n equal backends: p_i = 1/(n−i), computed as {@code 1.0 / (n - i)} like
   * kube-proxy, so the last is 1.0.
   *
   * @param n the number of backends, {@code >= 0}
   */
  public static double[] chainProbabilities(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("backend count " + n + " is negative");
    }
    double[] p = new double[n];
    for (int i = 0; i < n; i++) {
      p[i] = 1.0 / (n - i);
    }
    return p;
  }

  /**
   * The chain for weighted backends: p_i = w_i / Σ_{j≥i} w_j. A 0-weight backend gets 0 (it is
   * never chosen), and the last backend with a positive weight gets exactly 1.0, so the chain
   * always ends a flow there (backends after it have weight 0 and get 0). All weights 0 gives all
   * 0: nothing can be chosen.
   *
   * @param weights each {@code >= 0}
   */
  public static double[] chainProbabilities(int[] weights) {
    double[] p = new double[weights.length];
    long remaining = 0;
    for (int i = weights.length - 1; i >= 0; i--) {
      if (weights[i] < 0) {
        throw new IllegalArgumentException("weight " + weights[i] + " of backend " + i + " < 0");
      }
      remaining += weights[i];
      // w/w is exactly 1.0 in IEEE arithmetic, so the last positive weight gets 1.0.
      p[i] = weights[i] == 0 ? 0.0 : (double) weights[i] / remaining;
    }
    return p;
  }

  /**
   * The probability as kube-proxy writes it into a rule: Go's {@code fmt.Sprintf("%0.10f", p)}, 10
   * decimals, rounding the exact binary value half to even (so 1/2048 is {@code 0.0004882812},
   * where {@code String.format} would round up), independent of the default locale.
   */
  public static String formatProbability(double p) {
    if (!Double.isFinite(p)) {
      throw new IllegalArgumentException("probability " + p + " is not finite");
    }
    return new BigDecimal(p).setScale(10, RoundingMode.HALF_EVEN).toPlainString();
  }

  /**
   * The threshold the kernel's statistic match compares {@code random & 0x7fffffff} with for a rule
   * written with {@link #formatProbability}: iptables parses the text and stores {@code
   * lround(p·2^31)}.
   */
  public static long kernelThreshold(double p) {
    return Math.round(Double.parseDouble(formatProbability(p)) * KERNEL_SCALE);
  }
}
