package dev.turnpike.lb;

import java.util.List;
import java.util.Objects;

/** How much a table change disturbs flows: what the operator's slots-moved histogram records. */
public final class MaglevDisruption {

  private MaglevDisruption() {}

  /**
   * The fraction of slots whose owning backend changed, compared by key (indices are positions in
   * each table's own backend list, so they are not comparable across tables). A slot that is −1 in
   * both tables has not moved; −1 on one side only has.
   *
   * @param before the old table; its slots index {@code beforeKeys}
   * @param after the new table, of the same size; its slots index {@code afterKeys}
   * @return a value in [0, 1]
   * @throws IllegalArgumentException when the sizes differ (a resize moves nearly every flow; the
   *     caller decides how to report it) or an index is out of range
   */
  public static double slotsMovedRatio(
      int[] before, List<String> beforeKeys, int[] after, List<String> afterKeys) {
    if (before.length != after.length) {
      throw new IllegalArgumentException(
          "tables differ in size: " + before.length + " and " + after.length);
    }
    if (before.length == 0) {
      return 0.0;
    }
    int moved = 0;
    for (int slot = 0; slot < before.length; slot++) {
      if (!Objects.equals(keyAt(before, slot, beforeKeys), keyAt(after, slot, afterKeys))) {
        moved++;
      }
    }
    return (double) moved / before.length;
  }

  private static String keyAt(int[] table, int slot, List<String> keys) {
    int index = table[slot];
    if (index == -1) {
      return null;
    }
    if (index < 0 || index >= keys.size()) {
      throw new IllegalArgumentException(
          "slot " + slot + " names backend " + index + " of " + keys.size());
    }
    return keys.get(index);
  }
}
