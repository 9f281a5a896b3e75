package dev.turnpike.dataplane.iptables;

import java.io.IOException;
import java.util.List;

/** Runs a command; the one seam between the iptables backend and the operating system. */
public interface Exec {
  /** The outcome of one command. */
  record Result(int exitCode, String stdout, String stderr) {
    public boolean ok() {
      return exitCode == 0;
    }
  }

  /**
   * Runs {@code argv} with {@code stdin} (may be empty) and waits for it.
   *
   * @throws IOException when the program cannot be started or the wait is interrupted
   */
  Result run(List<String> argv, String stdin) throws IOException;

  /**
   * Runs {@code argv} with stdin given in parts, written one after the other. A 10k-Service
   * restore payload is tens of MiB; streaming its parts spares the copies that joining costs.
   */
  default Result run(List<String> argv, List<? extends CharSequence> stdin) throws IOException {
    return run(argv, String.join("", stdin));
  }
}
