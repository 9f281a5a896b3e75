package dev.turnpike.dataplane.netlink.ipvs;

import dev.turnpike.dataplane.netlink.Netlink;

/**
 * An IPVS virtual service. {@code flags} are IP_VS_SVC_F_* bits ({@link IpvsMessages}), without
 * the kernel-internal HASHED bit; {@code timeoutSeconds} is the persistence timeout (used with
 * PERSISTENT); {@code netmaskPrefix} is the persistence granularity as a prefix length.
 */
public record VirtualServer(VirtualServerKey key, String scheduler, int flags,
    int timeoutSeconds, int netmaskPrefix) {

  public VirtualServer {
    if (scheduler.isEmpty() || scheduler.length() >= IpvsMessages.IP_VS_SCHEDNAME_MAXLEN) {
      throw new IllegalArgumentException("scheduler name '" + scheduler + "'");
    }
    int max = key.family() == Netlink.AF_INET ? 32 : 128;
    if (netmaskPrefix < 0 || netmaskPrefix > max || timeoutSeconds < 0) {
      throw new IllegalArgumentException("netmask /" + netmaskPrefix + ", timeout "
          + timeoutSeconds);
    }
  }

  /** No persistence, full-length netmask: the shape kube-proxy creates by default. */
  public static VirtualServer of(VirtualServerKey key, String scheduler, int flags) {
    return new VirtualServer(key, scheduler, flags, 0,
        key.family() == Netlink.AF_INET ? 32 : 128);
  }

  public boolean hasFlags(int mask) {
    return (flags & mask) == mask;
  }
}
