package dev.turnpike.dataplane.ipvs;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.ArrayList;
import java.util.Map;
import java.util.Optional;

/** Sysctls in a map; a parameter that is not in it does not exist, as in /proc/sys. */
final class FakeSysctl implements Sysctl {
  final Map<String, String> values = new LinkedHashMap<>();
  final List<String> writes = new ArrayList<>();

  /** A kernel with ip_vs loaded and the kernel's defaults. */
  static FakeSysctl withIpvs(String release) {
    FakeSysctl s = new FakeSysctl();
    s.values.put(IpvsSysctls.OS_RELEASE, release);
    s.values.put(IpvsSysctls.CONNTRACK, "0");
    s.values.put(IpvsSysctls.CONN_REUSE_MODE, "1");
    s.values.put(IpvsSysctls.EXPIRE_NODEST_CONN, "0");
    s.values.put(IpvsSysctls.EXPIRE_QUIESCENT_TEMPLATE, "0");
    s.values.put(IpvsSysctls.IP_FORWARD, "0");
    return s;
  }

  @Override
  public Optional<String> get(String name) {
    return Optional.ofNullable(values.get(name));
  }

  @Override
  public void set(String name, String value) throws IOException {
    if (!values.containsKey(name)) {
      throw new NoSuchFileException("/proc/sys/" + name.replace('.', '/'));
    }
    writes.add(name + "=" + value);
    values.put(name, value);
  }
}
