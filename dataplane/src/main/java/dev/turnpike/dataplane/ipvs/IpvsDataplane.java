package dev.turnpike.dataplane.ipvs;

import dev.turnpike.api.v1alpha1.DataplaneMode;
import dev.turnpike.dataplane.Dataplane;
import dev.turnpike.dataplane.DataplaneException;
import dev.turnpike.dataplane.ServiceKey;
import dev.turnpike.dataplane.SyncRequest;
import dev.turnpike.dataplane.SyncResult;
import dev.turnpike.dataplane.iptables.Iptables;
import dev.turnpike.dataplane.iptables.IptablesDataplane;
import dev.turnpike.dataplane.iptables.IptablesException;
import dev.turnpike.dataplane.iptables.IptablesRenderer;
import dev.turnpike.dataplane.iptables.ReservedChains;
import dev.turnpike.dataplane.ipvs.IpvsPlan.PlannedService;
import dev.turnpike.dataplane.netlink.Errno;
import dev.turnpike.dataplane.netlink.NetlinkException;
import dev.turnpike.dataplane.netlink.genl.GenlFamilyNotFoundException;
import dev.turnpike.dataplane.netlink.ipvs.IpvsMessages;
import dev.turnpike.dataplane.netlink.ipvs.IpvsTimeouts;
import dev.turnpike.dataplane.netlink.ipvs.RealServer;
import dev.turnpike.dataplane.netlink.ipvs.VirtualServer;
import dev.turnpike.dataplane.netlink.ipvs.VirtualServerKey;
import dev.turnpike.net.IpAddresses;
import dev.turnpike.net.IpAddresses.Ip;
import dev.turnpike.net.IpFamily;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Clock;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The IPVS backend. Each sync plans the desired state ({@link IpvsPlanner}), then changes only what
 * differs, in an order that never takes away what works: sysctls, the dummy link and its missing
 * addresses, new and changed virtual services and destinations, the iptables rules ({@link
 * IpvsRules}, one iptables-restore per family), and only when all that succeeded the removal of
 * virtual services and addresses that are no longer wanted. Nothing is ever flushed.
 *
 * <p>Full syncs dump the kernel's services and every service's destinations; partial syncs trust
 * the last applied state and dump the destinations only of virtual services whose plan changed or
 * that have destinations draining. A failed sync leaves the kernel as it is (fail-static) and
 * makes the next one full. Removed TCP destinations drain ({@link GracefulTermination}).
 */
public final class IpvsDataplane implements Dataplane {
  private static final Logger LOG = LoggerFactory.getLogger(IpvsDataplane.class);

  private final IpvsKernel ipvs;
  private final VipLink link;
  private final Sysctl sysctl;
  private final Iptables iptables;
  private final IpvsConfig config;
  private final List<IpFamily> families;
  private final IpvsPlanner planner;
  private final IpvsRules rules;
  private final GracefulTermination graceful;
  private final ReservedChains reserved;

  /** What the kernel holds after the last successful sync (the scheduler actually used). */
  private Map<VirtualServerKey, PlannedService> programmed = Map.of();
  private Set<InetAddress> bound = Set.of();
  private final Map<IpFamily, IpvsRules.Rendered> appliedRules = new EnumMap<>(IpFamily.class);
  private final Map<IpFamily, RenderInput> renderedFrom = new EnumMap<>(IpFamily.class);

  /** What a family's rules were rendered from; the planner's objects, compared by identity. */
  private record RenderInput(List<IpvsPlan.PortRules> ports, List<Ip> nodePortAddresses) {
    boolean sameAs(RenderInput other) {
      if (other == null || other.ports.size() != ports.size() || !other.nodePortAddresses.equals(nodePortAddresses)) {
        return false;
      }
      for (int i = 0; i < ports.size(); i++) {
        if (ports.get(i) != other.ports.get(i)) {
          return false;
        }
      }
      return true;
    }
  }

  /** Schedulers the kernel refused (module missing); retried at each full sync. */
  private final Set<String> unavailableSchedulers = new HashSet<>();
  private Map<String, String> sysctls = Map.of();
  private boolean needFull = true;

