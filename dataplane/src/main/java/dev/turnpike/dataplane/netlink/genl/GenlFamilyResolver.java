package dev.turnpike.dataplane.netlink.genl;

import dev.turnpike.dataplane.netlink.Errno;
import dev.turnpike.dataplane.netlink.Netlink;
import dev.turnpike.dataplane.netlink.NetlinkClient;
import dev.turnpike.dataplane.netlink.NetlinkException;
import dev.turnpike.dataplane.netlink.NetlinkMessage;
import dev.turnpike.dataplane.netlink.NetlinkParseException;
import dev.turnpike.dataplane.netlink.NetlinkRequest;
import dev.turnpike.dataplane.netlink.NlAttr;
import dev.turnpike.dataplane.netlink.NlAttrs;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Looks up generic-netlink families by name through the "nlctrl" controller (linux/genetlink.h). */
public final class GenlFamilyResolver {
  /** The controller's own, fixed family id (GENL_ID_CTRL = NLMSG_MIN_TYPE). */
  public static final int GENL_ID_CTRL = Netlink.NLMSG_MIN_TYPE;
  public static final int CTRL_VERSION = 1;
  public static final int GENL_NAMSIZ = 16;
  public static final int CTRL_CMD_NEWFAMILY = 1;
  public static final int CTRL_CMD_GETFAMILY = 3;
  public static final int CTRL_ATTR_FAMILY_ID = 1;
  public static final int CTRL_ATTR_FAMILY_NAME = 2;
  public static final int CTRL_ATTR_VERSION = 3;
  public static final int CTRL_ATTR_HDRSIZE = 4;
  public static final int CTRL_ATTR_MAXATTR = 5;
  public static final int CTRL_ATTR_OPS = 6;
  public static final int CTRL_ATTR_MCAST_GROUPS = 7;
  public static final int CTRL_ATTR_MCAST_GRP_NAME = 1;
  public static final int CTRL_ATTR_MCAST_GRP_ID = 2;

  /** Which module provides a family, for the not-found message. */
  public static final Map<String, String> DEFAULT_MODULE_HINTS = Map.of("IPVS", "ip_vs");

  private final NetlinkClient client;
  private final Map<String, String> moduleHints;

  public GenlFamilyResolver(NetlinkClient client) {
    this(client, DEFAULT_MODULE_HINTS);
  }

  public GenlFamilyResolver(NetlinkClient client, Map<String, String> moduleHints) {
    this.client = client;
    this.moduleHints = Map.copyOf(moduleHints);
  }

  /**
   * @throws GenlFamilyNotFoundException when the kernel has no such family
   */
  public GenlFamily resolve(String name) throws NetlinkException {
    if (name.isEmpty() || name.length() >= GENL_NAMSIZ) {
      // The kernel's policy would answer a bare EINVAL.
      throw new IllegalArgumentException("generic netlink family names have 1 to "
          + (GENL_NAMSIZ - 1) + " characters: '" + name + "'");
    }
    List<NetlinkMessage> replies;
    try {
      replies = client.request(getFamilyRequest(name));
    } catch (NetlinkException e) {
      if (e.is(Errno.ENOENT)) {
        String module = moduleHints.get(name);
        throw new GenlFamilyNotFoundException(name, module == null
            ? "is its kernel module loaded?" : "is the " + module + " module loaded?", e);
      }
      throw e;
    }
    if (replies.size() != 1) {
      throw new NetlinkParseException("CTRL_CMD_GETFAMILY " + name + " got " + replies.size()
          + " replies, expected 1");
    }
    return parseFamily(replies.get(0));
  }

  /** CTRL_CMD_GETFAMILY with CTRL_ATTR_FAMILY_NAME. */
  public static NetlinkRequest getFamilyRequest(String name) {
    return GenlMsgHdr.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_VERSION,
            Netlink.NLM_F_REQUEST, "CTRL_CMD_GETFAMILY " + name)
        .string(CTRL_ATTR_FAMILY_NAME, name)
        .build();
  }

  /** Parses a CTRL_CMD_NEWFAMILY reply. */
  public static GenlFamily parseFamily(NetlinkMessage m) {
    if (m.type() != GENL_ID_CTRL) {
      throw new NetlinkParseException("expected a nlctrl message (type " + GENL_ID_CTRL
          + "), got type " + m.type() + " at offset " + m.offset());
    }
    NlAttrs a = GenlMsgHdr.attrs(m);
    Map<String, Integer> groups = new HashMap<>();
    for (NlAttr group : a.find(CTRL_ATTR_MCAST_GROUPS).map(NlAttr::nested)
        .map(NlAttrs::list).orElse(List.of())) {
      NlAttrs g = group.nested();
      groups.put(g.require(CTRL_ATTR_MCAST_GRP_NAME, "CTRL_ATTR_MCAST_GRP_NAME").string(),
          g.require(CTRL_ATTR_MCAST_GRP_ID, "CTRL_ATTR_MCAST_GRP_ID").u32());
    }
    return new GenlFamily(
        a.require(CTRL_ATTR_FAMILY_NAME, "CTRL_ATTR_FAMILY_NAME").string(),
        a.require(CTRL_ATTR_FAMILY_ID, "CTRL_ATTR_FAMILY_ID").u16(),
        a.require(CTRL_ATTR_VERSION, "CTRL_ATTR_VERSION").u32(),
        a.find(CTRL_ATTR_HDRSIZE).map(NlAttr::u32).orElse(0),
        a.require(CTRL_ATTR_MAXATTR, "CTRL_ATTR_MAXATTR").u32(),
        groups);
  }
}
