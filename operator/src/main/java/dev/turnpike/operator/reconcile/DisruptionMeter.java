package dev.turnpike.operator.reconcile;

import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import java.util.List;

/**
 * Measures how much of a Maglev table moved between two versions of a spec (the live disruption
 * figure behind {@code turnpike_maglev_slots_moved_ratio}).
 */
@FunctionalInterface
public interface DisruptionMeter {
  /** One ratio per lookup table present (same frontend, family and size) on both sides. */
  List<Double> slotsMovedRatios(ForwardingTableSpec before, ForwardingTableSpec after);

  DisruptionMeter NONE = (before, after) -> List.of();
}
