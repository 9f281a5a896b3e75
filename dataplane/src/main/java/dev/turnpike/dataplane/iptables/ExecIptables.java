package dev.turnpike.dataplane.iptables;

import dev.turnpike.net.IpFamily;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link Iptables} over the iptables binaries. The mode (legacy or nft) is chosen once, the way
 * kube-proxy's iptables-wrapper does: the variant whose tables already hold KUBE- or TURNPIKE-
 * chains wins (the node's other components use it), then the one with more rules, then nft.
 * Every call passes {@code -w} so it waits for the xtables lock instead of failing.
 */
public final class ExecIptables implements Iptables {
  /** Seconds to wait for the xtables lock (kube-proxy waits 5 s for restores). */
  static final int LOCK_WAIT_SECONDS = 5;

  private final Exec exec;
  private final Mode mode;

  public ExecIptables(Exec exec, Mode mode) {
    this.exec = exec;
    this.mode = mode;
  }

  /** Detects the mode and returns an instance bound to it. */
  public static ExecIptables detect(Exec exec) {
    return new ExecIptables(exec, detectMode(exec));
  }

  static Mode detectMode(Exec exec) {
    Survey legacy = survey(exec, "legacy");
    Survey nft = survey(exec, "nft");
    if (legacy.ownChains() != nft.ownChains()) {
      return nft.ownChains() ? Mode.NFT : Mode.LEGACY;
    }
    if (!legacy.available()) {
      return Mode.NFT;
    }
    if (!nft.available()) {
      return Mode.LEGACY;
    }
    return legacy.rules() > nft.rules() ? Mode.LEGACY : Mode.NFT;
  }

  private record Survey(boolean available, boolean ownChains, int rules) {}

  private static Survey survey(Exec exec, String variant) {
    int rules = 0;
    boolean own = false;
    boolean available = false;
    for (String bin : List.of("iptables-" + variant + "-save", "ip6tables-" + variant + "-save")) {
      try {
        Exec.Result r = exec.run(List.of(bin), "");
        if (!r.ok()) {
          continue;
        }
        available = true;
        for (String line : r.stdout().split("\n")) {
          if (line.startsWith("-")) {
            rules++;
          } else if (line.startsWith(":KUBE-") || line.startsWith(":TURNPIKE-")) {
            own = true;
          }
        }
      } catch (IOException e) {
        // Binary missing: this variant is not available.
      }
    }
    return new Survey(available, own, rules);
  }

  @Override
  public Mode mode() {
    return mode;
  }

  private String binary(IpFamily family, String suffix) {
    String base = family == IpFamily.IPv6 ? "ip6tables" : "iptables";
    return base + "-" + (mode == Mode.NFT ? "nft" : "legacy") + suffix;
  }

  @Override
  public void restore(IpFamily family, String payload, boolean noflush) throws IptablesException {
    restore(family, List.of(payload), noflush);
  }

  @Override
  public void restore(IpFamily family, List<? extends CharSequence> parts, boolean noflush) throws IptablesException {
    List<String> argv = new ArrayList<>(List.of(binary(family, "-restore"), "-w", String.valueOf(LOCK_WAIT_SECONDS)));
    if (noflush) {
      argv.add("--noflush");
    }
    try {
      Exec.Result r = exec.run(argv, parts);
      if (!r.ok()) {
        throw new IptablesException(argv.get(0) + " exited " + r.exitCode() + ": " + r.stderr().strip());
      }
    } catch (IOException e) {
      throw new IptablesException(argv.get(0) + " could not run: " + e.getMessage(), e);
    }
  }

  @Override
  public String save(IpFamily family, String table) throws IptablesException {
    return run(List.of(binary(family, "-save"), "-t", table), "");
  }

  private String run(List<String> argv, String stdin) throws IptablesException {
    try {
      Exec.Result r = exec.run(argv, stdin);
      if (!r.ok()) {
        throw new IptablesException(argv.get(0) + " exited " + r.exitCode() + ": " + r.stderr().strip());
      }
      return r.stdout();
    } catch (IOException e) {
      throw new IptablesException(argv.get(0) + " could not run: " + e.getMessage(), e);
    }
  }
}
