package dev.turnpike.dataplane.netlink.ipvs;

/** IPVS connection timeouts in seconds (ipvsadm --set); 0 in a SET_CONFIG leaves one unchanged. */
public record IpvsTimeouts(int tcpSeconds, int tcpFinSeconds, int udpSeconds) {
  public IpvsTimeouts {
    if (tcpSeconds < 0 || tcpFinSeconds < 0 || udpSeconds < 0) {
      throw new IllegalArgumentException("negative timeout");
    }
  }
}
