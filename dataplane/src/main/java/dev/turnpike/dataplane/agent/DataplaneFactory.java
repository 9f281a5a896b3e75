package dev.turnpike.dataplane.agent;

import dev.turnpike.dataplane.Dataplane;

/** Builds the kernel backend for the configured mode. */
@FunctionalInterface
public interface DataplaneFactory {
  /** @throws IllegalStateException when this build cannot program the mode */
  Dataplane create(AgentConfig config);
}
