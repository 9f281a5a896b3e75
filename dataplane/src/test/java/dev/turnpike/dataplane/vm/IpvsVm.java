package dev.turnpike.dataplane.vm;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The host side of {@code hack/vm-run.sh} (docs/ipvs-vm.md): a VM with Debian's kernel, IPVS and
 * dummy links, the host's root read-only under a tmpfs overlay, no network to the outside.
 */
final class IpvsVm {
  /** vm-run.sh's exit code when the VM could not be started (qemu or kernel missing included). */
  static final int NOT_STARTED = 125;
  static final int TIMED_OUT = 124;
  static final String SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  private final Path script;

  private IpvsVm(Path script) {
    this.script = script;
  }

  /** The repository's hack/vm-run.sh, looked up from the working directory upwards. */
  static Optional<IpvsVm> find() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("hack/vm-run.sh");
      if (Files.isExecutable(candidate)) {
        return Optional.of(new IpvsVm(candidate));
      }
    }
    return Optional.empty();
  }

  /** Empty when qemu and the kernel are there; otherwise why not (vm-run.sh --check's words). */
  Optional<String> unavailable() throws IOException, InterruptedException {
    Result r = run(List.of("--check"), Duration.ofSeconds(60), line -> {});
    return r.exitCode() == 0 ? Optional.empty() : Optional.of(r.output().strip());
  }

  /** What came back: the exit code and the output (the command's, then vm-run's own lines). */
  record Result(int exitCode, String output, Duration wall) {}

  /**
   * Boots the VM and runs {@code command} in it with {@code rwDir} shared read-write at the same
   * path; every output line also goes to {@code lines} as it arrives.
   */
  Result run(Path rwDir, List<String> command, Duration timeout, Consumer<String> lines)
      throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(List.of("--verbose", "--timeout",
        Long.toString(timeout.toSeconds()), "--rw", rwDir.toString(), "--"));
    args.addAll(command);
    // vm-run's own timeout stops qemu; ours only guards against vm-run itself hanging.
    return run(args, timeout.plusSeconds(30), lines);
  }

  private Result run(List<String> args, Duration timeout, Consumer<String> lines)
      throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>(List.of(script.toString()));
    argv.addAll(args);
    long start = System.nanoTime();
    ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
    // The VM runs the command with this PATH: the distribution's tools (python3, ip, ipvsadm),
    // not per-user shims such as pyenv's, which cost seconds per call under TCG.
    pb.environment().put("PATH", SYSTEM_PATH);
    Process p = pb.start();
    StringBuilder out = new StringBuilder();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          synchronized (out) {
            out.append(line).append('\n');
          }
          lines.accept(line);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }, "vm-run-output");
    reader.start();
    boolean finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (!finished) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    reader.join(10_000);
    Duration wall = Duration.ofNanos(System.nanoTime() - start);
    synchronized (out) {
      return new Result(finished ? p.exitValue() : TIMED_OUT, out.toString(), wall);
    }
  }
}
