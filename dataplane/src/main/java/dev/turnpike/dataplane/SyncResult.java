package dev.turnpike.dataplane;

import java.util.Map;

/**
 * What a successful sync programmed.
 *
 * @param tablesProgrammed Services programmed
 * @param ruleCount total rules (iptables/nftables) or virtual+real servers (IPVS)
 * @param entryCounts counts by table or kind, for metrics and the DataplaneNode status
 * @param serviceErrors Services the backend refused (for example a Maglev size it cannot carry),
 *     with a message for an Event and the status; the rest of the state was programmed
 * @param noLocalEndpoints Services by traffic policy ("internal"/"external") that have endpoints
 *     cluster-wide but none on this node (kube-proxy's sync_proxy_rules_no_local_endpoints_total)
 */
public record SyncResult(
    int tablesProgrammed,
    long ruleCount,
    Map<String, Long> entryCounts,
    Map<ServiceKey, String> serviceErrors,
    Map<String, Integer> noLocalEndpoints) {
  public SyncResult {
    entryCounts = Map.copyOf(entryCounts);
    serviceErrors = Map.copyOf(serviceErrors);
    noLocalEndpoints = Map.copyOf(noLocalEndpoints);
  }
}
