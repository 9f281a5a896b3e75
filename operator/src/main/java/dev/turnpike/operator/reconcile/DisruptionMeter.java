package dev.turnpike.operator.reconcile;

import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import java.util.OptionalDouble;

/**
 * Measures how much of a Maglev table moved between two versions of a spec (the live disruption
 * figure behind {@code turnpike_maglev_slots_moved_ratio}).
 */
@FunctionalInterface
public interface DisruptionMeter {
  /** Empty when either side has no Maglev table to compare. */
  OptionalDouble slotsMovedRatio(ForwardingTableSpec before, ForwardingTableSpec after);

  DisruptionMeter NONE = (before, after) -> OptionalDouble.empty();
}
