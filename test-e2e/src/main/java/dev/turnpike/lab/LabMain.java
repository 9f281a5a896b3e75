package dev.turnpike.lab;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code up [--manifests PATH]... [--no-samples] [--requests N]}, {@code report [--requests N]},
 * {@code down}. Run as root from the repository root (hack/lab-up.sh, hack/lab-down.sh).
 */
public final class LabMain {
  private LabMain() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> flags = new java.util.LinkedHashMap<>();
    List<Path> manifests = new ArrayList<>();
    List<String> rest = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--manifests") && i + 1 < args.length) {
        manifests.add(Path.of(args[++i]));
      } else if (args[i].startsWith("--manifests=")) {
        manifests.add(Path.of(args[i].substring("--manifests=".length())));
      } else {
        rest.add(args[i]);
      }
    }
    flags.putAll(Flags.parse(rest.toArray(String[]::new)));
    List<String> words = Flags.positional(flags);
    String cmd = words.isEmpty() ? "help" : words.get(0);
    Path root = Path.of(flags.getOrDefault("root", "."));
    Topology topo = Topology.fromFlags(flags, Topology.lab(Path.of("/run/turnpike-lab")));
    Lab lab = new Lab(topo, root, System.getProperty("java.class.path"), System.out);
    int requests = Integer.parseInt(flags.getOrDefault("requests", "30"));
    switch (cmd) {
      case "up" -> {
        if (!flags.containsKey("no-samples")) {
          manifests.add(0, root.resolve("test-e2e/manifests"));
        }
        System.out.println("lab: bringing up " + topo.prefix() + " (" + topo.nodes() + " nodes) with " + manifests);
        lab.up(manifests);
        try (KubernetesClient client = lab.client()) {
          System.out.println("lab: processes started; waiting for the Services to answer");
          if (!lab.awaitServing(client, Duration.ofSeconds(120))) {
            System.out.println("lab: not every ClusterIP answers yet (see the logs); the report shows the current state");
          }
          System.out.println();
          lab.report(client, requests, System.out);
        }
        lab.printAccess(System.out);
        System.out.println("down: hack/lab-down.sh");
      }
      case "report" -> {
        try (KubernetesClient client = lab.client()) {
          lab.report(client, requests, System.out);
        }
      }
      case "down" -> {
        lab.down();
        List<String> left = lab.leftovers();
        if (!left.isEmpty()) {
          System.out.println("lab: left behind: " + left);
          System.exit(1);
        }
        System.out.println("lab: down, nothing left behind");
      }
      default -> {
        System.out.println("usage: LabMain up [--manifests PATH]... [--no-samples] [--requests N] | report [--requests N] | down");
        System.exit(cmd.equals("help") ? 0 : 2);
      }
    }
  }
}
