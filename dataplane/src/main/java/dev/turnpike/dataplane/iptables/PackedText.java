package dev.turnpike.dataplane.iptables;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * A piece of restore payload kept deflated until it is written: iptables rules compress about 7×,
 * and at 10k Services a full payload is 34 MB, which a node's agent would otherwise hold while it
 * renders and streams it. Read it front to back ({@link #subSequence} in increasing order, as the
 * restore's writer does): the text is inflated on the first read and dropped after the last.
 */
final class PackedText implements CharSequence {
  private final byte[] packed;
  private final int bytes;
  private final int length;
  private String inflated;

  private PackedText(byte[] packed, int bytes, int length) {
    this.packed = packed;
    this.bytes = bytes;
    this.length = length;
  }

  static PackedText of(CharSequence text) {
    byte[] raw = text.toString().getBytes(StandardCharsets.UTF_8);
    Deflater d = new Deflater(Deflater.BEST_SPEED);
    try {
      d.setInput(raw);
      d.finish();
      ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length / 4 + 64);
      byte[] buf = new byte[1 << 16];
      while (!d.finished()) {
        out.write(buf, 0, d.deflate(buf));
      }
      return new PackedText(out.toByteArray(), raw.length, text.length());
    } finally {
      d.end();
    }
  }

  private String inflate() {
    Inflater i = new Inflater();
    try {
      i.setInput(packed);
      byte[] raw = new byte[bytes];
      int n = 0;
      while (n < bytes && !i.finished()) {
        n += i.inflate(raw, n, bytes - n);
      }
      return new String(raw, 0, n, StandardCharsets.UTF_8);
    } catch (DataFormatException e) {
      throw new IllegalStateException("corrupt packed payload", e);
    } finally {
      i.end();
    }
  }

  private String text() {
    if (inflated == null) {
      inflated = inflate();
    }
    return inflated;
  }

  @Override
  public int length() {
    return length;
  }

  @Override
  public char charAt(int index) {
    return text().charAt(index);
  }

  @Override
  public CharSequence subSequence(int start, int end) {
    String s = text().substring(start, end);
    if (end == length) {
      inflated = null; // read to the end: keep only the packed form
    }
    return s;
  }

  @Override
  public String toString() {
    return inflated != null ? inflated : inflate();
  }
}
