package dev.turnpike.operator.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.operator.compute.AnnotationProblem;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class TableStatusTest {
  static final Instant T0 = Instant.parse("2026-11-21T10:00:00Z");
  static final Instant T1 = Instant.parse("2026-11-21T11:00:00Z");
  static final AnnotationProblem BAD = new AnnotationProblem("turnpike.dev/lb-algorithm", "rr", "turnpike.dev/lb-algorithm: 'rr' is not random or maglev");

  @Test
  void transitionTimeMovesOnlyWhenTheStatusFlips() {
    var clean = TableStatus.desired(null, 1, List.of(), T0);
    assertEquals("True", clean.conditions().get(0).getStatus());
    assertEquals("2026-11-21T10:00:00Z", clean.conditions().get(0).getLastTransitionTime());

    var stillClean = TableStatus.desired(clean, 2, List.of(), T1);
    assertEquals("2026-11-21T10:00:00Z", stillClean.conditions().get(0).getLastTransitionTime());
    assertEquals(2L, stillClean.observedGeneration());

    var broken = TableStatus.desired(stillClean, 2, List.of(BAD), T1);
    var c = broken.conditions().get(0);
    assertEquals("False", c.getStatus());
    assertEquals(TableStatus.REASON_INVALID, c.getReason());
    assertEquals(BAD.message(), c.getMessage());
    assertEquals("2026-11-21T11:00:00Z", c.getLastTransitionTime());
  }

  @Test
  void sameIgnoresNothingThatMatters() {
    var a = TableStatus.desired(null, 1, List.of(), T0);
    assertTrue(TableStatus.same(a, TableStatus.desired(a, 1, List.of(), T1)), "a resync is not a change");
    assertFalse(TableStatus.same(a, TableStatus.desired(a, 2, List.of(), T1)));
    assertFalse(TableStatus.same(a, TableStatus.desired(a, 1, List.of(BAD), T1)));
    assertFalse(TableStatus.same(null, a));
  }
}
