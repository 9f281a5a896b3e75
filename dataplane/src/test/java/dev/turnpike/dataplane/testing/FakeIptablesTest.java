package dev.turnpike.dataplane.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.dataplane.iptables.IptablesException;
import dev.turnpike.net.IpFamily;
import org.junit.jupiter.api.Test;

class FakeIptablesTest {
  private static final IpFamily V4 = IpFamily.IPv4;
  private final FakeIptables fake = new FakeIptables();

  private static final String BASE =
      """
      *nat
      :A - [0:0]
      :B - [0:0]
      -A PREROUTING -j A
      -A A -d 10.0.0.1/32 -p tcp -m tcp --dport 80 -j B
      -A B -m comment --comment "two words" -j DNAT --to-destination 10.1.0.1:80
      COMMIT
      """;

  @Test
  void appliesAndDumpsDeterministically() throws Exception {
    fake.restore(V4, BASE, true);
    assertEquals(
        """
        *nat
        :PREROUTING ACCEPT [0:0]
        :INPUT ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :POSTROUTING ACCEPT [0:0]
        :A - [0:0]
        :B - [0:0]
        -A PREROUTING -j A
        -A A -d 10.0.0.1/32 -p tcp -m tcp --dport 80 -j B
        -A B -m comment --comment "two words" -j DNAT --to-destination 10.1.0.1:80
        COMMIT
        """,
        fake.save(V4, "nat"));
  }

  @Test
  void declaringAnExistingChainFlushesItEvenWithNoflush() throws Exception {
    fake.restore(V4, BASE, true);
    fake.restore(V4, "*nat\n:B - [0:0]\n-A B -j RETURN\nCOMMIT\n", true);
    String nat = fake.save(V4, "nat");
    assertTrue(nat.contains("-A B -j RETURN\n"), nat);
    assertTrue(!nat.contains("DNAT"), nat);
    assertTrue(nat.contains("-A PREROUTING -j A\n"), "untouched chains stay: " + nat);
  }

  @Test
  void withoutNoflushTheTableIsReplaced() throws Exception {
    fake.restore(V4, BASE, true);
    fake.restore(V4, "*nat\n:C - [0:0]\nCOMMIT\n", false);
    assertEquals("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:C - [0:0]\nCOMMIT\n", fake.save(V4, "nat"));
  }

  @Test
  void jumpToMissingChainIsRejectedAndNothingChanges() throws Exception {
    fake.restore(V4, BASE, true);
    String before = fake.dump(V4);
    IptablesException e =
        assertThrows(IptablesException.class, () -> fake.restore(V4, "*nat\n:B - [0:0]\n-A B -j NOPE\nCOMMIT\n", true));
    assertTrue(e.getMessage().contains("NOPE"), e.getMessage());
    assertEquals(before, fake.dump(V4));
  }

  @Test
  void deletingAReferencedChainIsRejected() throws Exception {
    fake.restore(V4, BASE, true);
    String before = fake.dump(V4);
    assertThrows(IptablesException.class, () -> fake.restore(V4, "*nat\n:B - [0:0]\n-X B\nCOMMIT\n", true));
    assertEquals(before, fake.dump(V4));
  }

  @Test
  void deletingANonEmptyChainIsRejected() throws Exception {
    fake.restore(V4, BASE, true);
    assertThrows(IptablesException.class, () -> fake.restore(V4, "*nat\n-D A -d 10.0.0.1/32 -p tcp -m tcp --dport 80 -j B\n-X B\nCOMMIT\n", true));
  }

  @Test
  void flushThenDeleteRemovesChainsAndDeleteRuleMatchesExactly() throws Exception {
    fake.restore(V4, BASE, true);
    fake.restore(V4, "*nat\n-D PREROUTING -j A\n:A - [0:0]\n:B - [0:0]\n-X A\n-X B\nCOMMIT\n", true);
    assertEquals("", fake.dump(V4));
    assertThrows(IptablesException.class, () -> fake.restore(V4, "*nat\n-D PREROUTING -j A\nCOMMIT\n", true));
  }

  @Test
  void tablesCommitOneByOneLikeTheRealCommand() throws Exception {
    String payload = "*filter\n:F - [0:0]\nCOMMIT\n*nat\n-A PREROUTING -j MISSING\nCOMMIT\n";
    assertThrows(IptablesException.class, () -> fake.restore(V4, payload, true));
    assertTrue(fake.save(V4, "filter").contains(":F - "), "the filter block committed before nat failed");
    assertEquals("", fake.dump(IpFamily.IPv6));
  }

  @Test
  void insertPutsRuleAtPositionAndMissingCommitFails() throws Exception {
    fake.restore(V4, BASE, true);
    fake.restore(V4, "*nat\n-I PREROUTING 1 -j B\nCOMMIT\n", true);
    assertTrue(fake.save(V4, "nat").contains("-A PREROUTING -j B\n-A PREROUTING -j A\n"));
    assertThrows(IptablesException.class, () -> fake.restore(V4, "*nat\n:Z - [0:0]\n", true));
  }

  @Test
  void longChainNamesAndInjectedFailuresAreRejected() {
    assertThrows(IptablesException.class, () -> fake.restore(V4, "*nat\n:TURNPIKE-0123456789012345678901 - [0:0]\nCOMMIT\n", true));
    fake.failWhen(p -> true);
    assertThrows(IptablesException.class, () -> fake.restore(V4, BASE, true));
  }
}
