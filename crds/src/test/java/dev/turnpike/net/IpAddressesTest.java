package dev.turnpike.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class IpAddressesTest {

  @ParameterizedTest(name = "{0} is {1} {2}")
  @CsvSource({
    "10.0.0.1, IPv4, 10.0.0.1",
    "' 10.0.0.1 ', IPv4, 10.0.0.1",
    "010.000.000.001, IPv4, 10.0.0.1",
    "0.0.0.0, IPv4, 0.0.0.0",
    "255.255.255.255, IPv4, 255.255.255.255",
    "::1, IPv6, ::1",
    "::, IPv6, ::",
    "2001:DB8::1, IPv6, 2001:db8::1",
    "2001:0db8:0000:0000:0000:0000:0000:0001, IPv6, 2001:db8::1",
    "2001:db8:0:0:1:0:0:1, IPv6, 2001:db8::1:0:0:1",
    "2001:db8:0:1:1:1:1:1, IPv6, 2001:db8:0:1:1:1:1:1",
    "fd00::10.0.0.1, IPv6, fd00::a00:1",
    "::ffff:10.0.0.1, IPv4, 10.0.0.1",
    "1:0:0:2:0:0:0:3, IPv6, 1:0:0:2::3",
  })
  void parsesAndCanonicalises(String in, IpFamily family, String canonical) {
    IpAddresses.Ip ip = IpAddresses.parse(in).orElseThrow();
    assertEquals(family, ip.family());
    assertEquals(canonical, ip.text());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "", "10.0.0", "10.0.0.256", "10.0.0.1.2", "a.b.c.d", "1::2::3", "1:2:3:4:5:6:7:8:9",
        "12345::", "fe80::1%eth0", "example.com", "10.0.0.-1", "1:2:3:4:5:6:7::8:9"
      })
  void rejectsWhatIsNotAnIpLiteralWithoutResolvingIt(String in) {
    assertEquals(Optional.empty(), IpAddresses.parse(in));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "10.0.0.0/8, 10.0.0.0/8",
    "10.1.2.3/8, 10.0.0.0/8",
    "' 192.168.0.0/16', 192.168.0.0/16",
    "0.0.0.0/0, 0.0.0.0/0",
    "2001:db8::1/32, 2001:db8::/32",
    "::/0, ::/0",
  })
  void cidrsAreCanonicalNetworks(String in, String canonical) {
    assertEquals(canonical, IpAddresses.parseCidr(in).orElseThrow().text());
  }

  @ParameterizedTest
  @ValueSource(strings = {"10.0.0.0", "10.0.0.0/33", "10.0.0.0/", "::/129", "10.0.0.0/-1", "x/8"})
  void rejectsBadCidrs(String in) {
    assertEquals(Optional.empty(), IpAddresses.parseCidr(in));
  }

  @org.junit.jupiter.api.Test
  void containmentRespectsPrefixAndFamily() {
    var cidr = IpAddresses.parseCidr("10.128.0.0/9").orElseThrow();
    assertTrue(IpAddresses.contains(cidr, IpAddresses.parse("10.200.1.1").orElseThrow()));
    assertFalse(IpAddresses.contains(cidr, IpAddresses.parse("10.127.255.255").orElseThrow()));
    assertFalse(IpAddresses.contains(cidr, IpAddresses.parse("::1").orElseThrow()));
  }
}
