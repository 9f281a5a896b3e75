package dev.turnpike.lb;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Base64;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * The text form of a Maglev table in {@code Frontend.maglevLookupTable}.
 *
 * <p>Format {@code v1}: {@code "v1:" + base64(deflate(raw))}, where base64 is RFC 4648 with
 * padding and no line breaks, deflate is raw DEFLATE (RFC 1951, no zlib header), and {@code raw}
 * is:
 *
 * <pre>
 *   M        unsigned LEB128 varint, one of MaglevConfig.TABLE_SIZES
 *   width    1 byte: 1, 2 or 4, the smallest that holds the largest index below its sentinel
 *   entries  M little-endian unsigned integers of that width; the width's all-ones value is −1
 *   crc      CRC-32 (IEEE) of everything above, 4 bytes little-endian
 * </pre>
 *
 * Raw DEFLATE has no checksum of its own; the CRC catches a corrupted or hand-edited field.
 *
 * <p>Encoding is deterministic for a given compression library; the decoder accepts any valid
 * DEFLATE stream, so a different zlib only changes the text, never the table.
 */
public final class MaglevTableCodec {

  private static final String PREFIX = "v1:";
  /** 3-byte varint of the largest M, the width byte, 4-byte entries and the CRC. */
  private static final int MAX_RAW = 3 + 1 + 4 * MaglevConfig.MAX_TABLE_SIZE + 4;
  /** Generous bound on the text (incompressible raw grows by ~5 bytes per 16 KiB, then 4/3). */
  private static final int MAX_TEXT = PREFIX.length() + 4 * (MAX_RAW + MAX_RAW / 1000 + 64) / 3;

  private MaglevTableCodec() {}

  /**
   * Encodes a table.
   *
   * @param table slots holding backend indices {@code >= 0} or −1; its length one of {@link
   *     MaglevConfig#TABLE_SIZES}
   * @throws IllegalArgumentException on another length or an entry below −1
   */
  public static String encode(int[] table) {
    int m = table.length;
    if (!MaglevConfig.isValidTableSize(m)) {
      throw new IllegalArgumentException(
          "Maglev table length " + m + " is not one of " + MaglevConfig.TABLE_SIZES);
    }
    int max = -1;
    for (int slot = 0; slot < m; slot++) {
      if (table[slot] < -1) {
        throw new IllegalArgumentException(
            "Maglev table slot " + slot + " holds " + table[slot] + ", below -1");
      }
      max = Math.max(max, table[slot]);
    }
    int width = widthFor(max);
    byte[] raw = new byte[varintLength(m) + 1 + m * width + 4];
    int p = writeVarint(raw, 0, m);
    raw[p++] = (byte) width;
    for (int entry : table) {
      for (int b = 0; b < width; b++) {
        raw[p++] = (byte) (entry >>> (8 * b)); // −1 becomes all ones of the width
      }
    }
    writeCrc(raw, p);

    // Slots are close to random, so LZ matching finds little: Huffman coding alone is within 3% of
    // BEST_COMPRESSION in size and 8x faster (M=65521, N=1000: 0.7 ms against 5.9 ms).
    Deflater deflater = new Deflater(Deflater.BEST_SPEED, true);
    deflater.setStrategy(Deflater.HUFFMAN_ONLY);
    try {
      deflater.setInput(raw);
      deflater.finish();
      ByteArrayOutputStream compressed = new ByteArrayOutputStream(raw.length / 2 + 64);
      byte[] chunk = new byte[8192];
      while (!deflater.finished()) {
        compressed.write(chunk, 0, deflater.deflate(chunk));
      }
      return PREFIX + Base64.getEncoder().encodeToString(compressed.toByteArray());
    } finally {
      deflater.end();
    }
  }

  /**
   * Decodes and validates a table.
   *
   * @return a new int[M]: indices {@code >= 0} or −1
   * @throws IllegalArgumentException saying what is wrong when {@code text} is not a valid v1
   *     table
   */
  public static int[] decode(String text) {
    if (text == null) {
      throw new IllegalArgumentException("Maglev table is missing");
    }
    if (!text.startsWith(PREFIX)) {
      throw invalid("does not start with \"" + PREFIX + "\"", text);
    }
    if (text.length() > MAX_TEXT) {
      throw invalid("is " + text.length() + " characters long, more than any table", text);
    }
    String payload = text.substring(PREFIX.length());
    byte[] compressed;
    try {
      compressed = Base64.getDecoder().decode(payload);
    } catch (IllegalArgumentException e) {
      throw invalid("is not base64 (" + e.getMessage() + ")", text);
    }
    // Only the canonical spelling, so one table has one text (the decoder tolerates no padding).
    if (!Base64.getEncoder().encodeToString(compressed).equals(payload)) {
      throw invalid("is not canonical padded base64", text);
    }
    byte[] raw = inflate(compressed, text);
    return parse(raw, text);
  }

