package dev.turnpike.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.Min;
import java.util.Map;

/**
 * What one node's agent last did.
 *
 * @param mode the backend in use: iptables, ipvs or nftables
 * @param lastSuccessfulSyncTime RFC 3339 time of the last sync that reached the kernel
 * @param tablesProgrammed ForwardingTables currently programmed on this node
 * @param ruleCount total rules (iptables/nftables) or virtual+real servers (IPVS) programmed
 * @param entryCounts counts by table or object kind (for example nat, filter, virtualServers)
 * @param lastError the last sync error, empty after a successful sync
 * @param lastErrorTime RFC 3339 time of lastError
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DataplaneNodeStatus(
    DataplaneMode mode,
    String lastSuccessfulSyncTime,
    @Min(0) Integer tablesProgrammed,
    @Min(0) Long ruleCount,
    Map<String, Long> entryCounts,
    String lastError,
    String lastErrorTime) {}
