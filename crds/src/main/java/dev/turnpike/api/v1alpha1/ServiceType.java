package dev.turnpike.api.v1alpha1;

/** The Service types Turnpike forwards (ExternalName and headless Services get no table). */
public enum ServiceType {
  ClusterIP,
  NodePort,
  LoadBalancer
}
