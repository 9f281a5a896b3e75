package dev.turnpike.api.v1alpha1;

import java.lang.ref.WeakReference;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Canonical instances of the values that repeat across the backends of a cluster's tables: node
 * names, zones, port names and whole port lists (every endpoint of a Service usually has the
 * same). Applied by the records' constructors, so every deserialized table shares them; at 100k
 * endpoints that is about 20 MiB less in a node's agent. Equality is unaffected (records compare
 * by value); only identity is shared. Unused instances are collected (weak references).
 */
final class Interned {
  private static final Map<List<BackendPort>, WeakReference<List<BackendPort>>> PORTS = new WeakHashMap<>();

  private Interned() {}

  /** The JVM's canonical copy (null for null): for values of which a cluster has few. */
  static String string(String s) {
    return s == null ? null : s.intern();
  }

  /** A list equal to {@code ports} (immutable, as given), shared by every backend with these ports. */
  static List<BackendPort> ports(List<BackendPort> ports) {
    if (ports.isEmpty()) {
      return ports;
    }
    synchronized (PORTS) {
      WeakReference<List<BackendPort>> ref = PORTS.get(ports);
      List<BackendPort> canonical = ref == null ? null : ref.get();
      if (canonical == null) {
        PORTS.put(ports, new WeakReference<>(ports));
        return ports;
      }
      return canonical;
    }
  }
}
