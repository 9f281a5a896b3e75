package dev.turnpike.dataplane.agent;

import dev.turnpike.api.v1alpha1.DataplaneMode;
import dev.turnpike.egress.EgressSnatConfigMap;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agent's settings. Each comes from a flag ({@code --name=value} or {@code --name value}),
 * else from its environment variable, else its default; {@link #FLAGS} is the documented list.
 *
 * @param nodeName this node (downward API {@code spec.nodeName}); required unless cleaning up
 * @param minSyncPeriod least time between syncs (a burst of 2 may run back to back)
 * @param syncPeriod a full sync at least this often; /healthz fails once a queued change is older
 *     than twice this
 * @param healthzBindAddress /healthz and /livez; null disables
 * @param metricsBindAddress /metrics; null disables
 * @param healthCheckBindAddress the host the per-Service health check node port servers bind
 * @param statusUpdateInterval at most one DataplaneNode status write per interval (±10% jitter)
 * @param cleanup remove everything the backend ever programmed, then exit
 * @param backend options the backend factory hands to the kernel backend
 * @param egressSnatConfigMap the egress SNAT ConfigMap to watch; null: not watched
 */
public record AgentConfig(
    String nodeName,
    DataplaneMode mode,
    Duration minSyncPeriod,
    Duration syncPeriod,
    InetSocketAddress healthzBindAddress,
    InetSocketAddress metricsBindAddress,
    String healthCheckBindAddress,
    Duration statusUpdateInterval,
    boolean cleanup,
    BackendOptions backend,
    ConfigMapRef egressSnatConfigMap) {

  /** A ConfigMap; a null namespace is the client's (the pod's, in a cluster). */
  public record ConfigMapRef(String namespace, String name) {
    static ConfigMapRef parse(String s, String podNamespace) {
      if (s.isEmpty()) {
        return null;
      }
      int slash = s.indexOf('/');
      String ns = slash < 0 ? (podNamespace == null || podNamespace.isBlank() ? null : podNamespace.trim())
          : s.substring(0, slash);
      String name = s.substring(slash + 1);
      if (name.isEmpty() || name.contains("/") || (ns != null && ns.isEmpty())) {
        throw new IllegalArgumentException("--egress-snat-configmap must be NAME or NAMESPACE/NAME, not " + s);
      }
      return new ConfigMapRef(ns, name);
    }
  }

  /**
   * Pass-through options for the kernel backend.
   *
   * @param clusterCidrs pod CIDRs; traffic to a ClusterIP from outside them is masqueraded
   * @param masqueradeAll masquerade all traffic to Service IPs
   * @param nodePortAddresses CIDRs (or "primary") of node addresses that accept NodePorts; empty
   *     means all
   * @param localhostNodePorts accept NodePorts on 127.0.0.1 (IPv4 only, with kube-proxy's
   *     CVE-2020-8558 protection)
   */
  public record BackendOptions(
      List<String> clusterCidrs, boolean masqueradeAll, List<String> nodePortAddresses, boolean localhostNodePorts) {
    public BackendOptions {
      clusterCidrs = List.copyOf(clusterCidrs);
      nodePortAddresses = List.copyOf(nodePortAddresses);
    }
  }

  /** A setting: its flag, environment variable, default and meaning. */
  public record Flag(String name, String env, String defaultValue, String help) {}

  public static final List<Flag> FLAGS = List.of(
      new Flag("node-name", "NODE_NAME", "", "This node's name (downward API spec.nodeName); required"),
      new Flag("mode", "TURNPIKE_MODE", "iptables", "Kernel backend: iptables, ipvs or nftables"),
      new Flag("min-sync-period", "TURNPIKE_MIN_SYNC_PERIOD", "1s",
          "Least time between syncs; a burst of 2 may run back to back"),
      new Flag("sync-period", "TURNPIKE_SYNC_PERIOD", "30s",
          "Full sync period; /healthz fails when a queued change is older than twice this"),
      new Flag("healthz-bind-address", "TURNPIKE_HEALTHZ_BIND_ADDRESS", "0.0.0.0:10256",
          "host:port for /healthz and /livez; empty disables"),
      new Flag("metrics-bind-address", "TURNPIKE_METRICS_BIND_ADDRESS", "127.0.0.1:10249",
          "host:port for /metrics; empty disables"),
      new Flag("health-check-bind-address", "TURNPIKE_HEALTH_CHECK_BIND_ADDRESS", "0.0.0.0",
          "Host the per-Service healthCheckNodePort servers bind"),
      new Flag("status-update-interval", "TURNPIKE_STATUS_UPDATE_INTERVAL", "30s",
          "At most one DataplaneNode status write per interval (±10% jitter); error transitions at once"),
      new Flag("cleanup", "TURNPIKE_CLEANUP", "false",
          "Remove every chain, rule, set and address Turnpike created, then exit"),
      new Flag("cluster-cidr", "TURNPIKE_CLUSTER_CIDR", "",
          "Comma-separated pod CIDRs; ClusterIP traffic from outside them is masqueraded"),
      new Flag("masquerade-all", "TURNPIKE_MASQUERADE_ALL", "false", "Masquerade all traffic to Service IPs"),
      new Flag("nodeport-addresses", "TURNPIKE_NODEPORT_ADDRESSES", "",
          "Comma-separated CIDRs (or 'primary') of node addresses that accept NodePorts; empty: all"),
      new Flag("localhost-nodeports", "TURNPIKE_LOCALHOST_NODEPORTS", "true",
          "Accept NodePorts on 127.0.0.1 (IPv4, with the CVE-2020-8558 protection)"),
      new Flag("egress-snat-configmap", "TURNPIKE_EGRESS_SNAT_CONFIGMAP", EgressSnatConfigMap.NAME,
          "[NAMESPACE/]NAME of the egress SNAT ConfigMap (namespace: $POD_NAMESPACE, else the client's); empty: not watched"));

  public static AgentConfig parse(String[] args, Map<String, String> env) {
    Map<String, Flag> byName = new LinkedHashMap<>();
    FLAGS.forEach(f -> byName.put(f.name(), f));
    Map<String, String> given = new HashMap<>();
    List<String> rest = new ArrayList<>(Arrays.asList(args));
    for (int i = 0; i < rest.size(); i++) {
      String arg = rest.get(i);
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument: " + arg);
      }
      String name = arg.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      Flag flag = byName.get(name);
      if (flag == null) {
        throw new IllegalArgumentException("unknown flag --" + name);
      }
      if (value == null) {
        boolean bool = flag.defaultValue().equals("true") || flag.defaultValue().equals("false");
        if (bool) {
          value = "true";
        } else if (i + 1 < rest.size()) {
          value = rest.get(++i);
        } else {
          throw new IllegalArgumentException("flag --" + name + " needs a value");
        }
      }
      given.put(name, value);
    }
    Map<String, String> v = new HashMap<>();
    for (Flag f : FLAGS) {
      String value = given.containsKey(f.name()) ? given.get(f.name()) : env.getOrDefault(f.env(), f.defaultValue());
      v.put(f.name(), value.trim());
    }
    boolean cleanup = bool(v, "cleanup");
    String nodeName = v.get("node-name");
    if (nodeName.isEmpty() && !cleanup) {
      throw new IllegalArgumentException("the node name is required: set NODE_NAME (downward API) or --node-name");
    }
    Duration min = duration(v, "min-sync-period");
    Duration sync = duration(v, "sync-period");
    if (sync.compareTo(min) < 0 || sync.isZero()) {
      throw new IllegalArgumentException("--sync-period " + sync + " must be positive and at least --min-sync-period " + min);
    }
    return new AgentConfig(
        nodeName,
        mode(v.get("mode")),
        min,
        sync,
        address(v, "healthz-bind-address"),
        address(v, "metrics-bind-address"),
        v.get("health-check-bind-address"),
        duration(v, "status-update-interval"),
        cleanup,
        new BackendOptions(
            list(v.get("cluster-cidr")), bool(v, "masquerade-all"), list(v.get("nodeport-addresses")),
            bool(v, "localhost-nodeports")),
        ConfigMapRef.parse(v.get("egress-snat-configmap"), env.get("POD_NAMESPACE")));
  }

  static DataplaneMode mode(String s) {
    for (DataplaneMode m : DataplaneMode.values()) {
      if (m.name().equalsIgnoreCase(s)) {
        return m;
      }
    }
    throw new IllegalArgumentException("unknown --mode " + s + "; one of iptables, ipvs, nftables");
  }

  private static boolean bool(Map<String, String> v, String name) {
    String s = v.get(name).toLowerCase(Locale.ROOT);
    if (s.equals("true") || s.equals("false")) {
      return Boolean.parseBoolean(s);
    }
    throw new IllegalArgumentException("--" + name + " must be true or false, not " + s);
  }

  private static List<String> list(String s) {
    return Arrays.stream(s.split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList();
  }

  private static InetSocketAddress address(Map<String, String> v, String name) {
    String s = v.get(name);
    if (s.isEmpty()) {
      return null;
    }
    int colon = s.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("--" + name + " must be host:port, not " + s);
    }
    String host = s.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      return new InetSocketAddress(host, Integer.parseInt(s.substring(colon + 1)));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--" + name + " must be host:port, not " + s, e);
    }
  }

  private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)");

  /** Go-style durations ("1s", "500ms", "1m30s") as kube-proxy takes them, or ISO-8601 ("PT1S"). */
  static Duration parseDuration(String s) {
    if (s.startsWith("P") || s.startsWith("p")) {
      return Duration.parse(s);
    }
    if (s.equals("0")) {
      return Duration.ZERO;
    }
    Matcher m = DURATION_PART.matcher(s);
    Duration total = Duration.ZERO;
    int at = 0;
    while (m.find() && m.start() == at) {
      double n = Double.parseDouble(m.group(1));
      long unitMillis = switch (m.group(2)) {
        case "ms" -> 1;
        case "s" -> 1000;
        case "m" -> 60_000;
        default -> 3_600_000;
      };
      total = total.plusMillis(Math.round(n * unitMillis));
      at = m.end();
    }
    if (at != s.length() || s.isEmpty()) {
      throw new IllegalArgumentException("not a duration: " + s + " (e.g. 1s, 500ms, 1m30s)");
    }
    return total;
  }

  private static Duration duration(Map<String, String> v, String name) {
    try {
      return parseDuration(v.get(name));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("--" + name + ": " + e.getMessage(), e);
    }
  }

  /** The usage text, generated from {@link #FLAGS}. */
  public static String usage() {
    StringBuilder sb = new StringBuilder("Usage: turnpike-dataplane [flags]\n");
    for (Flag f : FLAGS) {
      sb.append(String.format("  --%-26s %s (env %s, default \"%s\")%n", f.name(), f.help(), f.env(), f.defaultValue()));
    }
    return sb.toString();
  }
}
