package dev.turnpike.dataplane.netlink.genl;

import dev.turnpike.dataplane.netlink.NetlinkException;

/** CTRL_CMD_GETFAMILY answered ENOENT: the family's module is not loaded (or not built). */
public final class GenlFamilyNotFoundException extends NetlinkException {
  private static final long serialVersionUID = 1L;

  private final String family;

  GenlFamilyNotFoundException(String family, String hint, NetlinkException cause) {
    super("generic netlink family " + family + " not found (" + hint + ")", cause);
    this.family = family;
  }

  public String family() {
    return family;
  }
}
