package dev.turnpike.dataplane.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.turnpike.dataplane.testing.PacketTracer.Packet;
import dev.turnpike.dataplane.testing.PacketTracer.Trace;
import dev.turnpike.net.IpFamily;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The tracer against a fixed, hand-written ruleset. */
class PacketTracerTest {
  private static final String NAT =
      """
      *nat
      :TURNPIKE-SERVICES - [0:0]
      :TURNPIKE-MARK-MASQ - [0:0]
      :SVC - [0:0]
      :MG - [0:0]
      :SEP1 - [0:0]
      :SEP2 - [0:0]
      :GOTO-A - [0:0]
      :JUMP-A - [0:0]
      :EMPTY - [0:0]
      -A PREROUTING -j TURNPIKE-SERVICES
      -A OUTPUT -j TURNPIKE-SERVICES
      -A TURNPIKE-MARK-MASQ -j MARK --or-mark 0x4000
      -A TURNPIKE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j SVC
      -A TURNPIKE-SERVICES -d 10.96.0.2/32 -p tcp -m tcp --dport 80 -j MG
      -A TURNPIKE-SERVICES -d 10.96.0.3/32 -p tcp -m tcp --dport 53 -j SEP1
      -A TURNPIKE-SERVICES -d 10.96.0.4/32 -j GOTO-A
      -A TURNPIKE-SERVICES -d 10.96.0.5/32 -j JUMP-A
      -A TURNPIKE-SERVICES -d 10.96.0.4/32 -j SEP2
      -A TURNPIKE-SERVICES -d 10.96.0.5/32 -j SEP2
      -A GOTO-A -g EMPTY
      -A GOTO-A -j SEP1
      -A JUMP-A -j EMPTY
      -A JUMP-A -j SEP1
      -A SVC -d 10.96.0.1/32 ! -s 10.244.0.0/16 -j TURNPIKE-MARK-MASQ
      -A SVC -m recent --name SEP2 --rcheck --seconds 10 --reap --rsource -j SEP2
      -A SVC -m statistic --mode random --probability 0.5000000000 -j SEP1
      -A SVC -j SEP2
      -A MG -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff
      -A MG -j HMARK --hmark-tuple src,dst,sport,dport,proto --hmark-mod 4 --hmark-offset 0 --hmark-rnd 0x1
      -A MG -m mark --mark 0x0/0xfffffffe -j SEP1
      -A MG -m mark --mark 0x2/0xfffffffe -j SEP2
      -A SEP1 -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff
      -A SEP1 -s 10.244.1.1/32 -j TURNPIKE-MARK-MASQ
      -A SEP1 -p tcp -m tcp -j DNAT --to-destination 10.244.1.1:8080
      -A SEP2 -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff
      -A SEP2 -p tcp -m tcp -j DNAT --to-destination 10.244.2.2:8080
      COMMIT
      *filter
      :TURNPIKE-SERVICES - [0:0]
      :TURNPIKE-EXTERNAL-SERVICES - [0:0]
      -A TURNPIKE-SERVICES -d 10.96.0.9/32 -p tcp -m tcp --dport 80 -j REJECT
      -A TURNPIKE-EXTERNAL-SERVICES -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 30001 -j DROP
      COMMIT
      """;

  private PacketTracer tracer;

  @BeforeEach
  void load() throws Exception {
    FakeIptables fake = new FakeIptables();
    fake.load(IpFamily.IPv4, NAT);
    tracer = new PacketTracer(fake, IpFamily.IPv4, List.of("192.168.0.10"));
  }

  @Test
  void probabilityRulesListEveryEndpointAndOffClusterSourceIsMasqueraded() {
    assertEquals(new Trace("10.244.1.1:8080, 10.244.2.2:8080", true), tracer.trace(Packet.tcp("203.0.113.5", "10.96.0.1", 80)));
  }

  @Test
  void podSourceIsNotMasqueradedAndHistoryNeverMatches() {
    assertEquals(new Trace("10.244.1.1:8080, 10.244.2.2:8080", false), tracer.trace(Packet.tcp("10.244.3.3", "10.96.0.1", 80)));
  }

  @Test
  void hairpinMarksForMasquerade() {
    assertEquals(new Trace("10.244.1.1:8080", true), tracer.trace(Packet.tcp("10.244.1.1", "10.96.0.3", 53)));
    assertEquals(new Trace("10.244.1.1:8080", false), tracer.trace(Packet.tcp("10.244.1.2", "10.96.0.3", 53)));
  }

  @Test
  void hmarkValueSelectsOneSlotGroupAndUnknownHashListsAll() {
    assertEquals("10.244.1.1:8080", tracer.trace(Packet.tcp("10.244.3.3", "10.96.0.2", 80).withHmark(1)).output());
    assertEquals("10.244.2.2:8080", tracer.trace(Packet.tcp("10.244.3.3", "10.96.0.2", 80).withHmark(3)).output());
    assertEquals("10.244.1.1:8080, 10.244.2.2:8080", tracer.trace(Packet.tcp("10.244.3.3", "10.96.0.2", 80)).output());
  }

  @Test
  void gotoChainThatFallsOffItsEndReturnsToTheCallersCaller() {
    // GOTO-A -g EMPTY: EMPTY ends, the walk resumes in TURNPIKE-SERVICES (SEP2), not in GOTO-A (SEP1).
    assertEquals("10.244.2.2:8080", tracer.trace(Packet.tcp("10.244.3.3", "10.96.0.4", 80)).output());
    // The same with -j resumes in JUMP-A.
    assertEquals("10.244.1.1:8080", tracer.trace(Packet.tcp("10.244.3.3", "10.96.0.5", 80)).output());
  }

  @Test
  void filterVerdictsAndLocalDestinations() {
    assertEquals("REJECT", tracer.trace(Packet.tcp("10.244.3.3", "10.96.0.9", 80)).output());
    assertEquals("DROP", tracer.trace(Packet.tcp("203.0.113.5", "192.168.0.10", 30001)).output());
    assertEquals("", tracer.trace(Packet.tcp("203.0.113.5", "192.168.0.11", 30001)).output());
    assertEquals("", tracer.trace(Packet.tcp("10.244.3.3", "10.96.0.1", 81)).output());
  }
}
