package dev.turnpike.dataplane.ipvs;

import dev.turnpike.dataplane.iptables.Exec;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * {@link Sysctl} through the {@code sysctl} command run by an {@link Exec}: with {@code
 * ProcessExec.inNetns} it reaches another namespace's per-namespace parameters (net.*), which
 * /proc/sys of this process cannot.
 */
public final class ExecSysctl implements Sysctl {
  private final Exec exec;

  public ExecSysctl(Exec exec) {
    this.exec = exec;
  }

  @Override
  public Optional<String> get(String name) throws IOException {
    Exec.Result r = exec.run(List.of("sysctl", "-n", name), "");
    return r.ok() ? Optional.of(r.stdout().strip()) : Optional.empty();
  }

  @Override
  public void set(String name, String value) throws IOException {
    Exec.Result r = exec.run(List.of("sysctl", "-q", "-w", name + "=" + value), "");
    if (!r.ok()) {
      throw new IOException("sysctl -w " + name + "=" + value + " failed: " + r.stderr().strip());
    }
  }
}
