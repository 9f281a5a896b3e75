package dev.turnpike.lb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class MaglevDisruptionTest {

  @Test
  void comparesOwnersByKeyNotByIndex() {
    // Same owners, different list order: nothing moved.
    assertEquals(
        0.0,
        MaglevDisruption.slotsMovedRatio(
            new int[] {0, 1, 0, 1}, List.of("a", "b"), new int[] {1, 0, 1, 0}, List.of("b", "a")));
    // b removed: its 2 slots went to a or c; one of a's slots went to c.
    assertEquals(
        0.75,
        MaglevDisruption.slotsMovedRatio(
            new int[] {0, 1, 0, 1}, List.of("a", "b"), new int[] {0, 0, 1, 1}, List.of("a", "c")));
  }

  @Test
  void emptySlotsCountAsAnOwner() {
    assertEquals(
        0.5,
        MaglevDisruption.slotsMovedRatio(
            new int[] {-1, -1}, List.of(), new int[] {-1, 0}, List.of("a")));
    assertEquals(
        0.0, MaglevDisruption.slotsMovedRatio(new int[] {-1}, List.of(), new int[] {-1}, List.of()));
  }

  @Test
  void rejectsDifferentSizesAndBadIndices() {
    assertThrows(
        IllegalArgumentException.class,
        () -> MaglevDisruption.slotsMovedRatio(new int[2], List.of("a"), new int[3], List.of("a")));
    assertThrows(
        IllegalArgumentException.class,
        () -> MaglevDisruption.slotsMovedRatio(new int[] {1}, List.of("a"), new int[] {0},
            List.of("a")));
  }
}
