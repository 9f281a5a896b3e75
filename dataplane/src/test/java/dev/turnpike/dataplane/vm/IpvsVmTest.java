package dev.turnpike.dataplane.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Runs the real-kernel tests that need IPVS (which the host's kernel may lack) inside a VM booted
 * with Debian's kernel by {@code hack/vm-run.sh}: one boot, one JVM inside running every class in
 * {@link #IN_VM_TESTS} over this module's test classpath (the host's filesystem is visible in the
 * VM), results back through a shared directory. Any in-VM failure, abort or skip fails this test
 * and its output is printed. Skipped, loudly, only when qemu or the kernel is not installed
 * ({@code hack/install-deps.sh} installs both). See docs/ipvs-vm.md.
 */
class IpvsVmTest {
  /**
   * The test classes run inside the VM. A real-kernel test that needs IPVS is added by naming it
   * here; it should also run directly where the host has IPVS ({@code /proc/net/ip_vs}).
   * {@code -Dturnpike.vm.tests=a.B,c.D} replaces the list for one run.
   */
  static final List<String> IN_VM_TESTS = List.of(
      "dev.turnpike.dataplane.netlink.ipvs.IpvsNetlinkKernelTest",
      "dev.turnpike.dataplane.ipvs.IpvsKernelTest",
      "dev.turnpike.dataplane.conntrack.IpvsEgressSnatKernelTest");

  /**
   * Hard bound on the VM (boot, JVM, tests). With IpvsNetlinkKernelTest alone a run takes 1.5-2
   * minutes under TCG on the loaded CI machine; with the IPVS backend's IpvsKernelTest too, 6; the
   * three classes took 3.5 (IpvsEgressSnatKernelTest about 20 s of it).
   */
  private static final Duration TIMEOUT = Duration.ofMinutes(10);

  @Test
  void realKernelTestsPassInsideTheIpvsVm() throws Exception {
    IpvsVm vm = IpvsVm.find().orElseThrow(() -> new AssertionError(
        "hack/vm-run.sh not found above " + Path.of("").toAbsolutePath()));
    Optional<String> missing = vm.unavailable();
    if (missing.isPresent()) {
      String banner = "\n" + "!".repeat(100) + "\n!!! IpvsVmTest SKIPPED: the IPVS VM cannot run here: "
          + missing.get() + "\n!!! The IPVS real-kernel tests " + tests() + " did NOT run."
          + "\n!!! Run hack/install-deps.sh as root (it installs qemu and the kernel).\n"
          + "!".repeat(100);
      System.err.println(banner);
      Assumptions.abort(banner);
    }

    Path results = Path.of("target", "ipvs-vm").toAbsolutePath();
    deleteRecursively(results);
    Files.createDirectories(results);
    List<String> command = new ArrayList<>(List.of(
        ProcessHandle.current().info().command().orElse("java"),
        // C1 only and the serial collector: the JVM starts and warms up faster under TCG.
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx512m",
        "-cp", testClassPath(),
        InVmLauncher.class.getName(), results.toString()));
    command.addAll(tests());

    IpvsVm.Result r = vm.run(results, command, TIMEOUT, line -> System.out.println("[ipvs-vm] " + line));
    Properties summary = new Properties();
    Path summaryFile = results.resolve(InVmLauncher.SUMMARY);
    if (Files.exists(summaryFile)) {
      try (Reader in = Files.newBufferedReader(summaryFile)) {
        summary.load(in);
      }
    }
    System.out.printf("IpvsVmTest: %s; in-VM JVM start %s ms, tests %s ms; wall %.1f s%n",
        r.output().lines().filter(l -> l.startsWith("vm-run: boot")).findFirst()
            .orElse("vm-run: no boot time"),
        summary.getProperty("jvmStartMillis", "?"), summary.getProperty("millis", "?"),
        r.wall().toMillis() / 1000.0);

    String context = "\n--- in-VM output ---\n" + r.output() + "--- summary: " + summary;
    assertEquals(0, r.exitCode(), "vm-run exited " + r.exitCode() + switch (r.exitCode()) {
      case IpvsVm.TIMED_OUT -> " (timed out after " + TIMEOUT + ")";
      case IpvsVm.NOT_STARTED -> " (the VM did not boot or its setup failed; qemu and the kernel"
          + " are installed, so this is a failure)";
      default -> " (in-VM tests failed)";
    } + context);
    assertTrue(InVmLauncher.passed(summary), "in-VM tests did not all pass" + context);
    assertEquals(Long.toString(expectedClasses()), summary.getProperty("classes"),
        "every named class ran" + context);
  }

  private static List<String> tests() {
    String override = System.getProperty("turnpike.vm.tests", "").strip();
    return override.isEmpty() ? IN_VM_TESTS : Arrays.asList(override.split("\\s*,\\s*"));
  }

  private static long expectedClasses() {
    return tests().size();
  }

  /**
   * The classpath this test runs with. Surefire's forked JVM may see only a manifest-only jar in
   * {@code java.class.path}; it publishes the real one as {@code surefire.test.class.path}.
   */
  private static String testClassPath() {
    String surefire = System.getProperty("surefire.test.class.path", "");
    return surefire.isBlank() ? System.getProperty("java.class.path") : surefire;
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
