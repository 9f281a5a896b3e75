package dev.turnpike.dataplane.conntrack;

import java.util.Collection;
import java.util.List;

/** The conntrack table of one network namespace. */
public interface Conntrack {
  /** The entries {@code filter} matches (every field checked, whatever the kernel filtered). */
  List<ConntrackEntry> list(ConntrackFilter filter) throws ConntrackException;

  /**
   * Deletes these entries; entries already gone (ENOENT: expired, or replaced by a newer entry
   * with another id) are not errors. Returns how many this call removed.
   */
  int delete(Collection<ConntrackEntry> entries) throws ConntrackException;

  /** Deletes every entry {@code filter} matches; returns how many were removed. */
  default int delete(ConntrackFilter filter) throws ConntrackException {
    return delete(list(filter));
  }
}