  public IpvsDataplane(
      IpvsKernel ipvs, VipLink link, Sysctl sysctl, Iptables iptables, IpvsConfig config, List<IpFamily> families,
      Clock clock) {
    this(ipvs, link, sysctl, iptables, config, families, clock, ReservedChains.NONE);
  }

  /**
   * @param reserved TURNPIKE- chains other Turnpike components own (egress SNAT): the rules' full
   *     syncs and {@link #cleanup} leave them and the jumps to them alone
   */
  public IpvsDataplane(
      IpvsKernel ipvs, VipLink link, Sysctl sysctl, Iptables iptables, IpvsConfig config, List<IpFamily> families,
      Clock clock, ReservedChains reserved) {
    this.reserved = reserved;
    this.ipvs = ipvs;
    this.link = link;
    this.sysctl = sysctl;
    this.iptables = iptables;
    this.config = config;
    this.families = List.copyOf(families);
    this.planner = new IpvsPlanner(config.rules(), families);
    this.rules = new IpvsRules(config.rules());
    this.graceful = new GracefulTermination(clock, config.gracefulTerminationTimeout());
  }

  @Override
  public DataplaneMode mode() {
    return DataplaneMode.IPVS;
  }

  /** The IPVS sysctls as the last full sync left them. */
  public Map<String, String> sysctls() {
    return sysctls;
  }

  /** Destinations waiting at weight 0 for their connections to end. */
  public Set<GracefulTermination.Draining> draining() {
    return graceful.draining();
  }

  /** The last applied iptables payloads by family (tests and diagnostics). */
  public Map<IpFamily, String> lastRulePayloads() {
    Map<IpFamily, String> out = new EnumMap<>(IpFamily.class);
    appliedRules.forEach((f, r) -> out.put(f, r.payload()));
    return out;
  }

  @Override
  public SyncResult sync(SyncRequest request) throws DataplaneException {
    boolean full = request.full() || needFull;
    IpvsPlan plan = planner.plan(request.state());
    Map<ServiceKey, String> errors = new TreeMap<>(plan.errors());
    Map<String, Long> counts = new TreeMap<>();
    try {
      if (full) {
        unavailableSchedulers.clear();
        sysctls = IpvsSysctls.ensure(sysctl);
        ensureTimeouts();
        link.ensure();
      }
      Set<InetAddress> present = full ? link.addresses() : bound;
      for (InetAddress a : plan.addresses()) {
        if (!present.contains(a)) {
          link.addAddress(a);
        }
      }

      Map<VirtualServerKey, VirtualServer> kernel = new LinkedHashMap<>();
      if (full) {
        ipvs.services().forEach(s -> kernel.put(s.key(), s));
      } else {
        programmed.forEach((k, p) -> kernel.put(k, p.server()));
      }
      Set<VirtualServerKey> draining = graceful.services();
      Map<VirtualServerKey, PlannedService> now = new LinkedHashMap<>();
      long destinations = 0;
      for (var e : plan.services().entrySet()) {
        VirtualServerKey key = e.getKey();
        PlannedService want = e.getValue();
        VirtualServer have = kernel.get(key);
        VirtualServer server = program(want, have, errors);
        if (have == null) {
          for (RealServer d : want.destinations()) {
            ipvs.addDestination(key, d);
          }
        } else {
          PlannedService before = programmed.get(key);
          if (full || before == null || !before.destinations().equals(want.destinations()) || draining.contains(key)) {
            reconcile(key, want.destinations(), ipvs.destinations(key));
          }
        }
        now.put(key, new PlannedService(want.owner(), server, want.destinations()));
        destinations += want.destinations().size();
      }

      long ruleTotal = 0;
      for (IpFamily family : families) {
        IpvsRules.Rendered r = applyRules(family, plan, full);
        String f = family.name().toLowerCase(Locale.ROOT);
        r.ruleCounts().forEach((t, n) -> counts.put(f + "/" + t, n));
        ruleTotal += r.ruleCounts().values().stream().mapToLong(Long::longValue).sum();
      }

      // Removals last: everything new is in place, so nothing that works is taken away first.
      Set<InetAddress> ours = new HashSet<>(present);
      ours.addAll(bound);
      request.state().node().addresses().forEach(a -> IpAddresses.parse(a).ifPresent(ip -> ours.add(IpvsPlanner.inet(ip))));
      programmed.keySet().forEach(k -> ours.add(k.address()));
      for (VirtualServerKey k : kernel.keySet()) {
        if (!plan.services().containsKey(k) && !k.isFwmark() && ours.contains(k.address())) {
          deleteService(k);
          graceful.forgetService(k);
        }
      }
      for (InetAddress a : present) {
        if (!plan.addresses().contains(a)) {
          link.deleteAddress(a);
        }
      }

      programmed = now;
      bound = plan.addresses();
      needFull = false;
      counts.put("ipvs/services", (long) now.size());
      counts.put("ipvs/destinations", destinations);
      counts.put("ipvs/addresses", (long) bound.size());
      counts.put("ipvs/draining", (long) graceful.draining().size());
      return new SyncResult(plan.servicesProgrammed(), now.size() + destinations + ruleTotal, counts, errors, plan.noLocalEndpoints());
    } catch (IOException | IptablesException | RuntimeException e) {
      needFull = true;
      renderedFrom.clear();
      appliedRules.clear(); // read iptables-save again: a restore may have failed halfway through the families
      throw new DataplaneException("ipvs sync failed; the kernel state is left as it is and the next sync is full: " + e.getMessage(), e);
    }
  }

