package dev.turnpike.dataplane.agent;

import dev.turnpike.api.v1alpha1.ForwardingTable;
import dev.turnpike.dataplane.Dataplane;
import dev.turnpike.dataplane.NodeContext;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.dataplane.SyncResult;
import dev.turnpike.dataplane.conntrack.ConntrackCleanupListener;
import dev.turnpike.dataplane.conntrack.MicrometerConntrackMetrics;
import dev.turnpike.dataplane.conntrack.StaleEntryReconciler;
import dev.turnpike.dataplane.health.HealthServer;
import dev.turnpike.dataplane.health.LocalEndpoints;
import dev.turnpike.dataplane.health.ProxyHealth;
import dev.turnpike.dataplane.health.ServiceHealthServers;
import dev.turnpike.dataplane.metrics.AgentMetrics;
import dev.turnpike.dataplane.metrics.MetricsServer;
import dev.turnpike.dataplane.status.ServiceEvents;
import dev.turnpike.dataplane.status.StatusReporter;
import dev.turnpike.dataplane.sync.BoundedFrequencyRunner;
import dev.turnpike.dataplane.sync.ChangeTracker;
import dev.turnpike.dataplane.sync.SyncListener;
import dev.turnpike.dataplane.sync.SyncLoop;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's agent: watches its ForwardingTables and its Node, keeps the desired state, and hands
 * it to the backend through the bounded-frequency sync loop; serves health, health-check node
 * ports and metrics, and writes its DataplaneNode status. With a {@link NodeNat}, it also deletes
 * stale conntrack entries after every successful sync and programs egress SNAT from its ConfigMap
 * (docs/conntrack.md).
 */
