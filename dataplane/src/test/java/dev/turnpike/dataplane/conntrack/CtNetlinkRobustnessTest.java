package dev.turnpike.dataplane.conntrack;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.turnpike.dataplane.netlink.GoldenVectors;
import dev.turnpike.dataplane.netlink.Hex;
import dev.turnpike.dataplane.netlink.NetlinkMessage;
import dev.turnpike.dataplane.netlink.NetlinkParseException;
import dev.turnpike.dataplane.netlink.NlMsgHdr;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Truncated and mutated ctnetlink replies only ever fail with NetlinkParseException. */
class CtNetlinkRobustnessTest {
  private static final long SEED = 0xc0_77_7ac4L;
  private static final int ROUNDS = 20_000;

  @BeforeEach
  void littleEndian() {
    GoldenVectors.assumeLittleEndian();
  }

  private static void decode(ByteBuffer datagram) {
    for (NetlinkMessage m : NetlinkMessage.parseDatagram(datagram)) {
      CtNetlink.parseEntry(m);
    }
  }

  private static byte[] bytes(String hex) {
    ByteBuffer b = Hex.buffer(hex);
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  @Test
  void everyTruncationIsRefused() {
    for (String v : ConntrackVectors.replies()) {
      byte[] full = bytes(v);
      for (int k = 0; k < full.length; k++) {
        ByteBuffer cut = ByteBuffer.wrap(full, 0, k).slice().order(ByteOrder.nativeOrder());
        assertThrows(NetlinkParseException.class, () -> decode(cut), "cut at " + k);
      }
    }
  }

  @Test
  void cutsWithAConsistentLengthAreRefusedInsideTheTuples() {
    for (String v : ConntrackVectors.replies()) {
      byte[] full = bytes(v);
      // both tuples are required: any cut before the end of the reply tuple must fail
      int replyEnd = v == ConntrackVectors.UDP_DNAT_V4 ? 16 + 4 + 52 + 52 : 16 + 4 + 76 + 8 + 76;
      for (int k = NlMsgHdr.SIZE; k < full.length; k++) {
        ByteBuffer cut = ByteBuffer.wrap(full.clone(), 0, k).slice().order(ByteOrder.nativeOrder());
        cut.putInt(0, k);
        if (k < replyEnd) {
          assertThrows(NetlinkParseException.class, () -> decode(cut), "cut at " + k);
        } else {
          onlyParseExceptions(cut, "cut at " + k);
        }
      }
    }
  }

  @Test
  void mutationsOnlyRaiseParseExceptions() {
    Random rnd = new Random(SEED);
    int refused = 0;
    int accepted = 0;
    for (int i = 0; i < ROUNDS; i++) {
      byte[] b = bytes(ConntrackVectors.replies().get(i % 2));
      int flips = 1 + rnd.nextInt(3);
      for (int f = 0; f < flips; f++) {
        int at = rnd.nextInt(b.length);
        b[at] = rnd.nextInt(4) == 0 ? (byte) rnd.nextInt(256) : (byte) (b[at] ^ (1 << rnd.nextInt(8)));
      }
      if (onlyParseExceptions(ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()), "round " + i)) {
        accepted++;
      } else {
        refused++;
      }
    }
    assertTrue(refused > ROUNDS / 10 && accepted > ROUNDS / 10,
        "both outcomes are common: refused " + refused + ", accepted " + accepted);
  }

  private static boolean onlyParseExceptions(ByteBuffer b, String what) {
    try {
      decode(b);
      return true;
    } catch (NetlinkParseException e) {
      return false;
    } catch (RuntimeException e) {
      fail(what + ": " + e, e);
      return false;
    }
  }
}
