package dev.turnpike.dataplane.iptables;

import dev.turnpike.api.v1alpha1.DataplaneMode;
import dev.turnpike.dataplane.Dataplane;
import dev.turnpike.dataplane.DataplaneException;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.dataplane.SyncResult;
import dev.turnpike.net.IpFamily;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The iptables backend: renders each family with {@link IptablesRenderer} and applies it with one
 * {@code iptables-restore --noflush} per family. Fail-static: a restore that fails changes nothing
 * (iptables-restore commits a table only when all of it applies), the previous render stays the
 * reference, and the next sync is full. Full syncs read iptables-save to find stale Turnpike chains
 * and missing hooks; partial syncs trust the previous render.
 */
public final class IptablesDataplane implements Dataplane {
  static final List<String> TABLES = List.of("filter", "nat");

  private final Iptables iptables;
  private final Exec exec;
  private final IptablesRenderer renderer;
  private final List<IpFamily> families;
  private final ReservedChains reserved;
  /** Payloads longer than this are not kept for {@link #lastPayloads()} (10k Services: ~20 MiB). */
  static final long KEPT_PAYLOAD_CHARS = 1 << 20;

  private final Map<IpFamily, IptablesRenderer.Rendered> applied = new EnumMap<>(IpFamily.class);
  private final Map<IpFamily, String> lastPayloads = new EnumMap<>(IpFamily.class);
  private boolean needFull = true;
  private boolean routeLocalnetSet;

  /**
   * @param exec runs sysctl (route_localnet for localhost NodePorts), in the same namespace as iptables
   * @param families the families to program, e.g. both on a dual-stack node
   */
  public IptablesDataplane(Iptables iptables, Exec exec, IptablesConfig config, List<IpFamily> families) {
    this(iptables, exec, config, families, ReservedChains.NONE);
  }

  /**
   * @param reserved TURNPIKE- chains other Turnpike components own (egress SNAT): full syncs and
   *     {@link #cleanup} leave them and the jumps to them alone
   */
  public IptablesDataplane(
      Iptables iptables, Exec exec, IptablesConfig config, List<IpFamily> families, ReservedChains reserved) {
    this.iptables = iptables;
    this.exec = exec;
    this.renderer = new IptablesRenderer(config);
    this.families = List.copyOf(families);
    this.reserved = reserved;
  }

  @Override
  public DataplaneMode mode() {
    return DataplaneMode.IPTABLES;
  }

  @Override
  public SyncResult sync(SyncRequest request) throws DataplaneException {
    boolean full = request.full() || needFull;
    long rules = 0;
    Map<String, Long> counts = new TreeMap<>();
    Map<ServiceKey, String> errors = new TreeMap<>();
    Map<String, Integer> noLocal = new TreeMap<>();
    Set<ServiceKey> programmed = new LinkedHashSet<>();
    for (IpFamily family : families) {
      IptablesRenderer.Rendered last = applied.get(family);
      IptablesRenderer.Rendered previous = full ? null : last;
      try {
        // iptables-save only when there is no trustworthy previous render (first sync, after a
        // failure or cleanup): at 10k Services reading the tables back costs seconds.
        IptablesRenderer.Existing existing;
        if (last == null) {
          Map<String, String> saved = new HashMap<>();
          for (String t : TABLES) {
            saved.put(t, iptables.save(family, t));
          }
          existing = IptablesRenderer.Existing.fromSave(saved, reserved);
        } else {
          existing = full ? IptablesRenderer.Existing.fromPrevious(last) : IptablesRenderer.Existing.NONE;
        }
        IptablesRenderer.Rendered r =
            renderer.render(request.state(), family, previous == null ? null : request.changed(), previous, existing);
        ensureRouteLocalnet(family);
        iptables.restore(family, r.parts(), true);
        applied.put(family, r.withoutPayload());
        lastPayloads.put(family, r.payloadLength() <= KEPT_PAYLOAD_CHARS ? r.payload() : null);
      } catch (IptablesException | RuntimeException e) {
        needFull = true;
        applied.remove(family); // the kernel may differ from any render now: read it back next time
        throw new DataplaneException("iptables sync of " + family + " failed; previous rules kept: " + e.getMessage(), e);
      }
      IptablesRenderer.Rendered r = applied.get(family);
      r.ruleCounts().forEach((t, n) -> counts.put(family.name().toLowerCase(java.util.Locale.ROOT) + "/" + t, n));
      rules += r.ruleCounts().values().stream().mapToLong(Long::longValue).sum();
      errors.putAll(r.serviceErrors());
      r.noLocalEndpoints().forEach((k, v) -> noLocal.merge(k, v, Integer::sum));
      r.services().forEach((k, v) -> {
        if (!r.serviceErrors().containsKey(k)) {
          programmed.add(k);
        }
      });
    }
    needFull = false;
    programmed.removeAll(errors.keySet());
    return new SyncResult(programmed.size(), rules, counts, errors, noLocal);
  }

