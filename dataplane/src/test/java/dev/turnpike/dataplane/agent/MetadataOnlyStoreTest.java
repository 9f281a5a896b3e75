package dev.turnpike.dataplane.agent;

import static dev.turnpike.dataplane.sync.Specs.backend;
import static dev.turnpike.dataplane.sync.Specs.clusterIp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.turnpike.api.v1alpha1.ForwardingTable;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class MetadataOnlyStoreTest {
  private static ForwardingTable table(String name, String rv) {
    ForwardingTable ft = new ForwardingTable();
    ft.setMetadata(new ObjectMetaBuilder().withNamespace("shop").withName(name).withResourceVersion(rv)
        .withLabels(java.util.Map.of("a", "b")).build());
    ft.setSpec(clusterIp("shop", name, "10.96.0.1", backend("10.0.0.1", "n1")));
    return ft;
  }

  @Test
  void keepsKeyAndResourceVersionButNoSpec() {
    MetadataOnlyStore<ForwardingTable> store = new MetadataOnlyStore<>(ForwardingTable::new);
    ForwardingTable web = table("web", "7");
    String key = store.getKey(web);
    assertEquals("shop/web", key);
    assertFalse(store.isFullState(), "so the informer hands listed objects to the handlers as they come");
    assertNull(store.put(key, web));
    ForwardingTable kept = store.get(key);
    assertEquals("web", kept.getMetadata().getName());
    assertEquals("shop", kept.getMetadata().getNamespace());
    assertEquals("7", kept.getMetadata().getResourceVersion());
    assertNull(kept.getSpec(), "the tracker holds the spec; the cache does not keep a second copy");
    assertEquals(java.util.Map.of(), kept.getMetadata().getLabels());
    ForwardingTable old = store.put(key, table("web", "8"));
    assertEquals("7", old.getMetadata().getResourceVersion(), "the informer compares versions to skip re-listed objects");
    assertEquals(List.of("shop/web"), store.keySet().toList());
    assertEquals(1, store.size());
    assertEquals("8", store.values().findFirst().orElseThrow().getMetadata().getResourceVersion());
    assertEquals("8", store.remove(key).getMetadata().getResourceVersion());
    assertNull(store.get(key));
  }

  @Test
  void startupWaitsForEveryListedKeyAndThenStopsRecording() throws Exception {
    Agent.Delivered d = new Agent.Delivered();
    d.delivered("shop/web"); // delivered before the list completed
    Thread late = new Thread(() -> {
      sleep(100);
      d.delivered("shop/api");
    });
    late.start();
    d.await(List.of("shop/web", "shop/api"), Duration.ofSeconds(10));
    late.join();
    Agent.Delivered never = new Agent.Delivered();
    never.delivered("shop/web");
    TimeoutException e = assertThrows(TimeoutException.class,
        () -> never.await(List.of("shop/web", "shop/db"), Duration.ofMillis(200)));
    assertEquals("1 listed ForwardingTables not delivered within PT0.2S", e.getMessage());
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