  /**
   * Adds or updates one virtual service. A scheduler the kernel does not have (ENOENT: no
   * ip_vs_SCHED module) is reported for its Service and replaced by round robin.
   */
  private VirtualServer program(PlannedService want, VirtualServer have, Map<ServiceKey, String> errors) throws NetlinkException {
    VirtualServer server = want.server();
    if (unavailableSchedulers.contains(server.scheduler())) {
      server = fallback(want, errors);
    }
    if (server.equals(have)) {
      return server;
    }
    try {
      write(server, have != null);
    } catch (NetlinkException e) {
      if (!e.is(Errno.ENOENT) || server.scheduler().equals(IpvsPlanner.DEFAULT_SCHEDULER)) {
        throw e;
      }
      unavailableSchedulers.add(server.scheduler());
      server = fallback(want, errors);
      if (!server.equals(have)) {
        write(server, have != null);
      }
    }
    return server;
  }

  private void write(VirtualServer server, boolean exists) throws NetlinkException {
    if (exists) {
      ipvs.updateService(server);
    } else {
      ipvs.addService(server);
    }
  }

  private static VirtualServer fallback(PlannedService want, Map<ServiceKey, String> errors) {
    VirtualServer s = want.server();
    String msg = want.owner() + ": IPVS scheduler '" + s.scheduler() + "' is not available in this kernel (module ip_vs_"
        + s.scheduler() + " missing?); using " + IpvsPlanner.DEFAULT_SCHEDULER;
    errors.merge(want.owner(), msg, (a, b) -> a.contains(b) ? a : a + "; " + b);
    int flags = s.flags() & ~(IpvsMessages.IP_VS_SVC_F_SCHED1 | IpvsMessages.IP_VS_SVC_F_SCHED2 | IpvsMessages.IP_VS_SVC_F_SCHED3);
    return new VirtualServer(s.key(), IpvsPlanner.DEFAULT_SCHEDULER, flags, s.timeoutSeconds(), s.netmaskPrefix());
  }

  /** Brings one service's destinations to {@code wanted}; undesired ones drain. */
  private void reconcile(VirtualServerKey key, List<RealServer> wanted, List<RealServer> current) throws NetlinkException {
    Map<String, RealServer> left = new LinkedHashMap<>();
    current.forEach(c -> left.put(id(c), c));
    for (RealServer w : wanted) {
      RealServer c = left.remove(id(w));
      if (c == null) {
        ipvs.addDestination(key, w);
      } else if (!sameSettings(c, w)) {
        ipvs.updateDestination(key, w);
      }
      graceful.forget(key, w.address(), w.port());
    }
    for (RealServer c : left.values()) {
      switch (graceful.decide(key, c)) {
        case DELETE -> deleteDestination(key, c);
        case QUIESCE -> ipvs.updateDestination(key, c.withWeight(0));
        case WAIT -> { }
      }
    }
  }

