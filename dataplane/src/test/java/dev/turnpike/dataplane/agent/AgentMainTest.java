package dev.turnpike.dataplane.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.turnpike.dataplane.sync.FakeDataplane;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class AgentMainTest {
  private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
  private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
  private final FakeDataplane dataplane = new FakeDataplane();

  private int run(DataplaneFactory factory, String... args) {
    return AgentMain.run(args, Map.of(), factory, () -> {
      throw new AssertionError("cleanup must not talk to the API server");
    }, err, new CountDownLatch(1));
  }

  private String err() {
    return errBytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void cleanupCallsTheBackendsCleanupAndExitsZero() {
    assertEquals(0, run(c -> dataplane, "--cleanup"));
    assertEquals(1, dataplane.cleanups());
    assertEquals(0, dataplane.requests().size(), "cleanup programs nothing");
  }

  @Test
  void failedCleanupExitsNonZeroWithTheReason() {
    dataplane.makeItFailWith("iptables: resource busy");
    assertEquals(1, run(c -> dataplane, "--cleanup"));
    assertTrue(err().contains("cleanup failed: iptables: resource busy"), err());
  }

  @Test
  void aModeThisBuildLacksIsAClearError() {
    assertEquals(2, run(new DefaultDataplaneFactory((argv, stdin) -> {
      throw new AssertionError("no command for a mode this build lacks");
    }), "--cleanup", "--mode=nftables"));
    assertTrue(err().contains("mode nftables is not available in this build"), err());
  }

  @Test
  void badFlagsExitTwo() {
    assertEquals(2, run(c -> dataplane, "--cleanup", "--min-sync-period=soon"));
    assertTrue(err().contains("--min-sync-period"), err());
  }

  @Test
  void helpPrintsTheFlags() {
    assertEquals(0, run(c -> dataplane, "--help"));
    assertTrue(err().contains("--status-update-interval"), err());
  }
}
