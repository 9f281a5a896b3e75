package dev.turnpike.dataplane.ipvs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@link Sysctl} through {@code /proc/sys}: the files of the network namespace of the process
 * that opens them, i.e. the agent's own.
 */
public final class ProcSysctl implements Sysctl {
  private final Path root;

  public ProcSysctl() {
    this(Path.of("/proc/sys"));
  }

  /** @param root the directory that stands for /proc/sys (tests use a temporary one) */
  public ProcSysctl(Path root) {
    this.root = root;
  }

  Path file(String name) {
    if (name.isEmpty() || name.contains("/") || name.contains("..")) {
      throw new IllegalArgumentException("not a sysctl name: " + name);
    }
    return root.resolve(name.replace('.', '/'));
  }

  @Override
  public Optional<String> get(String name) throws IOException {
    try {
      return Optional.of(Files.readString(file(name), StandardCharsets.US_ASCII).strip());
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  @Override
  public void set(String name, String value) throws IOException {
    Path f = file(name);
    if (!Files.exists(f)) {
      throw new NoSuchFileException(f.toString(), null, "no sysctl " + name);
    }
    Files.writeString(f, value + "\n", StandardCharsets.US_ASCII);
  }
}
