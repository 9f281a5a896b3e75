package dev.turnpike.dataplane.ipvs;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel parameters IPVS mode needs, as kube-proxy's IPVS proxier sets them (all per network
 * namespace; the net.ipv4.vs ones exist once ip_vs is loaded):
 *
 * <ul>
 *   <li>{@code net.ipv4.vs.conntrack=1}: IPVS connections get conntrack entries, so the nat
 *       table's MASQUERADE (SNAT for off-cluster sources, hairpin) applies to them;
 *   <li>{@code net.ipv4.vs.conn_reuse_mode=0} only on kernels 4.1 to 5.8, where mode 1 stalls
 *       new connections that reuse a port for a second (kubernetes#81775); 5.9 fixed it and the
 *       kernel's default is left alone there, as kube-proxy does;
 *   <li>{@code net.ipv4.vs.expire_nodest_conn=1}: packets of a connection whose destination was
 *       deleted expire the connection at once instead of being dropped until it times out;
 *   <li>{@code net.ipv4.vs.expire_quiescent_template=1}: persistence templates of a weight-0
 *       destination expire, so ClientIP-affine clients move off a draining endpoint;
 *   <li>{@code net.ipv4.ip_forward=1}: NAT to remote endpoints forwards.
 * </ul>
 *
 * {@code net.bridge.bridge-nf-call-iptables} is only checked (a warning when it is present and 0),
 * as kube-proxy does.
 */
public final class IpvsSysctls {
  private static final Logger LOG = LoggerFactory.getLogger(IpvsSysctls.class);

  public static final String CONNTRACK = "net.ipv4.vs.conntrack";
  public static final String CONN_REUSE_MODE = "net.ipv4.vs.conn_reuse_mode";
  public static final String EXPIRE_NODEST_CONN = "net.ipv4.vs.expire_nodest_conn";
  public static final String EXPIRE_QUIESCENT_TEMPLATE = "net.ipv4.vs.expire_quiescent_template";
  public static final String IP_FORWARD = "net.ipv4.ip_forward";
  public static final String BRIDGE_NF_CALL_IPTABLES = "net.bridge.bridge-nf-call-iptables";
  public static final String OS_RELEASE = "kernel.osrelease";

  private IpvsSysctls() {}

  /** The settings for a kernel release such as {@code 6.1.0-18-amd64}, in the order they are set. */
  public static Map<String, String> wanted(String kernelRelease) {
    Map<String, String> out = new LinkedHashMap<>();
    out.put(CONNTRACK, "1");
    int[] v = version(kernelRelease);
    if (atLeast(v, 4, 1) && !atLeast(v, 5, 9)) {
      out.put(CONN_REUSE_MODE, "0");
    }
    out.put(EXPIRE_NODEST_CONN, "1");
    out.put(EXPIRE_QUIESCENT_TEMPLATE, "1");
    out.put(IP_FORWARD, "1");
    return out;
  }

  /**
   * Sets every wanted parameter that differs and returns what the kernel now has (including
   * conn_reuse_mode as found when it is left alone), for the log and the tests.
   *
   * @throws IOException naming the parameter when one is missing (ip_vs not loaded) or cannot
   *     be written
   */
  public static Map<String, String> ensure(Sysctl sysctl) throws IOException {
    String release = sysctl.get(OS_RELEASE).orElse("");
    Map<String, String> now = new LinkedHashMap<>();
    List<String> changed = new ArrayList<>();
    for (var e : wanted(release).entrySet()) {
      Optional<String> have = sysctl.get(e.getKey());
      if (have.isEmpty()) {
        throw new IOException("sysctl " + e.getKey() + " does not exist (is the ip_vs module loaded?)");
      }
      if (!have.get().equals(e.getValue())) {
        sysctl.set(e.getKey(), e.getValue());
        changed.add(e.getKey() + " " + have.get() + " -> " + e.getValue());
      }
      now.put(e.getKey(), e.getValue());
    }
    if (!now.containsKey(CONN_REUSE_MODE)) {
      sysctl.get(CONN_REUSE_MODE).ifPresent(v -> now.put(CONN_REUSE_MODE, v));
    }
    Optional<String> bridge = sysctl.get(BRIDGE_NF_CALL_IPTABLES);
    if (bridge.isPresent() && !bridge.get().equals("1")) {
      LOG.warn("{} is {}: bridged pod traffic to Services bypasses the masquerade rules", BRIDGE_NF_CALL_IPTABLES, bridge.get());
    }
    if (!changed.isEmpty()) {
      LOG.info("IPVS sysctls set: {}", String.join(", ", changed));
    }
    return now;
  }

  /** Major and minor of a release string; {0, 0} when it cannot be read. */
  static int[] version(String release) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+)\\.(\\d+)").matcher(release);
    return m.find() ? new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))} : new int[] {0, 0};
  }

  private static boolean atLeast(int[] v, int major, int minor) {
    return v[0] > major || (v[0] == major && v[1] >= minor);
  }
}
