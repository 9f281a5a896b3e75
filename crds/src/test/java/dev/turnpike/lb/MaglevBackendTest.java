package dev.turnpike.lb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.turnpike.api.v1alpha1.Protocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MaglevBackendTest {

  /** The frozen key format; these strings must never change (see MaglevBackend.keyOf). */
  @ParameterizedTest
  @CsvSource({
    "10.0.0.1, 8080, TCP, 10.0.0.1:8080/TCP",
    "192.168.255.254, 53, UDP, 192.168.255.254:53/UDP",
    "10.1.2.3, 1, SCTP, 10.1.2.3:1/SCTP",
    "fd00::1, 8080, TCP, [fd00::1]:8080/TCP",
    "2001:db8::ff00:42:8329, 65535, UDP, [2001:db8::ff00:42:8329]:65535/UDP",
    "::ffff:10.0.0.1, 443, TCP, [::ffff:10.0.0.1]:443/TCP",
  })
  void keyIsAddressPortProtocolWithBracketedIpv6(
      String address, int port, Protocol protocol, String key) {
    assertEquals(key, MaglevBackend.keyOf(address, port, protocol));
  }

  @Test
  void keyUsesTheAddressAsGiven() {
    // Not canonicalized: that is the caller's job, and a different spelling is a different key.
    assertEquals("[FD00::0001]:80/TCP", MaglevBackend.keyOf("FD00::0001", 80, Protocol.TCP));
  }

  @Test
  void rejectsBadKeyInputsAndNegativeWeights() {
    assertThrows(IllegalArgumentException.class, () -> MaglevBackend.keyOf("", 80, Protocol.TCP));
    assertThrows(
        IllegalArgumentException.class, () -> MaglevBackend.keyOf("10.0.0.1", 0, Protocol.TCP));
    assertThrows(
        IllegalArgumentException.class,
        () -> MaglevBackend.keyOf("10.0.0.1", 65536, Protocol.TCP));
    assertThrows(IllegalArgumentException.class, () -> new MaglevBackend("a", -1));
    assertThrows(IllegalArgumentException.class, () -> new MaglevBackend("", 1));
    assertThrows(NullPointerException.class, () -> new MaglevBackend(null, 1));
    assertEquals(new MaglevBackend("a", 1), MaglevBackend.of("a"));
    assertEquals(0, new MaglevBackend("a", 0).weight());
  }
}