  private void deleteDestination(VirtualServerKey key, RealServer c) throws NetlinkException {
    try {
      ipvs.deleteDestination(key, c.address(), c.port());
    } catch (NetlinkException e) {
      if (!e.is(Errno.ENOENT)) {
        throw e; // ENOENT: already gone, which is what was wanted
      }
    }
  }

  private void deleteService(VirtualServerKey k) throws NetlinkException {
    try {
      ipvs.deleteService(k);
    } catch (NetlinkException e) {
      if (!e.is(Errno.ESRCH)) {
        throw e;
      }
    }
  }

  private static String id(RealServer r) {
    return r.address().getHostAddress() + "/" + r.port();
  }

  private static boolean sameSettings(RealServer a, RealServer b) {
    return a.weight() == b.weight() && a.forward() == b.forward() && a.upperThreshold() == b.upperThreshold()
        && a.lowerThreshold() == b.lowerThreshold();
  }

  private void ensureTimeouts() throws NetlinkException {
    IpvsTimeouts want = config.timeouts();
    if (want.tcpSeconds() == 0 && want.tcpFinSeconds() == 0 && want.udpSeconds() == 0) {
      return;
    }
    IpvsTimeouts have = ipvs.timeouts();
    boolean differs = (want.tcpSeconds() != 0 && want.tcpSeconds() != have.tcpSeconds())
        || (want.tcpFinSeconds() != 0 && want.tcpFinSeconds() != have.tcpFinSeconds())
        || (want.udpSeconds() != 0 && want.udpSeconds() != have.udpSeconds());
    if (differs) {
      ipvs.setTimeouts(want);
      LOG.info("IPVS timeouts set to {} (were {})", want, have);
    }
  }

  /** Renders one family's rules and restores them when they changed (always on a full sync). */
  private IpvsRules.Rendered applyRules(IpFamily family, IpvsPlan plan, boolean full) throws IptablesException {
    IpvsRules.Rendered previous = appliedRules.get(family);
    IptablesRenderer.Existing existing = null;
    if (previous == null) {
      Map<String, String> saved = new HashMap<>();
      for (String t : List.of("filter", "nat")) {
        saved.put(t, iptables.save(family, t));
      }
      existing = IptablesRenderer.Existing.fromSave(saved, reserved);
    }
    List<IpvsPlan.PortRules> ports = plan.ports().stream().filter(p -> p.family() == family).toList();
    List<Ip> nodePorts = plan.nodePortAddresses().getOrDefault(family, List.of());
    RenderInput input = new RenderInput(ports, nodePorts);
    if (!full && previous != null && input.sameAs(renderedFrom.get(family))) {
      return previous; // the planner reused every Service's rules: the text cannot differ
    }
    IpvsRules.Rendered r = rules.render(family, ports, nodePorts, existing, previous);
    renderedFrom.put(family, input);
    if (full || previous == null || r.housekeeping() || !previous.chainText().equals(r.chainText())) {
      iptables.restore(family, r.payload(), true);
    }
    appliedRules.put(family, r);
    return r;
  }

  /**
   * Removes every virtual service (as kube-proxy's IPVS cleanup flushes the table), the dummy link
   * with its addresses, and every TURNPIKE- chain and hook of both tables except the reserved ones
   * (their owner removes them). Sysctls stay.
   */
  @Override
  public void cleanup() throws DataplaneException {
    try {
      try {
        for (VirtualServer s : ipvs.services()) {
          deleteService(s.key());
        }
      } catch (GenlFamilyNotFoundException e) {
        LOG.info("no IPVS in this kernel: no virtual services to remove");
      }
      link.delete();
      for (IpFamily family : families) {
        StringBuilder payload = new StringBuilder();
        for (String table : List.of("filter", "nat")) {
          payload.append(IptablesDataplane.cleanupPayload(table, iptables.save(family, table), reserved));
        }
        if (!payload.isEmpty()) {
          iptables.restore(family, payload.toString(), true);
        }
      }
    } catch (IOException | IptablesException | RuntimeException e) {
      throw new DataplaneException("ipvs cleanup failed: " + e.getMessage(), e);
    } finally {
      programmed = Map.of();
      bound = Set.of();
      appliedRules.clear();
      renderedFrom.clear();
      graceful.clear();
      needFull = true;
    }
  }
}
