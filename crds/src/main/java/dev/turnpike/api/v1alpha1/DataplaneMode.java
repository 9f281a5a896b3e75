package dev.turnpike.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The kernel facility a node's agent programs. */
public enum DataplaneMode {
  @JsonProperty("iptables")
  IPTABLES,
  @JsonProperty("ipvs")
  IPVS,
  @JsonProperty("nftables")
  NFTABLES
}
