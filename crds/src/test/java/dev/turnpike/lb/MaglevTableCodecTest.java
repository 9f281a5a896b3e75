package dev.turnpike.lb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MaglevTableCodecTest {

  @ParameterizedTest(name = "M={0}, N={1}")
  @CsvSource({"251, 0", "251, 1", "251, 3", "4093, 10", "4093, 255", "4093, 256", "65521, 1000",
      "131071, 65535", "131071, 65536", "131071, 131071"})
  void roundTripsTablesOfEveryWidth(int m, int n) {
    int[] table = table(m, n, 1);
    String text = MaglevTableCodec.encode(table);
    assertTrue(text.startsWith("v1:"), text);
    assertArrayEquals(table, MaglevTableCodec.decode(text));
    assertArrayEquals(table, MaglevTableCodec.decode(text, Math.max(n, 1)));
    assertEquals(text, MaglevTableCodec.encode(table), "deterministic");
  }

  @Test
  void handWrittenTableDecodes() {
    // M=251, width 1, slots 0,1,2,0,1,2,... and the last one empty; built here byte by byte.
    int[] table = new int[251];
    for (int i = 0; i < 251; i++) {
      table[i] = i == 250 ? -1 : i % 3;
    }
    byte[] raw = new byte[2 + 1 + 251];
    raw[0] = (byte) 0xfb; // 251 = 0b1_1111011 → 0xfb 0x01
    raw[1] = 0x01;
    raw[2] = 1;
    for (int i = 0; i < 251; i++) {
      raw[3 + i] = (byte) table[i];
    }
    assertArrayEquals(table, MaglevTableCodec.decode(deflated(withCrc(raw))));
  }

  /** Encoded sizes reported in docs/benchmarks.md, for real Maglev tables. */
  @Test
  void encodedSizesOfRealTables() {
    assertTrue(encodedLength(4093, 10) < 3_000, "M=4093 N=10: " + encodedLength(4093, 10));
    assertTrue(encodedLength(65521, 1000) < 140_000, "" + encodedLength(65521, 1000));
  }

  static int encodedLength(int m, int n) {
    List<MaglevBackend> backends = MaglevCases.randomBackends(new SplittableRandom(n), n, 1, true);
    return MaglevTableCodec.encode(new Maglev(new MaglevConfig(m, 1)).build(backends)).length();
  }

  @Test
  void encodeRejectsBadTables() {
    assertThrows(IllegalArgumentException.class, () -> MaglevTableCodec.encode(new int[250]));
    int[] table = new int[251];
    table[7] = -2;
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> MaglevTableCodec.encode(table));
    assertTrue(e.getMessage().contains("slot 7"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "v1",
        "v1:",
        "v2:AAAA",
        "V1:AAAA",
        "v1:!!!!",
        "v1:AAA", // not a multiple of 4
        "v1:AA==", // one zero byte: not a finished DEFLATE stream
        "v1:AAAA AAAA",
      })
  void decodeRejectsMalformedText(String text) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> MaglevTableCodec.decode(text));
    assertTrue(e.getMessage().startsWith("Maglev table"), e.getMessage());
  }

  @Test
  void decodeRejectsNull() {
    assertThrows(IllegalArgumentException.class, () -> MaglevTableCodec.decode(null));
  }

  @Test
  void decodeRejectsBadHeadersAndEntries() {
    MaglevTableCodec.decode(deflated(withCrc(raw(251, 1, new byte[251])))); // valid baseline
    assertRejected(deflated(withCrc(raw(250, 1, new byte[250]))), "table size 250");
    assertRejected(deflated(withCrc(raw(251, 3, new byte[753]))), "width 3");
    assertRejected(deflated(withCrc(raw(251, 1, new byte[250]))), "entry bytes");
    // All entries 0 fit in one byte, so width 2 is not canonical.
    assertRejected(deflated(withCrc(raw(251, 2, new byte[502]))), "canonical");
    byte[] wide = new byte[4 * 251];
    Arrays.fill(wide, 0, 4, (byte) 0xfe); // 0xfefefefe: negative and not the sentinel
    wide[3] = (byte) 0xff;
    assertRejected(deflated(withCrc(raw(251, 4, wide))), "slot 0");
    byte[] badCrc = withCrc(raw(251, 1, new byte[251]));
    badCrc[badCrc.length - 1] ^= 1;
    assertRejected(deflated(badCrc), "CRC");
    assertRejected(deflated(new byte[] {1, 2, 3}), "too short");
    assertThrows(
        IllegalArgumentException.class,
        () -> MaglevTableCodec.decode(MaglevTableCodec.encode(table(251, 5, 2)), 4),
        "index 4 with only 4 backends");
  }

  @Test
  void decodeRejectsNonCanonicalBase64AndTrailingBytes() {
    // Java's decoder accepts missing padding; the codec insists on the one canonical spelling.
    String text = "";
    byte[] compressed = new byte[0];
    for (long seed = 3; compressed.length % 3 == 0; seed++) { // a text that needs padding
      text = MaglevTableCodec.encode(table(251, 3, seed));
      compressed = Base64.getDecoder().decode(text.substring(3));
    }
    String unpadded = "v1:" + Base64.getEncoder().withoutPadding().encodeToString(compressed);
    assertThrows(IllegalArgumentException.class, () -> MaglevTableCodec.decode(unpadded));
    byte[] longer = Arrays.copyOf(compressed, compressed.length + 1);
    assertThrows(
        IllegalArgumentException.class,
        () -> MaglevTableCodec.decode("v1:" + Base64.getEncoder().encodeToString(longer)));
  }

  /** Random corruptions and truncations: only ever IllegalArgumentException, or a valid table. */
  @Test
  void corruptedTextFailsOnlyWithIllegalArgumentException() {
    SplittableRandom random = new SplittableRandom(9);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=:v1!";
    for (int round = 0; round < 1500; round++) {
      int m = round % 3 == 0 ? 4093 : 251;
      String text = MaglevTableCodec.encode(table(m, 1 + random.nextInt(300), round));
      StringBuilder corrupt = new StringBuilder(text);
      switch (round % 4) {
        case 0 -> corrupt.setLength(random.nextInt(text.length()));
        case 1 ->
            corrupt.setCharAt(
                random.nextInt(text.length()), alphabet.charAt(random.nextInt(alphabet.length())));
        case 2 -> corrupt.insert(random.nextInt(text.length()), alphabet.charAt(random.nextInt(64)));
        default -> {
          for (int k = 0; k < 5; k++) {
            corrupt.setCharAt(
                3 + random.nextInt(text.length() - 3), alphabet.charAt(random.nextInt(64)));
          }
        }
      }
      try {
        int[] decoded = MaglevTableCodec.decode(corrupt.toString());
        assertTrue(MaglevConfig.isValidTableSize(decoded.length));
      } catch (IllegalArgumentException expected) {
        // fine
      } catch (RuntimeException e) {
        fail("round " + round + " threw " + e, e);
      }
    }
  }

  // --- helpers ---

  private static void assertRejected(String text, String messagePart) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> MaglevTableCodec.decode(text));
    assertTrue(e.getMessage().contains(messagePart), e.getMessage());
  }

  /** Header (varint M, width) + entries, without the CRC. */
  private static byte[] raw(int m, int width, byte[] entries) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int v = m; ; v >>>= 7) {
      if ((v & ~0x7f) == 0) {
        out.write(v);
        break;
      }
      out.write((v & 0x7f) | 0x80);
    }
    out.write(width);
    out.writeBytes(entries);
    return out.toByteArray();
  }

  private static byte[] withCrc(byte[] raw) {
    CRC32 crc = new CRC32();
    crc.update(raw);
    byte[] out = Arrays.copyOf(raw, raw.length + 4);
    for (int b = 0; b < 4; b++) {
      out[raw.length + b] = (byte) (crc.getValue() >>> (8 * b));
    }
    return out;
  }

  /** An independent encoder (default compression level, so a different stream than encode's). */
  private static String deflated(byte[] raw) {
    Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
    deflater.setInput(raw);
    deflater.finish();
    byte[] buffer = new byte[raw.length * 2 + 64];
    int length = deflater.deflate(buffer);
    deflater.end();
    return "v1:" + Base64.getEncoder().encodeToString(Arrays.copyOf(buffer, length));
  }

  private static int[] table(int m, int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int[] table = new int[m];
    for (int i = 0; i < m; i++) {
      table[i] = n == 0 ? -1 : random.nextInt(n);
    }
    if (n > 0) {
      table[random.nextInt(m)] = n - 1; // the largest index appears, so the width is as intended
    }
    return table;
  }
}
