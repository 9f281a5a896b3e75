package dev.turnpike.dataplane.vm;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.ClassSelector;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * The in-VM side of {@link IpvsVmTest}: runs the named JUnit test classes with the JUnit Platform
 * launcher, prints one line per test as it ends, and writes {@code summary.properties} and
 * {@code report.txt} (the failures with their stack traces) into the results directory, which the
 * host shares with the VM.
 *
 * <p>Usage: {@code InVmLauncher RESULTS_DIR CLASS...}. Exit code 0 only when at least one test ran
 * and none failed, aborted or was skipped: inside the VM every precondition (root, IPVS, dummy
 * links) holds, so a skip means the harness is broken and must not pass for green.
 */
public final class InVmLauncher {
  /** File names in the results directory. */
  static final String SUMMARY = "summary.properties";
  static final String REPORT = "report.txt";

  private InVmLauncher() {}

  public static void main(String[] args) throws IOException {
    long jvmStartMillis = ManagementFactory.getRuntimeMXBean().getUptime();
    if (args.length < 2) {
      System.err.println("usage: InVmLauncher RESULTS_DIR CLASS...");
      System.exit(2);
    }
    Properties summary;
    try {
      summary = run(Path.of(args[0]), List.of(args).subList(1, args.length), System.out);
    } catch (ClassNotFoundException e) {
      System.out.println("InVmLauncher: no test class " + e.getMessage() + " on the classpath");
      System.exit(2);
      return;
    }
    summary.setProperty("jvmStartMillis", Long.toString(jvmStartMillis));
    store(summary, Path.of(args[0]));
    System.exit(passed(summary) ? 0 : 1);
  }

  /**
   * Runs the classes, printing progress and the report to {@code out}; writes the report and the
   * summary into {@code results} and returns the summary.
   */
  static Properties run(Path results, List<String> classNames, PrintStream out)
      throws IOException, ClassNotFoundException {
    List<ClassSelector> selectors = new ArrayList<>();
    for (String name : classNames) {
      selectors.add(selectClass(Class.forName(name)));
    }
    Launcher launcher = LauncherFactory.create();
    SummaryGeneratingListener summary = new SummaryGeneratingListener();
    Progress progress = new Progress(out);
    launcher.execute(request().selectors(selectors).build(), summary, progress);
    TestExecutionSummary s = summary.getSummary();

    StringWriter report = new StringWriter();
    s.printTo(new PrintWriter(report));
    s.printFailuresTo(new PrintWriter(report), 40);
    out.print(report);
    Files.writeString(results.resolve(REPORT), report.toString(), StandardCharsets.UTF_8);

    Properties p = new Properties();
    p.setProperty("found", Long.toString(s.getTestsFoundCount()));
    p.setProperty("succeeded", Long.toString(s.getTestsSucceededCount()));
    p.setProperty("failed", Long.toString(s.getTotalFailureCount()));
    p.setProperty("aborted", Long.toString(s.getTestsAbortedCount() + s.getContainersAbortedCount()));
    p.setProperty("skipped", Long.toString(s.getTestsSkippedCount() + s.getContainersSkippedCount()));
    p.setProperty("millis", Long.toString(s.getTimeFinished() - s.getTimeStarted()));
    p.setProperty("classes", Integer.toString(progress.classesRun));
    p.setProperty("classNames", String.join(",", classNames));
    store(p, results);
    return p;
  }

  private static void store(Properties summary, Path results) throws IOException {
    try (var w = Files.newBufferedWriter(results.resolve(SUMMARY))) {
      summary.store(w, "InVmLauncher");
    }
  }

  /** The verdict both sides use: something ran, and everything that was found succeeded. */
  static boolean passed(Properties summary) {
    long found = Long.parseLong(summary.getProperty("found", "0"));
    return found > 0
        && Long.parseLong(summary.getProperty("succeeded", "-1")) == found
        && "0".equals(summary.getProperty("failed"))
        && "0".equals(summary.getProperty("aborted"))
        && "0".equals(summary.getProperty("skipped"));
  }

  /** One line per finished or skipped test, so the host sees progress while the VM runs. */
  private static final class Progress implements TestExecutionListener {
    private final PrintStream out;
    /** Test classes that ran (were not skipped as a whole). */
    int classesRun;

    Progress(PrintStream out) {
      this.out = out;
    }

    @Override
    public void executionSkipped(TestIdentifier id, String reason) {
      out.println("[vm] SKIPPED " + name(id) + ": " + reason);
    }

    private final Map<String, Long> started = new ConcurrentHashMap<>();

    @Override
    public void executionStarted(TestIdentifier id) {
      started.put(id.getUniqueId(), System.nanoTime());
    }

    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
      long millis = (System.nanoTime() - started.getOrDefault(id.getUniqueId(), System.nanoTime()))
          / 1_000_000;
      boolean isClass = id.getSource().filter(ClassSource.class::isInstance).isPresent();
      if (isClass) {
        classesRun++;
      }
      String what = id.isTest() ? "test" : "container";
      String why = result.getThrowable().map(t -> ": " + t).orElse("");
      if (id.isTest() || isClass || result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
        out.println("[vm] " + result.getStatus() + " " + what + " " + name(id) + " ("
            + millis + " ms)" + why);
      }
    }

    private static String name(TestIdentifier id) {
      return id.getSource()
          .filter(MethodSource.class::isInstance)
          .map(s -> (MethodSource) s)
          .map(m -> m.getClassName().replaceAll(".*[.$]", "") + "." + m.getMethodName())
          .orElse(id.getDisplayName());
    }
  }
}
