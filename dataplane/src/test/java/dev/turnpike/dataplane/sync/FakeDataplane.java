package dev.turnpike.dataplane.sync;

import dev.turnpike.api.v1alpha1.DataplaneMode;
import dev.turnpike.dataplane.Dataplane;
import dev.turnpike.dataplane.DataplaneException;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.dataplane.SyncResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Records every request; {@link #makeItFailWith} makes syncs (and cleanups) throw until {@link
 * #makeItWork}. Thread-safe, since agent tests read it while the sync loop writes.
 */
public final class FakeDataplane implements Dataplane {
  private final List<SyncRequest> requests = new ArrayList<>();
  private final AtomicInteger cleanups = new AtomicInteger();
  private volatile DataplaneException failure;
  private volatile Map<ServiceKey, String> serviceErrors = Map.of();
  private final AtomicInteger failedSyncs = new AtomicInteger();

  @Override
  public DataplaneMode mode() {
    return DataplaneMode.IPTABLES;
  }

  @Override
  public SyncResult sync(SyncRequest request) throws DataplaneException {
    synchronized (requests) {
      requests.add(request);
    }
    DataplaneException f = failure;
    if (f != null) {
      failedSyncs.incrementAndGet();
      throw f;
    }
    int n = request.state().tables().size();
    return new SyncResult(n, 10L * n, Map.of("nat", 8L * n, "filter", 2L * n), serviceErrors, Map.of());
  }

  @Override
  public void cleanup() throws DataplaneException {
    cleanups.incrementAndGet();
    DataplaneException f = failure;
    if (f != null) {
      throw f;
    }
  }

  public void makeItFailWith(String message) {
    failure = new DataplaneException(message);
  }

  public void makeItWork() {
    failure = null;
  }

  public void refuse(Map<ServiceKey, String> errors) {
    serviceErrors = Map.copyOf(errors);
  }

  public List<SyncRequest> requests() {
    synchronized (requests) {
      return List.copyOf(requests);
    }
  }

  public SyncRequest last() {
    synchronized (requests) {
      return requests.isEmpty() ? null : requests.get(requests.size() - 1);
    }
  }

  public int failedSyncs() {
    return failedSyncs.get();
  }

  public int cleanups() {
    return cleanups.get();
  }
}
