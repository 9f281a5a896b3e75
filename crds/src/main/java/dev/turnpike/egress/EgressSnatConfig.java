package dev.turnpike.egress;

import dev.turnpike.net.IpAddresses;
import dev.turnpike.net.IpAddresses.Cidr;
import dev.turnpike.net.IpAddresses.Ip;
import dev.turnpike.net.IpFamily;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Egress SNAT settings of one node (ip-masq-agent's model): traffic from a cluster CIDR to an
 * address outside every cluster and non-masquerade CIDR is translated to the node address
 * (MASQUERADE) or to {@code snatAddress}. Built with {@link #of}, which validates and reports every
 * problem at once.
 *
 * @param clusterCidrs pod CIDRs: sources that are translated, and destinations that never are
 * @param nonMasqueradeCidrs destinations reached with the pod address
 * @param randomFully {@code --random-fully} source port allocation
 * @param snatAddress per-family fixed SNAT addresses (at most one per family); empty = MASQUERADE
 * @param connmark the ctmark bit set on connections this node translated (so a config change can
 *     find them); a single bit, outside the masquerade bit and Maglev's slot bits
 */
public record EgressSnatConfig(List<Cidr> clusterCidrs, List<Cidr> nonMasqueradeCidrs,
    boolean randomFully, List<Ip> snatAddress, long connmark) {

  /** ip-masq-agent's classic defaults: RFC 1918 and link-local stay un-NATed (IPv6: ULA, link-local). */
  public static final List<String> DEFAULT_NON_MASQUERADE_CIDRS = List.of(
      "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "fc00::/7", "fe80::/10");
  public static final long DEFAULT_CONNMARK = 0x100000L;

  public EgressSnatConfig {
    clusterCidrs = List.copyOf(clusterCidrs);
    nonMasqueradeCidrs = List.copyOf(nonMasqueradeCidrs);
    snatAddress = List.copyOf(snatAddress);
  }

  /** Validates text settings; an {@link IllegalArgumentException} lists every problem. */
  public static EgressSnatConfig of(List<String> clusterCidrs, List<String> nonMasqueradeCidrs,
      boolean randomFully, List<String> snatAddresses, long connmark) {
    List<String> errors = new ArrayList<>();
    List<Cidr> cluster = cidrs("clusterCidrs", clusterCidrs, errors);
    List<Cidr> nonMasq = cidrs("nonMasqueradeCidrs", nonMasqueradeCidrs, errors);
    if (cluster.isEmpty() && errors.isEmpty()) {
      errors.add("clusterCidrs: at least one pod CIDR is needed (nothing would be translated)");
    }
    List<Ip> snat = new ArrayList<>();
    for (String s : snatAddresses) {
      Optional<Ip> ip = IpAddresses.parse(s);
      if (ip.isEmpty() || s.contains("/")) {
        errors.add("snatAddress: \"" + s + "\" is not an IP address");
      } else if (snat.stream().anyMatch(o -> o.family() == ip.get().family())) {
        errors.add("snatAddress: more than one " + ip.get().family() + " address (" + s + ")");
      } else {
        snat.add(ip.get());
      }
    }
    if (Long.bitCount(connmark) != 1 || connmark > 0x80000000L || (connmark & 0xffffL) != 0) {
      errors.add("connmark: 0x" + Long.toHexString(connmark)
          + " must be a single bit in 0x00010000..0x80000000 (bits 0-15 carry the masquerade and"
          + " Maglev slot marks)");
    }
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException("invalid egress SNAT configuration: " + String.join("; ", errors));
    }
    return new EgressSnatConfig(cluster, nonMasq, randomFully, snat, connmark);
  }

  public static EgressSnatConfig defaults(List<String> clusterCidrs) {
    return of(clusterCidrs, DEFAULT_NON_MASQUERADE_CIDRS, true, List.of(), DEFAULT_CONNMARK);
  }

  public EgressSnatConfig withNonMasquerade(List<String> cidrs) {
    return of(text(clusterCidrs), cidrs, randomFully, text(snatAddress), connmark);
  }

  public EgressSnatConfig withSnatAddress(String... ips) {
    return of(text(clusterCidrs), text(nonMasqueradeCidrs), randomFully, List.of(ips), connmark);
  }

  public Optional<Ip> snatAddress(IpFamily family) {
    return snatAddress.stream().filter(i -> i.family() == family).findFirst();
  }

  public List<Cidr> clusterCidrs(IpFamily family) {
    return clusterCidrs.stream().filter(c -> c.family() == family).toList();
  }

  public List<Cidr> nonMasqueradeCidrs(IpFamily family) {
    return nonMasqueradeCidrs.stream().filter(c -> c.family() == family).toList();
  }

  /** True when a packet from {@code src} to {@code dst} (not DNATed) is translated. */
  public boolean translates(Ip src, Ip dst) {
    return clusterCidrs.stream().anyMatch(c -> IpAddresses.contains(c, src))
        && clusterCidrs.stream().noneMatch(c -> IpAddresses.contains(c, dst))
        && nonMasqueradeCidrs.stream().noneMatch(c -> IpAddresses.contains(c, dst));
  }

  private static List<Cidr> cidrs(String what, List<String> in, List<String> errors) {
    List<Cidr> out = new ArrayList<>();
    for (String s : in) {
      Optional<Cidr> c = IpAddresses.parseCidr(s);
      if (c.isEmpty()) {
        errors.add(what + ": \"" + s + "\" is not a CIDR (like 10.244.0.0/16)");
      } else if (!c.get().text().equals(s.trim())) {
        errors.add(what + ": \"" + s + "\" has host bits set (did you mean " + c.get().text() + "?)");
      } else if (!out.contains(c.get())) {
        out.add(c.get());
      }
    }
    return out;
  }

  private static List<String> text(List<?> in) {
    return in.stream().map(o -> o instanceof Cidr c ? c.text() : o.toString()).toList();
  }
}
