package dev.turnpike.dataplane.status;

import dev.turnpike.api.v1alpha1.DataplaneMode;
import dev.turnpike.api.v1alpha1.DataplaneNode;
import dev.turnpike.api.v1alpha1.DataplaneNodeStatus;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.SyncResult;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes this node's DataplaneNode status, rate limited: at most one write per {@code interval}
 * (with jitter, so thousands of agents started together spread out), except that a transition
 * between healthy and failing is written at once. Conditions ({@link #condition}) are carried in
 * every status. Writes go through the status subresource with
 * the last known resourceVersion; a conflict re-reads the object and retries once. Writes run on
 * the given executor so the sync loop never waits for the API server.
 */
public final class StatusReporter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StatusReporter.class);

  private final KubernetesClient client;
  private final String nodeName;
  private final Supplier<String> nodeUid;
  private final DataplaneMode mode;
  private final Clock clock;
  private final Duration interval;
  private final double jitter;
  private final Random random;
  private final ScheduledExecutorService executor;

  // Guarded by this.
  private final Map<String, Condition> conditions = new TreeMap<>();
  private DataplaneNodeStatus desired;
  private DataplaneNodeStatus written;
  private Instant nextAllowed = Instant.MIN;
  private ScheduledFuture<?> scheduled;
  private boolean scheduledNow;
  private boolean writing;
  private long writeId;
  private DataplaneNode lastObject; // carries the resourceVersion for the next write

  /**
   * @param nodeUid the Node's uid, or null while unknown (the DataplaneNode is owned by the Node so
   *     it is garbage collected with it)
   * @param jitter fraction of the interval added or subtracted at random, e.g. 0.1
   */
  public StatusReporter(
      KubernetesClient client,
      String nodeName,
      Supplier<String> nodeUid,
      DataplaneMode mode,
      Clock clock,
      Duration interval,
      double jitter,
      Random random,
      ScheduledExecutorService executor) {
    this.client = client;
    this.nodeName = nodeName;
    this.nodeUid = nodeUid;
    this.mode = mode;
    this.clock = clock;
    this.interval = interval;
    this.jitter = jitter;
    this.random = random;
    this.executor = executor;
  }

  /** Services the backend refused are reported as the last error, though the rest was programmed. */
  public synchronized void succeeded(SyncResult result, Instant at) {
    boolean refused = !result.serviceErrors().isEmpty();
    report(new DataplaneNodeStatus(
        mode, rfc3339(at), result.tablesProgrammed(), result.ruleCount(), result.entryCounts(),
        refused ? describe(result.serviceErrors()) : "", refused ? rfc3339(at) : null, conditions()));
  }

  /**
   * Sets the condition of {@code type} (replacing the previous one of that type). Its
   * lastTransitionTime is {@code at} when the status changes, else the previous one, as the
   * Kubernetes conventions ask. Written like any other change of the status (rate limited; not a
   * healthy/failing transition); before the first sync it waits for that sync's status.
   */
  public synchronized void condition(String type, boolean ok, String reason, String message, Instant at) {
    String status = ok ? "True" : "False";
    Condition previous = conditions.get(type);
    String since = previous != null && status.equals(previous.getStatus()) ? previous.getLastTransitionTime() : rfc3339(at);
    conditions.put(type, new ConditionBuilder().withType(type).withStatus(status).withReason(reason).withMessage(message)
        .withLastTransitionTime(since).build());
    if (desired != null) {
      report(desired.withConditions(conditions()));
    }
  }

  private List<Condition> conditions() {
    return List.copyOf(conditions.values());
  }

  static String describe(Map<ServiceKey, String> serviceErrors) {
    return new TreeMap<>(serviceErrors).entrySet().stream()
        .map(e -> e.getKey() + ": " + e.getValue())
        .collect(Collectors.joining("; ", serviceErrors.size() + " Service(s) not programmed: ", ""));
  }

  /** Fail-static: the counts of the last success stay, since those rules are still programmed. */
  public synchronized void failed(String error, Instant at) {
    DataplaneNodeStatus base = desired != null ? desired : new DataplaneNodeStatus(mode, null, 0, 0L, null, "", null, null);
    report(new DataplaneNodeStatus(
        mode, base.lastSuccessfulSyncTime(), base.tablesProgrammed(), base.ruleCount(), base.entryCounts(),
        error, rfc3339(at), conditions()));
  }

  private void report(DataplaneNodeStatus status) {
    desired = status;
    maybeSchedule();
  }

  // Called with the lock held. At most one write is scheduled or running at a time.
  private void maybeSchedule() {
    if (writing || desired.equals(written)) {
      return; // a running write re-checks when it finishes
    }
    boolean transition = written == null || failing(written) != failing(desired);
    if (scheduled != null) {
      if (!transition || scheduledNow) {
        return; // the scheduled write will carry the latest status
      }
      scheduled.cancel(false);
    }
    long delay = transition ? 0 : Math.max(0, Duration.between(clock.instant(), nextAllowed).toMillis());
    schedule(delay);
  }

  private void schedule(long delayMillis) {
    long id = ++writeId;
    scheduledNow = delayMillis == 0;
    scheduled = executor.schedule(() -> write(id), delayMillis, TimeUnit.MILLISECONDS);
  }

  private static boolean failing(DataplaneNodeStatus s) {
    return s.lastError() != null && !s.lastError().isEmpty();
  }

  private void write(long id) {
    DataplaneNodeStatus status;
    DataplaneNode base;
    synchronized (this) {
      if (id != writeId || writing) {
        return; // superseded by a write scheduled after this one was cancelled
      }
      writing = true;
      scheduled = null;
      status = desired;
      base = lastObject;
    }
    DataplaneNode result = null;
    try {
      result = put(base, status);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        LOG.warn("cannot write DataplaneNode {} status: {}", nodeName, e.getMessage());
      } else {
        try {
          result = put(null, status); // someone else wrote it: re-read and retry once
        } catch (KubernetesClientException again) {
          LOG.warn("cannot write DataplaneNode {} status after a conflict: {}", nodeName, again.getMessage());
        }
      }
    } catch (RuntimeException e) {
      LOG.warn("cannot write DataplaneNode {} status", nodeName, e);
    }
    synchronized (this) {
      writing = false;
      nextAllowed = clock.instant().plus(jittered());
      if (result == null) {
        lastObject = null; // re-read next time; retry at the next slot, not at once
        schedule(Math.max(1, Duration.between(clock.instant(), nextAllowed).toMillis()));
        return;
      }
      lastObject = result;
      written = status;
      maybeSchedule(); // what came in while writing waits for the next slot, unless a transition
    }
  }

  private DataplaneNode put(DataplaneNode base, DataplaneNodeStatus status) {
    var resource = client.resources(DataplaneNode.class).withName(nodeName);
    if (base == null) {
      base = resource.get();
      if (base == null) {
        base = resource.create(newObject());
      }
    }
    DataplaneNode copy = new DataplaneNode();
    copy.setMetadata(base.getMetadata());
    copy.setStatus(status);
    return client.resource(copy).updateStatus();
  }

  private DataplaneNode newObject() {
    DataplaneNode obj = new DataplaneNode();
    ObjectMetaBuilder meta = new ObjectMetaBuilder().withName(nodeName);
    String uid = nodeUid.get();
    if (uid != null) {
      meta.withOwnerReferences(new OwnerReferenceBuilder()
          .withApiVersion("v1").withKind("Node").withName(nodeName).withUid(uid).build());
    }
    obj.setMetadata(meta.build());
    return obj;
  }

  private Duration jittered() {
    double factor = 1 + jitter * (2 * random.nextDouble() - 1);
    return Duration.ofMillis(Math.max(0, (long) (interval.toMillis() * factor)));
  }

  static String rfc3339(Instant at) {
    return DateTimeFormatter.ISO_INSTANT.format(at.truncatedTo(ChronoUnit.SECONDS));
  }

  /** Tests and shutdown: the status most recently handed in. */
  public synchronized DataplaneNodeStatus desired() {
    return desired;
  }

  @Override
  public synchronized void close() {
    if (scheduled != null) {
      scheduled.cancel(false);
    }
  }
}
