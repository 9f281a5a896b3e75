package dev.turnpike.lb;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * MurmurHash3 x64_128 (Austin Appleby, SMHasher) with a 64-bit seed: both state words start at
 * the seed, so for seeds below 2^32 the result is bit-for-bit the reference {@code
 * MurmurHash3_x64_128} (which zero-extends its 32-bit seed), and Cilium's and Guava's murmur3_128
 * for non-negative seeds. {@code h1} is the first 8 bytes of the reference's 16-byte output read
 * little-endian, {@code h2} the last 8.
 *
 * <p>Part of the frozen Maglev table format: any change here changes every table.
 */
public final class MaglevHash {

  private static final long C1 = 0x87c37b91114253d5L;
  private static final long C2 = 0x4cf5ad432745937fL;
  private static final VarHandle LONG_LE =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private MaglevHash() {}

  /** Hashes all of {@code data}; returns a new {h1, h2}. Allocates; for tests and tools. */
  public static long[] hash128(byte[] data, long seed) {
    long[] out = new long[2];
    hash128(data, 0, data.length, seed, out);
    return out;
  }

  /**
   * Hashes {@code data[offset, offset+length)} and writes h1 to {@code out[0]}, h2 to {@code
   * out[1]}. Allocation-free.
   */
  public static void hash128(byte[] data, int offset, int length, long seed, long[] out) {
    Objects.checkFromIndexSize(offset, length, data.length);
    long h1 = seed;
    long h2 = seed;
    int end = offset + (length & ~15);
    for (int i = offset; i < end; i += 16) {
      long k1 = (long) LONG_LE.get(data, i);
      long k2 = (long) LONG_LE.get(data, i + 8);
      h1 ^= mixK1(k1);
      h1 = Long.rotateLeft(h1, 27) + h2;
      h1 = h1 * 5 + 0x52dce729;
      h2 ^= mixK2(k2);
      h2 = Long.rotateLeft(h2, 31) + h1;
      h2 = h2 * 5 + 0x38495ab5;
    }
    int tail = length & 15;
    if (tail > 8) {
      long k2 = 0;
      for (int j = tail - 1; j >= 8; j--) {
        k2 = (k2 << 8) | (data[end + j] & 0xffL);
      }
      h2 ^= mixK2(k2);
    }
    if (tail > 0) {
      long k1 = 0;
      for (int j = Math.min(tail, 8) - 1; j >= 0; j--) {
        k1 = (k1 << 8) | (data[end + j] & 0xffL);
      }
      h1 ^= mixK1(k1);
    }
    h1 ^= length;
    h2 ^= length;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    h2 += h1;
    out[0] = h1;
    out[1] = h2;
  }

  private static long mixK1(long k1) {
    return Long.rotateLeft(k1 * C1, 31) * C2;
  }

  private static long mixK2(long k2) {
    return Long.rotateLeft(k2 * C2, 33) * C1;
  }

  private static long fmix64(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb9fe1a85ec53L;
    k ^= k >>> 33;
    return k;
  }
}
