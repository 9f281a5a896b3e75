package dev.turnpike.dataplane.netlink.genl;

import java.util.Map;

/**
 * A resolved generic-netlink family. {@code id} is the nlmsg_type for its messages; it is assigned
 * when the module registers, so it is only valid for the namespace's kernel as it was resolved.
 */
public record GenlFamily(String name, int id, int version, int headerSize, int maxAttr,
    Map<String, Integer> multicastGroups) {
  public GenlFamily {
    multicastGroups = Map.copyOf(multicastGroups);
  }
}
