package dev.turnpike.operator.reconcile;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.api.v1alpha1.ForwardingTable;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.api.v1alpha1.ForwardingTableStatus;
import dev.turnpike.operator.compute.AnnotationProblem;
import dev.turnpike.operator.compute.ComputeResult;
import dev.turnpike.operator.compute.TableComputer;
import dev.turnpike.operator.metrics.TableMetrics;
import dev.turnpike.operator.metrics.TableMetrics.WriteResult;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles one Service (with its EndpointSlices) into its ForwardingTable.
 *
 * <p>The Service is the primary resource but is only ever read: the reconciler never patches it
 * (no finalizer, no status), it only writes ForwardingTables and Events. Writes use create,
 * update-with-resourceVersion, status PUT and delete, which behave the same on a real API server
 * and on the Fabric8 mock. A table is rewritten only when its spec digest changes, so resyncs and a
 * new leader replaying its caches write nothing.
 *
 * <p>Generation-aware filtering is off: a Service's generation does not move when its annotations,
 * labels or status (LoadBalancer ingress) change, and all of those change the table.
 */
@ControllerConfiguration(name = ForwardingTableReconciler.NAME, generationAwareEventProcessing = false)
public final class ForwardingTableReconciler implements Reconciler<Service> {
  public static final String NAME = "forwardingtables";
  public static final String SERVICE_NAME_LABEL = TableComputer.SERVICE_NAME_LABEL;
  public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY = "turnpike-operator";
  static final String SLICES = "endpointslices";
  static final String TABLES = "forwardingtables";
  /** Retry soon after an optimistic-lock conflict; the watch usually brings the newer copy first. */
  static final Duration CONFLICT_RETRY = Duration.ofMillis(200);

  private static final Logger log = LoggerFactory.getLogger(ForwardingTableReconciler.class);

  private final TableSource source;
  private final AnnotationEvents events;
  private final TableMetrics metrics;
  private final DisruptionMeter disruption;
  private final Clock clock;
  private volatile InformerEventSource<ForwardingTable, Service> tables;

  public ForwardingTableReconciler(
      TableSource source,
      AnnotationEvents events,
      TableMetrics metrics,
      DisruptionMeter disruption,
      Clock clock) {
    this.source = source;
    this.events = events;
    this.metrics = metrics;
    this.disruption = disruption;
    this.clock = clock;
    metrics.tableGauges(this, ForwardingTableReconciler::tableCount, ForwardingTableReconciler::backendCount);
  }

