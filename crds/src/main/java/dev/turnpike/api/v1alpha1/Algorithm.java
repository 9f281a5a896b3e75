package dev.turnpike.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** How a node picks a backend for a new flow. */
public enum Algorithm {
  /** Uniformly at random (kube-proxy's behaviour). */
  @JsonProperty("random")
  RANDOM,
  /** Maglev consistent hashing over a lookup table shared by every node. */
  @JsonProperty("maglev")
  MAGLEV;

  /** The spelling used in the API and in the {@code turnpike.dev/lb-algorithm} annotation. */
  public String apiName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
