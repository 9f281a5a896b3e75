package dev.turnpike.dataplane.agent;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * An informer item store that keeps, of each object, only namespace, name and resourceVersion:
 * what the informer needs to key objects and to tell a changed object from a re-listed one. The
 * agent's change tracker already holds every ForwardingTable's spec; Fabric8's default store
 * would hold a second copy of every spec (and, after a watch re-list, which replaces the cached
 * objects without an event when the resourceVersion is unchanged, a second distinct copy).
 *
 * <p>Not being full state, the informer delivers every listed object to the handlers as it is
 * listed (a full-state store defers those adds until the list is complete and reads them back
 * from the store). Handlers therefore see the full objects; the store's own objects (an update's
 * old object, a re-list's deletion) carry metadata only.
 */
final class MetadataOnlyStore<T extends HasMetadata> implements ItemStore<T> {
  /** What is kept of one object (the strings are the listed object's own, not copies). */
  private record Kept(String namespace, String name, String resourceVersion) {}

  // Kept, not skeleton objects: an ObjectMeta comes with six empty collections.
  private final Map<String, Kept> items = new ConcurrentHashMap<>();
  private final Supplier<T> factory;

  MetadataOnlyStore(Supplier<T> factory) {
    this.factory = factory;
  }

  @Override
  public String getKey(T obj) {
    return Cache.metaNamespaceKeyFunc(obj);
  }

  @Override
  public T put(String key, T obj) {
    ObjectMeta m = obj.getMetadata();
    String namespace = m.getNamespace() == null ? null : m.getNamespace().intern(); // few distinct
    return restore(items.put(key, new Kept(namespace, m.getName(), m.getResourceVersion())));
  }

  /** An object with only the kept metadata (null for null). */
  private T restore(Kept k) {
    if (k == null) {
      return null;
    }
    ObjectMeta meta = new ObjectMeta();
    meta.setNamespace(k.namespace());
    meta.setName(k.name());
    meta.setResourceVersion(k.resourceVersion());
    T out = factory.get();
    out.setMetadata(meta);
    return out;
  }

  @Override
  public T remove(String key) {
    return restore(items.remove(key));
  }

  @Override
  public Stream<String> keySet() {
    return items.keySet().stream();
  }

  @Override
  public Stream<T> values() {
    return items.values().stream().map(this::restore);
  }

  @Override
  public int size() {
    return items.size();
  }

  @Override
  public T get(String key) {
    return restore(items.get(key));
  }

  @Override
  public boolean isFullState() {
    return false;
  }
}
