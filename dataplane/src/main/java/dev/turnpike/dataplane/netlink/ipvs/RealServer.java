package dev.turnpike.dataplane.netlink.ipvs;

import java.net.InetAddress;

/**
 * An IPVS destination. {@code connections} are read from the kernel (graceful termination waits
 * for them to drain) and ignored when building requests.
 */
public record RealServer(InetAddress address, int port, ForwardMethod forward, int weight,
    int upperThreshold, int lowerThreshold, Connections connections) {

  /** IPVS_DEST_ATTR_ACTIVE_CONNS, INACT_CONNS and PERSIST_CONNS. */
  public record Connections(int active, int inactive, int persistent) {
    public static final Connections NONE = new Connections(0, 0, 0);

    /** Nothing left to drain: the destination can be deleted. */
    public boolean isIdle() {
      return active == 0 && inactive == 0;
    }
  }

  public RealServer {
    if (port < 0 || port > 0xffff || weight < 0) {
      throw new IllegalArgumentException("port " + port + ", weight " + weight);
    }
  }

  /** A NAT destination without thresholds, as kube-proxy programs endpoints. */
  public static RealServer masq(InetAddress address, int port, int weight) {
    return new RealServer(address, port, ForwardMethod.MASQ, weight, 0, 0, Connections.NONE);
  }

  public RealServer withWeight(int newWeight) {
    return new RealServer(address, port, forward, newWeight, upperThreshold, lowerThreshold,
        connections);
  }
}
