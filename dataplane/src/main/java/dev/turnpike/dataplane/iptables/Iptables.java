package dev.turnpike.dataplane.iptables;

import dev.turnpike.net.IpFamily;
import java.util.List;

/**
 * The iptables operations the backend needs: atomic restores and saves, per IP family (IPv4 is
 * iptables, IPv6 is ip6tables). Implementations hold the xtables lock for each call.
 */
public interface Iptables {
  /** Which kernel API the iptables binaries drive. */
  enum Mode {
    LEGACY,
    NFT
  }

  Mode mode();

  /**
   * Applies a restore payload atomically: all of it or none of it.
   *
   * @param noflush keep the chains and rules the payload does not mention ({@code --noflush})
   * @throws IptablesException when the restore fails; then nothing was changed
   */
  void restore(IpFamily family, String payload, boolean noflush) throws IptablesException;

  /** {@link #restore(IpFamily, String, boolean)} of the parts' concatenation. */
  default void restore(IpFamily family, List<? extends CharSequence> parts, boolean noflush) throws IptablesException {
    restore(family, String.join("", parts), noflush);
  }

  /** {@code iptables-save -t TABLE} (or ip6tables-save). */
  String save(IpFamily family, String table) throws IptablesException;
}
