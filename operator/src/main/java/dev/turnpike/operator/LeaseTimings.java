package dev.turnpike.operator;

import java.time.Duration;

/** Leader-election timings; production uses client-go's defaults, tests shorten them. */
public record LeaseTimings(Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {
  public static final LeaseTimings DEFAULT =
      new LeaseTimings(Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(2));
}
