package dev.turnpike.dataplane.ipvs;

import java.io.IOException;
import java.util.Optional;

/** Kernel parameters by their dotted name ({@code net.ipv4.vs.conntrack}). */
public interface Sysctl {
  /** The value, trimmed; empty when the parameter does not exist (e.g. ip_vs not loaded). */
  Optional<String> get(String name) throws IOException;

  /** @throws IOException when the parameter does not exist or cannot be written */
  void set(String name, String value) throws IOException;
}