  /**
   * Decodes a table and checks that every index is below {@code backendCount}.
   *
   * @throws IllegalArgumentException as {@link #decode(String)}, or on an index out of range
   */
  public static int[] decode(String text, int backendCount) {
    int[] table = decode(text);
    for (int slot = 0; slot < table.length; slot++) {
      if (table[slot] >= backendCount) {
        throw invalid(
            "slot " + slot + " names backend " + table[slot] + " of " + backendCount, text);
      }
    }
    return table;
  }

  private static byte[] inflate(byte[] compressed, String text) {
    Inflater inflater = new Inflater(true);
    try {
      inflater.setInput(compressed);
      byte[] out = new byte[MAX_RAW + 1];
      int length = 0;
      while (!inflater.finished() && length < out.length) {
        int got = inflater.inflate(out, length, out.length - length);
        if (got == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
          throw invalid("is a truncated DEFLATE stream", text);
        }
        length += got;
      }
      if (!inflater.finished()) {
        throw invalid("inflates to more than " + MAX_RAW + " bytes", text);
      }
      if (inflater.getRemaining() > 0) {
        throw invalid("has " + inflater.getRemaining() + " bytes after the DEFLATE stream", text);
      }
      return Arrays.copyOf(out, length);
    } catch (DataFormatException e) {
      throw invalid("is not a valid DEFLATE stream (" + e.getMessage() + ")", text);
    } finally {
      inflater.end();
    }
  }

  private static int[] parse(byte[] raw, String text) {
    if (raw.length < 4 + 2) {
      throw invalid("is too short to hold a header and a checksum", text);
    }
    int crcAt = raw.length - 4;
    CRC32 crc = new CRC32();
    crc.update(raw, 0, crcAt);
    if ((int) crc.getValue() != readLe(raw, crcAt, 4)) {
      throw invalid("fails its CRC-32 check (corrupted)", text);
    }
    int m = 0;
    int p = 0;
    for (int shift = 0; ; shift += 7) {
      if (shift > 14 || p >= crcAt) {
        throw invalid("has a malformed table size", text);
      }
      int b = raw[p++] & 0xff;
      m |= (b & 0x7f) << shift;
      if (b < 0x80) {
        break;
      }
    }
    if (!MaglevConfig.isValidTableSize(m) || p != varintLength(m)) {
      throw invalid("has table size " + m + ", not one of " + MaglevConfig.TABLE_SIZES, text);
    }
    if (p >= crcAt) {
      throw invalid("has no entry width", text);
    }
    int width = raw[p++];
    if (width != 1 && width != 2 && width != 4) {
      throw invalid("has entry width " + width + ", not 1, 2 or 4", text);
    }
    if (crcAt - p != (long) m * width) {
      throw invalid(
          "holds " + (crcAt - p) + " entry bytes, not M·width = " + (long) m * width, text);
    }
    int sentinel = width == 4 ? -1 : (1 << (8 * width)) - 1;
    int[] table = new int[m];
    int max = -1;
    for (int slot = 0; slot < m; slot++, p += width) {
      int value = readLe(raw, p, width);
      if (value == sentinel) {
        value = -1;
      } else if (value < 0) {
        throw invalid("slot " + slot + " holds " + Integer.toUnsignedString(value), text);
      }
      table[slot] = value;
      max = Math.max(max, value);
    }
    if (widthFor(max) != width) {
      throw invalid("uses width " + width + " where " + widthFor(max) + " is the canonical", text);
    }
    return table;
  }

  /** The smallest width whose all-ones sentinel is above every index. */
  private static int widthFor(int maxIndex) {
    return maxIndex < 0xff ? 1 : maxIndex < 0xffff ? 2 : 4;
  }

  private static int varintLength(int value) {
    int length = 1;
    while ((value >>>= 7) != 0) {
      length++;
    }
    return length;
  }

  private static int writeVarint(byte[] to, int at, int value) {
    while ((value & ~0x7f) != 0) {
      to[at++] = (byte) ((value & 0x7f) | 0x80);
      value >>>= 7;
    }
    to[at++] = (byte) value;
    return at;
  }

  private static void writeCrc(byte[] raw, int at) {
    CRC32 crc = new CRC32();
    crc.update(raw, 0, at);
    int value = (int) crc.getValue();
    for (int b = 0; b < 4; b++) {
      raw[at + b] = (byte) (value >>> (8 * b));
    }
  }

  private static int readLe(byte[] from, int at, int width) {
    int value = 0;
    for (int b = width - 1; b >= 0; b--) {
      value = (value << 8) | (from[at + b] & 0xff);
    }
    return value;
  }

  private static IllegalArgumentException invalid(String problem, String text) {
    String shown = text.length() <= 40 ? text : text.substring(0, 37) + "...";
    return new IllegalArgumentException("Maglev table \"" + shown + "\" " + problem);
  }
}
