package dev.turnpike.operator.cli;

import dev.turnpike.api.v1alpha1.Algorithm;
import dev.turnpike.api.v1alpha1.ForwardingTable;
import dev.turnpike.lb.MaglevConfig;
import dev.turnpike.operator.compute.AnnotationProblem;
import dev.turnpike.operator.compute.ClusterDefaults;
import dev.turnpike.operator.compute.ComputeResult;
import dev.turnpike.operator.compute.TableComputer;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code compute [flags] PATH...}: reads Services and EndpointSlices from YAML files or
 * directories and prints the ForwardingTables the operator would write for them. Offline; it
 * talks to no API server.
 */
public final class ComputeCommand {
  static final String USAGE =
      """
      usage: compute [--default-algorithm random|maglev] [--maglev-table-size N] [--maglev-seed HEX16]
                     [--proxy-name NAME] PATH...
        Reads Service and EndpointSlice YAML (files, or directories of *.yaml/*.yml) and prints the
        ForwardingTables Turnpike's operator would write. Problems go to stderr.
      """;
  private static final Pattern DOC_SEPARATOR = Pattern.compile("(?m)^---\\s*$");

  private ComputeCommand() {}

  public static void main(String[] args) {
    System.exit(run(List.of(args), System.out, System.err));
  }

  /** Returns the process exit code: 0 on success, 2 on bad usage or unreadable input. */
  public static int run(List<String> args, PrintStream out, PrintStream err) {
    Algorithm algorithm = Algorithm.RANDOM;
    int tableSize = MaglevConfig.DEFAULT_TABLE_SIZE;
    long seed = MaglevConfig.DEFAULT_SEED;
    String proxyName = "";
    List<Path> paths = new ArrayList<>();
    try {
      for (int i = 0; i < args.size(); i++) {
        String a = args.get(i);
        switch (a) {
          case "-h", "--help" -> {
            out.print(USAGE);
            return 0;
          }
          case "--default-algorithm" -> {
            String v = value(args, ++i, a);
            algorithm = "maglev".equals(v) ? Algorithm.MAGLEV : "random".equals(v) ? Algorithm.RANDOM : null;
            if (algorithm == null) {
              throw new IllegalArgumentException("--default-algorithm must be random or maglev, not \"" + v + "\"");
            }
          }
          case "--maglev-table-size" -> tableSize = new MaglevConfig(Integer.parseInt(value(args, ++i, a)), seed).tableSize();
          case "--maglev-seed" -> seed = MaglevConfig.parseSeed(value(args, ++i, a));
          case "--proxy-name" -> proxyName = value(args, ++i, a);
          default -> {
            if (a.startsWith("-")) {
              throw new IllegalArgumentException("unknown flag " + a);
            }
            paths.add(Path.of(a));
          }
        }
      }
      if (paths.isEmpty()) {
        throw new IllegalArgumentException("no input files");
      }
    } catch (IllegalArgumentException e) {
      err.println("compute: " + e.getMessage());
      err.print(USAGE);
      return 2;
    }

    KubernetesSerialization serialization = new KubernetesSerialization();
    List<Service> services = new ArrayList<>();
    List<EndpointSlice> slices = new ArrayList<>();
    try {
      for (Path file : yamlFiles(paths)) {
        for (Object o : read(serialization, file)) {
          if (o instanceof Service s) {
            services.add(s);
          } else if (o instanceof EndpointSlice s) {
            slices.add(s);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      err.println("compute: cannot read input: " + e.getMessage());
      return 2;
    }

    TableComputer computer = new TableComputer(new ClusterDefaults(algorithm, tableSize, seed, proxyName));
    services.sort(Comparator.comparing((Service s) -> s.getMetadata().getNamespace(), Comparator.nullsFirst(Comparator.naturalOrder()))
        .thenComparing(s -> s.getMetadata().getName()));
    for (Service svc : services) {
      if (svc.getMetadata().getNamespace() == null) {
        svc.getMetadata().setNamespace("default");
      }
      String id = svc.getMetadata().getNamespace() + "/" + svc.getMetadata().getName();
      List<EndpointSlice> mine = slices.stream().filter(sl -> belongsTo(sl, svc)).toList();
      ComputeResult result = computer.compute(svc, mine);
      if (result instanceof ComputeResult.Skipped skipped) {
        err.println("skipped " + id + ": " + skipped.reason());
        continue;
      }
      ComputeResult.Table table = (ComputeResult.Table) result;
      for (AnnotationProblem p : table.problems()) {
        err.println("Warning InvalidAnnotation " + id + ": " + p.message());
      }
      ForwardingTable ft = new ForwardingTable();
      ft.setMetadata(new ObjectMetaBuilder().withNamespace(svc.getMetadata().getNamespace()).withName(svc.getMetadata().getName()).build());
      ft.setSpec(table.spec());
      out.print(serialization.asYaml(ft));
    }
    return 0;
  }

  private static boolean belongsTo(EndpointSlice slice, Service svc) {
    Map<String, String> labels = slice.getMetadata().getLabels();
    String ns = slice.getMetadata().getNamespace() == null ? "default" : slice.getMetadata().getNamespace();
    if (slice.getMetadata().getNamespace() == null) {
      slice.getMetadata().setNamespace(ns);
    }
    return ns.equals(svc.getMetadata().getNamespace())
        && labels != null
        && Objects.equals(svc.getMetadata().getName(), labels.get(TableComputer.SERVICE_NAME_LABEL));
  }

  private static List<Object> read(KubernetesSerialization serialization, Path file) throws IOException {
    List<Object> out = new ArrayList<>();
    for (String doc : DOC_SEPARATOR.split(Files.readString(file))) {
      if (doc.lines().allMatch(l -> l.isBlank() || l.stripLeading().startsWith("#"))) {
        continue;
      }
      Object o = serialization.unmarshal(doc);
      if (o instanceof KubernetesList list) {
        out.addAll(list.getItems());
      } else if (o instanceof HasMetadata) {
        out.add(o);
      }
    }
    return out;
  }

  private static List<Path> yamlFiles(List<Path> paths) throws IOException {
    List<Path> files = new ArrayList<>();
    for (Path p : paths) {
      if (Files.isDirectory(p)) {
        try (Stream<Path> s = Files.walk(p)) {
          s.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml")).sorted().forEach(files::add);
        }
      } else if (Files.isRegularFile(p)) {
        files.add(p);
      } else {
        throw new IOException("no such file or directory: " + p);
      }
    }
    return files;
  }

  private static String value(List<String> args, int i, String flag) {
    if (i >= args.size()) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args.get(i);
  }
}
