package dev.turnpike.operator.cache;

import dev.turnpike.api.v1alpha1.ForwardingTable;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The ForwardingTable informer's store: each table's metadata (without managedFields) and status,
 * never its spec, plus its backend count for the gauges. Specs are the bulk of a table and the
 * reconciler does not need them to decide: the spec-digest annotation says which spec the operator
 * last wrote, and {@code metadata.generation} differing from {@code status.observedGeneration}
 * says someone else changed the spec since — only then (and for the Maglev slots-moved figure) is
 * the full table read from the API server. Cached tables therefore always have a null spec.
 */
public final class TableCache implements ItemStore<ForwardingTable> {
  private record Entry(ForwardingTable table, int backends) {}

  private final ConcurrentHashMap<String, Entry> items = new ConcurrentHashMap<>();

  /** The table without its spec; what the informer hands out. */
  public static ForwardingTable slim(ForwardingTable full) {
    ForwardingTable t = new ForwardingTable();
    ObjectMeta meta = full.getMetadata();
    if (meta != null) {
      t.setMetadata(new ObjectMetaBuilder(meta).withManagedFields().build());
      t.getMetadata().setManagedFields(null);
      t.getMetadata().setAdditionalProperties(Map.of());
    }
    t.setStatus(full.getStatus());
    return t;
  }

  @Override
  public String getKey(ForwardingTable table) {
    return Cache.metaNamespaceKeyFunc(table);
  }

  @Override
  public ForwardingTable put(String key, ForwardingTable table) {
    int backends = table.getSpec() == null ? 0 : table.getSpec().backends().size();
    Entry old = items.put(key, new Entry(slim(table), backends));
    return old == null ? null : old.table();
  }

  @Override
  public ForwardingTable remove(String key) {
    Entry old = items.remove(key);
    return old == null ? null : old.table();
  }

  @Override
  public Stream<String> keySet() {
    return items.keySet().stream();
  }

  @Override
  public Stream<ForwardingTable> values() {
    return items.values().stream().map(Entry::table);
  }

  @Override
  public int size() {
    return items.size();
  }

  @Override
  public ForwardingTable get(String key) {
    Entry e = items.get(key);
    return e == null ? null : e.table();
  }

  /** Not the full objects: Fabric8 must not hand these out as if they were. */
  @Override
  public boolean isFullState() {
    return false;
  }

  /** Sum of spec.backends over every cached table. */
  public long backends() {
    return items.values().stream().mapToLong(Entry::backends).sum();
  }
}
