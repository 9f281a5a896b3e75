package dev.turnpike.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.Min;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.List;
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
 * @param conditions the agent's view of its inputs besides the ForwardingTables, one per type
 *     (sorted by type): {@value #EGRESS_SNAT_CONFIG_VALID}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DataplaneNodeStatus(
    DataplaneMode mode,
    String lastSuccessfulSyncTime,
    @Min(0) Integer tablesProgrammed,
    @Min(0) Long ruleCount,
    Map<String, Long> entryCounts,
    String lastError,
    String lastErrorTime,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Condition> conditions) {
  /**
   * Whether the egress SNAT ConfigMap is valid as this agent sees it: True when valid (reason
   * {@value #REASON_VALID}) or absent ({@value #REASON_NOT_FOUND}: egress SNAT off), False when
   * invalid (reason {@value #REASON_INVALID}, the full validation message; the agent keeps the
   * last valid configuration, or the defaults, or off). Absent while the agent does not watch it.
   */
  public static final String EGRESS_SNAT_CONFIG_VALID = "EgressSnatConfigValid";
  public static final String REASON_VALID = "Valid";
  public static final String REASON_NOT_FOUND = "NotFound";
  public static final String REASON_INVALID = "InvalidEgressSnatConfig";

  public DataplaneNodeStatus {
    conditions = ForwardingTableSpec.copy(conditions);
  }

  /** This status with other conditions. */
  public DataplaneNodeStatus withConditions(List<Condition> c) {
    return new DataplaneNodeStatus(mode, lastSuccessfulSyncTime, tablesProgrammed, ruleCount, entryCounts, lastError,
        lastErrorTime, c);
  }
}
