package dev.turnpike.dataplane.ipvs;

import dev.turnpike.dataplane.iptables.IptablesConfig;
import dev.turnpike.dataplane.netlink.ipvs.IpvsTimeouts;
import java.time.Duration;
import java.util.Objects;

/**
 * Node-level settings of the IPVS backend.
 *
 * @param rules the iptables settings IPVS mode shares with the iptables backend: clusterCidrs,
 *     masqueradeAll, masqueradeBit and nodePortAddresses (localhostNodePorts and the Maglev size
 *     limit do not apply: IPVS serves no NodePorts on 127.0.0.1 and mh builds its own table)
 * @param linkName the dummy interface holding the virtual IPs
 * @param gracefulTerminationTimeout how long a removed TCP real server may keep weight 0 while
 *     connections drain before it is deleted anyway (the bound on graceful termination)
 * @param timeouts IPVS connection timeouts (ipvsadm --set); zeros leave the kernel's as they are,
 *     kube-proxy's defaults
 */
public record IpvsConfig(
    IptablesConfig rules, String linkName, Duration gracefulTerminationTimeout, IpvsTimeouts timeouts) {
  public static final Duration DEFAULT_GRACEFUL_TERMINATION_TIMEOUT = Duration.ofMinutes(15);

  public IpvsConfig {
    Objects.requireNonNull(rules);
    if (linkName.isEmpty() || linkName.length() > 15) {
      throw new IllegalArgumentException("link name '" + linkName + "' must have 1 to 15 characters");
    }
    if (gracefulTerminationTimeout.isNegative()) {
      throw new IllegalArgumentException("negative graceful termination timeout");
    }
  }

  public static IpvsConfig defaults() {
    return of(IptablesConfig.defaults());
  }

  public static IpvsConfig of(IptablesConfig rules) {
    return new IpvsConfig(
        rules, RtnlVipLink.DEFAULT_NAME, DEFAULT_GRACEFUL_TERMINATION_TIMEOUT, new IpvsTimeouts(0, 0, 0));
  }

  public IpvsConfig withGracefulTerminationTimeout(Duration d) {
    return new IpvsConfig(rules, linkName, d, timeouts);
  }

  public IpvsConfig withTimeouts(IpvsTimeouts t) {
    return new IpvsConfig(rules, linkName, gracefulTerminationTimeout, t);
  }
}
