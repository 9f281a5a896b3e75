package dev.turnpike.operator;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.egress.EgressSnatConfigMap;
import dev.turnpike.lb.MaglevConfig;
import dev.turnpike.operator.compute.ClusterDefaults;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The operator's settings, from flags ({@code --name=value} or {@code --name value}) with an
 * environment variable fallback for each, then a documented default. Every replica must run with
 * the same cluster defaults (the Maglev seed above all), so none of them are derived from the host.
 *
 * @param leaseNamespace null means the client's namespace (the pod's, in a cluster)
 * @param egressSnatNamespace namespace of the egress SNAT ConfigMap; null: the client's
 * @param egressSnatName the egress SNAT ConfigMap checked; null: not checked
 */
public record OperatorOptions(
    ClusterDefaults defaults,
    int httpPort,
    boolean leaderElection,
    String leaseName,
    String leaseNamespace,
    String identity,
    int reconcileThreads,
    String egressSnatNamespace,
    String egressSnatName) {

  /** The seed every replica uses unless told otherwise (MaglevConfig's, "Turnpike" in ASCII). */
  public static final String DEFAULT_MAGLEV_SEED = MaglevConfig.DEFAULT.seedHex();
  public static final int DEFAULT_MAGLEV_TABLE_SIZE = MaglevConfig.DEFAULT_TABLE_SIZE;
  public static final int DEFAULT_HTTP_PORT = 8080;
  public static final String DEFAULT_LEASE_NAME = "turnpike-operator";
  public static final int DEFAULT_RECONCILE_THREADS = 8;

  /** One flag: its name, environment variable, default and description (for --help and docs). */
  record Flag(String name, String env, String defaultValue, String help) {}

  static final List<Flag> FLAGS =
      List.of(
          new Flag("default-algorithm", "TURNPIKE_DEFAULT_ALGORITHM", "random",
              "algorithm for Services without a valid turnpike.dev/lb-algorithm: random | maglev"),
          new Flag("maglev-table-size", "TURNPIKE_MAGLEV_TABLE_SIZE", String.valueOf(DEFAULT_MAGLEV_TABLE_SIZE),
              "Maglev table size M for Services without turnpike.dev/maglev-table-size; one of " + MaglevConfig.TABLE_SIZES),
          new Flag("maglev-seed", "TURNPIKE_MAGLEV_SEED", DEFAULT_MAGLEV_SEED,
              "Maglev hash seed, 16 lower-case hex digits; must be identical on every replica"),
          new Flag("proxy-name", "TURNPIKE_PROXY_NAME", "",
              "service.kubernetes.io/service-proxy-name value Turnpike serves; empty: only unlabelled Services"),
          new Flag("http-port", "TURNPIKE_HTTP_PORT", String.valueOf(DEFAULT_HTTP_PORT),
              "port for /metrics, /healthz, /readyz (0 picks a free port)"),
          new Flag("leader-election", "TURNPIKE_LEADER_ELECTION", "true",
              "elect a leader on a coordination.k8s.io Lease (run two replicas with it on)"),
          new Flag("lease-name", "TURNPIKE_LEASE_NAME", DEFAULT_LEASE_NAME, "name of the leader-election Lease"),
          new Flag("lease-namespace", "TURNPIKE_LEASE_NAMESPACE", "",
              "namespace of the Lease; empty: $POD_NAMESPACE, else the client's namespace"),
          new Flag("identity", "TURNPIKE_IDENTITY", "",
              "this replica's leader-election identity; empty: $POD_NAME, else $HOSTNAME"),
          new Flag("reconcile-threads", "TURNPIKE_RECONCILE_THREADS", String.valueOf(DEFAULT_RECONCILE_THREADS),
              "concurrent reconciliations"),
          new Flag("egress-snat-configmap", "TURNPIKE_EGRESS_SNAT_CONFIGMAP", EgressSnatConfigMap.NAME,
              "[NAMESPACE/]NAME of the egress SNAT ConfigMap to validate; namespace: $POD_NAMESPACE, else the"
                  + " client's; empty: not checked"));

  /** Parses flags over environment over defaults; throws IllegalArgumentException with a usable message. */
  public static OperatorOptions parse(List<String> args, Map<String, String> env) {
    Map<String, String> values = new LinkedHashMap<>();
    for (Flag f : FLAGS) {
      values.put(f.name(), env.getOrDefault(f.env(), f.defaultValue()));
    }
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument: " + arg);
      }
      String name = arg.substring(2);
      String value;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      } else if (i + 1 < args.size()) {
        value = args.get(++i);
      } else {
        throw new IllegalArgumentException("--" + name + " needs a value");
      }
      if (!values.containsKey(name)) {
        throw new IllegalArgumentException("unknown flag --" + name + "\n" + usage());
      }
      values.put(name, value);
    }

    Algorithm algorithm =
        parseValue("default-algorithm", values, v -> Algorithm.valueOf(v.toUpperCase(Locale.ROOT)));
    int tableSize = parseValue("maglev-table-size", values, Integer::parseInt);
    if (!MaglevConfig.isValidTableSize(tableSize)) {
      throw new IllegalArgumentException(
          "--maglev-table-size " + tableSize + " is not one of " + MaglevConfig.TABLE_SIZES);
    }
    long seed = parseValue("maglev-seed", values, MaglevConfig::parseSeed);
    int port = parseValue("http-port", values, Integer::parseInt);
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--http-port out of range: " + port);
    }
    String leader = values.get("leader-election");
    if (!leader.equals("true") && !leader.equals("false")) {
      throw new IllegalArgumentException("--leader-election must be true or false, got '" + leader + "'");
    }
    int threads = parseValue("reconcile-threads", values, Integer::parseInt);
    if (threads < 1) {
      throw new IllegalArgumentException("--reconcile-threads must be at least 1");
    }
    String egressSnat = values.get("egress-snat-configmap").trim();
    if (egressSnat.startsWith("/") || egressSnat.endsWith("/") || egressSnat.indexOf('/') != egressSnat.lastIndexOf('/')) {
      throw new IllegalArgumentException("--egress-snat-configmap must be NAME or NAMESPACE/NAME, not " + egressSnat);
    }
    return new OperatorOptions(
        new ClusterDefaults(algorithm, tableSize, seed, values.get("proxy-name")),
        port,
        Boolean.parseBoolean(leader),
        values.get("lease-name"),
        firstNonEmpty(values.get("lease-namespace"), env.get("POD_NAMESPACE")),
        firstNonEmpty(values.get("identity"), env.get("POD_NAME"), env.get("HOSTNAME")),
        threads,
        egressSnat.isEmpty() ? null
            : egressSnat.contains("/") ? egressSnat.substring(0, egressSnat.indexOf('/')) : env.get("POD_NAMESPACE"),
        egressSnat.isEmpty() ? null : egressSnat.substring(egressSnat.indexOf('/') + 1));
  }

  public static String usage() {
    StringBuilder b = new StringBuilder("usage: turnpike-operator [flags]\n       turnpike-operator compute ...\nflags (environment variable, default):\n");
    for (Flag f : FLAGS) {
      b.append(String.format("  --%-20s %s (%s, default '%s')%n", f.name(), f.help(), f.env(), f.defaultValue()));
    }
    return b.toString();
  }

  private static <T> T parseValue(String flag, Map<String, String> values, Function<String, T> parser) {
    String raw = values.get(flag);
    try {
      return parser.apply(raw);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("invalid --" + flag + " '" + raw + "': " + e.getMessage(), e);
    }
  }

  private static String firstNonEmpty(String... candidates) {
    for (String c : candidates) {
      if (c != null && !c.isEmpty()) {
        return c;
      }
    }
    return null;
  }

}
