package dev.turnpike.lab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs commands (ip, iptables, python3) with a time limit. */
public final class Sh {
  private Sh() {}

  public record Result(int code, String out) {}

  public static Result exec(String... argv) throws IOException {
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("timed out: " + String.join(" ", argv));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    return new Result(p.exitValue(), out);
  }

  /** Runs and fails on a non-zero exit. */
  public static String run(String... argv) throws IOException {
    Result r = exec(argv);
    if (r.code() != 0) {
      throw new IOException(String.join(" ", argv) + " exited " + r.code() + ": " + r.out().strip());
    }
    return r.out();
  }

  /** Runs, ignoring failure. */
  public static boolean quiet(String... argv) {
    try {
      return exec(argv).code() == 0;
    } catch (IOException e) {
      return false;
    }
  }

  public static String[] in(String netns, String... argv) {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", netns));
    full.addAll(List.of(argv));
    return full.toArray(String[]::new);
  }

  public static String runIn(String netns, String... argv) throws IOException {
    return run(in(netns, argv));
  }

  public static List<String> netnsList() throws IOException {
    List<String> out = new ArrayList<>();
    for (String line : run("ip", "netns", "list").lines().toList()) {
      if (!line.isBlank()) {
        out.add(line.split("\\s+")[0]);
      }
    }
    return out;
  }
}
