package dev.turnpike.lb;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Builds Maglev lookup tables (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
 * Balancer", NSDI 2016, §3.4): M slots, each naming the backend that new flows hashing to it go
 * to.
 *
 * <p>The table is a pure function of the {@link MaglevConfig} and the set of (key, weight) pairs,
 * so the operator and every node compute the same one:
 *
 * <ol>
 *   <li>Backends are sorted by key ({@link String#compareTo}, which for the ASCII keys of {@link
 *       MaglevBackend#keyOf} is byte order), so input order does not matter.
 *   <li>Each backend's permutation of the slots is {@code offset, offset+skip, offset+2·skip, …}
 *       (mod M) with {@code offset = h1 mod M} and {@code skip = h2 mod (M−1) + 1} (unsigned),
 *       where (h1, h2) is {@link MaglevHash} of the key's UTF-8 bytes with the config's seed.
 *   <li>The table is filled round-robin in sorted order: each backend in turn takes the next slot
 *       of its permutation that is still free.
 *   <li>Weights follow Cilium's {@code pkg/maglev} (after Envoy PR 2982): at slot number n (0-based
 *       count of slots filled so far) the turn starts at sorted backend {@code n mod N} and passes
 *       over backend i while {@code (n+1)·w_i < counter_i}; the counter starts at {@code w_i / N}
 *       (integer division) and grows by the weight sum each time the backend takes a slot. With
 *       equal weights no turn is ever passed over, so this is exactly the unweighted algorithm.
 *       Unlike Cilium, which only applies weights when the integer mean weight exceeds 1, weights
 *       are always applied (Cilium ignores weights {1, 2}). Weight-0 backends take no slots.
 * </ol>
 *
 * <p>With equal weights every backend gets ⌊M/N⌋ or ⌈M/N⌉ slots. Keep M above about 100·N for the
 * disruption bound (removing one of N backends moves about 1/N of the slots); see {@code
 * docs/benchmarks.md}.
 *
 * <p>An instance owns buffers sized for M and for the largest N it has seen, and reuses them, so
 * {@link #build(List, int[])} allocates nothing once warmed up (keys that are not pure ASCII cost
 * one small array each). <b>Not thread-safe</b>: use one instance per thread.
 */
public final class Maglev {

  private final MaglevConfig config;
  private final int m;
  /** Occupied slots, one bit each: 16 KiB at the largest M, so the probe loop stays in L1/L2. */
  private final long[] taken;

  private final long[] hash = new long[2];
  private byte[] keyBytes = new byte[64];

  // Per-backend scratch, grown when N grows. Indexed by sorted position unless noted.
  private String[] keys = new String[0]; // by caller index, for sorting
  private int[] order = new int[0]; // sorted position → caller index
  private int[] sortTmp = new int[0];
  /**
   * Per participating backend in sorted order, three ints side by side (one cache line): the next
   * slot of its permutation to try, its skip, and its index in the caller's list.
   */
  private int[] state = new int[0];
  private int[] weight = new int[0];
  private long[] counter = new long[0];

  public Maglev(MaglevConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    this.m = config.tableSize();
    this.taken = new long[(m + 63) >>> 6];
  }

  public MaglevConfig config() {
    return config;
  }

  /**
   * Builds a new table.
   *
   * @param backends the backends; their keys must be distinct
   * @return a new int[M] whose slots hold indices into {@code backends}, or −1 everywhere when no
   *     backend has a positive weight
   * @throws IllegalArgumentException on duplicate keys or weights too large to count
   */
  public int[] build(List<MaglevBackend> backends) {
    int[] out = new int[m];
    build(backends, out);
    return out;
  }

  /**
   * Builds a table into {@code out} (length M) without allocating; see {@link #build(List)}.
   *
   * @throws IllegalArgumentException on duplicate keys, weights too large to count, or {@code
   *     out.length != M}
   */
  public void build(List<MaglevBackend> backends, int[] out) {
    if (out.length != m) {
      throw new IllegalArgumentException(
          "output length " + out.length + " is not the table size " + m);
    }
    int n = prepare(backends);
    if (n == 0) {
      Arrays.fill(out, -1);
      return;
    }
    fill(n, out);
  }

  /**
   * Sorts the backends by key, rejects duplicates and computes each positive-weight backend's
   * permutation start and step. Returns how many backends take part.
   */
  private int prepare(List<MaglevBackend> backends) {
    int size = backends.size();
    ensureCapacity(size);
    for (int i = 0; i < size; i++) {
      keys[i] = backends.get(i).key();
      order[i] = i;
    }
    mergeSort(0, size);
    int n = 0;
    long weightSum = 0;
    String previous = null;
    for (int s = 0; s < size; s++) {
      int i = order[s];
      String key = keys[i];
      if (key.equals(previous)) {
        Arrays.fill(keys, 0, size, null);
        throw new IllegalArgumentException("duplicate Maglev backend key " + key);
      }
      previous = key;
      int w = backends.get(i).weight();
      if (w == 0) {
        continue;
      }
      hashKey(key);
      state[3 * n] = (int) Long.remainderUnsigned(hash[0], m);
      state[3 * n + 1] = (int) Long.remainderUnsigned(hash[1], m - 1) + 1;
      state[3 * n + 2] = i;
      weight[n] = w;
      weightSum += w;
      n++;
    }
    Arrays.fill(keys, 0, size, null); // do not keep the caller's strings alive
    // Counters reach about M·sum; they must not overflow.
    if (weightSum > Long.MAX_VALUE / (m + 1L)) {
      throw new IllegalArgumentException(
          "Maglev backend weights sum to " + weightSum + ", too large to count");
    }
    for (int s = 0; s < n; s++) {
      counter[s] = weight[s] / n;
    }
    return n;
  }

  /** The round-robin fill over n sorted backends; writes every slot of out. */
  private void fill(int n, int[] out) {
    Arrays.fill(taken, 0L);
    boolean uniform = true;
    long weightSum = 0;
    for (int s = 0; s < n; s++) {
      uniform &= weight[s] == weight[0];
      weightSum += weight[s];
    }
    if (uniform) {
      // Equal weights never pass a turn over (see fillWeighted), so skip the bookkeeping.
      for (int filled = 0; ; ) {
        for (int b = 0; b < 3 * n; b += 3) {
          takeNextFree(b, out);
          if (++filled == m) {
            return;
          }
        }
      }
    }
    fillWeighted(n, weightSum, out);
  }

  private void fillWeighted(int n, long weightSum, int[] out) {
    final int[] weight = this.weight;
    final long[] counter = this.counter;
    int turn = 0; // slot mod N, kept incrementally
    for (int slot = 0; slot < m; slot++) {
      int i = turn;
      long reach = slot + 1L;
      // Terminates: not every backend can be passed over, as Σ(slot+1)·w_i = (slot+1)·sum
      // >= Σcounter_i = Σ⌊w_i/N⌋ + slot·sum. With equal weights none ever is: backend i's k-th
      // turn is at slot kN+i, where (kN+i+1)·w >= ⌊w/N⌋ + kN·w.
      while (reach * weight[i] < counter[i]) {
        if (++i == n) {
          i = 0;
        }
      }
      counter[i] += weightSum;
      takeNextFree(3 * i, out);
      if (++turn == n) {
        turn = 0;
      }
    }
  }

  /**
   * The hot loop: walks the permutation of the backend whose state starts at {@code state[b]} to
   * its next free slot and takes it. The permutation is computed incrementally and the occupancy
   * is a bitmap, so a probe is an add, a compare and an L1 load.
   */
  private void takeNextFree(int b, int[] out) {
    final int[] state = this.state;
    final long[] taken = this.taken;
    final int m = this.m;
    int c = state[b];
    final int s = state[b + 1];
    while ((taken[c >>> 6] & (1L << c)) != 0) {
      c += s;
      if (c >= m) {
        c -= m;
      }
    }
    taken[c >>> 6] |= 1L << c;
    out[c] = state[b + 2];
    c += s;
    state[b] = c >= m ? c - m : c;
  }

  private void hashKey(String key) {
    int len = key.length();
    boolean ascii = true;
    if (keyBytes.length < len) {
      keyBytes = new byte[Math.max(len, keyBytes.length * 2)];
    }
    for (int k = 0; k < len; k++) {
      char ch = key.charAt(k);
      if (ch >= 0x80) {
        ascii = false;
        break;
      }
      keyBytes[k] = (byte) ch;
    }
    if (ascii) {
      MaglevHash.hash128(keyBytes, 0, len, config.seed(), hash);
    } else {
      byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
      MaglevHash.hash128(utf8, 0, utf8.length, config.seed(), hash);
    }
  }

  /** Stable merge sort of order[from, to) by keys[order[·]]; no allocation. */
  private void mergeSort(int from, int to) {
    if (to - from < 2) {
      return;
    }
    int mid = (from + to) >>> 1;
    mergeSort(from, mid);
    mergeSort(mid, to);
    if (keys[order[mid - 1]].compareTo(keys[order[mid]]) <= 0) {
      return;
    }
    System.arraycopy(order, from, sortTmp, from, to - from);
    int a = from;
    int b = mid;
    for (int k = from; k < to; k++) {
      if (b >= to || (a < mid && keys[sortTmp[a]].compareTo(keys[sortTmp[b]]) <= 0)) {
        order[k] = sortTmp[a++];
      } else {
        order[k] = sortTmp[b++];
      }
    }
  }

  private void ensureCapacity(int size) {
    if (order.length >= size) {
      return;
    }
    keys = new String[size];
    order = new int[size];
    sortTmp = new int[size];
    state = new int[3 * size];
    weight = new int[size];
    counter = new long[size];
  }
}
