package dev.turnpike.dataplane.ipvs;

import dev.turnpike.dataplane.netlink.ipvs.RealServer;
import dev.turnpike.dataplane.netlink.ipvs.VirtualServerKey;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * kube-proxy's graceful termination (pkg/proxy/ipvs graceful_termination.go): a real server that
 * left the desired state keeps serving its open connections at weight 0 (no new ones) and is
 * deleted once it has no active and no inactive connections, or when the bound has passed. UDP and
 * SCTP destinations are deleted at once, as kube-proxy does: their "connections" are only IPVS
 * entries, and a datagram to a deleted destination is rescheduled (expire_nodest_conn).
 */
public final class GracefulTermination {
  /** One draining destination. */
  public record Draining(VirtualServerKey service, InetAddress address, int port) {}

  /** What to do with a destination that is not desired. */
  public enum Verdict {
    /** Delete it now. */
    DELETE,
    /** Set its weight to 0 (it still has connections) and wait. */
    QUIESCE,
    /** Weight already 0 and connections remain: wait. */
    WAIT
  }

  private final Clock clock;
  private final Duration bound;
  private final Map<Draining, Instant> deadlines = new HashMap<>();

  public GracefulTermination(Clock clock, Duration bound) {
    this.clock = clock;
    this.bound = bound;
  }

  /** Decides for one undesired destination as the kernel reports it (weight and connections). */
  public Verdict decide(VirtualServerKey service, RealServer current) {
    Draining d = new Draining(service, current.address(), current.port());
    if (service.protocol() != VirtualServerKey.IPPROTO_TCP || current.connections().isIdle()) {
      deadlines.remove(d);
      return Verdict.DELETE;
    }
    Instant deadline = deadlines.computeIfAbsent(d, x -> clock.instant().plus(bound));
    if (!clock.instant().isBefore(deadline)) {
      deadlines.remove(d);
      return Verdict.DELETE;
    }
    return current.weight() == 0 ? Verdict.WAIT : Verdict.QUIESCE;
  }

  /** The destination is desired again (or was deleted by other means): stop draining it. */
  public void forget(VirtualServerKey service, InetAddress address, int port) {
    deadlines.remove(new Draining(service, address, port));
  }

  /** Forgets every destination of a deleted service. */
  public void forgetService(VirtualServerKey service) {
    deadlines.keySet().removeIf(d -> d.service().equals(service));
  }

  /** Services with destinations still draining: each sync must look at them again. */
  public Set<VirtualServerKey> services() {
    return deadlines.keySet().stream().map(Draining::service).collect(Collectors.toSet());
  }

  public Set<Draining> draining() {
    return Set.copyOf(deadlines.keySet());
  }

  public void clear() {
    deadlines.clear();
  }
}
