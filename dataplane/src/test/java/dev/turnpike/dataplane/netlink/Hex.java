package dev.turnpike.dataplane.netlink;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;

/** Annotated hex vectors: spaces are for the reader and ignored. */
public final class Hex {
  private Hex() {}

  public static ByteBuffer buffer(String hex) {
    return ByteBuffer.wrap(HexFormat.of().parseHex(hex.replaceAll("\\s", "")))
        .order(ByteOrder.nativeOrder());
  }

  public static String of(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return HexFormat.of().formatHex(out);
  }

  /** Normalises a vector for comparison with {@link #of}. */
  public static String strip(String hex) {
    return hex.replaceAll("\\s", "").toLowerCase();
  }
}
