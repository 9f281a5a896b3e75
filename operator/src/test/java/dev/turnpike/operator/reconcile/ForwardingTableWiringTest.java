package dev.turnpike.operator.reconcile;

import static dev.turnpike.operator.testing.Fixtures.service;
import static dev.turnpike.operator.testing.Fixtures.slice;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.api.v1alpha1.Backend;
import dev.turnpike.api.v1alpha1.ForwardingTable;
import dev.turnpike.operator.compute.ServiceAnnotations;
import dev.turnpike.operator.testing.FaultyTables;
import dev.turnpike.operator.OperatorOptions;
import dev.turnpike.operator.testing.MockCluster;
import dev.turnpike.operator.testing.RunningOperator;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The reconciler's wiring against the Fabric8 mock API server (CRUD mode, real CRDs) and the real
 * computation: what gets written, when, and what does not.
 */
class ForwardingTableWiringTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final String NS = MockCluster.NAMESPACE;

  MockCluster cluster;
  KubernetesClient kube;
  FaultyTables tables;
  RunningOperator op;

  @BeforeEach
  void start() {
    cluster = new MockCluster();
    kube = cluster.newClient();
    tables = new FaultyTables(OperatorOptions.parse(List.of(), java.util.Map.of()).defaults());
    op = new RunningOperator(cluster, tables).start();
  }

  @AfterEach
  void stop() {
    op.close();
    kube.close();
    cluster.close();
  }

  ForwardingTable table(String name) {
    return kube.resources(ForwardingTable.class).inNamespace(NS).withName(name).get();
  }

  ForwardingTable awaitTable(String name, java.util.function.Predicate<ForwardingTable> ready) {
    return await().atMost(WAIT).until(() -> table(name), t -> t != null && ready.test(t));
  }

  static List<String> addresses(ForwardingTable t) {
    return t.getSpec().backends().stream().map(Backend::address).toList();
  }

  static Condition condition(ForwardingTable t) {
    return t.getStatus() == null
        ? null
        : t.getStatus().conditions().stream().filter(c -> c.getType().equals(TableStatus.ANNOTATIONS_VALID)).findFirst().orElse(null);
  }

  Service create(Service s) {
    return kube.resource(s).create();
  }

  @Test
  void createsTableOwnedByTheServiceWithDigestStatusAndTriggerTime() {
    Service svc = create(service("web", "10.96.0.10").build());
    kube.resource(slice("web", "web-abc", 1, 3, "2026-11-21T10:00:00Z")).create();

    // Settled: the status write that follows the last spec write has landed too (a first reconcile
    // may run before the slice is cached, so the table can be written twice).
    ForwardingTable t = awaitTable("web", x -> x.getSpec().backends().size() == 3 && x.getStatus() != null
        && x.getMetadata().getGeneration().equals(x.getStatus().observedGeneration()));

    assertEquals(List.of("10.1.1.1", "10.1.1.2", "10.1.1.3"), addresses(t));
    assertEquals(List.of("10.96.0.10"), t.getSpec().clusterIPs());
    assertEquals("2026-11-21T10:00:00Z", t.getSpec().lastChangeTriggerTime());
    var owner = t.getMetadata().getOwnerReferences();
    assertEquals(1, owner.size());
    assertEquals("Service", owner.get(0).getKind());
    assertEquals("v1", owner.get(0).getApiVersion());
    assertEquals(svc.getMetadata().getUid(), owner.get(0).getUid());
    assertEquals(Boolean.TRUE, owner.get(0).getController());
    assertEquals(Boolean.TRUE, owner.get(0).getBlockOwnerDeletion());
    assertEquals(SpecDigest.of(t.getSpec()), t.getMetadata().getAnnotations().get(SpecDigest.ANNOTATION));
    assertEquals(t.getMetadata().getGeneration(), t.getStatus().observedGeneration());
    assertEquals("True", condition(t).getStatus());
  }

  @Test
  void scalingTheSliceUpdatesTheTableAndObservedGeneration() {
    create(service("web", "10.96.0.10").build());
    EndpointSlice s = kube.resource(slice("web", "web-abc", 1, 2, "2026-11-21T10:00:00Z")).create();
    ForwardingTable first = awaitTable("web", x -> x.getSpec().backends().size() == 2 && x.getStatus() != null);

    kube.resource(slice("web", "web-abc", 1, 5, "2026-11-21T10:00:07Z")).update();
    ForwardingTable scaled =
        awaitTable("web", x -> x.getSpec().backends().size() == 5
            && x.getStatus() != null
            && x.getMetadata().getGeneration().equals(x.getStatus().observedGeneration()));
    assertEquals("2026-11-21T10:00:07Z", scaled.getSpec().lastChangeTriggerTime());
    assertTrue(scaled.getMetadata().getGeneration() > first.getMetadata().getGeneration());

    // A second slice for the same Service is merged; deleting it shrinks the table again.
    kube.resource(slice("web", "web-def", 2, 1, "2026-11-21T10:00:09Z")).create();
    awaitTable("web", x -> addresses(x).contains("10.1.2.1") && x.getSpec().backends().size() == 6);
    kube.resource(s).delete();
    awaitTable("web", x -> addresses(x).equals(List.of("10.1.2.1")));
  }

  @Test
  void serviceThatStopsQualifyingLosesItsTableAndGetsItBack() {
    create(service("web", "10.96.0.10").build());
    awaitTable("web", x -> x.getStatus() != null);
    await().pollDelay(Duration.ofMillis(300)).atMost(WAIT).until(() -> cluster.drain(MockCluster::tableWrite).isEmpty());
    double writes = op.count("turnpike.table.writes");
    double reads = op.count("turnpike.table.reads");

    kube.services().inNamespace(NS).withName("web")
        .edit(s -> { s.getMetadata().getLabels().put("service.kubernetes.io/service-proxy-name", "other"); return s; });
    await().atMost(WAIT).until(() -> table("web") == null);
    assertEquals(writes + 1, op.count("turnpike.table.writes"), 0.0, "nothing but the delete");
    assertEquals(1.0, op.count("turnpike.table.writes", "result", "deleted"), 0.0);

    kube.services().inNamespace(NS).withName("web")
        .edit(s -> { s.getMetadata().getLabels().remove("service.kubernetes.io/service-proxy-name"); return s; });
    awaitTable("web", x -> true);
  }

  @Test
  void aTableDeletedOrTamperedWithByHandIsRestored() {
    create(service("web", "10.96.0.10").build());
    kube.resource(slice("web", "web-abc", 1, 2, null)).create();
    ForwardingTable t = awaitTable("web", x -> x.getSpec().backends().size() == 2);

    kube.resource(t).withGracePeriod(0).delete();
    awaitTable("web", x -> x.getSpec().backends().size() == 2 && !x.getMetadata().getUid().equals(t.getMetadata().getUid()));

    // Someone rewrites the spec but leaves the digest annotation: the spec itself is compared too.
    kube.resources(ForwardingTable.class).inNamespace(NS).withName("web").edit(x -> {
      var mapper = io.fabric8.kubernetes.client.utils.Serialization.jsonMapper();
      @SuppressWarnings("unchecked")
      java.util.Map<String, Object> spec = mapper.convertValue(x.getSpec(), java.util.Map.class);
      spec.put("clusterIPs", List.of("10.0.0.99"));
      spec.put("backends", List.of());
      x.setSpec(mapper.convertValue(spec, dev.turnpike.api.v1alpha1.ForwardingTableSpec.class));
      return x;
    });
    awaitTable("web", x -> x.getSpec().clusterIPs().equals(List.of("10.96.0.10")) && x.getSpec().backends().size() == 2);
    // The cache keeps no specs: the edit was seen through metadata.generation and read back once.
    assertTrue(op.count("turnpike.table.reads") >= 1, "hand edit detected without reading the table");
  }

  @Test
  void nothingIsWrittenWhenNothingChanged() {
    create(service("web", "10.96.0.10").build());
    kube.resource(slice("web", "web-abc", 1, 3, "2026-11-21T10:00:00Z")).create();
    awaitTable("web", x -> x.getSpec().backends().size() == 3 && x.getStatus() != null);
    await().atMost(WAIT).until(() -> op.count("operator.sdk.reconciliations.success") >= 1);
    // Let the writes above settle, then start counting.
    await().pollDelay(Duration.ofMillis(500)).atMost(WAIT).until(() -> cluster.drain(MockCluster::tableWrite).isEmpty());
    double reconciles = op.count("operator.sdk.reconciliations.success");
    double writes = op.count("turnpike.table.writes");
    double reads = op.count("turnpike.table.reads");

    // Changes that reach the reconciler but not the table: a Service label, a slice label.
    kube.services().inNamespace(NS).withName("web")
        .edit(s -> { s.getMetadata().getLabels().put("touched", "1"); return s; });
    kube.discovery().v1().endpointSlices().inNamespace(NS).withName("web-abc")
        .edit(s -> { s.getMetadata().getLabels().put("touched", "1"); return s; });
    await().atMost(WAIT).until(() -> op.count("operator.sdk.reconciliations.success") >= reconciles + 2);

    assertEquals(List.of(), cluster.drain(MockCluster::tableWrite).stream().map(r -> r.getMethod() + " " + r.getPath()).toList());
    assertEquals(writes, op.count("turnpike.table.writes"), 0.0);
    assertEquals(reads, op.count("turnpike.table.reads"), 0.0, "a settled table is judged from the cache alone");
  }

  @Test
  void invalidAnnotationGivesOneWarningEventAndAFalseCondition() {
    create(service("web", "10.96.0.10").editMetadata().addToAnnotations(ServiceAnnotations.LB_ALGORITHM, "round-robin").endMetadata().build());

    ForwardingTable t = awaitTable("web", x -> condition(x) != null);
    Condition c = condition(t);
    assertEquals("False", c.getStatus());
    assertEquals(TableStatus.REASON_INVALID, c.getReason());
    assertTrue(c.getMessage().contains("round-robin"), c.getMessage());
    assertEquals(t.getMetadata().getGeneration(), t.getStatus().observedGeneration());

    List<Event> events = await().atMost(WAIT).until(this::invalidAnnotationEvents, e -> !e.isEmpty());
    Event e = events.get(0);
    assertEquals("Warning", e.getType());
    assertEquals("web", e.getInvolvedObject().getName());
    assertEquals("Service", e.getInvolvedObject().getKind());
    assertTrue(e.getMessage().contains("round-robin"), e.getMessage());
    assertEquals(1.0, op.count("turnpike.invalid.annotations"), 0.0);

    // A resync-like reconcile (unrelated label) records nothing new.
    double reconciles = op.count("operator.sdk.reconciliations.success");
    kube.services().inNamespace(NS).withName("web").edit(s -> { s.getMetadata().getLabels().put("touched", "1"); return s; });
    await().atMost(WAIT).until(() -> op.count("operator.sdk.reconciliations.success") > reconciles);
    assertEquals(1, invalidAnnotationEvents().size());
    assertEquals(1.0, op.count("turnpike.invalid.annotations"), 0.0);

    // Fixing it flips the condition.
    kube.services().inNamespace(NS).withName("web").edit(s -> { s.getMetadata().getAnnotations().put(ServiceAnnotations.LB_ALGORITHM, "maglev"); return s; });
    awaitTable("web", x -> "True".equals(condition(x).getStatus()));
  }

  List<Event> invalidAnnotationEvents() {
    return kube.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> AnnotationEvents.REASON.equals(e.getReason()))
        .toList();
  }

  @Test
  void oneFailingServiceDoesNotStallTheOthers() {
    tables.failFor("broken");
    create(service("broken", "10.96.0.11").build());
    for (int i = 0; i < 5; i++) {
      create(service("ok-" + i, "10.96.1." + i).build());
    }
    for (int i = 0; i < 5; i++) {
      assertNotNull(awaitTable("ok-" + i, x -> true));
    }
    assertEquals(null, table("broken"));
  }

  @Test
  void gaugesFollowTheTablesInTheCluster() {
    create(service("a", "10.96.0.1").build());
    create(service("b", "10.96.0.2").build());
    kube.resource(slice("a", "a-1", 1, 4, null)).create();
    kube.resource(slice("b", "b-1", 2, 3, null)).create();
    await().atMost(WAIT).until(() -> op.registry.get("turnpike.backends").gauge().value() == 7.0);
    assertEquals(2.0, op.registry.get("turnpike.forwarding.tables").gauge().value(), 0.0);
    String text = op.registry.scrape();
    for (String name : List.of("turnpike_forwarding_tables", "turnpike_backends", "turnpike_table_writes_total{result=\"created\"",
        "turnpike_invalid_annotations_total", "turnpike_maglev_build_seconds_bucket", "turnpike_maglev_slots_moved_ratio_bucket",
        "operator_sdk_reconciliations_success_total", "operator_sdk_controllers_execution_reconcile_seconds")) {
      assertTrue(text.contains(name), name + " missing from\n" + text);
    }
  }
}
