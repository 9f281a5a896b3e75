package dev.turnpike.dataplane.agent;

/** Builds the agent's {@link NodeNat} (conntrack and egress SNAT) for this node. */
@FunctionalInterface
public interface NodeNatFactory {
  NodeNatFactory NONE = config -> NodeNat.NONE;

  NodeNat create(AgentConfig config);
}
