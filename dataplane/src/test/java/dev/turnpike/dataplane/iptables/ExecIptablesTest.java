package dev.turnpike.dataplane.iptables;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.net.IpFamily;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExecIptablesTest {
  /** Answers each binary with canned save output; a missing entry is a binary that is not installed. */
  static Exec saves(Map<String, String> byBinary) {
    return (argv, in) -> {
      String out = byBinary.get(argv.get(0));
      if (out == null) {
        throw new IOException("No such file: " + argv.get(0));
      }
      return new Exec.Result(0, out, "");
    };
  }

  static final String RULES = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n-A INPUT -j ACCEPT\nCOMMIT\n";

  @Test
  void theVariantHoldingKubeOrTurnpikeChainsWins() {
    Exec e = saves(Map.of("iptables-legacy-save", "*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n", "iptables-nft-save", RULES));
    assertEquals(Iptables.Mode.LEGACY, ExecIptables.detectMode(e));
    Exec f = saves(Map.of("iptables-legacy-save", RULES, "ip6tables-nft-save", "*nat\n:TURNPIKE-SERVICES - [0:0]\nCOMMIT\n"));
    assertEquals(Iptables.Mode.NFT, ExecIptables.detectMode(f));
  }

  @Test
  void otherwiseMoreRulesWinsAndATieOrNothingMeansNft() {
    assertEquals(Iptables.Mode.LEGACY, ExecIptables.detectMode(saves(Map.of("iptables-legacy-save", RULES, "iptables-nft-save", ""))));
    assertEquals(Iptables.Mode.NFT, ExecIptables.detectMode(saves(Map.of("iptables-legacy-save", "", "iptables-nft-save", ""))));
    assertEquals(Iptables.Mode.LEGACY, ExecIptables.detectMode(saves(Map.of("iptables-legacy-save", ""))));
    assertEquals(Iptables.Mode.NFT, ExecIptables.detectMode(saves(Map.of())));
  }

  @Test
  void restoreWaitsForTheLockAndUsesTheFamilysBinary() throws Exception {
    List<List<String>> calls = new ArrayList<>();
    List<String> stdin = new ArrayList<>();
    ExecIptables ipt = new ExecIptables((argv, in) -> {
      calls.add(argv);
      stdin.add(in);
      return new Exec.Result(0, "", "");
    }, Iptables.Mode.NFT);
    ipt.restore(IpFamily.IPv6, "*nat\nCOMMIT\n", true);
    ipt.save(IpFamily.IPv4, "nat");
    assertEquals(List.of("ip6tables-nft-restore", "-w", "5", "--noflush"), calls.get(0));
    assertEquals("*nat\nCOMMIT\n", stdin.get(0));
    assertEquals(List.of("iptables-nft-save", "-t", "nat"), calls.get(1));
  }

  @Test
  void aFailingCommandReportsItsErrorOutput() {
    ExecIptables ipt = new ExecIptables((argv, in) -> new Exec.Result(2, "", "line 3: Couldn't load target `X'\n"), Iptables.Mode.LEGACY);
    IptablesException e = assertThrows(IptablesException.class, () -> ipt.restore(IpFamily.IPv4, "", true));
    assertTrue(e.getMessage().contains("iptables-legacy-restore exited 2: line 3: Couldn't load target `X'"), e.getMessage());
  }
}
