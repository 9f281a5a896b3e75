package dev.turnpike.operator.reconcile;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.api.v1alpha1.ForwardingTable;
import dev.turnpike.api.v1alpha1.ForwardingTableSpec;
import dev.turnpike.api.v1alpha1.ForwardingTableStatus;
import dev.turnpike.operator.cache.SlimSlices;
import dev.turnpike.operator.cache.TableCache;
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
import io.javaoperatorsdk.operator.processing.event.source.informer.TransformingItemStore;
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
  private final TableCache tableCache = new TableCache();

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
                .withItemStore(new TransformingItemStore<>(SlimSlices::slim))
                .build(),
            context);
    // Default mapper: ForwardingTable -> Service through its ownerReference.
    var owned =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(ForwardingTable.class, Service.class)
                .withName(TABLES)
                .withItemStore(tableCache)
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
      KubernetesClient client, Service service, ForwardingTable cached, ComputeResult.Table table) {
    ForwardingTableSpec spec = table.spec();
    String digest = SpecDigest.of(spec);
    OwnerReference owner = ownerReference(service);
    ResourceID id = ResourceID.fromResource(service);

    // The cache holds tables without their spec (TableCache); a spec is known only when the object
    // came from the server in this reconcile or from JOSDK's cache of our own last write.
    ForwardingTable current = cached;
    boolean needSpec =
        current != null
            && current.getSpec() == null
            && (editedSinceWeWrote(current)
                || (spec.algorithm() == Algorithm.MAGLEV && !digest.equals(annotation(current, SpecDigest.ANNOTATION))));
    if (needSpec) {
      current = fetch(client, id);
    }
    if (current == null) {
      current = create(client, service, spec, digest, owner, id);
    }

    // The annotation says what we last wrote; the spec's own digest catches hand edits that kept it.
    boolean stale =
        !digest.equals(annotation(current, SpecDigest.ANNOTATION))
            || (current.getSpec() != null && !digest.equals(SpecDigest.of(current.getSpec())));
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
      next.setSpec(current.getSpec() != null ? current.getSpec() : spec);
      next.setStatus(status);
      ForwardingTable updated = client.resource(next).updateStatus();
      metrics.write(WriteResult.STATUS_UPDATED);
      tables.handleRecentResourceUpdate(id, updated, current);
    }
  }

  /**
   * Someone else wrote the spec after our last status write: the API server bumps
   * metadata.generation on every spec change, and our status records the generation we saw.
   * Also true between our spec write and its status write (a crash, a conflict): then the fetch
   * finds the spec intact and only the status is written.
   */
  static boolean editedSinceWeWrote(ForwardingTable table) {
    Long generation = table.getMetadata().getGeneration();
    Long observed = table.getStatus() == null ? null : table.getStatus().observedGeneration();
    return generation == null || !generation.equals(observed);
  }

  private ForwardingTable fetch(KubernetesClient client, ResourceID id) {
    metrics.tableRead();
    return client.resources(ForwardingTable.class).inNamespace(id.getNamespace().orElseThrow()).withName(id.getName()).get();
  }

  private ForwardingTable create(
      KubernetesClient client, Service service, ForwardingTableSpec spec, String digest, OwnerReference owner, ResourceID id) {
    try {
      ForwardingTable created = client.resource(newTable(service, spec, digest, owner)).create();
      metrics.write(WriteResult.CREATED);
      tables.handleRecentResourceCreate(id, created);
      return created;
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
      // Exists but not in our cache (not owned by the Service yet): adopt it.
      ForwardingTable existing = fetch(client, id);
      if (existing == null) {
        throw e;
      }
      return existing;
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
    return tableCache.size();
  }

  private double backendCount() {
    return tableCache.backends();
  }
}
