package dev.turnpike.operator.reconcile;

import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.api.v1alpha1.Frontend;
import dev.turnpike.api.v1alpha1.MaglevLookupTable;
import dev.turnpike.lb.MaglevBackend;
import dev.turnpike.lb.MaglevDisruption;
import dev.turnpike.lb.MaglevTableCodec;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compares each frontend's per-family lookup tables before and after by backend key (slot indices
 * point into each spec's own backend list, so they are not comparable directly). A table whose
 * size changed is not measured: slot identity is lost and nearly every flow moves by design.
 */
public final class MaglevSlotsMoved implements DisruptionMeter {
  private static final Logger log = LoggerFactory.getLogger(MaglevSlotsMoved.class);

  @Override
  public List<Double> slotsMovedRatios(ForwardingTableSpec before, ForwardingTableSpec after) {
    List<Double> ratios = new ArrayList<>();
    for (Frontend now : after.frontends()) {
      Frontend then = sameFrontend(before, now);
      if (then == null) {
        continue;
      }
      for (MaglevLookupTable table : now.maglevTables()) {
        for (MaglevLookupTable old : then.maglevTables()) {
          if (old.ipFamily() != table.ipFamily()) {
            continue;
          }
          try {
            int[] a = MaglevTableCodec.decode(old.table(), before.backends().size());
            int[] b = MaglevTableCodec.decode(table.table(), after.backends().size());
            if (a.length == b.length) {
              ratios.add(MaglevDisruption.slotsMovedRatio(a, keys(before, then), b, keys(after, now)));
            }
          } catch (IllegalArgumentException e) {
            // A table we cannot read (hand-edited, older encoding) has nothing to compare against.
            log.debug("not measuring {}: {}", now.name(), e.getMessage());
          }
        }
      }
    }
    return ratios;
  }

  private static Frontend sameFrontend(ForwardingTableSpec spec, Frontend like) {
    return spec.frontends().stream()
        .filter(f -> f.name().equals(like.name()) && f.protocol() == like.protocol())
        .findFirst()
        .orElse(null);
  }

  /** Key of every spec backend for this frontend, by index (null where it does not serve it). */
  private static List<String> keys(ForwardingTableSpec spec, Frontend frontend) {
    List<String> keys = new ArrayList<>(spec.backends().size());
    for (Backend b : spec.backends()) {
      int port = b.portFor(frontend.name());
      keys.add(port < 0 ? null : MaglevBackend.keyOf(b.address(), port, frontend.protocol()));
    }
    return keys;
  }
}
