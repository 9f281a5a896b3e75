package dev.turnpike.dataplane.conntrack;

import dev.turnpike.dataplane.netlink.Errno;
import dev.turnpike.dataplane.netlink.LibC;
import dev.turnpike.dataplane.netlink.Netlink;
import dev.turnpike.dataplane.netlink.NetlinkClient;
import dev.turnpike.dataplane.netlink.NetlinkException;
import dev.turnpike.dataplane.netlink.NetlinkMessage;
import dev.turnpike.dataplane.netlink.NetlinkSocket;
import dev.turnpike.dataplane.netlink.NetworkNamespace;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * {@link Conntrack} over ctnetlink. Dumps ask the kernel to filter (CTA_MARK, CTA_FILTER) and,
 * if the kernel refuses the filter (EINVAL/EOPNOTSUPP: older than 5.8, or without
 * CONFIG_NF_CONNTRACK_MARK), dump the family unfiltered from then on; the result is always
 * re-checked client-side. Deletes go one request per entry, each acknowledged.
 */
public final class NetlinkConntrack implements Conntrack, AutoCloseable {
  private final NetlinkClient client;
  private volatile boolean kernelFilter = true;
  private long requests;

  public NetlinkConntrack(NetlinkClient client) {
    this.client = client;
  }

  /** A ctnetlink socket in the caller's network namespace. */
  public static NetlinkConntrack open() throws ConntrackException {
    try {
      return new NetlinkConntrack(new NetlinkClient(NetlinkSocket.open(Netlink.NETLINK_NETFILTER)));
    } catch (NetlinkException e) {
      throw new ConntrackException("opening a NETLINK_NETFILTER socket: " + e.getMessage(), e);
    }
  }

  /** A ctnetlink socket in another namespace ({@code /var/run/netns/NAME}). */
  public static NetlinkConntrack openIn(Path namespaceFile) throws ConntrackException {
    try {
      return new NetlinkConntrack(new NetlinkClient(NetworkNamespace.openSocket(LibC.load(),
          namespaceFile, Netlink.NETLINK_NETFILTER, NetlinkSocket.Options.defaults())));
    } catch (NetlinkException e) {
      throw new ConntrackException("opening a NETLINK_NETFILTER socket in " + namespaceFile + ": "
          + e.getMessage(), e);
    }
  }

  /** Whether the kernel accepted the last filtered dump (false after a fallback). */
  public boolean kernelFiltering() {
    return kernelFilter;
  }

  /** Netlink requests sent so far (dumps, retries and deletes). */
  public synchronized long requests() {
    return requests;
  }

  @Override
  public List<ConntrackEntry> list(ConntrackFilter filter) throws ConntrackException {
    List<NetlinkMessage> msgs;
    try {
      msgs = dump(filter, kernelFilter);
    } catch (NetlinkException e) {
      boolean refused = e.errno() == Errno.EINVAL.code() || e.errno() == Errno.EOPNOTSUPP.code();
      if (!kernelFilter || !refused) {
        throw new ConntrackException("conntrack dump: " + e.getMessage(), e);
      }
      kernelFilter = false;
      try {
        msgs = dump(filter, false);
      } catch (NetlinkException e2) {
        throw new ConntrackException("conntrack dump: " + e2.getMessage(), e2);
      }
    }
    List<ConntrackEntry> out = new ArrayList<>(msgs.size());
    for (NetlinkMessage m : msgs) {
      if (!CtNetlink.isEntry(m)) {
        continue;
      }
      ConntrackEntry e = CtNetlink.parseEntry(m);
      if (filter.matches(e)) {
        out.add(e);
      }
    }
    return out;
  }

  private List<NetlinkMessage> dump(ConntrackFilter filter, boolean kernel) throws NetlinkException {
    synchronized (this) {
      requests++;
    }
    return client.dump(CtNetlink.dump(filter, kernel));
  }

  @Override
  public int delete(Collection<ConntrackEntry> entries) throws ConntrackException {
    int n = 0;
    for (ConntrackEntry e : entries) {
      try {
        synchronized (this) {
          requests++;
        }
        client.execute(CtNetlink.delete(e));
        n++;
      } catch (NetlinkException ex) {
        if (ex.errno() != Errno.ENOENT.code()) {
          throw new ConntrackException("deleting " + e + " (" + n + " deleted before): "
              + ex.getMessage(), ex);
        }
      }
    }
    return n;
  }

  @Override
  public void close() {
    client.close();
  }
}
