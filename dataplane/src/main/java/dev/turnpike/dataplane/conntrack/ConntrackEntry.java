package dev.turnpike.dataplane.conntrack;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * One conntrack entry as a ctnetlink dump reports it. The two tuples tell the NAT: a DNATed
 * Service flow has {@code original.dst} = the Service IP and {@code reply.src} = the endpoint.
 *
 * @param original CTA_TUPLE_ORIG
 * @param reply CTA_TUPLE_REPLY
 * @param status CTA_STATUS bits (IPS_*), unsigned
 * @param mark CTA_MARK (the ctmark), 0 when absent
 * @param zone CTA_ZONE, 0 (the default zone) when absent
 * @param timeoutSeconds CTA_TIMEOUT: seconds left, 0 when absent
 * @param id CTA_ID, the kernel's id of this entry; a delete that carries it only removes this very
 *     entry, never a newer one that reuses the tuple
 */
public record ConntrackEntry(Tuple original, Tuple reply, long status, long mark, int zone,
    long timeoutSeconds, OptionalLong id) {

  public static final long IPS_SEEN_REPLY = 1L << 1;
  public static final long IPS_ASSURED = 1L << 2;
  public static final long IPS_CONFIRMED = 1L << 3;
  public static final long IPS_SRC_NAT = 1L << 4;
  public static final long IPS_DST_NAT = 1L << 5;

  public ConntrackEntry {
    Objects.requireNonNull(original, "original");
    Objects.requireNonNull(reply, "reply");
    Objects.requireNonNull(id, "id");
    if (original.family() != reply.family() || original.protocol() != reply.protocol()) {
      throw new IllegalArgumentException("original and reply disagree: " + original + " / " + reply);
    }
  }

  /** An entry for tests and fakes: confirmed, no mark, default zone, no id. */
  public static ConntrackEntry of(Tuple original, Tuple reply) {
    return new ConntrackEntry(original, reply, IPS_CONFIRMED, 0, 0, 0, OptionalLong.empty());
  }

  public int family() {
    return original.family();
  }

  public int protocol() {
    return original.protocol();
  }

  public boolean dnat() {
    return (status & IPS_DST_NAT) != 0;
  }

  public boolean snat() {
    return (status & IPS_SRC_NAT) != 0;
  }

  @Override
  public String toString() {
    return original + " reply " + reply.src().getHostAddress() + ":" + reply.srcPort() + " -> "
        + reply.dst().getHostAddress() + ":" + reply.dstPort()
        + (mark != 0 ? " mark=0x" + Long.toHexString(mark) : "")
        + (zone != 0 ? " zone=" + zone : "")
        + id.stream().mapToObj(i -> " id=" + Long.toUnsignedString(i)).findFirst().orElse("");
  }
}
