package dev.turnpike.dataplane;

import java.util.Set;

/**
 * One sync: the whole desired state, plus which Services changed since the last successful sync.
 *
 * @param full rewrite everything (first sync, after a failure, node change, periodic resync);
 *     when false the backend may rewrite only {@code changed} Services' objects
 */
public record SyncRequest(DesiredState state, Set<ServiceKey> changed, boolean full) {
  public SyncRequest {
    changed = Set.copyOf(changed);
  }
}
