package dev.turnpike.dataplane;

import dev.turnpike.api.v1alpha1.DataplaneMode;

/**
 * One kernel backend (iptables, IPVS, nftables). Fail-static: a sync that throws must leave the
 * rules of the last successful sync in place; the agent then retries with a full sync. Never
 * flushes working rules. Not thread-safe: the agent's sync loop is its only caller.
 */
public interface Dataplane {
  DataplaneMode mode();

  /** Programs the request's desired state. */
  SyncResult sync(SyncRequest request) throws DataplaneException;

  /** Removes every chain, rule, set and address this backend ever created. */
  void cleanup() throws DataplaneException;
}
