package dev.turnpike.api.v1alpha1;

import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/** The port a backend listens on for the frontend of the same name. */
public record BackendPort(@Required String name, @Required @Min(1) @Max(65535) Integer port) {
  public BackendPort {
    name = Interned.string(name);
  }
}
