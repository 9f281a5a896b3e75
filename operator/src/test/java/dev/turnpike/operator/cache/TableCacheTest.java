package dev.turnpike.operator.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.turnpike.api.v1alpha1.ForwardingTable;
import dev.turnpike.api.v1alpha1.ForwardingTableStatus;
import dev.turnpike.operator.OperatorOptions;
import dev.turnpike.operator.compute.ComputeResult;
import dev.turnpike.operator.compute.TableComputer;
import dev.turnpike.operator.testing.Fixtures;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TableCacheTest {
  static ForwardingTable table(String name, int backends) {
    var computer = new TableComputer(OperatorOptions.parse(List.of(), Map.of()).defaults());
    var result = (ComputeResult.Table) computer.compute(
        Fixtures.service(name, "10.96.0.10").build(), List.of(Fixtures.slice(name, name + "-1", 1, backends, null)));
    ForwardingTable t = new ForwardingTable();
    t.setMetadata(new ObjectMetaBuilder()
        .withName(name).withNamespace("test").withResourceVersion("7").withGeneration(2L).withUid("uid-" + name)
        .addToAnnotations("turnpike.dev/spec-digest", "sha256:abc")
        .addToLabels("app.kubernetes.io/managed-by", "turnpike-operator")
        .addNewOwnerReference().withKind("Service").withName(name).withUid("svc-uid").withController(true).endOwnerReference()
        .withManagedFields(new ManagedFieldsEntryBuilder().withManager("turnpike").withOperation("Update").build())
        .build());
    t.setSpec(result.spec());
    t.setStatus(new ForwardingTableStatus(2L, List.of()));
    return t;
  }

  @Test
  void keepsMetadataAndStatusNotTheSpec() {
    TableCache cache = new TableCache();
    ForwardingTable full = table("web", 3);
    String key = cache.getKey(full);
    assertEquals("test/web", key);
    assertNull(cache.put(key, full));

    ForwardingTable cached = cache.get(key);
    assertNull(cached.getSpec());
    assertEquals(full.getStatus(), cached.getStatus());
    assertEquals(full.getMetadata().getAnnotations(), cached.getMetadata().getAnnotations());
    assertEquals(full.getMetadata().getLabels(), cached.getMetadata().getLabels());
    assertEquals(full.getMetadata().getOwnerReferences(), cached.getMetadata().getOwnerReferences());
    assertEquals(2L, cached.getMetadata().getGeneration());
    assertEquals("7", cached.getMetadata().getResourceVersion());
    assertNull(cached.getMetadata().getManagedFields());
    assertEquals(3, full.getSpec().backends().size(), "the informer's own object is left alone");
    assertFalse(cache.isFullState());
  }

  @Test
  void countsTablesAndBackends() {
    TableCache cache = new TableCache();
    cache.put("test/a", table("a", 3));
    cache.put("test/b", table("b", 4));
    assertEquals(2, cache.size());
    assertEquals(7, cache.backends());
    ForwardingTable old = cache.put("test/a", table("a", 1));
    assertNull(old.getSpec());
    assertEquals(5, cache.backends());
    cache.remove("test/b");
    assertEquals(1, cache.size());
    assertEquals(1, cache.backends());
    assertEquals(List.of("test/a"), cache.keySet().toList());
    assertEquals(1, cache.values().count());
  }
}