public final class Agent implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
  static final int BURST = 2; // kube-proxy's burstSyncs
  static final double STATUS_JITTER = 0.1;
  static final long LIST_PAGE = 500;

  private final AgentConfig config;
  private final KubernetesClient client;
  private final Clock clock;
  private final AgentMetrics metrics;
  private final ProxyHealth health;
  private final ChangeTracker tracker;
  private final ServiceHealthServers serviceHealth;
  private final StatusReporter status;
  private final ServiceEvents events;
  private final ScheduledExecutorService statusExecutor;
  private final BoundedFrequencyRunner runner;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final Optional<EgressSnatWatch> egressSnat;
  private final Optional<AutoCloseable> conntrackSocket; // a NetlinkConntrack: closed after the sync loop
  private volatile String nodeUid;
  private HealthServer healthServer;
  private MetricsServer metricsServer;

  public Agent(AgentConfig config, KubernetesClient client, Dataplane dataplane, Clock clock) throws IOException {
    this(config, client, dataplane, NodeNat.NONE, clock);
  }

  /** With {@code nat}: conntrack cleanup after every successful sync, and the egress SNAT watch. */
  public Agent(AgentConfig config, KubernetesClient client, Dataplane dataplane, NodeNat nat, Clock clock)
      throws IOException {
    this.config = config;
    this.client = client;
    this.clock = clock;
    this.metrics = new AgentMetrics(dataplane.mode());
    this.health = new ProxyHealth(clock, config.syncPeriod().multipliedBy(2));
    this.tracker = new ChangeTracker(new NodeContext(config.nodeName(), Map.of(), List.of()), clock.instant());
    this.serviceHealth = new ServiceHealthServers(InetAddress.getByName(config.healthCheckBindAddress()), health);
    this.statusExecutor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "dataplane-node-status");
      t.setDaemon(true);
      return t;
    });
    this.status = new StatusReporter(
        client, config.nodeName(), () -> nodeUid, dataplane.mode(), clock, config.statusUpdateInterval(),
        STATUS_JITTER, new Random(), statusExecutor);
    this.events = new ServiceEvents(client, config.nodeName(), clock, statusExecutor);
    List<SyncListener> listeners = new ArrayList<>(List.of(new Listener()));
    nat.conntrack().ifPresent(ct -> listeners.add(new ConntrackCleanupListener(
        new StaleEntryReconciler(ct, new MicrometerConntrackMetrics(metrics.registry()),
            StaleEntryReconciler.Options.defaults().withFamilies(nat.families())),
        this::requestSync)));
    this.egressSnat = nat.egressSnat().filter(s -> config.egressSnatConfigMap() != null).map(s -> new EgressSnatWatch(
        client, namespaceOf(config.egressSnatConfigMap(), client), config.egressSnatConfigMap().name(),
        config.nodeName(), s, config.backend().clusterCidrs(), clock, config.syncPeriod(), metrics.registry(), status));
    egressSnat.ifPresent(closeables::add);
    this.conntrackSocket = nat.conntrack().filter(AutoCloseable.class::isInstance).map(AutoCloseable.class::cast);
    SyncLoop loop = new SyncLoop(dataplane, tracker, clock, config.syncPeriod(), listeners);
    // Retry after a failure from the min sync period, doubling up to the sync period.
    Duration retryInitial = config.minSyncPeriod().isZero() ? Duration.ofMillis(100) : config.minSyncPeriod();
    this.runner = new BoundedFrequencyRunner(
        "sync-proxy-rules", loop, config.minSyncPeriod(), config.syncPeriod(), retryInitial, config.syncPeriod(),
        BURST, clock);
  }

  /**
   * Opens the servers, starts the watches and, once both have listed (a sync from a partial view
   * would remove the rules of Services not yet seen), the sync loop.
   */
  public void start(Duration informerSyncTimeout) throws IOException, InterruptedException, TimeoutException {
    if (config.healthzBindAddress() != null) {
      healthServer = new HealthServer(config.healthzBindAddress(), health, metrics::healthz, metrics::livez);
      healthServer.start();
      closeables.add(healthServer);
    }
    if (config.metricsBindAddress() != null) {
      metricsServer = new MetricsServer(config.metricsBindAddress(), metrics);
      metricsServer.start();
      closeables.add(metricsServer);
    }
    SharedIndexInformer<Node> nodes = client.nodes().withName(config.nodeName()).runnableInformer(0);
    nodes.addEventHandler(new NodeHandler());
    // Listed in pages (as client-go's reflector does): a 10k-table list is not one response and
    // one list object in memory at once.
    SharedIndexInformer<ForwardingTable> tables =
        client.resources(ForwardingTable.class).inAnyNamespace().withLimit(LIST_PAGE).runnableInformer(0);
    // The tracker holds every spec; the informer's cache keeps metadata only (no second copy).
    tables.itemStore(new MetadataOnlyStore<>(ForwardingTable::new)).removeNamespaceIndex();
    TableHandler tableHandler = new TableHandler();
    tables.addEventHandler(tableHandler);
    closeables.add(nodes);
    closeables.add(tables);
    List<String> listedTables;
    try {
      nodes.start().toCompletableFuture().get(informerSyncTimeout.toMillis(), TimeUnit.MILLISECONDS);
      tables.start().toCompletableFuture().get(informerSyncTimeout.toMillis(), TimeUnit.MILLISECONDS);
      // Handlers are notified asynchronously. The tables' cache has no specs, so the first sync
      // waits until the handler has received every listed table; the node comes from its cache
      // (the handler's later delivery of the same object is then a no-op).
      listedTables = tables.getStore().listKeys();
      tableHandler.listed.await(listedTables, informerSyncTimeout);
    } catch (ExecutionException e) {
      throw new IOException("cannot list and watch: " + e.getCause().getMessage(), e.getCause());
    }
    List<Node> listedNodes = nodes.getStore().list();
    if (listedNodes.isEmpty()) {
      LOG.warn("Node {} not found; syncing without node addresses and labels until it appears", config.nodeName());
    }
    NodeHandler nodeHandler = new NodeHandler();
    listedNodes.forEach(nodeHandler::onAdd);
    runner.start();
    runner.run();
    egressSnat.ifPresent(EgressSnatWatch::start);
    LOG.info("agent for node {} started: {} ForwardingTables", config.nodeName(), listedTables.size());
  }

  private static String namespaceOf(AgentConfig.ConfigMapRef ref, KubernetesClient client) {
    if (ref.namespace() != null) {
      return ref.namespace();
    }
    return client.getNamespace() != null ? client.getNamespace() : "default";
  }

  /** Work the conntrack cleanup left for later: another sync (and so another pass) soon. */
  private void requestSync() {
    runner.run();
  }

  private void queue() {
    health.queuedUpdate();
    metrics.syncQueued(clock.instant());
    runner.run();
  }

  /** The old object of an update and the object of a deletion carry metadata only (MetadataOnlyStore). */
  private final class TableHandler implements ResourceEventHandler<ForwardingTable> {
    final Delivered listed = new Delivered();

    @Override
    public void onAdd(ForwardingTable ft) {
      if (tracker.update(key(ft), ft.getSpec())) {
        queue();
      }
      listed.delivered(Cache.metaNamespaceKeyFunc(ft));
    }

    @Override
    public void onUpdate(ForwardingTable oldFt, ForwardingTable ft) {
      onAdd(ft);
    }

    @Override
    public void onDelete(ForwardingTable ft, boolean finalStateUnknown) {
      if (tracker.update(key(ft), null)) {
        queue();
      }
      listed.delivered(Cache.metaNamespaceKeyFunc(ft));
    }

    private ServiceKey key(ForwardingTable ft) {
      // The namespace interned: a cluster has few, and the key is kept per table.
      return new ServiceKey(ft.getMetadata().getNamespace().intern(), ft.getMetadata().getName());
    }
  }

  /**
   * Which informer keys the handler has processed, until {@link #await} has seen all the keys of
   * the initial list: a handler processes its notifications in order, so every listed key is
   * delivered (its add, or a later event) after the list completes, and then nothing is recorded.
   */
  static final class Delivered {
    private Set<String> seen = new HashSet<>();
    private Set<String> missing;

    synchronized void delivered(String key) {
      if (missing != null) {
        missing.remove(key);
        if (missing.isEmpty()) {
          notifyAll();
        }
      } else if (seen != null) {
        seen.add(key);
      }
    }

    synchronized void await(Collection<String> keys, Duration timeout) throws InterruptedException, TimeoutException {
      missing = new HashSet<>(keys);
      missing.removeAll(seen);
      seen = null;
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!missing.isEmpty()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new TimeoutException(missing.size() + " listed ForwardingTables not delivered within " + timeout);
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      missing = null;
    }
  }

  private final class NodeHandler implements ResourceEventHandler<Node> {
    @Override
    public void onAdd(Node node) {
      nodeUid = node.getMetadata().getUid();
      health.nodeEligible(NodeView.eligible(node));
      if (tracker.updateNode(NodeView.context(config.nodeName(), node))) {
        queue();
      }
    }

    @Override
    public void onUpdate(Node oldNode, Node node) {
      onAdd(node);
    }

    @Override
    public void onDelete(Node node, boolean finalStateUnknown) {
      health.nodeEligible(false);
    }
  }

  private final class Listener implements SyncListener {
    @Override
    public void succeeded(
        ChangeTracker.Snapshot snapshot, SyncRequest request, SyncResult result, Duration elapsed, Instant at) {
      health.updated(tracker.hasPending());
      metrics.syncSucceeded(request.full(), elapsed, at, result.ruleCount(), result.entryCounts(),
          LocalEndpoints.noLocalEndpoints(snapshot.state()));
      snapshot.triggerTimes().values().forEach(ts -> ts.forEach(t -> metrics.networkProgrammed(Duration.between(t, at))));
      serviceHealth.sync(LocalEndpoints.healthChecks(snapshot.state()));
      status.succeeded(result, at);
      events.refused(result.serviceErrors());
    }

    @Override
    public void failed(SyncRequest request, Exception error, Instant at) {
      metrics.syncFailed(request.full());
      status.failed(error.getMessage() == null ? error.toString() : error.getMessage(), at);
    }
  }

  public AgentMetrics metrics() {
    return metrics;
  }

  public ProxyHealth health() {
    return health;
  }

  public ServiceHealthServers serviceHealth() {
    return serviceHealth;
  }

  public InetSocketAddress healthzAddress() {
    return healthServer == null ? null : healthServer.address();
  }

  public InetSocketAddress metricsAddress() {
    return metricsServer == null ? null : metricsServer.address();
  }

  @Override
  public void close() {
    for (AutoCloseable c : closeables) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("closing {}: {}", c.getClass().getSimpleName(), e.toString());
      }
    }
    runner.close();
    conntrackSocket.ifPresent(c -> {
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("closing the conntrack socket: {}", e.toString());
      }
    });
    serviceHealth.close();
    status.close();
    statusExecutor.shutdownNow();
  }
}
