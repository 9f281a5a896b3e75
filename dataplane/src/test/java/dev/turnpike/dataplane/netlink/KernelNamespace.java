package dev.turnpike.dataplane.netlink;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway network namespace made with {@code ip netns add} for real-kernel tests, so they
 * never touch the host's links. Tests may shell out; main code never does.
 */
final class KernelNamespace implements AutoCloseable {
  final String name;

  private KernelNamespace(String name) {
    this.name = name;
  }

  /** True when the tests can make namespaces: root, a kernel with netns, and iproute2. */
  static boolean available() {
    try {
      return Files.exists(Path.of("/proc/self/ns/net"))
          && Files.readAllLines(Path.of("/proc/self/status")).stream()
              .anyMatch(l -> l.matches("Uid:\\s+0\\s.*"))
          && (Files.isExecutable(Path.of("/usr/sbin/ip")) || Files.isExecutable(Path.of("/sbin/ip"))
              || Files.isExecutable(Path.of("/usr/bin/ip")));
    } catch (IOException e) {
      return false;
    }
  }

  static KernelNamespace create(String prefix) throws IOException {
    String name = prefix + ProcessHandle.current().pid() + "-"
        + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
    run("ip", "netns", "add", name);
    return new KernelNamespace(name);
  }

  Path file() {
    return Path.of("/var/run/netns", name);
  }

  NetlinkSocket open(int protocol) throws NetlinkException {
    return open(protocol, new NetlinkSocket.Options(1 << 20, Duration.ofSeconds(5), 32 * 1024,
        true));
  }

  NetlinkSocket open(int protocol, NetlinkSocket.Options options) throws NetlinkException {
    return NetworkNamespace.openSocket(LibC.load(), file(), protocol, options);
  }

  /** Runs {@code ip -n NAME args...} and returns its standard output lines. */
  List<String> ip(String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("ip", "-n", name));
    cmd.addAll(List.of(args));
    return run(cmd.toArray(String[]::new));
  }

  static List<String> run(String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("timed out: " + String.join(" ", cmd));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + out);
    }
    return out.lines().toList();
  }

  @Override
  public void close() throws IOException {
    run("ip", "netns", "del", name);
  }
}
