package dev.turnpike.dataplane.conntrack;

/** What the stale-entry reconciler reports; {@link MicrometerConntrackMetrics} exports it. */
public interface ConntrackMetrics {
  ConntrackMetrics NONE = new ConntrackMetrics() {
    @Override
    public void syncDuration(String ipFamily, long nanos) {}

    @Override
    public void deletedEntries(String ipFamily, long n) {}
  };

  /** One reconcile pass of one family ({@code IPv4}/{@code IPv6}), successful or not. */
  void syncDuration(String ipFamily, long nanos);

  /** Entries the pass deleted. */
  void deletedEntries(String ipFamily, long n);
}
