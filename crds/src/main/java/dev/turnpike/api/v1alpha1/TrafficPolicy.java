package dev.turnpike.api.v1alpha1;

/** externalTrafficPolicy / internalTrafficPolicy. */
public enum TrafficPolicy {
  Cluster,
  Local
}
