package dev.turnpike.api.v1alpha1;

import io.fabric8.generator.annotation.Required;

/** The Service a ForwardingTable was computed from. */
public record ServiceReference(@Required String namespace, @Required String name, String uid) {
  public ServiceReference {
    namespace = Interned.string(namespace);
  }
}
