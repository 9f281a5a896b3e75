package dev.turnpike.dataplane.iptables;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Chain names. Fixed chains have fixed names; per-Service chains are {@code TURNPIKE-KKK-} plus 15
 * characters of base32(sha256(input)), kube-proxy's scheme sized so every name is exactly 28
 * characters, the kernel's limit. The inputs (Service port name, protocol, endpoint) are stable, so
 * a chain keeps its name across syncs, restarts and versions.
 */
public final class ChainNames {
  public static final String PREFIX = "TURNPIKE-";

  // nat
  public static final String SERVICES = "TURNPIKE-SERVICES";
  public static final String NODEPORTS = "TURNPIKE-NODEPORTS";
  public static final String POSTROUTING = "TURNPIKE-POSTROUTING";
  public static final String MARK_MASQ = "TURNPIKE-MARK-MASQ";
  public static final String MARK_NON_POD = "TURNPIKE-MARK-NON-POD";
  // filter (TURNPIKE-SERVICES and TURNPIKE-NODEPORTS exist in filter too, as in kube-proxy)
  public static final String EXTERNAL_SERVICES = "TURNPIKE-EXTERNAL-SERVICES";
  public static final String FORWARD = "TURNPIKE-FORWARD";
  public static final String PROXY_FIREWALL = "TURNPIKE-PROXY-FIREWALL";
  public static final String FIREWALL = "TURNPIKE-FIREWALL";

  /** Per-Service chain kinds. */
  public enum Kind {
    /** Cluster-policy endpoints (kube-proxy KUBE-SVC). */
    SVC,
    /** Node-local endpoints (KUBE-SVL). */
    SVL,
    /** External destinations (KUBE-EXT). */
    EXT,
    /** loadBalancerSourceRanges (KUBE-FW). */
    FWL,
    /** One endpoint (KUBE-SEP). */
    SEP,
    /** One group of Maglev slots. */
    MGD,
    /** One node of the destination dispatch tree. */
    DST
  }

  private static final char[] BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();
  private static final int HASH_CHARS = 28 - PREFIX.length() - 4;

  private ChainNames() {}

  public static String of(Kind kind, String input) {
    return PREFIX + kind.name() + "-" + hash(input);
  }

  /** The first 15 base32 characters of sha256(input): 75 bits, collision-free in practice. */
  static String hash(String input) {
    byte[] d;
    try {
      d = MessageDigest.getInstance("SHA-256").digest(input.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is mandatory in every JRE", e);
    }
    char[] out = new char[HASH_CHARS];
    long acc = 0;
    int bits = 0;
    int at = 0;
    int i = 0;
    while (at < HASH_CHARS) {
      if (bits < 5) {
        acc = (acc << 8) | (d[i++] & 0xff);
        bits += 8;
      }
      out[at++] = BASE32[(int) (acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    return new String(out);
  }
}
