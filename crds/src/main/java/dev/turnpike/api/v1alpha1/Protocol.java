package dev.turnpike.api.v1alpha1;

public enum Protocol {
  TCP,
  UDP,
  SCTP
}
