package dev.turnpike.dataplane.iptables;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * {@link Exec} through {@link ProcessBuilder}. With a network namespace every command runs as
 * {@code ip netns exec NAME ...}, which is how tests program a scratch namespace and never the
 * host's tables.
 */
public final class ProcessExec implements Exec {
  private final Optional<String> netns;

  private ProcessExec(Optional<String> netns) {
    this.netns = netns;
  }

  /** Runs commands in the agent's own network namespace. */
  public static ProcessExec host() {
    return new ProcessExec(Optional.empty());
  }

  /** Runs every command inside the named network namespace ({@code ip netns add NAME}). */
  public static ProcessExec inNetns(String name) {
    return new ProcessExec(Optional.of(name));
  }

  @Override
  public Result run(List<String> argv, String stdin) throws IOException {
    return run(argv, stdin == null ? List.of() : List.of(stdin));
  }

  @Override
  public Result run(List<String> argv, List<? extends CharSequence> stdin) throws IOException {
    List<String> full = new ArrayList<>();
    netns.ifPresent(ns -> full.addAll(List.of("ip", "netns", "exec", ns)));
    full.addAll(argv);
    Process p = new ProcessBuilder(full).start();
    // Drain both streams concurrently: a large iptables-save would otherwise block on a full pipe.
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(p.getInputStream()));
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
    try (Writer in = new BufferedWriter(new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8), 1 << 16)) {
      for (CharSequence part : stdin) {
        // In slices: Writer.append(whole) would first copy the whole part into a String.
        for (int i = 0; i < part.length(); i += 1 << 15) {
          in.append(part, i, Math.min(part.length(), i + (1 << 15)));
        }
      }
    } catch (IOException e) {
      // The program may exit before reading all input (e.g. a parse error); its stderr says why.
    }
    try {
      int code = p.waitFor();
      return new Result(code, out.join(), err.join());
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running " + full, e);
    }
  }

  private static String drain(InputStream s) {
    try (s) {
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      s.transferTo(buf);
      return buf.toString(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
