package dev.turnpike.lb;

import dev.turnpike.api.v1alpha1.Protocol;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Random Maglev inputs and removal measurements shared by the tests and the disruption report. */
public final class MaglevCases {

  private MaglevCases() {}

  /**
   * n distinct backend keys (consecutive addresses from a random base, about a quarter IPv6 when
   * {@code mixIpv6}), all of the given weight.
   */
  public static List<MaglevBackend> randomBackends(
      SplittableRandom random, int n, int weight, boolean mixIpv6) {
    List<MaglevBackend> backends = new ArrayList<>(n);
    int base = random.nextInt(1 << 20);
    for (int i = 0; i < n; i++) {
      int a = base + i;
      String address =
          mixIpv6 && random.nextInt(4) == 0
              ? "fd00::" + Integer.toHexString(a)
              : "10." + ((a >> 16) & 255) + "." + ((a >> 8) & 255) + "." + (a & 255);
      backends.add(new MaglevBackend(MaglevBackend.keyOf(address, 8080, Protocol.TCP), weight));
    }
    return backends;
  }

  public static List<String> keys(List<MaglevBackend> backends) {
    return backends.stream().map(MaglevBackend::key).toList();
  }

  /**
   * Of the slots that {@code before} did not give to backend {@code removed}, the fraction whose
   * owner changed in {@code after}, which was built from {@code backends} without {@code removed}.
   */
  public static double remainingMovedRatio(
      int[] before, List<MaglevBackend> backends, int removed, int[] after,
      List<MaglevBackend> remaining) {
    int stayed = 0;
    int moved = 0;
    for (int slot = 0; slot < before.length; slot++) {
      if (before[slot] != removed) {
        stayed++;
        if (!backends.get(before[slot]).key().equals(remaining.get(after[slot]).key())) {
          moved++;
        }
      }
    }
    return (double) moved / stayed;
  }
}
