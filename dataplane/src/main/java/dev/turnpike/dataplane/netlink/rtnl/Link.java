package dev.turnpike.dataplane.netlink.rtnl;

/** A network interface as RTM_NEWLINK describes it. {@code kind} is empty for physical links. */
public record Link(int index, String name, int flags, String kind) {
  public boolean isUp() {
    return (flags & RtnlMessages.IFF_UP) != 0;
  }
}
