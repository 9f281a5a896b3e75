package dev.turnpike.dataplane.conntrack;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Predicate;

/**
 * An in-memory conntrack table: {@link #list} really applies the filter, {@link #delete} removes
 * exactly the entries given (matched by original tuple and zone, and by id when both carry one,
 * as the kernel does) and counts what it was asked. {@link #failListWhen} injects failures.
 */
public final class FakeConntrack implements Conntrack {
  private final List<ConntrackEntry> table = new ArrayList<>();
  private final List<ConntrackFilter> listed = new ArrayList<>();
  private int deleteRequests;
  private Predicate<ConntrackFilter> failList = f -> false;

  public synchronized FakeConntrack add(ConntrackEntry... entries) {
    table.addAll(List.of(entries));
    return this;
  }

  public synchronized List<ConntrackEntry> entries() {
    return List.copyOf(table);
  }

  /** Filters of every list call, in order. */
  public synchronized List<ConntrackFilter> listRequests() {
    return List.copyOf(listed);
  }

  /** Entries asked to be deleted (one kernel request each), present or not. */
  public synchronized int deleteRequests() {
    return deleteRequests;
  }

  public synchronized FakeConntrack failListWhen(Predicate<ConntrackFilter> p) {
    failList = p;
    return this;
  }

  @Override
  public synchronized List<ConntrackEntry> list(ConntrackFilter filter) throws ConntrackException {
    listed.add(filter);
    if (failList.test(filter)) {
      throw new ConntrackException("injected failure listing " + filter, null);
    }
    return table.stream().filter(filter::matches).toList();
  }

  @Override
  public synchronized int delete(Collection<ConntrackEntry> entries) {
    int n = 0;
    for (ConntrackEntry e : entries) {
      deleteRequests++;
      if (table.removeIf(t -> t.original().equals(e.original()) && t.zone() == e.zone()
          && (e.id().isEmpty() || t.id().isEmpty() || t.id().getAsLong() == e.id().getAsLong()))) {
        n++;
      }
    }
    return n;
  }
}