  @Override
  public List<EventSource<?, Service>> prepareEventSources(EventSourceContext<Service> context) {
    var slices =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(EndpointSlice.class, Service.class)
                .withName(SLICES)
                .withLabelSelector(SERVICE_NAME_LABEL)
                .withSecondaryToPrimaryMapper(ForwardingTableReconciler::owningService)
                .build(),
            context);
    // Default mapper: ForwardingTable -> Service through its ownerReference.
    var owned =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(ForwardingTable.class, Service.class)
                .withName(TABLES)
                .build(),
            context);
    tables = owned;
    return List.of(slices, owned);
  }

  static Set<ResourceID> owningService(EndpointSlice slice) {
    String service = slice.getMetadata().getLabels().get(SERVICE_NAME_LABEL);
    if (service == null || service.isEmpty()) {
      return Set.of();
    }
    return Set.of(new ResourceID(service, slice.getMetadata().getNamespace()));
  }

  @Override
  public UpdateControl<Service> reconcile(Service service, Context<Service> context) {
    List<EndpointSlice> slices =
        context.getSecondaryResources(EndpointSlice.class).stream()
            .sorted(Comparator.comparing(s -> s.getMetadata().getName()))
            .toList();
    ForwardingTable existing =
        context.getSecondaryResource(ForwardingTable.class, TABLES).orElse(null);

    long start = System.nanoTime();
    ComputeResult result = source.compute(service, slices);
    if (result instanceof ComputeResult.Table table && table.spec().algorithm() == Algorithm.MAGLEV) {
      metrics.maglevBuild(Duration.ofNanos(System.nanoTime() - start));
    }

    KubernetesClient client = context.getClient();
    try {
      if (result instanceof ComputeResult.Table table) {
        apply(client, service, existing, table);
        metrics.invalidAnnotations(events.report(service, table.problems()));
      } else {
        events.forget(ResourceID.fromResource(service));
        if (existing != null) {
          log.info("{}: no table ({}), deleting", ResourceID.fromResource(service), ((ComputeResult.Skipped) result).reason());
          client.resource(existing).delete();
          metrics.write(WriteResult.DELETED);
        }
      }
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
        metrics.write(WriteResult.CONFLICT);
        log.debug("{}: conflict, retrying: {}", ResourceID.fromResource(service), e.getMessage());
        return UpdateControl.<Service>noUpdate().rescheduleAfter(CONFLICT_RETRY);
      }
      metrics.write(WriteResult.ERROR);
      throw e;
    }
    return UpdateControl.noUpdate();
  }

  private void apply(
      KubernetesClient client, Service service, ForwardingTable existing, ComputeResult.Table table) {
    ForwardingTableSpec spec = table.spec();
    String digest = SpecDigest.of(spec);
    OwnerReference owner = ownerReference(service);
    ForwardingTable current = existing;
    ResourceID id = ResourceID.fromResource(service);

    if (current == null) {
      try {
        current = client.resource(newTable(service, spec, digest, owner)).create();
        metrics.write(WriteResult.CREATED);
        tables.handleRecentResourceCreate(id, current);
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
          throw e;
        }
        // Exists but not in our cache (not owned by the Service yet): adopt it below.
        current = client.resources(ForwardingTable.class).inNamespace(id.getNamespace().orElseThrow()).withName(id.getName()).get();
        if (current == null) {
          throw e;
        }
      }
    }

    // The annotation says what we last wrote; the spec's own digest catches hand edits that kept it.
    boolean stale =
        !digest.equals(annotation(current, SpecDigest.ANNOTATION))
            || current.getSpec() == null
            || !digest.equals(SpecDigest.of(current.getSpec()));
    if (stale || !ownedBy(current, owner)) {
      ForwardingTable next = new ForwardingTable();
      next.setMetadata(
          new ObjectMetaBuilder(current.getMetadata())
              .addToAnnotations(SpecDigest.ANNOTATION, digest)
              .addToLabels(MANAGED_BY_LABEL, MANAGED_BY)
              .withOwnerReferences(owner)
              .build());
      next.setSpec(spec);
      next.setStatus(current.getStatus());
      ForwardingTable updated = client.resource(next).update();
      metrics.write(WriteResult.UPDATED);
      tables.handleRecentResourceUpdate(id, updated, current);
      if (current.getSpec() != null) {
        disruption.slotsMovedRatios(current.getSpec(), spec).forEach(metrics::slotsMovedRatio);
      }
      current = updated;
    }

    Long generation = current.getMetadata().getGeneration();
    ForwardingTableStatus status =
        TableStatus.desired(current.getStatus(), generation == null ? 0 : generation, table.problems(), clock.instant());
    if (!TableStatus.same(current.getStatus(), status)) {
      ForwardingTable next = new ForwardingTable();
      next.setMetadata(new ObjectMetaBuilder(current.getMetadata()).build());
      next.setSpec(current.getSpec());
      next.setStatus(status);
      ForwardingTable updated = client.resource(next).updateStatus();
      metrics.write(WriteResult.STATUS_UPDATED);
      tables.handleRecentResourceUpdate(id, updated, current);
    }
  }

  static ForwardingTable newTable(
      Service service, ForwardingTableSpec spec, String digest, OwnerReference owner) {
    ForwardingTable table = new ForwardingTable();
    table.setMetadata(
        new ObjectMetaBuilder()
            .withName(service.getMetadata().getName())
            .withNamespace(service.getMetadata().getNamespace())
            .withLabels(Map.of(MANAGED_BY_LABEL, MANAGED_BY))
            .withAnnotations(Map.of(SpecDigest.ANNOTATION, digest))
            .withOwnerReferences(owner)
            .build());
    table.setSpec(spec);
    return table;
  }

  /** Controller owner, so deleting the Service garbage-collects its table. */
  static OwnerReference ownerReference(Service service) {
    return new OwnerReferenceBuilder()
        .withApiVersion("v1")
        .withKind("Service")
        .withName(service.getMetadata().getName())
        .withUid(service.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(true)
        .build();
  }

  private static boolean ownedBy(ForwardingTable table, OwnerReference owner) {
    return table.getMetadata().getOwnerReferences().equals(List.of(owner));
  }

  private static String annotation(ForwardingTable table, String key) {
    Map<String, String> annotations = table.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(key);
  }

  private double tableCount() {
    var source = tables;
    return source == null ? 0 : source.list().count();
  }

  private double backendCount() {
    var source = tables;
    return source == null
        ? 0
        : source.list().mapToLong(t -> t.getSpec() == null ? 0 : t.getSpec().backends().size()).sum();
  }
}