  /** The payloads of the last successful sync up to 1 Mi characters, by family (for tests and diagnostics). */
  public Map<IpFamily, String> lastPayloads() {
    Map<IpFamily, String> out = new EnumMap<>(IpFamily.class);
    lastPayloads.forEach((f, p) -> {
      if (p != null && applied.containsKey(f)) {
        out.put(f, p);
      }
    });
    return out;
  }

  private void ensureRouteLocalnet(IpFamily family) throws IptablesException {
    if (routeLocalnetSet || !renderer.needsRouteLocalnet(family)) {
      return;
    }
    // Lets DNAT work for packets addressed to 127.0.0.1 (localhost NodePorts); the
    // TURNPIKE-FIREWALL drop rule is the CVE-2020-8558 protection that comes with it.
    try {
      Exec.Result r = exec.run(List.of("sysctl", "-q", "-w", "net.ipv4.conf.all.route_localnet=1"), "");
      if (!r.ok()) {
        throw new IptablesException("sysctl route_localnet failed: " + r.stderr().strip());
      }
    } catch (IOException e) {
      throw new IptablesException("sysctl could not run: " + e.getMessage(), e);
    }
    routeLocalnetSet = true;
  }

  /**
   * Removes the hooks and every TURNPIKE- chain of every family, leaving other rules (and the
   * reserved chains, which their owner cleans up) alone. Works from iptables-save, so it also
   * cleans up after an earlier process.
   */
  @Override
  public void cleanup() throws DataplaneException {
    for (IpFamily family : families) {
      StringBuilder payload = new StringBuilder();
      try {
        for (String table : TABLES) {
          payload.append(cleanupPayload(table, iptables.save(family, table), reserved));
        }
        iptables.restore(family, payload.toString(), true);
      } catch (IptablesException | RuntimeException e) {
        throw new DataplaneException("iptables cleanup of " + family + " failed: " + e.getMessage(), e);
      }
      applied.remove(family);
    }
    needFull = true;
  }

  /**
   * Deletes the hook rules as saved, then flushes and deletes every Turnpike chain except the
   * reserved ones (and keeps the jumps to those).
   */
  public static String cleanupPayload(String table, String saved, ReservedChains reserved) {
    IptablesRenderer.Existing found = IptablesRenderer.Existing.fromSave(Map.of(table, saved), reserved);
    Set<String> own = found.chains().getOrDefault(table, Set.of());
    List<String> hooks = found.hookRules().getOrDefault(table, List.of());
    if (own.isEmpty() && hooks.isEmpty()) {
      return "";
    }
    StringBuilder sb = new StringBuilder("*").append(table).append('\n');
    own.forEach(c -> sb.append(':').append(c).append(" - [0:0]\n"));
    hooks.forEach(h -> sb.append("-D ").append(h).append('\n'));
    own.forEach(c -> sb.append("-X ").append(c).append('\n'));
    return sb.append("COMMIT\n").toString();
  }
}
