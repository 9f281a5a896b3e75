package dev.turnpike.dataplane.netlink;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.turnpike.dataplane.netlink.genl.GenlFamilyResolver;
import dev.turnpike.dataplane.netlink.genl.GenlMsgHdr;
import dev.turnpike.dataplane.netlink.ipvs.IpvsMessages;
import dev.turnpike.dataplane.netlink.rtnl.RtnlMessages;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Truncated and mutated replies: the decoders may accept a mutation that is still well formed,
 * but must never fail with anything but {@link NetlinkParseException} (no index, buffer or
 * argument exceptions leaking out of a handler).
 */
class ParserRobustnessTest {
  private static final long SEED = 0x7e57_1e55L;
  private static final int ROUNDS = 20_000;
  private final IpvsMessages ipvs = new IpvsMessages(GoldenVectors.IPVS_FAMILY_ID);

  @BeforeEach
  void littleEndian() {
    GoldenVectors.assumeLittleEndian();
  }

  @Test
  void everyTruncationOfEveryReplyIsRefused() {
    for (String vector : GoldenVectors.replies()) {
      byte[] full = bytes(vector);
      for (int k = 0; k < full.length; k++) {
        ByteBuffer cut = ByteBuffer.wrap(full, 0, k).slice().order(ByteOrder.nativeOrder());
        assertThrows(NetlinkParseException.class, () -> decode(cut),
            "truncated at " + k + " of " + full.length);
      }
    }
  }

  @Test
  void truncationsThatKeepAConsistentLengthAreRefusedWhenTheyCutANest() {
    // nlmsg_len patched to the cut: the message is whole, its attributes are not.
    for (String vector : List.of(GoldenVectors.IPVS_DEST_REPLY,
        GoldenVectors.IPVS_SERVICE_REPLY, GoldenVectors.IPVS_CONFIG_REPLY)) {
      byte[] full = bytes(vector);
      for (int k = NlMsgHdr.SIZE; k < full.length; k++) {
        ByteBuffer cut = patchedLength(full, k);
        assertThrows(NetlinkParseException.class, () -> decode(cut),
            "cut at " + k + " of " + full.length);
      }
    }
    for (String vector : GoldenVectors.replies()) {
      byte[] full = bytes(vector);
      for (int k = NlMsgHdr.SIZE; k < full.length; k++) {
        onlyParseExceptions(patchedLength(full, k), "cut at " + k);
      }
    }
  }

  @Test
  void seededMutationsOnlyEverRaiseParseExceptions() {
    Random random = new Random(SEED);
    List<String> vectors = GoldenVectors.replies();
    int accepted = 0;
    for (int round = 0; round < ROUNDS; round++) {
      byte[] b = bytes(vectors.get(random.nextInt(vectors.size())));
      if (random.nextInt(4) == 0) {
        b = concat(b, bytes(vectors.get(random.nextInt(vectors.size()))));
      }
      b = mutate(b, random);
      if (onlyParseExceptions(ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()),
          "round " + round + " (seed " + SEED + "): " + Hex.of(ByteBuffer.wrap(b)))) {
        accepted++;
      }
    }
    // Both outcomes must be common, or the mutations are not reaching the decoders.
    assertTrue(accepted > ROUNDS / 20 && accepted < ROUNDS - ROUNDS / 20,
        accepted + " of " + ROUNDS + " accepted");
  }

  private static byte[] mutate(byte[] in, Random r) {
    byte[] b = in.clone();
    switch (r.nextInt(5)) {
      case 0 -> { // random bytes anywhere
        for (int i = 1 + r.nextInt(4); i > 0; i--) {
          b[r.nextInt(b.length)] = (byte) r.nextInt(256);
        }
      }
      case 1 -> { // a small value in some 16-bit field: hits nla_len, nla_type and counts
        int at = r.nextInt(b.length / 2) * 2;
        int v = r.nextInt(300);
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >> 8);
      }
      case 2 -> { // cut, with a matching nlmsg_len
        return patchedLength(b, NlMsgHdr.SIZE + r.nextInt(b.length - NlMsgHdr.SIZE)).array();
      }
      case 3 -> { // garbage appended, nlmsg_len grown to cover it or not
        byte[] tail = new byte[1 + r.nextInt(24)];
        r.nextBytes(tail);
        b = concat(b, tail);
        if (r.nextBoolean()) {
          ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()).putInt(0, b.length);
        }
      }
      default -> { // type and flag bits flipped in the header and genl header
        int at = 4 + r.nextInt(16);
        b[at] ^= (byte) (1 << r.nextInt(8));
      }
    }
    return b;
  }

  /** Whether the decoders accepted it; fails the test on anything but a parse exception. */
  private boolean onlyParseExceptions(ByteBuffer datagram, String what) {
    try {
      decode(datagram);
      return true;
    } catch (NetlinkParseException expected) {
      return false;
    } catch (RuntimeException e) {
      return fail(what + " threw " + e, e);
    }
  }

  /** Everything a consumer of these replies would do with them, and a walk of every nest. */
  private void decode(ByteBuffer datagram) {
    for (NetlinkMessage m : NetlinkMessage.parseDatagram(datagram)) {
      switch (m.type()) {
        case Netlink.NLMSG_ERROR -> NlMsgErr.parse(m);
        case Netlink.NLMSG_DONE -> {
          NlMsgErr.doneError(m);
          NlMsgErr.doneKernelMessage(m);
        }
        // nlctrl and RTM_NEWLINK share type 16 (the protocol tells them apart): run both.
        case GenlFamilyResolver.GENL_ID_CTRL -> bothOf(() -> GenlFamilyResolver.parseFamily(m),
            () -> RtnlMessages.parseLink(m));
        case GoldenVectors.IPVS_FAMILY_ID -> {
          switch (GenlMsgHdr.of(m).cmd()) {
            case IpvsMessages.IPVS_CMD_NEW_SERVICE -> ipvs.parseService(m);
            case IpvsMessages.IPVS_CMD_NEW_DEST -> ipvs.parseDest(m, Netlink.AF_INET);
            case IpvsMessages.IPVS_CMD_SET_CONFIG -> ipvs.parseConfig(m);
            default -> walk(GenlMsgHdr.attrs(m));
          }
        }
        case RtnlMessages.RTM_NEWADDR -> RtnlMessages.parseAddress(m);
        default -> walk(m.attrs(0, "none"));
      }
    }
  }

  private static void bothOf(Runnable first, Runnable second) {
    NetlinkParseException failed = null;
    for (Runnable r : List.of(first, second)) {
      try {
        r.run();
      } catch (NetlinkParseException e) {
        failed = e;
      }
    }
    if (failed != null) {
      throw failed;
    }
  }

  private static void walk(NlAttrs attrs) {
    for (NlAttr a : attrs.list()) {
      a.string();
      try {
        walk(a.nested());
      } catch (NetlinkParseException notANest) {
        // most attributes are not nests
      }
    }
  }

  private static ByteBuffer patchedLength(byte[] full, int k) {
    byte[] cut = java.util.Arrays.copyOf(full, k);
    ByteBuffer b = ByteBuffer.wrap(cut).order(ByteOrder.nativeOrder());
    b.putInt(0, k);
    return b;
  }

  private static byte[] bytes(String hex) {
    ByteBuffer b = Hex.buffer(hex);
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
