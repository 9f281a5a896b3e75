package dev.turnpike.dataplane.sync;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BoundedFrequencyRunnerTest {
  private final FakeClock clock = new FakeClock();
  private final AtomicInteger runs = new AtomicInteger();
  private final AtomicBoolean fail = new AtomicBoolean();

  private BoundedFrequencyRunner runner(int burst) {
    return new BoundedFrequencyRunner("test", () -> {
      runs.incrementAndGet();
      if (fail.get()) {
        throw new IllegalStateException("boom");
      }
    }, Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofSeconds(8), burst, clock);
  }

  private long now() {
    return clock.millis();
  }

  @Test
  void burstOfTwoThenAtMostOneRunPerMinInterval() {
    BoundedFrequencyRunner r = runner(2);
    r.run();
    r.tick();
    r.run();
    r.tick();
    assertEquals(2, runs.get(), "a burst of two runs back to back");
    r.run();
    long next = r.tick();
    assertEquals(2, runs.get(), "third run in the same instant waits for a token");
    assertEquals(now() + 1000, next, "a token comes back after the min interval");
    clock.advanceMillis(999);
    r.tick();
    assertEquals(2, runs.get(), "not before the min interval");
    clock.advanceMillis(1);
    r.tick();
    assertEquals(3, runs.get(), "queued request runs once the token is back");
    r.tick();
    assertEquals(3, runs.get(), "nothing queued, nothing runs");
  }

  @Test
  void burstOfOneEnforcesTheMinIntervalBetweenEveryRun() {
    BoundedFrequencyRunner r = runner(1);
    r.run();
    r.tick();
    r.run();
    r.tick();
    assertEquals(1, runs.get());
    clock.advanceMillis(1000);
    r.tick();
    assertEquals(2, runs.get());
  }

  @Test
  void requestsCoalesceIntoOneRun() {
    BoundedFrequencyRunner r = runner(2);
    for (int i = 0; i < 50; i++) {
      r.run();
    }
    r.tick();
    r.tick();
    assertEquals(1, runs.get());
  }

  @Test
  void runsAtLeastOncePerMaxInterval() {
    BoundedFrequencyRunner r = runner(2);
    assertEquals(now() + 30_000, r.tick(), "next periodic run is due after the max interval");
    clock.advanceMillis(29_999);
    r.tick();
    assertEquals(0, runs.get());
    clock.advanceMillis(1);
    assertEquals(now() + 30_000, r.tick());
    assertEquals(1, runs.get(), "periodic run");
    clock.advanceMillis(10_000);
    r.run();
    r.tick();
    clock.advanceMillis(29_999);
    r.tick();
    assertEquals(2, runs.get(), "a requested run restarts the max interval");
    clock.advanceMillis(1);
    r.tick();
    assertEquals(3, runs.get());
  }

  @Test
  void failureRetriesWithDoublingBackoffCappedAndResetBySuccess() {
    BoundedFrequencyRunner r = runner(2);
    fail.set(true);
    r.run();
    long[] expectedBackoff = {1000, 2000, 4000, 8000, 8000};
    for (long backoff : expectedBackoff) {
      int before = runs.get();
      long next = r.tick();
      assertEquals(before + 1, runs.get());
      assertEquals(now() + backoff, next, "retry after " + backoff + " ms");
      clock.advanceMillis(backoff - 1);
      r.tick();
      assertEquals(before + 1, runs.get(), "no retry before the backoff");
      clock.advanceMillis(1);
    }
    fail.set(false);
    r.tick();
    int afterSuccess = runs.get();
    assertEquals(now() + 30_000, r.tick(), "success cancels the retry");
    fail.set(true);
    clock.advanceMillis(5000);
    r.run();
    assertEquals(now() + 1000, r.tick(), "backoff starts again from the initial value");
    assertEquals(afterSuccess + 1, runs.get());
  }

  @Test
  void loopRunsRequestsOnItsThreadAndCoalescesThoseMadeWhileBusy() throws Exception {
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    try (BoundedFrequencyRunner r = new BoundedFrequencyRunner("loop", () -> {
      if (runs.incrementAndGet() == 1) {
        release.await();
      }
    }, Duration.ofMillis(50), Duration.ofMinutes(1), Duration.ofMillis(50), Duration.ofSeconds(1), 2,
        Clock.systemUTC())) {
      r.start();
      r.run();
      await().atMost(Duration.ofSeconds(5)).until(() -> runs.get() == 1);
      for (int i = 0; i < 10; i++) {
        r.run(); // all while the first run is still going
      }
      release.countDown();
      await().atMost(Duration.ofSeconds(5)).until(() -> runs.get() == 2);
      await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> runs.get() == 2);
    }
  }
}
