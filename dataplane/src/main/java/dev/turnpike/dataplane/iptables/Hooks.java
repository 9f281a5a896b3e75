package dev.turnpike.dataplane.iptables;

import java.util.List;

/**
 * The jumps from built-in chains into Turnpike's chains: the only rules Turnpike writes outside its
 * own chains. Each is inserted at the head of its built-in chain once, when no rule there jumps to
 * the target yet (kube-proxy's EnsureRule with Prepend), and removed by cleanup.
 */
public final class Hooks {
  /** One jump rule. */
  public record Hook(String table, String builtin, String target, String args) {
    /** The rule's arguments after the chain name. */
    public String rule() {
      return args + " -j " + target;
    }
  }

  private static final String NEW = "-m conntrack --ctstate NEW ";

  /** In head-of-chain order: the first listed is evaluated first. */
  public static final List<Hook> ALL =
      List.of(
          new Hook("filter", "INPUT", ChainNames.PROXY_FIREWALL, NEW + comment("turnpike load balancer firewall")),
          new Hook("filter", "INPUT", ChainNames.NODEPORTS, comment("turnpike health check service ports")),
          new Hook("filter", "INPUT", ChainNames.EXTERNAL_SERVICES, NEW + comment("turnpike externally-visible service portals")),
          new Hook("filter", "INPUT", ChainNames.FIREWALL, comment("turnpike localnet protection")),
          new Hook("filter", "FORWARD", ChainNames.PROXY_FIREWALL, NEW + comment("turnpike load balancer firewall")),
          new Hook("filter", "FORWARD", ChainNames.FORWARD, comment("turnpike forwarding rules")),
          new Hook("filter", "FORWARD", ChainNames.SERVICES, NEW + comment("turnpike service portals")),
          new Hook("filter", "FORWARD", ChainNames.EXTERNAL_SERVICES, NEW + comment("turnpike externally-visible service portals")),
          new Hook("filter", "OUTPUT", ChainNames.PROXY_FIREWALL, NEW + comment("turnpike load balancer firewall")),
          new Hook("filter", "OUTPUT", ChainNames.SERVICES, NEW + comment("turnpike service portals")),
          new Hook("filter", "OUTPUT", ChainNames.FIREWALL, comment("turnpike localnet protection")),
          new Hook("nat", "PREROUTING", ChainNames.SERVICES, comment("turnpike service portals")),
          new Hook("nat", "OUTPUT", ChainNames.SERVICES, comment("turnpike service portals")),
          new Hook("nat", "POSTROUTING", ChainNames.POSTROUTING, comment("turnpike postrouting rules")));

  private Hooks() {}

  public static String comment(String text) {
    return "-m comment --comment \"" + text + "\"";
  }
}
