package dev.turnpike.lb;

import dev.turnpike.api.v1alpha1.Protocol;
import java.util.Objects;

/**
 * One backend as Maglev sees it: a stable key, hashed to place the backend, and a weight.
 *
 * @param key the backend's identity, normally {@link #keyOf}; non-empty
 * @param weight relative share of the table, {@code >= 0}; 0 takes no slots
 */
public record MaglevBackend(String key, int weight) {

  public MaglevBackend {
    Objects.requireNonNull(key, "key");
    if (key.isEmpty()) {
      throw new IllegalArgumentException("Maglev backend key is empty");
    }
    if (weight < 0) {
      throw new IllegalArgumentException(
          "Maglev backend " + key + " has negative weight " + weight);
    }
  }

  /** A backend of weight 1 (every weight equal reduces to the plain, unweighted algorithm). */
  public static MaglevBackend of(String key) {
    return new MaglevBackend(key, 1);
  }

  /**
   * The backend key: {@code address:port/PROTO} for IPv4 (e.g. {@code 10.0.0.1:8080/TCP}) and
   * {@code [address]:port/PROTO} for IPv6 (e.g. {@code [fd00::1]:8080/UDP}); an address containing
   * {@code ':'} is IPv6. The address is used exactly as given: the caller canonicalizes it (one
   * spelling per address, e.g. RFC 5952 for IPv6), because {@code 10.0.0.1} and {@code 010.0.0.1}
   * would be different keys.
   *
   * <p><b>THIS FORMAT IS FROZEN AND MUST NEVER CHANGE.</b> The key is hashed to place the backend
   * in the table, and the operator and every node, of every version, must build identical tables
   * from the same endpoints. Changing a single character here remaps nearly every flow of every
   * Maglev Service in a cluster during an upgrade. A golden-table test pins it.
   */
  public static String keyOf(String address, int port, Protocol protocol) {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(protocol, "protocol");
    if (address.isEmpty()) {
      throw new IllegalArgumentException("backend address is empty");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("backend port " + port + " is outside 1..65535");
    }
    String host = address.indexOf(':') >= 0 ? '[' + address + ']' : address;
    return host + ':' + port + '/' + protocol.name();
  }
}
