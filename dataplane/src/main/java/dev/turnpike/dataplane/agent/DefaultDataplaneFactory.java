package dev.turnpike.dataplane.agent;

import dev.turnpike.dataplane.Dataplane;

/** The backends this build carries. */
public final class DefaultDataplaneFactory implements DataplaneFactory {
  @Override
  public Dataplane create(AgentConfig config) {
    String mode = config.mode().name().toLowerCase(java.util.Locale.ROOT);
    throw new IllegalStateException("mode " + mode + " is not available in this build");
  }
}
