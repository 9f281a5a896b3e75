package dev.turnpike.operator.compute;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.lb.MaglevConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The {@code turnpike.dev/} annotations of one Service, validated. Every rejected value becomes an
 * {@link AnnotationProblem} and the default is used, so a typo never takes a Service down.
 *
 * @param ipvsScheduler the kernel scheduler named by the Service, or "" for the mode's default
 */
public record ServiceAnnotations(
    Algorithm algorithm, int maglevTableSize, String ipvsScheduler, List<AnnotationProblem> problems) {

  public static final String PREFIX = "turnpike.dev/";
  public static final String LB_ALGORITHM = PREFIX + "lb-algorithm";
  public static final String MAGLEV_TABLE_SIZE = PREFIX + "maglev-table-size";
  public static final String IPVS_SCHEDULER = PREFIX + "ipvs-scheduler";
  public static final List<String> KNOWN = List.of(LB_ALGORITHM, MAGLEV_TABLE_SIZE, IPVS_SCHEDULER);

  /** The schedulers of the stock kernel's net/netfilter/ipvs (ip_vs_*.c). */
  public static final Set<String> IPVS_SCHEDULERS =
      Set.of("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos");

  public ServiceAnnotations {
    problems = List.copyOf(problems);
  }

  public static ServiceAnnotations parse(Map<String, String> annotations, ClusterDefaults defaults) {
    // Sorted so problems come out in a stable order.
    Map<String, String> a = annotations == null ? Map.of() : new TreeMap<>(annotations);
    List<AnnotationProblem> problems = new ArrayList<>();

    Algorithm algorithm = defaults.algorithm();
    String algo = a.get(LB_ALGORITHM);
    if (algo != null) {
      String v = algo.trim();
      algorithm = Arrays.stream(Algorithm.values()).filter(x -> x.apiName().equals(v)).findFirst().orElse(null);
      if (algorithm == null) {
        algorithm = defaults.algorithm();
        problems.add(invalid(LB_ALGORITHM, algo, "random, maglev", algorithm.apiName()));
      }
    }

    int tableSize = defaults.maglevTableSize();
    String size = a.get(MAGLEV_TABLE_SIZE);
    if (size != null) {
      Integer parsed = parseInt(size.trim());
      if (parsed != null && MaglevConfig.isValidTableSize(parsed)) {
        tableSize = parsed;
      } else {
        String accepted =
            MaglevConfig.TABLE_SIZES.stream().map(String::valueOf).collect(Collectors.joining(", "));
        problems.add(invalid(MAGLEV_TABLE_SIZE, size, accepted + " (prime table sizes)", Integer.toString(tableSize)));
      }
    }

    String scheduler = "";
    String sched = a.get(IPVS_SCHEDULER);
    if (sched != null) {
      String v = sched.trim();
      if (IPVS_SCHEDULERS.contains(v)) {
        scheduler = v;
      } else {
        String accepted = IPVS_SCHEDULERS.stream().sorted().collect(Collectors.joining(", "));
        problems.add(invalid(IPVS_SCHEDULER, sched, accepted, "the IPVS mode's default"));
      }
    }

    for (String key : a.keySet()) {
      if (key.startsWith(PREFIX) && !KNOWN.contains(key)) {
        problems.add(
            new AnnotationProblem(
                key,
                a.get(key),
                "unknown annotation " + key + "; Turnpike reads " + String.join(", ", KNOWN) + "; it is ignored"));
      }
    }
    return new ServiceAnnotations(algorithm, tableSize, scheduler, problems);
  }

  private static AnnotationProblem invalid(String key, String value, String accepted, String usedDefault) {
    return new AnnotationProblem(
        key,
        value,
        "invalid value \"" + value + "\" for annotation " + key + "; accepted values: " + accepted + "; using "
            + (usedDefault.startsWith("the ") ? usedDefault : "the default \"" + usedDefault + "\""));
  }

  private static Integer parseInt(String s) {
    if (s.isEmpty() || s.length() > 9 || !s.chars().allMatch(Character::isDigit)) {
      return null;
    }
    return Integer.parseInt(s);
  }
}
