package dev.turnpike.net;

import java.util.Locale;
import java.util.Optional;

/**
 * Parses and canonicalises IP literals without ever touching DNS (InetAddress would resolve a
 * malformed IPv4 string as a host name). Canonical forms: dotted quad for IPv4, RFC 5952 for IPv6.
 * Equal addresses must have equal text because Maglev keys and de-duplication compare strings.
 */
public final class IpAddresses {
  private IpAddresses() {}

  /** A parsed address: its family and canonical text. */
  public record Ip(IpFamily family, String text, byte[] bytes) {
    public Ip {
      bytes = bytes.clone();
    }

    @Override
    public byte[] bytes() {
      return bytes.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Ip other && text.equals(other.text);
    }

    @Override
    public int hashCode() {
      return text.hashCode();
    }

    @Override
    public String toString() {
      return text;
    }
  }

  /** A parsed CIDR; {@code text} is the canonical network form (host bits cleared). */
  public record Cidr(Ip network, int prefixLength) {
    public IpFamily family() {
      return network.family();
    }

    public String text() {
      return network.text() + "/" + prefixLength;
    }

    @Override
    public String toString() {
      return text();
    }
  }

  public static Optional<Ip> parse(String s) {
    if (s == null) {
      return Optional.empty();
    }
    String t = s.trim();
    byte[] b = t.indexOf(':') >= 0 ? parseV6(t) : parseV4(t);
    if (b == null) {
      return Optional.empty();
    }
    if (b.length == 16 && isV4Mapped(b)) {
      // Kubernetes (Go's net.IP) treats ::ffff:a.b.c.d as the IPv4 address a.b.c.d.
      byte[] v4 = new byte[4];
      System.arraycopy(b, 12, v4, 0, 4);
      b = v4;
    }
    return Optional.of(fromBytes(b));
  }

  public static Optional<Cidr> parseCidr(String s) {
    if (s == null) {
      return Optional.empty();
    }
    String t = s.trim();
    int slash = t.indexOf('/');
    if (slash < 0) {
      return Optional.empty();
    }
    String addr = t.substring(0, slash);
    String len = t.substring(slash + 1);
    if (len.isEmpty() || len.length() > 3 || !len.chars().allMatch(Character::isDigit)) {
      return Optional.empty();
    }
    // A CIDR keeps the family it was written in (::ffff:0:0/96 is IPv6).
    byte[] b = addr.indexOf(':') >= 0 ? parseV6(addr) : parseV4(addr);
    if (b == null) {
      return Optional.empty();
    }
    int prefix = Integer.parseInt(len);
    if (prefix > b.length * 8) {
      return Optional.empty();
    }
    for (int bit = prefix; bit < b.length * 8; bit++) {
      b[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
    }
    return Optional.of(new Cidr(fromBytes(b), prefix));
  }

  /** Whether {@code ip} lies inside {@code cidr} (different families never match). */
  public static boolean contains(Cidr cidr, Ip ip) {
    byte[] net = cidr.network().bytes;
    byte[] a = ip.bytes;
    if (net.length != a.length) {
      return false;
    }
    for (int bit = 0; bit < cidr.prefixLength(); bit++) {
      int mask = 0x80 >>> (bit % 8);
      if ((net[bit / 8] & mask) != (a[bit / 8] & mask)) {
        return false;
      }
    }
    return true;
  }

  static Ip fromBytes(byte[] b) {
    return new Ip(b.length == 4 ? IpFamily.IPv4 : IpFamily.IPv6, b.length == 4 ? formatV4(b) : formatV6(b), b);
  }

  private static boolean isV4Mapped(byte[] b) {
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
  }

  /**
   * Dotted quad, decimal, 1-3 digits per octet. Leading zeros are read as decimal, as kube-proxy's
   * ParseIPSloppy does for objects stored before the API server validated IPs strictly.
   */
  static byte[] parseV4(String s) {
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      return null;
    }
    byte[] out = new byte[4];
    for (int i = 0; i < 4; i++) {
      String p = parts[i];
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
        return null;
      }
      int v = Integer.parseInt(p);
      if (v > 255) {
        return null;
      }
      out[i] = (byte) v;
    }
    return out;
  }

  static byte[] parseV6(String s) {
    if (s.indexOf('%') >= 0 || s.isEmpty()) {
      return null; // zones are not valid in Kubernetes IP fields
    }
    int dbl = s.indexOf("::");
    if (dbl >= 0 && s.indexOf("::", dbl + 1) >= 0) {
      return null;
    }
    String head = dbl >= 0 ? s.substring(0, dbl) : s;
    String tail = dbl >= 0 ? s.substring(dbl + 2) : "";
    int[] headGroups = groups(head, dbl < 0);
    int[] tailGroups = groups(tail, true);
    if (headGroups == null || tailGroups == null) {
      return null;
    }
    int total = headGroups.length + tailGroups.length;
    if (dbl < 0 ? total != 8 : total > 7) {
      return null;
    }
    byte[] out = new byte[16];
    for (int i = 0; i < headGroups.length; i++) {
      out[2 * i] = (byte) (headGroups[i] >>> 8);
      out[2 * i + 1] = (byte) headGroups[i];
    }
    int start = 8 - tailGroups.length;
    for (int i = 0; i < tailGroups.length; i++) {
      out[2 * (start + i)] = (byte) (tailGroups[i] >>> 8);
      out[2 * (start + i) + 1] = (byte) tailGroups[i];
    }
    return out;
  }

  /** 16-bit groups of one side of "::"; an embedded dotted quad may end the last side. */
  private static int[] groups(String side, boolean mayEndWithV4) {
    if (side.isEmpty()) {
      return new int[0];
    }
    String[] parts = side.split(":", -1);
    int n = parts.length;
    byte[] v4 = null;
    if (mayEndWithV4 && parts[n - 1].indexOf('.') >= 0) {
      v4 = parseV4(parts[n - 1]);
      if (v4 == null) {
        return null;
      }
      n--;
    }
    int[] out = new int[n + (v4 == null ? 0 : 2)];
    for (int i = 0; i < n; i++) {
      String p = parts[i];
      if (p.isEmpty() || p.length() > 4) {
        return null;
      }
      int v = 0;
      for (int k = 0; k < p.length(); k++) {
        int d = Character.digit(p.charAt(k), 16);
        if (d < 0) {
          return null;
        }
        v = v * 16 + d;
      }
      out[i] = v;
    }
    if (v4 != null) {
      out[n] = ((v4[0] & 0xff) << 8) | (v4[1] & 0xff);
      out[n + 1] = ((v4[2] & 0xff) << 8) | (v4[3] & 0xff);
    }
    return out;
  }

  private static String formatV4(byte[] b) {
    return (b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + "." + (b[3] & 0xff);
  }

  /** RFC 5952: lower case, no leading zeros, the longest run (≥ 2, first on a tie) of zero groups as "::". */
  private static String formatV6(byte[] b) {
    int[] g = new int[8];
    for (int i = 0; i < 8; i++) {
      g[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
    }
    int bestStart = -1;
    int bestLen = 0;
    for (int i = 0; i < 8; ) {
      if (g[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && g[j] == 0) {
        j++;
      }
      if (j - i > bestLen) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    }
    if (bestLen < 2) {
      bestStart = -1;
    }
    StringBuilder sb = new StringBuilder(39);
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        sb.append("::");
        i += bestLen - 1;
        continue;
      }
      if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
        sb.append(':');
      }
      sb.append(Integer.toHexString(g[i]));
    }
    return sb.toString().toLowerCase(Locale.ROOT);
  }
}
