package dev.turnpike.dataplane.sync;

import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.dataplane.DesiredState;
import dev.turnpike.dataplane.NodeContext;
import dev.turnpike.dataplane.ServiceKey;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The desired state as the watches see it, and what changed since the last successful sync.
 *
 * <p>Changes are tracked as keys touched since the last success and compared against what that
 * sync programmed, so repeated changes merge into one and a change that returns a Service to its
 * programmed spec (or a no-op update) drops out. Thread-safe: watches write, the sync loop reads.
 */
public final class ChangeTracker {
  /**
   * What one sync programs.
   *
   * @param changed Services whose spec differs from the last successful sync (added, updated or
   *     deleted)
   * @param nodeChanged the node's labels or addresses differ from the last successful sync
   * @param triggerTimes for changed Services, the endpoint change trigger times this sync applies
   *     (for the network programming latency)
   */
  public record Snapshot(
      DesiredState state,
      Set<ServiceKey> changed,
      boolean nodeChanged,
      Map<ServiceKey, List<Instant>> triggerTimes) {
    public Snapshot {
      changed = Set.copyOf(changed);
      triggerTimes = Map.copyOf(triggerTimes);
    }
  }

  private final Instant startTime;
  private final Map<ServiceKey, ForwardingTableSpec> current = new HashMap<>();
  private final Map<ServiceKey, ForwardingTableSpec> synced = new HashMap<>();
  private final Set<ServiceKey> touched = new HashSet<>();
  private final Map<ServiceKey, List<Instant>> triggerTimes = new HashMap<>();
  private NodeContext node;
  private NodeContext syncedNode;

  /**
   * @param startTime trigger times before this are not reported: they describe changes that
   *     happened while no agent was running (kube-proxy skips them too)
   */
  public ChangeTracker(NodeContext initialNode, Instant startTime) {
    this.node = Objects.requireNonNull(initialNode);
    this.startTime = startTime;
  }

  /** Sets a Service's table; {@code null} deletes it. Returns whether the desired state changed. */
  public synchronized boolean update(ServiceKey key, ForwardingTableSpec spec) {
    ForwardingTableSpec old = current.get(key);
    if (Objects.equals(old, spec)) {
      // An equal copy (an update of the object's metadata or status only): keep the object held,
      // which the programmed state and the renderer's plans share; the copy is garbage at once.
      return false;
    }
    if (spec == null) {
      current.remove(key);
    } else {
      current.put(key, spec);
    }
    touched.add(key);
    Instant trigger = spec == null ? null : parseTriggerTime(spec.lastChangeTriggerTime());
    Instant oldTrigger = old == null ? null : parseTriggerTime(old.lastChangeTriggerTime());
    if (trigger != null && !trigger.equals(oldTrigger) && !trigger.isBefore(startTime)) {
      triggerTimes.computeIfAbsent(key, k -> new ArrayList<>()).add(trigger);
    }
    return true;
  }

  /** Returns whether the node's context changed (which forces a full sync). */
  public synchronized boolean updateNode(NodeContext newNode) {
    if (node.equals(newNode)) {
      return false;
    }
    node = newNode;
    return true;
  }

  public synchronized NodeContext node() {
    return node;
  }

  /** Whether the desired state differs from what the last successful sync programmed. */
  public synchronized boolean hasPending() {
    return !node.equals(syncedNode) || touched.stream().anyMatch(this::differs);
  }

  public synchronized Snapshot snapshot() {
    Set<ServiceKey> changed = new HashSet<>();
    for (ServiceKey k : touched) {
      if (differs(k)) {
        changed.add(k);
      }
    }
    Map<ServiceKey, List<Instant>> triggers = new HashMap<>();
    for (ServiceKey k : changed) {
      List<Instant> t = triggerTimes.get(k);
      if (t != null) {
        triggers.put(k, List.copyOf(t));
      }
    }
    return new Snapshot(
        new DesiredState(node, new TreeMap<>(current)), changed, !node.equals(syncedNode), triggers);
  }

  /** Records that {@code s} reached the kernel. Changes that arrived meanwhile stay pending. */
  public synchronized void synced(Snapshot s) {
    syncedNode = s.state().node();
    Map<ServiceKey, ForwardingTableSpec> programmed = s.state().tables();
    for (ServiceKey k : s.changed()) {
      ForwardingTableSpec spec = programmed.get(k);
      if (spec == null) {
        synced.remove(k);
      } else {
        synced.put(k, spec);
      }
      List<Instant> t = triggerTimes.get(k);
      if (t != null) {
        t.removeAll(s.triggerTimes().getOrDefault(k, List.of()));
        if (t.isEmpty()) {
          triggerTimes.remove(k);
        }
      }
    }
    touched.removeIf(k -> !differs(k));
    triggerTimes.keySet().retainAll(touched); // a reverted change programs nothing to time
  }

  private boolean differs(ServiceKey k) {
    return !Objects.equals(current.get(k), synced.get(k));
  }

  static Instant parseTriggerTime(String text) {
    if (text == null || text.isEmpty()) {
      return null;
    }
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      return null; // a malformed annotation only costs us one latency sample
    }
  }
}
