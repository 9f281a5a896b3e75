package dev.turnpike.dataplane.sync;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a task as soon as asked, but with kube-proxy's BoundedFrequencyRunner bounds: a token
 * bucket (one token per {@code minInterval}, at most {@code burst}) limits how often it runs, it
 * runs at least once per {@code maxInterval}, and a failed run is retried after an exponential
 * backoff ({@code retryInitial} doubling up to {@code retryMax}) unless something runs it sooner.
 *
 * <p>All decisions live in {@link #tick()}, which reads only the injected clock, so tests drive it
 * step by step with a fake clock; {@link #start()} runs the same tick in a thread.
 */
public final class BoundedFrequencyRunner implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BoundedFrequencyRunner.class);

  /** The work; throwing means failure, which schedules a retry. */
  @FunctionalInterface
  public interface Task {
    void run() throws Exception;
  }

  private final String name;
  private final Task task;
  private final long minIntervalMillis;
  private final long maxIntervalMillis;
  private final long retryInitialMillis;
  private final long retryMaxMillis;
  private final int burst;
  private final Clock clock;

  private final Object lock = new Object();
  // Guarded by lock.
  private long requests; // bumped by run(); the loop only sleeps when it saw the latest
  private boolean requested;
  private double tokens;
  private long tokensAt;
  private long lastRunEnd;
  private long retryAt = -1;
  private long backoff;
  private boolean stopped;
  private Thread thread;

  public BoundedFrequencyRunner(
      String name,
      Task task,
      Duration minInterval,
      Duration maxInterval,
      Duration retryInitial,
      Duration retryMax,
      int burst,
      Clock clock) {
    if (maxInterval.compareTo(minInterval) < 0) {
      throw new IllegalArgumentException(name + ": maxInterval " + maxInterval + " < minInterval " + minInterval);
    }
    if (burst < 1) {
      throw new IllegalArgumentException(name + ": burst must be at least 1");
    }
    this.name = name;
    this.task = Objects.requireNonNull(task);
    this.minIntervalMillis = minInterval.toMillis();
    this.maxIntervalMillis = maxInterval.toMillis();
    this.retryInitialMillis = Math.max(1, retryInitial.toMillis());
    this.retryMaxMillis = Math.max(retryInitialMillis, retryMax.toMillis());
    this.burst = burst;
    this.clock = clock;
    long now = clock.millis();
    this.tokens = burst;
    this.tokensAt = now;
    this.lastRunEnd = now;
    this.backoff = retryInitialMillis;
  }

  /** Asks for a run as soon as the bounds allow; repeated calls before it happens coalesce. */
  public void run() {
    synchronized (lock) {
      requested = true;
      requests++;
      lock.notifyAll();
    }
  }

  /**
   * Runs the task if it is due and a token is available, then returns the clock time (millis) at
   * which the next tick could run it. Not reentrant: one caller at a time (the loop or a test).
   */
  public long tick() {
    synchronized (lock) {
      long now = clock.millis();
      refill(now);
      boolean due = requested || (retryAt >= 0 && now >= retryAt) || now >= lastRunEnd + maxIntervalMillis;
      if (!due || tokens < 1) {
        return nextDue(now);
      }
      tokens -= 1;
      requested = false;
      retryAt = -1;
    }
    boolean ok;
    try {
      task.run();
      ok = true;
    } catch (Exception e) {
      LOG.warn("{}: run failed, retrying with backoff: {}", name, e.toString());
      ok = false;
    }
    synchronized (lock) {
      long end = clock.millis();
      lastRunEnd = end;
      if (ok) {
        backoff = retryInitialMillis;
      } else {
        retryAt = end + backoff;
        backoff = Math.min(backoff * 2, retryMaxMillis);
      }
      return nextDue(end);
    }
  }

  private void refill(long now) {
    if (minIntervalMillis <= 0) {
      tokens = burst;
    } else if (now > tokensAt) {
      tokens = Math.min(burst, tokens + (double) (now - tokensAt) / minIntervalMillis);
    }
    tokensAt = now;
  }

  private long nextDue(long now) {
    long event = lastRunEnd + maxIntervalMillis;
    if (retryAt >= 0) {
      event = Math.min(event, retryAt);
    }
    if (requested) {
      event = Math.min(event, now);
    }
    long tokenReady = tokens >= 1 || minIntervalMillis <= 0
        ? now
        : now + (long) Math.ceil((1 - tokens) * minIntervalMillis);
    return Math.max(event, tokenReady);
  }

  /** Starts the loop thread. */
  public void start() {
    synchronized (lock) {
      if (thread != null) {
        throw new IllegalStateException(name + " already started");
      }
      thread = new Thread(this::loop, name);
      thread.setDaemon(true);
      thread.start();
    }
  }

  private void loop() {
    while (true) {
      long seen;
      synchronized (lock) {
        if (stopped) {
          return;
        }
        seen = requests;
      }
      long next = tick();
      synchronized (lock) {
        while (!stopped && requests == seen) {
          long wait = next - clock.millis();
          if (wait <= 0) {
            break;
          }
          try {
            lock.wait(wait);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      }
    }
  }

  @Override
  public void close() {
    Thread t;
    synchronized (lock) {
      stopped = true;
      lock.notifyAll();
      t = thread;
    }
    if (t != null && t != Thread.currentThread()) {
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
