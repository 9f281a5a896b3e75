package dev.turnpike.lb;

import dev.turnpike.api.v1alpha1.MaglevParameters;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The two inputs, besides the backend keys, that decide a Maglev table. Every node and every
 * operator version must agree on them, which is why they travel in the ForwardingTable ({@link
 * MaglevParameters}).
 *
 * @param tableSize M, the number of slots; one of {@link #TABLE_SIZES}
 * @param seed the 64-bit MurmurHash3 seed, written in the API as {@link #seedHex()}
 */
public record MaglevConfig(int tableSize, long seed) {

  /**
   * The accepted table sizes, ascending: primes (so every skip in 1..M−1 walks a full permutation),
   * the list Cilium accepts. Kept in sync with the CEL rule on {@link MaglevParameters#tableSize()}.
   */
  public static final List<Integer> TABLE_SIZES =
      List.of(251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071);

  private static final int[] SIZES = TABLE_SIZES.stream().mapToInt(Integer::intValue).toArray();

  /** The largest accepted size; bounds decoders and buffers. */
  public static final int MAX_TABLE_SIZE = SIZES[SIZES.length - 1];

  /** The stock kernel's IPVS {@code mh} scheduler table size (CONFIG_IP_VS_MH_TAB_INDEX=12). */
  public static final int DEFAULT_TABLE_SIZE = 4093;

  /**
   * The default seed: the ASCII bytes of "Turnpike" read big-endian ({@code 5475726e70696b65}), a
   * nothing-up-my-sleeve constant. Changing it changes every default table, so it never changes;
   * clusters that want their own seed set it in the parameters.
   */
  public static final long DEFAULT_SEED = 0x5475726e70696b65L;

  /** The default configuration: {@link #DEFAULT_TABLE_SIZE} and {@link #DEFAULT_SEED}. */
  public static final MaglevConfig DEFAULT = new MaglevConfig(DEFAULT_TABLE_SIZE, DEFAULT_SEED);

  private static final Pattern SEED_HEX = Pattern.compile("[0-9a-f]{16}");

  public MaglevConfig {
    if (!isValidTableSize(tableSize)) {
      throw new IllegalArgumentException(
          "Maglev table size " + tableSize + " is not one of " + tableSizesText());
    }
  }

  public static boolean isValidTableSize(int size) {
    return Arrays.binarySearch(SIZES, size) >= 0;
  }

  /**
   * Parses the API's seed form.
   *
   * @param hex exactly 16 lower-case hex digits, e.g. {@code 5475726e70696b65}
   * @throws IllegalArgumentException naming the value and the expected form otherwise
   */
  public static long parseSeed(String hex) {
    if (hex == null || !SEED_HEX.matcher(hex).matches()) {
      throw new IllegalArgumentException(
          "Maglev seed "
              + (hex == null ? "null" : '"' + hex + '"')
              + " is not 16 lower-case hex digits (like \"5475726e70696b65\")");
    }
    return Long.parseUnsignedLong(hex, 16);
  }

  /** The seed as 16 lower-case, zero-padded hex digits; the inverse of {@link #parseSeed}. */
  public String seedHex() {
    return String.format(Locale.ROOT, "%016x", seed);
  }

  /**
   * Reads the API form.
   *
   * @throws IllegalArgumentException when the size or the seed is missing or invalid
   */
  public static MaglevConfig of(MaglevParameters parameters) {
    if (parameters.tableSize() == null) {
      throw new IllegalArgumentException("Maglev table size is missing");
    }
    return new MaglevConfig(parameters.tableSize(), parseSeed(parameters.seed()));
  }

  /** The API form. */
  public MaglevParameters toParameters() {
    return new MaglevParameters(tableSize, seedHex());
  }

  private static String tableSizesText() {
    return TABLE_SIZES.stream().map(String::valueOf).collect(Collectors.joining(", "));
  }
}
