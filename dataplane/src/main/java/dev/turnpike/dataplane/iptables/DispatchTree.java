package dev.turnpike.dataplane.iptables;

import dev.turnpike.net.IpAddresses;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Dispatch on the destination address through a tree of chains instead of one linear chain, so a
 * new connection's cost grows with log(Services) rather than with their number.
 *
 * <p>A node holding more than {@link #LEAF} addresses skips the bits all its addresses share (path
 * compression) and splits on the next {@link #STRIDE} bits: at most 16 {@code -d NET/LEN -j
 * TURNPIKE-DST-…} rules, one per non-empty group; a group of one address is written inline. A node
 * with few addresses holds their {@code -d IP/32 -p … --dport … -j …} rules. With 10,000 ClusterIPs
 * in a /12 a packet passes about 3 levels of at most 16 rules, then the rules of its own address.
 */
public final class DispatchTree {
  static final int STRIDE = 4;
  static final int LEAF = 8;

  /** One destination address and its rules (arguments after {@code -d IP/LEN}). */
  public record Entry(IpAddresses.Ip ip, List<String> rules) {}

  private final String family;
  private final Map<String, List<String>> chains = new LinkedHashMap<>();

  private DispatchTree(String family) {
    this.family = family;
  }

  /**
   * Builds the tree.
   *
   * @param entries one per distinct address, sorted by address
   * @return chain name → rule arguments, the root first (it may hold no rules)
   */
  public static Map<String, List<String>> build(String root, String family, List<Entry> entries) {
    DispatchTree t = new DispatchTree(family);
    t.node(root, entries);
    return t.chains;
  }

  private void node(String chain, List<Entry> entries) {
    List<String> out = chains.computeIfAbsent(chain, c -> new ArrayList<>());
    if (entries.size() <= LEAF) {
      entries.forEach(e -> inline(out, e));
      return;
    }
    byte[] first = entries.get(0).ip().bytes();
    int bits = first.length * 8;
    int common = bits;
    for (Entry e : entries) {
      common = Math.min(common, commonPrefix(first, e.ip().bytes()));
    }
    int split = Math.min(common + STRIDE, bits);
    int start = 0;
    while (start < entries.size()) {
      byte[] head = entries.get(start).ip().bytes();
      int end = start + 1;
      // Same group: shares the first split bits (no masked copy per comparison).
      while (end < entries.size() && commonPrefix(head, entries.get(end).ip().bytes()) >= split) {
        end++;
      }
      if (end - start == 1) {
        inline(out, entries.get(start));
      } else {
        String cidr = cidrText(mask(head, split), split);
        String child = ChainNames.of(ChainNames.Kind.DST, family + " " + cidr);
        out.add("-d " + cidr + " -j " + child);
        node(child, entries.subList(start, end));
      }
      start = end;
    }
  }

  private static void inline(List<String> out, Entry e) {
    String d = "-d " + e.ip().text() + "/" + e.ip().bytes().length * 8 + " ";
    for (String r : e.rules()) {
      out.add(d + r);
    }
  }

  static int commonPrefix(byte[] a, byte[] b) {
    for (int i = 0; i < a.length; i++) {
      int x = (a[i] ^ b[i]) & 0xff;
      if (x != 0) {
        return i * 8 + Integer.numberOfLeadingZeros(x) - 24;
      }
    }
    return a.length * 8;
  }

  static byte[] mask(byte[] ip, int len) {
    byte[] out = ip.clone();
    for (int bit = len; bit < out.length * 8; bit++) {
      out[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
    }
    return out;
  }

  private static String cidrText(byte[] net, int len) {
    StringBuilder sb = new StringBuilder();
    if (net.length == 4) {
      for (int i = 0; i < 4; i++) {
        sb.append(i == 0 ? "" : ".").append(net[i] & 0xff);
      }
      return sb.append('/').append(len).toString();
    }
    // Canonical IPv6 text via the shared parser (full form in, RFC 5952 out).
    for (int i = 0; i < 16; i += 2) {
      sb.append(i == 0 ? "" : ":").append(Integer.toHexString(((net[i] & 0xff) << 8) | (net[i + 1] & 0xff)));
    }
    return IpAddresses.parse(sb.toString()).orElseThrow().text() + "/" + len;
  }
}
