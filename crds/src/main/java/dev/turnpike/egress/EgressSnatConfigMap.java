package dev.turnpike.egress;

import java.util.ArrayList;
import dev.turnpike.net.IpAddresses;
import dev.turnpike.net.IpAddresses.Ip;
import dev.turnpike.net.IpFamily;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads {@link EgressSnatConfig} for one node from the data of the cluster-wide ConfigMap
 * {@value #NAME} (one object that the operator and every agent read; a change is applied by
 * calling the dataplane's {@code EgressSnat.apply} again). Keys, all optional except {@code clusterCIDRs}:
 *
 * <pre>
 * clusterCIDRs:        "10.244.0.0/16, fd00:244::/56"
 * nonMasqueradeCIDRs:  "10.0.0.0/8, 100.64.0.0/10"     default: RFC 1918 + link-local (+ ULA/fe80::/10)
 * masqLinkLocal:       "false"                          true: link-local is translated too (ip-masq-agent)
 * randomFully:         "true"
 * snatAddresses:       |                                per node; "*" is every other node
 *   node-a=203.0.113.5,2001:db8::5
 *   *=203.0.113.1
 * connmark:            "0x100000"
 * </pre>
 *
 * Unknown keys are refused (a misspelt key would otherwise silently mean the default); every
 * problem is reported at once in an {@link IllegalArgumentException}.
 */
public final class EgressSnatConfigMap {
  public static final String NAME = "turnpike-egress-snat";
  private static final Set<String> KEYS = Set.of("clusterCIDRs", "nonMasqueradeCIDRs",
      "masqLinkLocal", "randomFully", "snatAddresses", "connmark");
  private static final Set<String> LINK_LOCAL = Set.of("169.254.0.0/16", "fe80::/10");

  private EgressSnatConfigMap() {}

  public static EgressSnatConfig parse(Map<String, String> data, String nodeName) {
    List<String> errors = new ArrayList<>();
    for (String k : data.keySet()) {
      if (!KEYS.contains(k)) {
        errors.add("unknown key \"" + k + "\" (known: " + String.join(", ", KEYS.stream().sorted().toList()) + ")");
      }
    }
    List<String> cluster = list(data.get("clusterCIDRs"));
    boolean masqLinkLocal = bool(data, "masqLinkLocal", false, errors);
    List<String> nonMasq = data.containsKey("nonMasqueradeCIDRs")
        ? list(data.get("nonMasqueradeCIDRs"))
        : EgressSnatConfig.DEFAULT_NON_MASQUERADE_CIDRS.stream()
            .filter(c -> !masqLinkLocal || !LINK_LOCAL.contains(c)).toList();
    boolean randomFully = bool(data, "randomFully", true, errors);
    long connmark = EgressSnatConfig.DEFAULT_CONNMARK;
    String cm = data.get("connmark");
    if (cm != null) {
      try {
        connmark = Long.decode(cm.trim());
      } catch (NumberFormatException e) {
        errors.add("connmark: \"" + cm + "\" is not a number (like 0x100000)");
      }
    }
    List<String> snat = snatFor(data.get("snatAddresses"), nodeName, errors);
    EgressSnatConfig parsed = null;
    try {
      parsed = EgressSnatConfig.of(cluster, nonMasq, randomFully, snat, connmark);
    } catch (IllegalArgumentException e) {
      errors.add(e.getMessage().replaceFirst("^invalid egress SNAT configuration: ", ""));
    }
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException("ConfigMap " + NAME + ": " + String.join("; ", errors));
    }
    return parsed;
  }

  /**
   * This node's line of {@code snatAddresses}, else the {@code *} line. Every line is checked,
   * not only the one used, so the ConfigMap is valid or invalid as a whole: the operator and every
   * agent agree on it.
   */
  private static List<String> snatFor(String text, String nodeName, List<String> errors) {
    if (text == null) {
      return List.of();
    }
    Map<String, List<String>> byNode = new HashMap<>();
    for (String line : text.split("\n")) {
      String l = line.trim();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      int eq = l.indexOf('=');
      if (eq <= 0) {
        errors.add("snatAddresses: \"" + l + "\" is not NODE=ADDRESS[,ADDRESS]");
        continue;
      }
      String node = l.substring(0, eq).trim();
      List<String> addrs = list(l.substring(eq + 1));
      if (byNode.put(node, addrs) != null) {
        errors.add("snatAddresses: " + node + ": more than one line");
      }
      Set<IpFamily> families = new HashSet<>();
      for (String a : addrs) {
        Optional<Ip> ip = IpAddresses.parse(a);
        if (ip.isEmpty() || a.contains("/")) {
          errors.add("snatAddresses: " + node + ": \"" + a + "\" is not an IP address");
        } else if (!families.add(ip.get().family())) {
          errors.add("snatAddresses: " + node + ": more than one " + ip.get().family() + " address");
        }
      }
      if (addrs.isEmpty()) {
        errors.add("snatAddresses: " + node + ": no address");
      }
    }
    return byNode.getOrDefault(nodeName, byNode.getOrDefault("*", List.of()));
  }

  /**
   * The problems of a ConfigMap's data, for every node at once (empty when valid); what the
   * operator reports. Agents get the same verdict from {@link #parse}.
   */
  public static List<String> problems(Map<String, String> data) {
    try {
      parse(data, "*");
      return List.of();
    } catch (IllegalArgumentException e) {
      return List.of(e.getMessage());
    }
  }

  private static boolean bool(Map<String, String> data, String key, boolean dflt, List<String> errors) {
    String v = data.get(key);
    if (v == null) {
      return dflt;
    }
    return switch (v.trim().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> {
        errors.add(key + ": \"" + v + "\" is not true or false");
        yield dflt;
      }
    };
  }

  private static List<String> list(String s) {
    if (s == null) {
      return List.of();
    }
    return Arrays.stream(s.split("[,\\s]+")).filter(x -> !x.isEmpty()).toList();
  }
}
